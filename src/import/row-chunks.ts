/**
 * A chunk of normalised rows as the parser thread hands it to the writing thread: no objects,
 * only five buffers that are transferred (not copied) and then handed back for the next chunk.
 *
 * Why not post TrackRow objects: structured clone of them costs the receiving thread about 0.4 s
 * per 100,000 rows, and its serialisation buffers (MBs a message, allocated on one thread and
 * freed on the other) made the process's memory grow by tens of MB. Here the 14 string fields of
 * a chunk's rows are one buffer (Latin-1 or UTF-16) that the writer decodes with a single call
 * and cuts with `slice` (no copy); the rows' texts as read, needed only for the few rows the
 * writer rejects, stay bytes and are decoded one by one on demand; numbers travel in a
 * Float64Array. A slice keeps its chunk's text alive: whatever outlives the chunk (cache keys,
 * the summary's rejects) must be copied with `detach`.
 *
 * The artists and albums of a chunk travel once each: a row names them by their index in the
 * chunk, and their texts are in the row that names them first. The writer then gets one ArtistRef
 * and one AlbumRef object for each (rows of an album share theirs), and the same string objects,
 * whose hashes V8 computes once for all the Map lookups of the chunk's rows. Measured here (the
 * 100k exporter rows of bench/import.mjs, 14 alternating rounds): the import 0.97× the time.
 */
import type { AlbumRef, ArtistRef, TrackRow } from './parse/normalize.js';
import type { Reject } from './rejects.js';

/**
 * String slots per row, in this order; an absent value is "" (no field of a valid row is empty).
 * The artist's, the album's and the album artist's are given only by the row that names that
 * artist or album first in the chunk (see N_ARTIST).
 */
const S_TITLE = 0;
const S_ARTIST = 1;
const S_ARTIST_URI = 2;
const S_ALBUM = 3;
const S_ALBUM_URI = 4;
const S_ALBUM_ARTIST = 5;
const S_ALBUM_ARTIST_URI = 6;
const S_SPOTIFY_URI = 7;
const S_ISRC = 8;
const S_MBID = 9;
const S_FILE_PATH = 10;
const S_AUDIO_FORMAT = 11;
const S_ADDED_AT = 12;
/** The artists after the first, as JSON `[[name, uri?], …]` (only rows crediting several). */
const S_CREDITS = 13;
const STRINGS = 14;

/** Number slots per row (NaN when the row has none), in this order. */
const N_DURATION = 0;
const N_TRACK = 1;
const N_DISC = 2;
const N_FILE_SIZE = 3;
const N_BITRATE = 4;
const N_SAMPLE_RATE = 5;
const N_YEAR = 6;
/** A Spotify account export's playlist index (NaN for other rows). */
const N_PLAYLIST = 7;
/** The row's artist, album (NaN: none) and album's artist: their indexes among the chunk's. */
const N_ARTIST = 8;
const N_ALBUM = 9;
const N_ALBUM_ARTIST = 10;
const NUMBERS = 11;

/** The buffers of one chunk; they go back and forth between the threads. */
export interface ChunkBuffers {
  /** The rows' string fields, one after the other. */
  text: ArrayBuffer;
  /** The rows' texts as read, one after the other. */
  originals: ArrayBuffer;
  /** Where each string field ends in the decoded text (14 a row), then where each row's text ends (in characters). */
  ends: ArrayBuffer;
  numbers: ArrayBuffer;
  lines: ArrayBuffer;
}

export interface EncodedChunk {
  /** Valid rows in the chunk. */
  count: number;
  /** Records read for this chunk: the valid rows plus the rejects. */
  read: number;
  /** Records rejected while parsing or normalising, in file order. */
  rejects: Reject[];
  /** Bytes of the input read when the chunk was posted (progress). */
  bytesRead: number;
  /**
   * About how many bytes of the input the records of this chunk and those before took (their
   * texts as read, a line break each): with `read`, the writer's estimate of the rows to come
   * (bytesRead runs ahead of the rows by up to a block of input).
   */
  bytesDone: number;
  /** How `buffers.text` and `buffers.originals` are encoded: Latin-1 when every character fits in a byte, else UTF-16. */
  encoding: TextEncoding;
  originalsEncoding: TextEncoding;
  /** Characters of `buffers.text` and `buffers.originals` in use. */
  textLength: number;
  originalsLength: number;
  buffers: ChunkBuffers;
}

/** The ArrayBuffers to list as transferables when posting `buffers`. */
export const transferList = (buffers: ChunkBuffers): ArrayBuffer[] => [buffers.text, buffers.originals, buffers.ends, buffers.numbers, buffers.lines];

