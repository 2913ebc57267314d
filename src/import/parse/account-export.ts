/**
 * Spotify's account data export (`my_spotify_data.zip`, as anyone can request it from Spotify's
 * privacy page), read as records for the importer: `YourLibrary.json`'s saved tracks become the
 * playlist Liked Songs, each `PlaylistN.json` playlist a playlist of its name. The zip is read
 * where it is, entry by entry, streaming (yauzl), never extracted; a folder (the zip unpacked) or
 * one of its JSON files works the same. Every other file of the export is ignored.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { UsageError } from '../../errors.js';
import { AccountTracker } from './account-progress.js';
import { jsonEvents, type JsonEvent, type JsonPath } from './account-json.js';
import type { RecordSource, SourceRecord } from './records.js';
import { LIBRARY_FILE, type AccountExportKind } from './account-kind.js';
import type { RawValues } from './normalize.js';

export const LIKED_SONGS = 'Liked Songs';

/** One JSON file of the export, opened when its turn comes. */
interface ExportFile {
  /** Its name in messages: the path inside the zip or folder. */
  name: string;
  size: number;
  open(): Promise<Readable>;
}

/** Library files first (YourLibrary.json, then Playlist1, Playlist2… by number), the rest ignored. */
function libraryOrder(a: ExportFile, b: ExportFile): number {
  const rank = (f: ExportFile) => {
    const m = LIBRARY_FILE.exec(basename(f.name))!;
    return m[1].toLowerCase() === 'yourlibrary' ? -1 : Number(m[2] || 0);
  };
  return rank(a) - rank(b) || a.name.localeCompare(b.name);
}

/** Opens an account export as a record source. Throws UsageError when it holds no library file. */
export async function openAccountExport(input: string, kind: AccountExportKind): Promise<RecordSource> {
  let files: ExportFile[];
  let closeZip = () => {};
  if (kind === 'zip') {
    const zip = await openZip(input);
    files = zip.files;
    closeZip = zip.close;
  } else if (kind === 'folder') files = await folderFiles(input);
  else files = [{ name: basename(input), size: (await stat(input)).size, open: () => Promise.resolve(createReadStream(input, { highWaterMark: 256 * 1024 })) }];
  files.sort(libraryOrder);
  if (!files.length) {
    closeZip();
    throw new UsageError(
      `cannot import ${input}: ${kind === 'folder' ? 'it is a directory' : 'it is a zip'} without the library files of a Spotify account data export (YourLibrary.json, Playlist1.json…); name the file to import, or the export's zip or folder`,
    );
  }
  const tracker = new AccountTracker();
  const counter = { bytes: 0 };
  let current: Readable | undefined;
  let closed = false;
  async function* records(): AsyncGenerator<SourceRecord[]> {
    for (const file of files) {
      if (closed) return;
      tracker.file(file.name);
      let stream: Readable;
      try {
        stream = await file.open();
      } catch (error) {
        throw new UsageError(`cannot read ${file.name} in ${input}: ${(error as Error).message}`);
      }
      current = stream;
      // One at a time: a playlist is declared (tracker) just before its first entry is read.
      for await (const r of fileRecords(file.name, stream, tracker, counter)) yield [r];
    }
  }
  return {
    format: 'spotify-account',
    name: input,
    totalBytes: files.reduce((n, f) => n + f.size, 0),
    bytesRead: () => counter.bytes,
    records: records(),
    close: () => {
      closed = true;
      current?.destroy();
      closeZip();
    },
    account: tracker,
  };
}

/** The library files of a folder (the export unpacked: they may sit one or two folders down). */
async function folderFiles(dir: string, depth = 0): Promise<ExportFile[]> {
  const out: ExportFile[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw new UsageError(`cannot read the folder ${dir}: ${(error as Error).message}`);
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.isDirectory() && depth < 2) out.push(...(await folderFiles(path, depth + 1)));
    else if (e.isFile() && LIBRARY_FILE.test(e.name)) {
      const { size } = await stat(path);
      out.push({ name: path, size, open: () => Promise.resolve(createReadStream(path, { highWaterMark: 256 * 1024 })) });
    }
  }
  return out;
}

/** The zip's library files, from its central directory; their data is read (inflated) only when opened. */
async function openZip(path: string): Promise<{ files: ExportFile[]; close: () => void }> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(path, { lazyEntries: true, autoClose: false }, (error, z) => (error ? reject(error) : resolve(z))),
  ).catch((error: Error) => {
    throw new UsageError(`cannot read ${path} as a zip: ${error.message}; pass the export's zip as Spotify sent it, or its unpacked folder`);
  });
  const entries = await new Promise<yauzl.Entry[]>((resolve, reject) => {
    const found: yauzl.Entry[] = [];
    zip.on('entry', (entry: yauzl.Entry) => {
      if (!entry.fileName.endsWith('/') && LIBRARY_FILE.test(basename(entry.fileName))) found.push(entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve(found));
    zip.once('error', reject);
    zip.readEntry();
  }).catch((error: Error) => {
    zip.close();
    throw new UsageError(`cannot read ${path} as a zip: ${error.message}`);
  });
  return {
    files: entries.map((entry) => ({
      name: entry.fileName,
      size: entry.uncompressedSize,
      open: () => new Promise<Readable>((resolve, reject) => zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream)))),
    })),
    close: () => zip.close(),
  };
}

/** What is read of an export file (the rest is only tokenized). */
function wanted(path: JsonPath): boolean {
  if (path[0] === 'tracks') return path.length === 2;
  if (path[0] !== 'playlists') return false;
  return (path.length === 3 && (path[2] === 'name' || path[2] === 'description')) || (path.length === 4 && path[2] === 'items');
}

