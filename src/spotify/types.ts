/**
 * The parts of a Spotify track object soulspot uses (the API sends more; it is ignored).
 *
 * Validated by hand rather than with zod: a 10,000-id run parses 10,000 of these, and zod's
 * copying parse cost as much CPU as JSON.parse itself (measured in bench/spotify.mjs's setting),
 * while only a dozen fields matter. The checks are the same a schema would make.
 */
export interface SpotifyArtist {
  id?: string | null;
  name: string;
  uri?: string | null;
}

export interface SpotifyTrack {
  id: string;
  name: string;
  uri?: string | null;
  duration_ms: number;
  track_number?: number | null;
  disc_number?: number | null;
  external_ids?: { isrc?: string | null } | null;
  artists: SpotifyArtist[];
  album?: {
    id?: string | null;
    name: string;
    uri?: string | null;
    release_date?: string | null;
    release_date_precision?: string | null;
    artists?: SpotifyArtist[] | null;
  } | null;
  linked_from?: { id?: string | null; uri?: string | null } | null;
}

/** The answer for one id. */
export type TrackLookup = { status: 'found'; track: SpotifyTrack } | { status: 'not_found' } | { status: 'invalid'; reason: string };

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isOptionalString = (v: unknown) => v === undefined || v === null || typeof v === 'string';
const isOptionalInt = (v: unknown) => v === undefined || v === null || Number.isInteger(v);

function checkArtists(value: unknown, path: string, required: boolean): string | undefined {
  if (!required && (value === undefined || value === null)) return undefined;
  if (!Array.isArray(value)) return `${path}: expected an array`;
  if (required && value.length === 0) return `${path}: expected at least one artist`;
  for (let i = 0; i < value.length; i++) {
    const a: unknown = value[i];
    if (!isObject(a) || typeof a.name !== 'string') return `${path}.${i}.name: expected a string`;
    if (!isOptionalString(a.uri)) return `${path}.${i}.uri: expected a string`;
  }
  return undefined;
}

/** Why `t` is not a usable track object, or undefined when it is. */
function problemOf(t: Obj): string | undefined {
  if (typeof t.id !== 'string') return 'id: expected a string';
  if (typeof t.name !== 'string') return 'name: expected a string';
  if (!isOptionalString(t.uri)) return 'uri: expected a string';
  if (!Number.isInteger(t.duration_ms) || (t.duration_ms as number) < 0) return 'duration_ms: expected a whole number ≥ 0';
  if (!isOptionalInt(t.track_number)) return 'track_number: expected a whole number';
  if (!isOptionalInt(t.disc_number)) return 'disc_number: expected a whole number';
  if (t.external_ids !== undefined && t.external_ids !== null) {
    if (!isObject(t.external_ids) || !isOptionalString(t.external_ids.isrc)) return 'external_ids.isrc: expected a string';
  }
  const artists = checkArtists(t.artists, 'artists', true);
  if (artists) return artists;
  if (t.album !== undefined && t.album !== null) {
    const album = t.album;
    if (!isObject(album) || typeof album.name !== 'string') return 'album.name: expected a string';
    if (!isOptionalString(album.uri)) return 'album.uri: expected a string';
    if (!isOptionalString(album.release_date)) return 'album.release_date: expected a string';
    const albumArtists = checkArtists(album.artists, 'album.artists', false);
    if (albumArtists) return albumArtists;
  }
  return undefined;
}

/** Validates one element of a `tracks` array (null = not found). */
export function toLookup(value: unknown): TrackLookup {
  if (value === null || value === undefined) return { status: 'not_found' };
  if (!isObject(value)) return { status: 'invalid', reason: 'unexpected track object from Spotify (root: expected an object)' };
  const problem = problemOf(value);
  if (problem) return { status: 'invalid', reason: `unexpected track object from Spotify (${problem})` };
  return { status: 'found', track: value as unknown as SpotifyTrack };
}