type TextEncoding = 'latin1' | 'utf16le';
/** The two encodings V8 decodes by copying (UTF-8 decodes 3-7 times slower). */
// eslint-disable-next-line no-control-regex -- Latin-1 starts at U+0000
const NOT_LATIN1 = /[^\u0000-\u00ff]/;
const encodingOf = (text: string): TextEncoding => (NOT_LATIN1.test(text) ? 'utf16le' : 'latin1');
const bytesPer = (encoding: TextEncoding) => (encoding === 'latin1' ? 1 : 2);

const grown = (buffer: ArrayBuffer | undefined, bytes: number): ArrayBuffer =>
  buffer && buffer.byteLength >= bytes ? buffer : new ArrayBuffer(Math.max(bytes, Math.ceil((buffer?.byteLength ?? 0) * 1.5)));

/** Collects rows on the parser thread; `take` hands over the chunk and starts a new one. */
export class ChunkEncoder {
  private parts: string[] = [];
  private originals: string[] = [];
  private ends: number[] = [];
  private originalEnds: number[] = [];
  private originalsLength = 0;
  private numbers: number[] = [];
  private lines: number[] = [];
  private length = 0;
  private rejects: Reject[] = [];
  private read = 0;
  /** See EncodedChunk.bytesDone (characters, near enough to bytes for an estimate). */
  private done = 0;
  /** Buffers handed back by the writer, reused instead of allocated. */
  private readonly spare: ChunkBuffers[] = [];
  /**
   * The chunk's artists and albums so far, by index, and their indexes by Spotify URI, else name
   * (an album's title); one that shares its URI or name with another but differs otherwise (a
   * URI under two spellings of a name) is kept by all its texts, joined with NUL (which no valid
   * row's text holds). Looked up by the one text first: building a key of all of them for every
   * row cost this thread more than the sharing saved.
   */
  private artists: ArtistRef[] = [];
  private artistIndex = new Map<string, number>();
  private albums: Array<{ title: string; spotifyUri: string | undefined; artist: number; year: number | undefined }> = [];
  private albumIndex = new Map<string, number>();

  /** Valid rows collected so far. */
  get count(): number {
    return this.lines.length;
  }

  /** Records (valid or rejected) collected so far. */
  get records(): number {
    return this.read;
  }

  private string(value: string | undefined): void {
    if (value) {
      this.parts.push(value);
      this.length += value.length;
    }
    this.ends.push(this.length);
  }

  /** The artist's index in the chunk; -1 - index when this row names it first (then its texts go with the row). */
  private artist(ref: ArtistRef): number {
    // Rows of an album come one after the other in most files: the last row's first.
    const last = this.artists.length - 1;
    if (last >= 0 && this.artists[last].name === ref.name && this.artists[last].spotifyUri === ref.spotifyUri) return last;
    let key = ref.spotifyUri ?? ref.name;
    let known = this.artistIndex.get(key);
    if (known !== undefined) {
      const k = this.artists[known];
      if (k.name === ref.name && k.spotifyUri === ref.spotifyUri) return known;
      key = `${ref.name}\u0000${ref.spotifyUri ?? ''}\u0000`;
      known = this.artistIndex.get(key);
      if (known !== undefined) return known;
    }
    this.artistIndex.set(key, this.artists.length);
    this.artists.push(ref);
    return -this.artists.length;
  }

  /** The album's index in the chunk (its artist's index given), as `artist` does. */
  private album(ref: AlbumRef, artist: number): number {
    const last = this.albums[this.albums.length - 1];
    if (last && last.title === ref.title && last.spotifyUri === ref.spotifyUri && last.artist === artist && last.year === ref.releaseYear) return this.albums.length - 1;
    let key = ref.spotifyUri ?? ref.title;
    let known = this.albumIndex.get(key);
    if (known !== undefined) {
      const k = this.albums[known];
      if (k.title === ref.title && k.spotifyUri === ref.spotifyUri && k.artist === artist && k.year === ref.releaseYear) return known;
      key = `${ref.title}\u0000${ref.spotifyUri ?? ''}\u0000${artist}\u0000${ref.releaseYear ?? ''}`;
      known = this.albumIndex.get(key);
      if (known !== undefined) return known;
    }
    this.albumIndex.set(key, this.albums.length);
    this.albums.push({ title: ref.title, spotifyUri: ref.spotifyUri, artist, year: ref.releaseYear });
    return -this.albums.length;
  }