/** One file's records: its playlists declared as they open, their items as records. */
async function* fileRecords(file: string, stream: Readable, tracker: AccountTracker, counter: { bytes: number }): AsyncGenerator<SourceRecord> {
  const library = /^yourlibrary\.json$/i.test(basename(file));
  // The file's playlists (their place in it) → the export's playlist index.
  const playlists = new Map<number, number>();
  const liked = library ? tracker.declare(LIKED_SONGS, file) : -1;
  const handle = (event: JsonEvent): SourceRecord | undefined => {
    const { path } = event;
    if (event.type === 'open') {
      if (path.length === 2 && path[0] === 'playlists') {
        playlists.set(path[1] as number, tracker.declare(`${basename(file)} playlist ${(path[1] as number) + 1}`, file));
      }
      return undefined;
    }
    if (path[0] === 'tracks') {
      if (!library) return undefined;
      const item = Number(path[1]) + 1;
      return record(event.value, liked, `${basename(file)}, "${LIKED_SONGS}" item ${item}: `, item, libraryTrack);
    }
    const index = playlists.get(path[1] as number);
    if (index === undefined) return undefined;
    const playlist = tracker.playlist(index);
    if (path.length === 3) {
      const { value } = event;
      if (path[2] === 'name' && typeof value === 'string' && value.trim()) playlist.name = value.trim();
      if (path[2] === 'description') playlist.description = typeof value === 'string' && value.trim() ? value : null;
      return undefined;
    }
    const item = Number(path[3]) + 1;
    return record(event.value, index, `${basename(file)}, playlist "${playlist.name}", item ${item}: `, item, (value) => playlistItem(value, () => (playlist.skipped += 1)));
  };
  stream.on('data', (chunk: Buffer) => (counter.bytes += chunk.length));
  try {
    for await (const event of jsonEvents(stream, wanted)) {
      const r = handle(event);
      if (r) yield r;
    }
  } catch (error) {
    throw new UsageError(`cannot read ${file}: not the JSON of a Spotify account export (${(error as Error).message}); export it again from Spotify, or leave that file out`);
  }
}

/**
 * A record from an item: `toValues` gives its values, a reason it is refused (text), or undefined
 * when it is not a track (an episode, an audiobook: skipped and counted). Items are named by
 * their place (`line` is the item's number in its playlist) and kept as JSON text.
 */
function record(value: unknown, playlist: number, where: string, item: number, toValues: (value: Record<string, unknown>) => RawValues | string | undefined): SourceRecord | undefined {
  const original = JSON.stringify(value) ?? '';
  const base = { line: item, record: item, original, where, playlist };
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ...base, error: `expected a JSON object, got ${original.slice(0, 40)}` };
  const values = toValues(value as Record<string, unknown>);
  if (values === undefined) return undefined;
  if (typeof values === 'string') return { ...base, error: values };
  return { ...base, values };
}

/** YourLibrary.json's `{"artist", "album", "track", "uri"}`. */
function libraryTrack(t: Record<string, unknown>): RawValues | string {
  const local = typeof t.uri === 'string' && t.uri.startsWith('spotify:local:') ? parseLocalUri(t.uri) : undefined;
  return {
    title: t.track ?? local?.title,
    artist: t.artist ?? local?.artist,
    album: t.album ?? local?.album,
    spotifyUri: local ? undefined : t.uri,
    durationMs: local?.durationMs,
  };
}

/**
 * A PlaylistN.json item: `{"track": {trackName, artistName, albumName, trackUri} | null,
 * "episode", "audiobook", "localTrack": {"uri"} | null, "addedDate"}`. Older exports have no
 * trackUri nor addedDate: such items match by title and artist.
 */
function playlistItem(item: Record<string, unknown>, skip: () => void): RawValues | string | undefined {
  if (item.episode || item.audiobook) {
    skip();
    return undefined;
  }
  const track = item.track && typeof item.track === 'object' ? (item.track as Record<string, unknown>) : undefined;
  const localUri =
    (item.localTrack && typeof item.localTrack === 'object' ? (item.localTrack as Record<string, unknown>).uri : undefined) ??
    (typeof track?.trackUri === 'string' && track.trackUri.startsWith('spotify:local:') ? track.trackUri : undefined);
  if (typeof localUri === 'string') {
    const local = parseLocalUri(localUri);
    if (!local) return `a local file whose URI soulspot cannot read: "${localUri.slice(0, 120)}" (expected spotify:local:artist:album:title:seconds)`;
    return {
      title: track?.trackName ?? local.title,
      artist: track?.artistName ?? local.artist,
      album: track?.albumName ?? local.album,
      durationMs: local.durationMs,
      addedAt: item.addedDate,
    };
  }
  if (!track) return 'an item with no track, episode, audiobook or local file';
  return { title: track.trackName, artist: track.artistName, album: track.albumName, spotifyUri: track.trackUri, addedAt: item.addedDate };
}

/**
 * A local file's `spotify:local:artist:album:title:seconds`: each part URL-encoded with `+` for
 * a space (a colon inside a part is `%3A`); an empty part is unknown.
 */
export function parseLocalUri(uri: string): { artist?: string; album?: string; title?: string; durationMs?: number } | undefined {
  const parts = uri.slice('spotify:local:'.length).split(':');
  if (parts.length < 4) return undefined;
  const decode = (s: string) => {
    const plain = s.replace(/\+/g, ' ');
    try {
      return decodeURIComponent(plain).trim() || undefined;
    } catch {
      return plain.trim() || undefined;
    }
  };
  const seconds = parts[parts.length - 1];
  return {
    artist: decode(parts[0]),
    album: decode(parts[1]),
    title: decode(parts.slice(2, -1).join(':')),
    durationMs: /^\d+$/.test(seconds) ? Number(seconds) * 1000 : undefined,
  };
}
