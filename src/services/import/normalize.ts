/** A reference to an artist as a row names it: matched by Spotify URI, else by exact name. */
export interface ArtistRef {
  name: string;
  spotifyUri?: string;
}

/** A reference to an album: matched by Spotify URI, else by (title, artist). */
export interface AlbumRef {
  title: string;
  spotifyUri?: string;
  artist: ArtistRef;
  releaseYear?: number;
}

/** A valid row, normalised: what the database writers take. */
export interface TrackRow {
  line: number;
  original: string;
  title: string;
  artist: ArtistRef;
  album?: AlbumRef;
  durationMs?: number;
  trackNumber?: number;
  discNumber?: number;
  spotifyUri?: string;
  isrc?: string;
  musicbrainzId?: string;
  filePath?: string;
  fileSize?: number;
  audioBitrate?: number;
  audioFormat?: string;
  audioSampleRate?: number;
  /** When the row was added to the exported playlist (ISO text), for --playlist. */
  addedAt?: string;
}

/** The fields soulspot understands, whatever a file calls them. */
export type Field =
  | 'title'
  | 'artist'
  | 'artists'
  | 'artistUri'
  | 'artistUris'
  | 'album'
  | 'albumUri'
  | 'albumArtist'
  | 'albumArtists'
  | 'albumArtistUri'
  | 'albumArtistUris'
  | 'releaseDate'
  | 'durationMs'
  | 'duration'
  | 'trackNumber'
  | 'discNumber'
  | 'isrc'
  | 'spotifyUri'
  | 'spotifyId'
  | 'musicbrainzId'
  | 'filePath'
  | 'fileSize'
  | 'audioBitrate'
  | 'audioFormat'
  | 'audioSampleRate'
  | 'addedAt';

/**
 * Column names per field, compared after lower-casing and dropping everything but letters and
 * digits: `Track Name`, `track_name` and `trackName` are all `trackname`. `…(s)` columns of
 * exporters hold lists (Exportify joins with ", " and escapes commas inside names as "\,").
 */
const ALIASES: Record<Field, string[]> = {
  title: ['title', 'trackname', 'tracktitle', 'track', 'name', 'song', 'songname', 'songtitle'],
  artist: ['artist', 'artistname', 'trackartist', 'performer', 'primaryartist'],
  artists: ['artistnames', 'artistss', 'artists', 'trackartists'],
  artistUri: ['artisturi', 'artistspotifyuri'],
  artistUris: ['artisturis', 'artisturiss'],
  album: ['album', 'albumname', 'albumtitle', 'release', 'releasename'],
  albumUri: ['albumuri', 'albumspotifyuri'],
  albumArtist: ['albumartist', 'albumartistname'],
  albumArtists: ['albumartistnames', 'albumartistss', 'albumartists'],
  albumArtistUri: ['albumartisturi'],
  albumArtistUris: ['albumartisturis', 'albumartisturiss'],
  releaseDate: ['albumreleasedate', 'releasedate', 'releaseyear', 'year', 'date', 'albumyear'],
  durationMs: ['durationms', 'trackdurationms', 'lengthms', 'timems'],
  duration: ['duration', 'length', 'time', 'durationseconds', 'durations'],
  trackNumber: ['tracknumber', 'trackno', 'tracknum', 'tracknr', 'tracknumber1', 'number'],
  discNumber: ['discnumber', 'discno', 'disc', 'disk', 'disknumber', 'discnum'],
  isrc: ['isrc', 'trackisrc'],
  spotifyUri: ['spotifyuri', 'trackuri', 'uri', 'spotifyurl', 'spotifylink', 'trackurl', 'spotify'],
  spotifyId: ['spotifyid', 'trackid', 'spotifytrackid'],
  musicbrainzId: ['musicbrainzid', 'mbid', 'musicbrainztrackid', 'musicbrainzrecordingid', 'recordingmbid'],
  filePath: ['filepath', 'path', 'file', 'location', 'filename'],
  fileSize: ['filesize', 'size', 'sizebytes', 'filesizebytes'],
  audioBitrate: ['audiobitrate', 'bitrate', 'bitratekbps'],
  audioFormat: ['audioformat', 'format', 'codec', 'filetype'],
  audioSampleRate: ['audiosamplerate', 'samplerate', 'sampleratehz'],
  addedAt: ['addedat', 'dateadded', 'added', 'addeddate'],
};

