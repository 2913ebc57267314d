/**
 * The matching rules of an import batch, as pure functions over what the database returned: the
 * SQLite and PostgreSQL writers fetch candidates, call these, and write the plan. Keeping the
 * rules here keeps the two providers identical.
 */
import type { AlbumRef, ArtistRef, TrackRow } from './parse/normalize.js';
import type { Reject } from './rejects.js';

import type { ExistingAlbum, ExistingArtist, TrackValues } from './store/index.js';

export type { ExistingAlbum, ExistingArtist, TrackValues };

/** A row with its artist and album resolved to ids. */
export interface ResolvedRow extends TrackRow {
  artistId: string;
  albumId: string | null;
  /** The ids of the artists credited after the first, comma-joined ('' for none): TrackValues.credits. */
  creditIds: string;
}

// Cache keys: the Spotify URI itself when there is one (no new string to build and hash for
// every row), else a prefixed text that cannot be a URI (URIs start with "spotify:").
export const artistKey = (ref: ArtistRef): string => ref.spotifyUri ?? `n:${ref.name}`;
export const albumKey = (ref: AlbumRef, artistId: string): string => ref.spotifyUri ?? `t:${artistId}\u0000${ref.title}`;

/** New rows, URIs given to rows that had none, and the id of every reference by its key. */
export interface RefPlan<T> {
  ids: Map<string, string>;
  creates: T[];
  attaches: Array<{ id: string; spotifyUri: string }>;
}

/** How references to artists or albums are keyed, named and turned into new rows. */
export interface RefKind<R, T extends { id: string; spotifyUri: string | null }> {
  /** The reference's key in the id caches (artistKey, albumKey). */
  key(ref: R): string;
  uri(ref: R): string | undefined;
  /** What a reference without a URI matches on: the artist's name; the album's (artist, title). */
  refName(ref: R): string;
  rowName(row: T): string;
  create(ref: R, id: string): T;
}

const nameKey = (artistId: string, title: string) => `${artistId}\u0000${title}`;

export const ARTISTS: RefKind<ArtistRef, ExistingArtist> = {
  key: artistKey,
  uri: (ref) => ref.spotifyUri,
  refName: (ref) => ref.name,
  rowName: (row) => row.name,
  create: (ref, id) => ({ id, name: ref.name, spotifyUri: ref.spotifyUri ?? null }),
};

export const ALBUMS: RefKind<{ ref: AlbumRef; artistId: string }, ExistingAlbum> = {
  key: ({ ref, artistId }) => albumKey(ref, artistId),
  uri: ({ ref }) => ref.spotifyUri,
  refName: ({ ref, artistId }) => nameKey(artistId, ref.title),
  rowName: (row) => nameKey(row.artistId, row.title),
  create: ({ ref, artistId }, id) => ({ id, title: ref.title, artistId, spotifyUri: ref.spotifyUri ?? null, releaseYear: ref.releaseYear ?? null }),
};

/**
 * Artists or albums for a batch: by Spotify URI; else one of the same name without a URI (which
 * gets the URI); else a new one. A reference without a URI matches the first of that exact name
 * (an album's name: its title and artist).
 */
export function planRefs<R, T extends { id: string; spotifyUri: string | null }>(kind: RefKind<R, T>, refs: R[], existing: T[], newId: () => string): RefPlan<T> {
  const byUri = new Map<string, T>();
  const byName = new Map<string, T[]>();
  const add = (row: T) => {
    if (row.spotifyUri) byUri.set(row.spotifyUri, row);
    const name = kind.rowName(row);
    const list = byName.get(name);
    if (list) list.push(row);
    else byName.set(name, [row]);
  };
  for (const row of existing) add(row);
  const plan: RefPlan<T> = { ids: new Map(), creates: [], attaches: [] };
  for (const ref of refs) {
    const key = kind.key(ref);
    if (plan.ids.has(key)) continue;
    const uri = kind.uri(ref);
    const sameName = byName.get(kind.refName(ref));
    if (uri) {
      const hit = byUri.get(uri) ?? sameName?.find((row) => !row.spotifyUri);
      if (hit) {
        if (!hit.spotifyUri) {
          hit.spotifyUri = uri;
          byUri.set(uri, hit);
          plan.attaches.push({ id: hit.id, spotifyUri: uri });
        }
        plan.ids.set(key, hit.id);
        continue;
      }
    } else if (sameName?.length) {
      plan.ids.set(key, sameName[0].id);
      continue;
    }
    const created = kind.create(ref, newId());
    add(created);
    plan.creates.push(created);
    plan.ids.set(key, created.id);
  }
  return plan;
}

