import { INT32_MAX, YEAR_MAX, YEAR_MIN, characters, unstorableText } from '../../repositories/validation.js';

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
  /** The artists credited after `artist`, in order (positions 1, 2, …); absent when only one. */
  credits?: ArtistRef[];
  /** A Spotify account export: the index of the playlist the row is an entry of (see PlaylistInfo). */
  playlist?: number;
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
function fieldOf(name: string): Field | undefined {
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

/**
 * A field's text, trimmed; undefined when blank. A JSON number is read as its digits; any other
 * JSON value (true, an array, an object) where text belongs is rejected rather than dropped.
 * Text that the databases cannot store as given (a NUL, half a surrogate pair) is rejected here.
 */
function text(value: unknown, column: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  let t: string;
  if (typeof value === 'string') {
    t = value.trim();
    if (t === '') return undefined;
  } else if (typeof value === 'number') t = String(value);
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- String() only for what JSON.stringify cannot show (a function, a symbol)
  else throw new RowError(`${column} must be text or a number, got ${clip(JSON.stringify(value) ?? String(value))}`);
  const problem = unstorableText(t);
  if (problem) throw new RowError(`${column} contains ${problem}, which the database cannot store: ${clip(JSON.stringify(t))}`);
  return t;
}

/** Checks a VARCHAR(max) value, counting characters as PostgreSQL does (see `characters`). */
function limit(value: string, max: number, column: string): string {
  if (value.length <= max) return value; // never more characters than UTF-16 units
  const n = characters(value);
  if (n > max) throw new RowError(`${column} longer than ${max} characters (${n})`);
  return value;
}

/** A whole number in [min, max] (an INTEGER column by default) from a field's text; undefined when empty. */
function wholeNumber(t: string | undefined, column: string, min: number, max = INT32_MAX): number | undefined {
  if (t === undefined) return undefined;
  if (!/^[+-]?\d+(\.0+)?$/.test(t)) throw new RowError(`${column} is not a whole number: "${clip(t)}"`);
  const n = Number(t);
  if (n < 0) throw new RowError(`${column} is negative: ${t}`);
  if (n < min) throw new RowError(`${column} must be at least ${min}, got ${n}`);
  if (n > max) throw new RowError(`${column} is too large: ${t} (at most ${max})`);
  return n;
}

/** duration_ms: whole milliseconds; a fraction (some tools write floats) is rounded to the millisecond. */
function milliseconds(value: unknown): number | undefined {
  const t = text(value, 'duration_ms');
  const fraction = t === undefined ? null : /^[+-]?\d+\.\d+$/.exec(t);
  return wholeNumber(fraction ? String(Math.round(Number(t))) : t, 'duration_ms', 0);
}

/**
 * Duration as seconds ("215", "215.4"), m:ss or h:mm:ss (seconds, and minutes after hours, below
 * 60; an optional fraction of a second), in milliseconds within the INTEGER column.
 */
function durationToMs(value: unknown, column: string): number | undefined {
  const t = text(value, column);
  if (t === undefined) return undefined;
  let ms: number;
  const clock = /^(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.(\d{1,3}))?$/.exec(t);
  if (clock) {
    const [, h, m, s, frac] = clock;
    if (Number(s) >= 60 || (h !== undefined && Number(m) >= 60)) {
      throw new RowError(`${column} is not a valid ${h === undefined ? 'm:ss' : 'h:mm:ss'} time: "${clip(t)}" (minutes and seconds run 00–59)`);
    }
    ms = ((Number(h ?? 0) * 60 + Number(m)) * 60 + Number(s)) * 1000 + (frac ? Number(frac.padEnd(3, '0')) : 0);
  } else {
    if (/^-/.test(t)) throw new RowError(`${column} is negative: "${clip(t)}"`);
    if (!/^\+?\d+(\.\d+)?$/.test(t)) throw new RowError(`${column} is not a duration (seconds, m:ss or h:mm:ss): "${clip(t)}"`);
    ms = Math.round(Number(t) * 1000);
  }
  if (ms > INT32_MAX) throw new RowError(`${column} is too long: "${clip(t)}" (at most ${Math.floor(INT32_MAX / 1000)} seconds)`);
  return ms;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days in `month` (1–12) of `year`, Gregorian (without a Date: this runs for every row). */
function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1];
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
}