const FIELD_BY_KEY = new Map<string, Field>();
for (const [field, keys] of Object.entries(ALIASES) as Array<[Field, string[]]>) for (const key of keys) FIELD_BY_KEY.set(key, field);

/** The field a column or JSON key names, if any. */
export function fieldOf(name: string): Field | undefined {
  return FIELD_BY_KEY.get(name.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** Column index per field for a header row (the first column naming a field wins). */
export function mapHeader(header: string[]): Map<Field, number> {
  const map = new Map<Field, number>();
  header.forEach((name, i) => {
    const field = fieldOf(name.trim());
    if (field && !map.has(field)) map.set(field, i);
  });
  return map;
}

/** True when a header names the columns a track needs (a title and an artist). */
export function headerProblem(map: Map<Field, number>): string | undefined {
  const missing: string[] = [];
  if (!map.has('title')) missing.push('a title column (title, name, "Track Name")');
  if (!map.has('artist') && !map.has('artists')) missing.push('an artist column (artist, artists, "Artist Name(s)")');
  return missing.length ? missing.join(' and ') : undefined;
}

/** Raw values by field, as strings (CSV) or any JSON value. */
export type RawValues = Partial<Record<Field, unknown>>;

export class RowError extends Error {}

const BASE62 = /^[0-9A-Za-z]{22}$/;

/**
 * A Spotify URI of `kind` from a URI (`spotify:track:…`) or an open.spotify.com link (with or
 * without `intl-xx/` and `?si=`). Returns null for a local file (`spotify:local:…`), which has
 * no Spotify URI. Throws RowError for anything else.
 */
export function parseSpotifyUri(value: string, kind: 'track' | 'artist' | 'album', column: string): string | null {
  // Fast path, the common case of exports: already a canonical URI.
  const prefixLength = kind.length + 9;
  if (value.length === prefixLength + 22 && value.startsWith(`spotify:${kind}:`) && BASE62.test(value.slice(prefixLength))) return value;
  const text = value.trim();
  if (text.startsWith('spotify:local:')) return null;
  let id: string | undefined;
  let got: string | undefined;
  const uri = /^spotify:([a-z]+):([^:?#\s]+)$/.exec(text);
  if (uri) {
    got = uri[1];
    id = uri[2];
  } else {
    const link = /^(?:https?:\/\/)?open\.spotify\.com\/(?:intl-[a-z]{2}(?:-[a-z]+)?\/)?(?:embed\/)?([a-z]+)\/([^/?#\s]+)\/?(?:[?#].*)?$/i.exec(text);
    if (link) {
      got = link[1].toLowerCase();
      id = link[2];
    }
  }
  if (!id || got !== kind || !BASE62.test(id)) {
    throw new RowError(`bad Spotify ${kind} URI in ${column}: "${clip(text)}" (expected spotify:${kind}:<22 letters/digits> or an open.spotify.com/${kind}/ link)`);
  }
  return `spotify:${kind}:${id}`;
}

function clip(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    const t = value.trim();
    return t === '' ? undefined : t;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function limit(value: string, max: number, column: string): string {
  if (value.length > max) throw new RowError(`${column} longer than ${max} characters (${value.length})`);
  return value;
}

/** A whole number ≥ min from a string or number; undefined when empty. */
function wholeNumber(value: unknown, column: string, min: number, max = 2_147_483_647): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const t = value.trim();
    if (t === '') return undefined;
    if (!/^[+-]?\d+(\.0+)?$/.test(t)) throw new RowError(`${column} is not a whole number: "${clip(t)}"`);
    n = Number(t);
  } else throw new RowError(`${column} is not a number: ${clip(JSON.stringify(value))}`);
  if (!Number.isInteger(n)) throw new RowError(`${column} is not a whole number: ${n}`);
  if (n < 0) throw new RowError(`${column} is negative: ${n}`);
  if (n < min) throw new RowError(`${column} must be at least ${min}, got ${n}`);
  if (n > max) throw new RowError(`${column} is too large: ${n} (at most ${max})`);
  return n;
}

/** Duration given as seconds ("215", "215.4") or m:ss / h:mm:ss, in milliseconds. */
function durationToMs(value: unknown, column: string): number | undefined {
  const t = text(value);
  if (t === undefined) return undefined;
  const clock = /^(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(t);
  if (clock) {
    const [, h, m, s, frac] = clock;
    return ((Number(h ?? 0) * 60 + Number(m)) * 60 + Number(s)) * 1000 + (frac ? Number(frac.padEnd(3, '0')) : 0);
  }
  if (/^-/.test(t)) throw new RowError(`${column} is negative: "${clip(t)}"`);
  if (!/^\d+(\.\d+)?$/.test(t)) throw new RowError(`${column} is not a duration (seconds or m:ss): "${clip(t)}"`);
  return Math.round(Number(t) * 1000);
}

function releaseYear(value: unknown, column: string): number | undefined {
  const t = text(value);
  if (t === undefined) return undefined;
  const m = /^(\d{4})(?:-\d{1,2}(?:-\d{1,2}(?:[T ].*)?)?)?$/.exec(t);
  if (!m) throw new RowError(`${column} is not a year or a date: "${clip(t)}"`);
  const year = Number(m[1]);
  if (year < 1900 || year > 2100) throw new RowError(`${column} year ${year} is outside 1900–2100`);
  return year;
}

/** Splits an exporter's list: ", "-joined with "\," escaping commas inside one name. */
export function splitList(value: string): string[] {
  if (!value.includes(',')) return [value.trim()].filter(Boolean);
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && value[i + 1] === ',') {
      current += ',';
      i += 1;
    } else if (c === ',') {
      out.push(current.trim());
      current = '';
    } else current += c;
  }
  out.push(current.trim());
  return out.filter(Boolean);
}

function firstOfList(value: unknown): { name?: string; uri?: string } {
  if (Array.isArray(value)) {
    const first = value[0];
    if (first && typeof first === 'object') {
      const o = first as Record<string, unknown>;
      return { name: text(o.name), uri: text(o.uri) };
    }
    return { name: text(first) };
  }
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return { name: text(o.name), uri: text(o.uri) };
  }
  const t = text(value);
  return { name: t === undefined ? undefined : splitList(t)[0] };
}

/** The first artist of a list column, else the single-name column (never split: names may hold commas). */
function pickArtist(list: unknown, single: unknown): { name?: string; uri?: string } {
  if (list !== undefined && list !== null && list !== '') {
    const first = firstOfList(list);
    if (first.name) return first;
  }
  if (single && typeof single === 'object') return firstOfList(single);
  return { name: text(single) };
}

function firstUri(value: unknown): string | undefined {
  if (Array.isArray(value)) return text(value[0]);
  const t = text(value);
  return t === undefined ? undefined : t.split(',')[0].trim() || undefined;
}

const ISRC = /^[A-Z]{2}[A-Z0-9]{3}\d{7}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function artistRef(name: string | undefined, uri: string | undefined, column: string): ArtistRef | undefined {
  if (!name) return undefined;
  const ref: ArtistRef = { name: limit(name, 255, column) };
  if (uri) {
    const parsed = parseSpotifyUri(uri, 'artist', `${column} URI`);
    if (parsed) ref.spotifyUri = parsed;
  }
  return ref;
}

/**
 * Turns one row's values into a TrackRow, or throws RowError with the reason it is rejected.
 * JSON objects may also carry Spotify API shapes: `artists: [{name, uri}]`, `album: {name, uri,
 * release_date}`, `external_ids: {isrc}`.
 */
export function normaliseRow(values: RawValues, line: number, original: string): TrackRow {
  const title = text(values.title);
  if (!title) throw new RowError('missing title');
  const first = pickArtist(values.artists, values.artist);
  const artistName = first.name;
  if (!artistName) throw new RowError('missing artist');
  const artist = artistRef(artistName, first.uri ?? firstUri(values.artistUris ?? values.artistUri), 'artist')!;

  const row: TrackRow = { line, original, title: limit(title, 255, 'title'), artist };

  let albumValue = values.album;
  let albumUri = firstUri(values.albumUri);
  let releaseDate = values.releaseDate;
  let albumArtistList = values.albumArtists;
  let albumArtistSingle = values.albumArtist;
  if (albumValue && typeof albumValue === 'object' && !Array.isArray(albumValue)) {
    const o = albumValue as Record<string, unknown>;
    albumValue = o.name ?? o.title;
    albumUri ??= text(o.uri);
    releaseDate ??= o.release_date ?? o.releaseDate;
    albumArtistList ??= o.artists;
  }
  const albumTitle = text(albumValue);
  if (albumTitle) {
    const aa = pickArtist(albumArtistList, albumArtistSingle);
    const albumArtist = aa.name
      ? artistRef(aa.name, aa.uri ?? firstUri(values.albumArtistUris ?? values.albumArtistUri), 'album artist')!
      : artist;
    row.album = { title: limit(albumTitle, 255, 'album'), artist: albumArtist };
    if (albumUri) {
      const parsed = parseSpotifyUri(albumUri, 'album', 'album URI');
      if (parsed) row.album.spotifyUri = parsed;
    }
    const year = releaseYear(releaseDate, 'release date');
    if (year !== undefined) row.album.releaseYear = year;
  } else if (text(releaseDate) !== undefined) {
    releaseYear(releaseDate, 'release date'); // still validated
  }

  const durationMs = values.durationMs !== undefined && text(values.durationMs) !== undefined
    ? wholeNumber(typeof values.durationMs === 'string' ? values.durationMs.replace(/\.\d+$/, '') : values.durationMs, 'duration_ms', 0)
    : durationToMs(values.duration, 'duration');
  if (durationMs !== undefined) row.durationMs = durationMs;
  // Exporters write 0 for the track and disc number of a local file: unknown, not an error.
  const trackNumber = wholeNumber(text(values.trackNumber), 'track_number', 0);
  if (trackNumber) row.trackNumber = trackNumber;
  const discNumber = wholeNumber(text(values.discNumber), 'disc_number', 0);
  if (discNumber) row.discNumber = discNumber;

  let uriText = text(values.spotifyUri);
  const idText = text(values.spotifyId);
  if (!uriText && idText) {
    if (!BASE62.test(idText)) throw new RowError(`bad Spotify track id: "${clip(idText)}" (expected 22 letters/digits)`);
    uriText = `spotify:track:${idText}`;
  }
  if (uriText) {
    const parsed = parseSpotifyUri(uriText, 'track', 'track URI');
    if (parsed) row.spotifyUri = parsed;
  }

  let isrcValue = values.isrc;
  if (isrcValue && typeof isrcValue === 'object') isrcValue = (isrcValue as Record<string, unknown>).isrc;
  const isrc = text(isrcValue);
  if (isrc) {
    const normal = isrc.toUpperCase().replace(/[-\s]/g, '');
    if (!ISRC.test(normal)) throw new RowError(`bad ISRC: "${clip(isrc)}" (expected 12 characters like USRC17607839)`);
    row.isrc = normal;
  }
  const mbid = text(values.musicbrainzId);
  if (mbid) {
    const normal = mbid.toLowerCase();
    if (!UUID.test(normal)) throw new RowError(`bad MusicBrainz id: "${clip(mbid)}" (expected a UUID)`);
    row.musicbrainzId = normal;
  }
  const filePath = text(values.filePath);
  if (filePath) row.filePath = limit(filePath, 512, 'file_path');
  const fileSize = wholeNumber(text(values.fileSize), 'file_size', 0, Number.MAX_SAFE_INTEGER);
  if (fileSize !== undefined) row.fileSize = fileSize;
  const bitrate = wholeNumber(text(values.audioBitrate), 'audio_bitrate', 0);
  if (bitrate !== undefined) row.audioBitrate = bitrate;
  const format = text(values.audioFormat);
  if (format) row.audioFormat = limit(format.toLowerCase(), 20, 'audio_format');
  const sampleRate = wholeNumber(text(values.audioSampleRate), 'audio_sample_rate', 0);
  if (sampleRate !== undefined) row.audioSampleRate = sampleRate;
  const addedAt = text(values.addedAt);
  if (addedAt) {
    const ms = Date.parse(addedAt);
    if (Number.isNaN(ms)) throw new RowError(`added_at is not a date: "${clip(addedAt)}"`);
    row.addedAt = new Date(ms).toISOString();
  }
  return row;
}

/** Values by field from a JSON object (keys matched like CSV headers; `external_ids.isrc` too). */
export function valuesFromObject(object: Record<string, unknown>): RawValues {
  const values: RawValues = {};
  for (const key of Object.keys(object)) {
    const field = fieldOf(key);
    if (field && values[field] === undefined) values[field] = object[key];
    else if (key === 'external_ids' && object[key] && typeof object[key] === 'object') {
      values.isrc ??= (object[key] as Record<string, unknown>).isrc;
    }
  }
  // Spotify API shape: `name` is the title, `artists` a list of objects.
  return values;
}