export interface TrackPlan {
  inserts: TrackValues[];
  updates: TrackValues[];
  unchanged: number;
  duplicates: number;
  rejects: Reject[];
  /** Every track a row resolved to, in file order: `changed` when inserted or updated, not when unchanged. */
  accepted: Array<{ track: TrackValues; row: ResolvedRow; changed: boolean }>;
  /**
   * Every row not rejected, in file order, with its track: the playlist entries (a duplicate row
   * is an entry too: a playlist may hold a track at several positions). `created`: the row
   * inserted the track.
   */
  placed: Array<{ row: ResolvedRow; trackId: string; created: boolean }>;
  /**
   * Rows that came to matching by title although their title was not looked up (`titlesFetched`
   * said no: a track held their Spotify URI or ISRC when looked up, and an earlier row took it
   * away). The plan is then incomplete: look their titles up and plan again.
   */
  untitled: ResolvedRow[];
}

const COMPARED: Array<keyof TrackValues> = [
  'title',
  'artistId',
  'albumId',
  'durationMs',
  'trackNumber',
  'discNumber',
  'spotifyUri',
  'isrc',
  'musicbrainzId',
  'filePath',
  'fileSize',
  'audioBitrate',
  'audioFormat',
  'audioSampleRate',
  'credits',
];

function valuesOf(row: ResolvedRow, id: string): TrackValues {
  return {
    id,
    title: row.title,
    artistId: row.artistId,
    albumId: row.albumId,
    durationMs: row.durationMs ?? 0,
    trackNumber: row.trackNumber ?? null,
    discNumber: row.discNumber ?? 1,
    spotifyUri: row.spotifyUri ?? null,
    isrc: row.isrc ?? null,
    musicbrainzId: row.musicbrainzId ?? null,
    filePath: row.filePath ?? null,
    fileSize: row.fileSize ?? null,
    audioBitrate: row.audioBitrate ?? null,
    audioFormat: row.audioFormat ?? null,
    audioSampleRate: row.audioSampleRate ?? null,
    credits: row.creditIds,
  };
}

/** The existing track with what the row gives laid over it (a value the row leaves empty is kept). */
function merged(existing: TrackValues, row: ResolvedRow): TrackValues {
  return {
    ...existing,
    title: row.title,
    artistId: row.artistId,
    albumId: row.album ? row.albumId : existing.albumId,
    durationMs: row.durationMs ?? existing.durationMs,
    trackNumber: row.trackNumber ?? existing.trackNumber,
    discNumber: row.discNumber ?? existing.discNumber,
    spotifyUri: row.spotifyUri ?? existing.spotifyUri,
    isrc: row.isrc ?? existing.isrc,
    musicbrainzId: row.musicbrainzId ?? existing.musicbrainzId,
    filePath: row.filePath ?? existing.filePath,
    fileSize: row.fileSize ?? existing.fileSize,
    audioBitrate: row.audioBitrate ?? existing.audioBitrate,
    audioFormat: row.audioFormat ?? existing.audioFormat,
    audioSampleRate: row.audioSampleRate ?? existing.audioSampleRate,
    // The row lists every artist it credits: its list replaces the track's.
    credits: row.creditIds,
  };
}

/**
 * Matches each row to a track: by spotify_uri, then isrc, then (title, artist, album) among
 * tracks whose Spotify URI and ISRC do not contradict the row. A track already matched earlier in
 * this run (`seen`, or earlier in the batch) makes the row a duplicate. A change that would give a
 * track a Spotify URI, ISRC or MusicBrainz id another track holds is rejected, not half-applied.
 */