  add(row: TrackRow): void {
    this.read += 1;
    this.done += row.original.length + 1;
    this.lines.push(row.line);
    const album = row.album;
    this.string(row.title);
    let artist = this.artist(row.artist);
    const artistIsNew = artist < 0;
    if (artistIsNew) artist = -1 - artist;
    this.string(artistIsNew ? row.artist.name : undefined);
    this.string(artistIsNew ? row.artist.spotifyUri : undefined);
    let albumIndex = NaN;
    let albumArtist = NaN;
    let albumIsNew = false;
    let albumArtistIsNew = false;
    if (album) {
      // The artist first: an album's index stands for its artist too.
      albumArtist = this.artist(album.artist);
      albumArtistIsNew = albumArtist < 0;
      if (albumArtistIsNew) albumArtist = -1 - albumArtist;
      albumIndex = this.album(album, albumArtist);
      albumIsNew = albumIndex < 0;
      if (albumIsNew) albumIndex = -1 - albumIndex;
    }
    this.string(albumIsNew ? album!.title : undefined);
    this.string(albumIsNew ? album!.spotifyUri : undefined);
    this.string(albumArtistIsNew ? album!.artist.name : undefined);
    this.string(albumArtistIsNew ? album!.artist.spotifyUri : undefined);
    this.string(row.spotifyUri);
    this.string(row.isrc);
    this.string(row.musicbrainzId);
    this.string(row.filePath);
    this.string(row.audioFormat);
    this.string(row.addedAt);
    this.string(row.credits && JSON.stringify(row.credits.map((c) => (c.spotifyUri ? [c.name, c.spotifyUri] : [c.name]))));
    this.originals.push(row.original);
    this.originalsLength += row.original.length;
    this.originalEnds.push(this.originalsLength);
    this.numbers.push(
      row.durationMs ?? NaN,
      row.trackNumber ?? NaN,
      row.discNumber ?? NaN,
      row.fileSize ?? NaN,
      row.audioBitrate ?? NaN,
      row.audioSampleRate ?? NaN,
      album?.releaseYear ?? NaN,
      row.playlist ?? NaN,
      artist,
      albumIndex,
      albumArtist,
    );
  }

  reject(reject: Reject): void {
    this.read += 1;
    this.done += reject.original.length + 1;
    this.rejects.push(reject);
  }

  /** Buffers the writer is done with, for the next chunks. */
  recycle(buffers: ChunkBuffers): void {
    this.spare.push(buffers);
  }

  /** The chunk so far (its buffers to be transferred, not copied), and a fresh start. */
  take(bytesRead: number): EncodedChunk {
    const text = this.parts.join('');
    const encoding = encodingOf(text);
    // The rows' texts (about 400 characters a row, against 14 short strings) are written one by
    // one rather than joined first: measured here, 0.65 → 0.4 ms a chunk of 1,000 rows.
    const originalsEncoding = this.originals.some((o) => NOT_LATIN1.test(o)) ? 'utf16le' : 'latin1';
    const count = this.lines.length;
    const spare = this.spare.pop();
    const buffers: ChunkBuffers = {
      text: grown(spare?.text, text.length * bytesPer(encoding)),
      originals: grown(spare?.originals, this.originalsLength * bytesPer(originalsEncoding)),
      ends: grown(spare?.ends, count * (STRINGS + 1) * 4),
      numbers: grown(spare?.numbers, this.numbers.length * 8),
      lines: grown(spare?.lines, count * 8),
    };
    Buffer.from(buffers.text).write(text, encoding);
    const originalsBytes = Buffer.from(buffers.originals);
    let at = 0;
    for (const o of this.originals) at += originalsBytes.write(o, at, originalsEncoding);
    const ends = new Uint32Array(buffers.ends);
    ends.set(this.ends);
    ends.set(this.originalEnds, count * STRINGS);
    new Float64Array(buffers.numbers).set(this.numbers);
    new Float64Array(buffers.lines).set(this.lines);
    const chunk: EncodedChunk = {
      count,
      read: this.read,
      rejects: this.rejects,
      bytesRead,
      bytesDone: this.done,
      encoding,
      originalsEncoding,
      textLength: text.length,
      originalsLength: this.originalsLength,
      buffers,
    };
    this.parts = [];
    this.originals = [];
    this.ends = [];
    this.originalEnds = [];
    this.originalsLength = 0;
    this.numbers = [];
    this.lines = [];
    this.length = 0;
    this.rejects = [];
    this.read = 0;
    this.artists = [];
    this.artistIndex = new Map();
    this.albums = [];
    this.albumIndex = new Map();
    return chunk;
  }
}

const optNum = (v: number): number | undefined => (Number.isNaN(v) ? undefined : v);

/** A chunk's row texts as read, kept as bytes (a copy: the buffers go back) and decoded on demand. */
class Originals {
  constructor(
    private readonly bytes: Buffer,
    private readonly ends: Uint32Array,
    private readonly encoding: TextEncoding,
  ) {}

  text(i: number): string {
    const per = bytesPer(this.encoding);
    return this.bytes.toString(this.encoding, (i ? this.ends[i - 1] : 0) * per, this.ends[i] * per);
  }
}