/** The problem with a calendar date, if any (2024-02-30 is not a day; Date.parse would roll it over). */
function calendarProblem(year: number, month: number, day?: number): string | undefined {
  if (month < 1 || month > 12) return `month ${month} does not exist`;
  if (day !== undefined && (day < 1 || day > daysInMonth(year, month))) return `day ${day} does not exist in ${year}-${String(month).padStart(2, '0')}`;
  return undefined;
}

function releaseYear(value: unknown, column: string): number | undefined {
  const t = text(value, column);
  if (t === undefined) return undefined;
  const m = /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ].*)?)?)?$/.exec(t);
  if (!m) throw new RowError(`${column} is not a year or a date: "${clip(t)}"`);
  const year = Number(m[1]);
  if (year < YEAR_MIN || year > YEAR_MAX) throw new RowError(`${column} year ${year} is outside ${YEAR_MIN}–${YEAR_MAX}`);
  const problem = m[2] === undefined ? undefined : calendarProblem(year, Number(m[2]), m[3] === undefined ? undefined : Number(m[3]));
  if (problem) throw new RowError(`${column} is not a valid date: "${clip(t)}" (${problem})`);
  return year;
}

/**
 * ISO 8601 as exports write it: a date (2020-04-14) or a date-time with `T` or a space, optional
 * seconds and fraction, `Z` or an offset (2020-04-14T18:33:31Z); no offset means UTC. Nothing
 * else (Date.parse would read "1" as 2001-01-01 and roll 2024-02-30 over to March).
 */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?\s?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** The shape exporters write (2020-04-14T18:33:31Z): already UTC, read without a Date. */