export function planTracks(
  rows: ResolvedRow[],
  candidates: TrackValues[],
  seen: Set<string>,
  newId: () => string,
  titlesFetched: (row: ResolvedRow) => boolean = () => true,
): TrackPlan {
  const byUri = new Map<string, TrackValues>();
  const byIsrc = new Map<string, TrackValues>();
  const byMbid = new Map<string, TrackValues>();
  const byTitle = new Map<string, TrackValues[]>();
  const titleKey = (title: string, artistId: string, albumId: string | null) => `${artistId}\u0000${albumId ?? ''}\u0000${title}`;
  const index = (t: TrackValues, key = titleKey(t.title, t.artistId, t.albumId)) => {
    if (t.spotifyUri) byUri.set(t.spotifyUri, t);
    if (t.isrc) byIsrc.set(t.isrc, t);
    if (t.musicbrainzId) byMbid.set(t.musicbrainzId, t);
    const list = byTitle.get(key);
    if (list) {
      if (!list.includes(t)) list.push(t);
    } else byTitle.set(key, [t]);
  };
  const unindex = (t: TrackValues) => {
    if (t.spotifyUri && byUri.get(t.spotifyUri) === t) byUri.delete(t.spotifyUri);
    if (t.isrc && byIsrc.get(t.isrc) === t) byIsrc.delete(t.isrc);
    if (t.musicbrainzId && byMbid.get(t.musicbrainzId) === t) byMbid.delete(t.musicbrainzId);
    const list = byTitle.get(titleKey(t.title, t.artistId, t.albumId));
    if (list) {
      const i = list.indexOf(t);
      if (i >= 0) list.splice(i, 1);
    }
  };
  // Copies: the plan mutates them as rows update tracks.
  const live = new Set<string>();
  for (const c of candidates) {
    if (live.has(c.id)) continue;
    live.add(c.id);
    index({ ...c });
  }

  const plan: TrackPlan = { inserts: [], updates: [], unchanged: 0, duplicates: 0, rejects: [], accepted: [], placed: [], untitled: [] };
  // Tracks matched earlier in this batch: a second row matching one is a duplicate. (So a track is
  // inserted or updated at most once a batch.)
  const touched = new Set<string>();
  const owner = (map: Map<string, TrackValues>, value: string | null, self: string | undefined) => {
    if (!value) return undefined;
    const t = map.get(value);
    return t && t.id !== self ? t : undefined;
  };

  for (const row of rows) {
    const key = titleKey(row.title, row.artistId, row.albumId);
    let match = row.spotifyUri ? byUri.get(row.spotifyUri) : undefined;
    if (!match && row.isrc) match = byIsrc.get(row.isrc);
    if (!match) {
      if (!titlesFetched(row)) plan.untitled.push(row);
      match = byTitle
        .get(key)
        ?.find((t) => !(row.spotifyUri && t.spotifyUri && t.spotifyUri !== row.spotifyUri) && !(row.isrc && t.isrc && t.isrc !== row.isrc));
    }
    if (match && (touched.has(match.id) || seen.has(match.id))) {
      plan.duplicates += 1;
      plan.placed.push({ row, trackId: match.id, created: false });
      continue;
    }
    if (!match) {
      // New: its Spotify URI and ISRC were looked up above and belong to no track.
      const next = valuesOf(row, newId());
      if (owner(byMbid, next.musicbrainzId, undefined)) {
        plan.rejects.push({ line: row.line, original: row.original, playlist: row.playlist, reason: `musicbrainz_id ${next.musicbrainzId} already belongs to another track; fix the row or that track` });
        continue;
      }
      touched.add(next.id);
      plan.accepted.push({ track: next, row, changed: true });
      plan.placed.push({ row, trackId: next.id, created: true });
      index(next, key);
      plan.inserts.push(next);
      continue;
    }
    const next = merged(match, row);
    const taken =
      (owner(byUri, next.spotifyUri, match.id) && `spotify_uri ${next.spotifyUri}`) ||
      (owner(byIsrc, next.isrc, match.id) && `isrc ${next.isrc}`) ||
      (owner(byMbid, next.musicbrainzId, match.id) && `musicbrainz_id ${next.musicbrainzId}`);
    if (taken) {
      plan.rejects.push({ line: row.line, original: row.original, playlist: row.playlist, reason: `${taken} already belongs to another track; fix the row or that track` });
      continue;
    }
    touched.add(next.id);
    const changed = !COMPARED.every((k) => match[k] === next[k]);
    plan.accepted.push({ track: next, row, changed });
    plan.placed.push({ row, trackId: next.id, created: false });
    if (!changed) {
      plan.unchanged += 1;
      continue;
    }
    unindex(match);
    Object.assign(match, next);
    index(match);
    plan.updates.push(match);
  }
  return plan;
}