/** A row of a chunk; its text as read is decoded only if asked for (only rejected rows need it). */
class ChunkRow implements TrackRow {
  readonly #originals: Originals;
  readonly #index: number;
  // What the writer resolves the row to (see ResolvedRow in plan.ts; undefined until then),
  // declared so that every row has one shape from the start: added later, they changed each
  // row's hidden class three times, and the writer's optimized code was thrown away when it met
  // rows of another.
  artistId: string | undefined = undefined;
  albumId: string | null | undefined = undefined;
  creditIds: string | undefined = undefined;
  constructor(
    readonly line: number,
    readonly title: string,
    readonly artist: ArtistRef,
    readonly album: AlbumRef | undefined,
    readonly durationMs: number | undefined,
    readonly trackNumber: number | undefined,
    readonly discNumber: number | undefined,
    readonly spotifyUri: string | undefined,
    readonly isrc: string | undefined,
    readonly musicbrainzId: string | undefined,
    readonly filePath: string | undefined,
    readonly fileSize: number | undefined,
    readonly audioBitrate: number | undefined,
    readonly audioFormat: string | undefined,
    readonly audioSampleRate: number | undefined,
    readonly addedAt: string | undefined,
    readonly credits: ArtistRef[] | undefined,
    readonly playlist: number | undefined,
    originals: Originals,
    index: number,
  ) {
    this.#originals = originals;
    this.#index = index;
  }

  get original(): string {
    return this.#originals.text(this.#index);
  }
}

/**
 * The chunk's rows as TrackRow objects, as normaliseRow made them on the other thread. The
 * buffers are not used afterwards: hand them back.
 */
export function decodeRows(chunk: EncodedChunk): TrackRow[] {
  const { count, buffers } = chunk;
  const text = Buffer.from(buffers.text, 0, chunk.textLength * bytesPer(chunk.encoding)).toString(chunk.encoding);
  const ends = new Uint32Array(buffers.ends, 0, count * (STRINGS + 1));
  const originals = new Originals(
    Buffer.from(buffers.originals.slice(0, chunk.originalsLength * bytesPer(chunk.originalsEncoding))),
    ends.slice(count * STRINGS),
    chunk.originalsEncoding,
  );
  const n = new Float64Array(buffers.numbers, 0, count * NUMBERS);
  const lines = new Float64Array(buffers.lines, 0, count);
  const rows: TrackRow[] = new Array<TrackRow>(count);
  const artists: ArtistRef[] = [];
  const albums: AlbumRef[] = [];
  let end = 0;
  // The slots of the current row; undefined for an empty one.
  const s: Array<string | undefined> = new Array<string | undefined>(STRINGS);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < STRINGS; k++) {
      const start = end;
      end = ends[i * STRINGS + k];
      s[k] = end > start ? text.slice(start, end) : undefined;
    }
    const ni = i * NUMBERS;
    // A row naming an artist or album first gives its texts (the artist before the album's).
    if (s[S_ARTIST] !== undefined) artists.push({ name: s[S_ARTIST], spotifyUri: s[S_ARTIST_URI] });
    const artist = artists[n[ni + N_ARTIST]];
    let album: AlbumRef | undefined;
    if (!Number.isNaN(n[ni + N_ALBUM])) {
      if (s[S_ALBUM_ARTIST] !== undefined) artists.push({ name: s[S_ALBUM_ARTIST], spotifyUri: s[S_ALBUM_ARTIST_URI] });
      if (s[S_ALBUM] !== undefined) {
        albums.push({ title: s[S_ALBUM], spotifyUri: s[S_ALBUM_URI], artist: artists[n[ni + N_ALBUM_ARTIST]], releaseYear: optNum(n[ni + N_YEAR]) });
      }
      album = albums[n[ni + N_ALBUM]];
    }
    rows[i] = new ChunkRow(
      lines[i],
      s[S_TITLE]!,
      artist,
      album,
      optNum(n[ni + N_DURATION]),
      optNum(n[ni + N_TRACK]),
      optNum(n[ni + N_DISC]),
      s[S_SPOTIFY_URI],
      s[S_ISRC],
      s[S_MBID],
      s[S_FILE_PATH],
      optNum(n[ni + N_FILE_SIZE]),
      optNum(n[ni + N_BITRATE]),
      s[S_AUDIO_FORMAT],
      optNum(n[ni + N_SAMPLE_RATE]),
      s[S_ADDED_AT],
      s[S_CREDITS] === undefined ? undefined : (JSON.parse(s[S_CREDITS]) as Array<[string, string?]>).map(([name, spotifyUri]) => (spotifyUri ? { name, spotifyUri } : { name })),
      optNum(n[ni + N_PLAYLIST]),
      originals,
      i,
    );
  }
  return rows;
}

/**
 * A copy of `s` that shares no memory with a larger string (a slice of a chunk's text would keep
 * the whole text alive). For what outlives a chunk: cache keys, the summary's rejects.
 */
export function detach(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