const ISO_UTC_SECONDS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** added_at as ISO text in UTC, within YEAR_MIN–YEAR_MAX (both databases and JS Date hold those). */
function addedAt(value: unknown): string | undefined {
  const t = text(value, 'added_at');
  if (t === undefined) return undefined;
  const simple = ISO_UTC_SECONDS.exec(t);
  if (simple) {
    const year = Number(simple[1]);
    const month = Number(simple[2]);
    const day = Number(simple[3]);
    // A valid one is its own UTC text, with the milliseconds toISOString adds; anything else takes the full path (and its message).
    if (year >= YEAR_MIN && year <= YEAR_MAX && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && Number(simple[4]) <= 23 && Number(simple[5]) <= 59 && Number(simple[6]) <= 59) {
      return `${t.slice(0, 19)}.000Z`;
    }
  }
  const m = ISO_DATE_TIME.exec(t);
  if (!m) throw new RowError(`added_at is not an ISO 8601 date: "${clip(t)}" (expected e.g. 2020-04-14 or 2020-04-14T18:33:31Z)`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const year = Number(y);
  // Checked before Date.UTC, which reads years 0–99 as 1900–1999.
  if (year < YEAR_MIN || year > YEAR_MAX) throw new RowError(`added_at year ${year} is outside ${YEAR_MIN}–${YEAR_MAX}: "${clip(t)}"`);
  let problem = calendarProblem(year, Number(mo), Number(d));
  if (!problem && (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59)) problem = 'the time of day does not exist';
  let offset = 0;
  if (!problem && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const oh = Number(z[2]);
    const om = Number(z[3] ?? 0);
    if (oh > 18 || om > 59) problem = `offset ${zone} does not exist`;
    offset = (z[1] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  if (problem) throw new RowError(`added_at is not a valid date: "${clip(t)}" (${problem})`);
  const ms = Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0').slice(0, 3))) - offset;
  const utc = new Date(ms);
  // An offset can move the first or last hours of the range out of it.
  if (utc.getUTCFullYear() < YEAR_MIN || utc.getUTCFullYear() > YEAR_MAX) throw new RowError(`added_at is outside ${YEAR_MIN}–${YEAR_MAX} in UTC: "${clip(t)}"`);
  return utc.toISOString();
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

/** A list of Spotify URIs: a JSON array, or text joined with commas (a URI never holds one). */
function uriList(value: unknown, column: string): string[] {
  if (Array.isArray(value)) return value.map((v) => text(v, column)).filter((v): v is string => v !== undefined);
  const t = text(value, column);
  if (t === undefined) return [];
  // One URI (the common case): no list to split.
  return t.includes(',') ? t.split(',').map((u) => u.trim()).filter(Boolean) : [t];
}

type NamedRef = { name?: string; uri?: string };

function refOf(value: unknown, column: string): NamedRef {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    return { name: text(o.name, column), uri: text(o.uri, `${column} URI`) };
  }
  return { name: text(value, column) };
}

/**
 * Every artist a row credits, in order: from the list column (a JSON array of names or
 * `{name, uri}`; Exportify's text `A, B` with `\,` for a comma inside a name), else the
 * single-name column (never split: names may hold commas). When the URIs column lists exactly one
 * URI, the list is one artist, even with a plain comma in its name (`Tyler, The Creator`).
 */
function artistList(list: unknown, single: unknown, uris: unknown, column: string): NamedRef[] {
  const uriTexts = uriList(uris, `${column} URI`);
  const withUris = (names: NamedRef[]) => names.map((n, i) => (n.uri || !uriTexts[i] ? n : { name: n.name, uri: uriTexts[i] }));
  if (Array.isArray(list) && list.length) return withUris(list.map((v) => refOf(v, column)));
  if (list && typeof list === 'object' && !Array.isArray(list)) return withUris([refOf(list, column)]);
  const t = typeof list === 'object' ? undefined : text(list, column);
  if (t !== undefined) {
    const names = uriTexts.length === 1 ? [t.replace(/\\,/g, ',').trim()] : splitList(t);
    if (names.length) return withUris(names.map((name) => ({ name })));
  }
  if (single && typeof single === 'object') return withUris(Array.isArray(single) ? single.map((v) => refOf(v, column)) : [refOf(single, column)]);
  return withUris([{ name: text(single, column) }]);
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
 * Every value is checked against what both databases store (see text, limit, wholeNumber), so a
 * row that one of them would refuse is rejected here, the same way on both.
 * JSON objects may also carry Spotify API shapes: `artists: [{name, uri}]`, `album: {name, uri,
 * release_date}`, `external_ids: {isrc}`.
 */
export function normaliseRow(values: RawValues, line: number, original: string): TrackRow {
  const title = text(values.title, 'title');
  if (!title) throw new RowError('missing title');
  const credited = artistList(values.artists, values.artist, values.artistUris ?? values.artistUri, 'artist');
  if (!credited[0]?.name) throw new RowError('missing artist');
  const [artist, ...others] = credited.flatMap((c) => artistRef(c.name, c.uri, 'artist') ?? []);

  const row: TrackRow = { line, original, title: limit(title, 255, 'title'), artist };
  if (others.length) row.credits = others;

  let albumValue = values.album;
  let albumUri: string | undefined = uriList(values.albumUri, 'album URI')[0];
  let releaseDate = values.releaseDate;
  let albumArtistList = values.albumArtists;
  const albumArtistSingle = values.albumArtist;
  if (albumValue && typeof albumValue === 'object' && !Array.isArray(albumValue)) {
    const o = albumValue as Record<string, unknown>;
    albumValue = o.name ?? o.title;
    albumUri ??= text(o.uri, 'album URI');
    releaseDate ??= o.release_date ?? o.releaseDate;
    albumArtistList ??= o.artists;
  }
  const albumTitle = text(albumValue, 'album');
  const year = releaseYear(releaseDate, 'release date'); // validated even without an album
  if (albumTitle) {
    const aa = artistList(albumArtistList, albumArtistSingle, values.albumArtistUris ?? values.albumArtistUri, 'album artist')[0];
    const albumArtist = aa?.name ? artistRef(aa.name, aa.uri, 'album artist')! : artist;
    row.album = { title: limit(albumTitle, 255, 'album'), artist: albumArtist };
    if (albumUri) {
      const parsed = parseSpotifyUri(albumUri, 'album', 'album URI');
      if (parsed) row.album.spotifyUri = parsed;
    }
    if (year !== undefined) row.album.releaseYear = year;
  }

  const durationMs = text(values.durationMs, 'duration_ms') !== undefined ? milliseconds(values.durationMs) : durationToMs(values.duration, 'duration');
  if (durationMs !== undefined) row.durationMs = durationMs;
  // Exporters write 0 for the track and disc number of a local file: unknown, not an error.
  const trackNumber = wholeNumber(text(values.trackNumber, 'track_number'), 'track_number', 0);
  if (trackNumber) row.trackNumber = trackNumber;
  const discNumber = wholeNumber(text(values.discNumber, 'disc_number'), 'disc_number', 0);
  if (discNumber) row.discNumber = discNumber;

  let uriText = text(values.spotifyUri, 'track URI');
  const idText = text(values.spotifyId, 'spotify_id');
  if (!uriText && idText) {
    if (!BASE62.test(idText)) throw new RowError(`bad Spotify track id: "${clip(idText)}" (expected 22 letters/digits)`);
    uriText = `spotify:track:${idText}`;
  }
  if (uriText) {
    const parsed = parseSpotifyUri(uriText, 'track', 'track URI');
    if (parsed) row.spotifyUri = parsed;
  }

  let isrcValue = values.isrc;
  if (isrcValue && typeof isrcValue === 'object' && !Array.isArray(isrcValue)) isrcValue = (isrcValue as Record<string, unknown>).isrc;
  const isrc = text(isrcValue, 'isrc');
  if (isrc) {
    const normal = isrc.toUpperCase().replace(/[-\s]/g, '');
    if (!ISRC.test(normal)) throw new RowError(`bad ISRC: "${clip(isrc)}" (expected 12 characters like USRC17607839)`);
    row.isrc = normal;
  }
  const mbid = text(values.musicbrainzId, 'musicbrainz_id');
  if (mbid) {
    const normal = mbid.toLowerCase();
    if (!UUID.test(normal)) throw new RowError(`bad MusicBrainz id: "${clip(mbid)}" (expected a UUID)`);
    row.musicbrainzId = normal;
  }
  const filePath = text(values.filePath, 'file_path');
  if (filePath) row.filePath = limit(filePath, 512, 'file_path');
  // BIGINT column, but a JS number is exact only up to 2^53 - 1.
  const fileSize = wholeNumber(text(values.fileSize, 'file_size'), 'file_size', 0, Number.MAX_SAFE_INTEGER);
  if (fileSize !== undefined) row.fileSize = fileSize;
  const bitrate = wholeNumber(text(values.audioBitrate, 'audio_bitrate'), 'audio_bitrate', 0);
  if (bitrate !== undefined) row.audioBitrate = bitrate;
  const format = text(values.audioFormat, 'audio_format');
  if (format) row.audioFormat = limit(format.toLowerCase(), 20, 'audio_format');
  const sampleRate = wholeNumber(text(values.audioSampleRate, 'audio_sample_rate'), 'audio_sample_rate', 0);
  if (sampleRate !== undefined) row.audioSampleRate = sampleRate;
  const added = addedAt(values.addedAt);
  if (added) row.addedAt = added;
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