/**
 * planTracks for a chunk of a load into a tracks table that was empty when its transaction began
 * (see BatchImporter's fresh filter): the rows marked in `sure` hold no key (Spotify URI, ISRC,
 * MusicBrainz id, title and artist) that any track or any earlier row holds, so each is a new
 * track, planned without a look at the others. The rest go through planTracks against
 * `candidates` and the chunk's new tracks that share one of their keys (those are seen: a row
 * that matches one is a duplicate). The same plan as planTracks over all the rows would make,
 * its lists in file order (a sure row's title is never left to look up: no track can hold it);
 * only the maps of the few rows left are built.
 */
export function planFreshTracks(
  rows: ResolvedRow[],
  sure: Uint8Array,
  candidates: TrackValues[],
  seen: Set<string>,
  newId: () => string,
  titlesFetched: (row: ResolvedRow) => boolean = () => true,
): TrackPlan {
  // Small functions, and no statement that only some rows reach in the loops: a path first taken
  // late in a file (the first row that may match) made V8 throw away this function's optimized
  // code, with all it had inlined, and compile it again: 4 to 6 times a 100k import.
  const created = rows.map((row, i) => (sure[i] ? valuesOf(row, newId()) : undefined));
  const plan = newOnes(rows, created);
  const rest = rows.filter((_, i) => !sure[i]);
  return rest.length ? withRest(plan, rows, created, rest, candidates, seen, newId, titlesFetched) : plan;
}

/** The plan of the sure rows' new tracks (`created`), in file order. */
function newOnes(rows: ResolvedRow[], created: Array<TrackValues | undefined>): TrackPlan {
  const plan: TrackPlan = { inserts: [], updates: [], unchanged: 0, duplicates: 0, rejects: [], accepted: [], placed: [], untitled: [] };
  for (let i = 0; i < rows.length; i++) {
    const track = created[i];
    if (track === undefined) continue;
    plan.inserts.push(track);
    plan.accepted.push({ track, row: rows[i], changed: true });
    plan.placed.push({ row: rows[i], trackId: track.id, created: true });
  }
  return plan;
}

/** `plan` (the sure rows') with the `rest` planned by planTracks, each list in file order. */
function withRest(
  plan: TrackPlan,
  rows: ResolvedRow[],
  created: Array<TrackValues | undefined>,
  rest: ResolvedRow[],
  candidates: TrackValues[],
  seen: Set<string>,
  newId: () => string,
  titlesFetched: (row: ResolvedRow) => boolean,
): TrackPlan {
  const meet = sharingKeys(rest, created);
  const sub = planTracks(rest, [...candidates, ...meet], new Set([...seen, ...meet.map((t) => t.id)]), newId, titlesFetched);
  const at = new Map(rows.map((row, i) => [row, i]));
  const inFileOrder = <T extends { row: ResolvedRow }>(list: T[]) => list.sort((x, y) => at.get(x.row)! - at.get(y.row)!);
  const accepted = inFileOrder([...plan.accepted, ...sub.accepted]);
  const inserted = new Set([...plan.inserts, ...sub.inserts]);
  return {
    inserts: accepted.filter((x) => inserted.has(x.track)).map((x) => x.track),
    updates: sub.updates,
    unchanged: sub.unchanged,
    duplicates: sub.duplicates,
    rejects: sub.rejects,
    accepted,
    placed: inFileOrder([...plan.placed, ...sub.placed]),
    untitled: sub.untitled,
  };
}

/** The new tracks that share a key with one of `rows` (which only they could meet among them). */
function sharingKeys(rows: ResolvedRow[], created: Array<TrackValues | undefined>): TrackValues[] {
  const uris = new Set<string>();
  const isrcs = new Set<string>();
  const mbids = new Set<string>();
  const titles = new Map<string, Set<string>>();
  for (const r of rows) {
    if (r.spotifyUri) uris.add(r.spotifyUri);
    if (r.isrc) isrcs.add(r.isrc);
    if (r.musicbrainzId) mbids.add(r.musicbrainzId);
    const artists = titles.get(r.title);
    if (artists) artists.add(r.artistId);
    else titles.set(r.title, new Set([r.artistId]));
  }
  const out: TrackValues[] = [];
  for (const t of created) {
    if (!t) continue;
    if (
      (t.spotifyUri && uris.has(t.spotifyUri)) ||
      (t.isrc && isrcs.has(t.isrc)) ||
      (t.musicbrainzId && mbids.has(t.musicbrainzId)) ||
      titles.get(t.title)?.has(t.artistId)
    ) {
      out.push(t);
    }
  }
  return out;
}
