/**
 * The tracks a bulk load into an empty tracks table has written, by key, while the indexes of
 * those keys are deferred (see the SQLite store's deferIndexes): the finds of that batch are
 * answered from here, since every track in the table is one the batch wrote.
 *
 * Only rowids are kept, under a 30-bit hash of each key (Spotify URI, ISRC, MusicBrainz id,
 * title): no text of a row stays in memory, 24 bytes a key at most. Two keys may share
 * a hash, and a track's keys may have changed since (an update registers its new keys, its old
 * ones stay): the store reads the rowids' rows and keeps those whose column is equal, so a hash
 * that matches too much costs a row read, never a wrong answer.
 */
import { keyHash } from '../key-filter.js';
import type { TrackValues } from './types.js';

const URI = 1;
const ISRC = 2;
const MBID = 3;
const TITLE = 4;

export class OwnTrackKeys {
  // An open-addressing hash table of (hash, rowid) pairs in two typed arrays, probed linearly;
  // a rowid of 0 marks a free slot (SQLite's rowids start at 1). A Map of the same pairs cost
  // three times as much a row here (about 1 µs against 0.3 µs, 100k rows of three keys each).
  private hashes = new Int32Array(1 << 16);
  private rowids = new Float64Array(1 << 16);
  private mask = (1 << 16) - 1;
  private used = 0;

  /** Registers the track's keys as they are now (after an insert or an update). */
  add(t: Pick<TrackValues, 'spotifyUri' | 'isrc' | 'musicbrainzId' | 'title' | 'artistId'>, rowid: number): void {
    if (t.spotifyUri) this.put(keyHash(URI, t.spotifyUri), rowid);
    if (t.isrc) this.put(keyHash(ISRC, t.isrc), rowid);
    if (t.musicbrainzId) this.put(keyHash(MBID, t.musicbrainzId), rowid);
    // The title alone: a title of several artists costs a row read, not a hash of the artist's id a row.
    this.put(keyHash(TITLE, t.title), rowid);
  }

  /** The rowids that may hold one of these Spotify URIs, ISRCs or MusicBrainz ids (a superset). */
  byKeys(uris: string[], isrcs: string[], mbids: string[]): Set<number> {
    const out = new Set<number>();
    for (const uri of uris) this.collect(keyHash(URI, uri), out);
    for (const isrc of isrcs) this.collect(keyHash(ISRC, isrc), out);
    for (const mbid of mbids) this.collect(keyHash(MBID, mbid), out);
    return out;
  }

  /** The rowids that may have one of these (title, artist) (a superset). */
  byTitles(titles: Array<[title: string, artistId: string]>): Set<number> {
    const out = new Set<number>();
    for (const [title] of titles) this.collect(keyHash(TITLE, title), out);
    return out;
  }

  private put(hash: number, rowid: number): void {
    // At most half full: twice the slots, every pair placed again.
    if (++this.used * 2 > this.hashes.length) this.grow();
    this.place(hash, rowid);
  }

  private place(hash: number, rowid: number): void {
    const { hashes, rowids, mask } = this;
    let i = hash & mask;
    while (rowids[i] !== 0) i = (i + 1) & mask;
    hashes[i] = hash;
    rowids[i] = rowid;
  }

  private grow(): void {
    const { hashes, rowids } = this;
    this.hashes = new Int32Array(hashes.length * 2);
    this.rowids = new Float64Array(hashes.length * 2);
    this.mask = hashes.length * 2 - 1;
    for (let i = 0; i < hashes.length; i++) if (rowids[i] !== 0) this.place(hashes[i], rowids[i]);
  }

  private collect(hash: number, out: Set<number>): void {
    const { hashes, rowids, mask } = this;
    for (let i = hash & mask; rowids[i] !== 0; i = (i + 1) & mask) if (hashes[i] === hash) out.add(rowids[i]);
  }
}

type Row = Record<string, unknown>;

/**
 * What the store's findTracks query returns, from the rows of a superset of the rowids: those
 * holding one of the Spotify URIs, then of the ISRCs, then of the MusicBrainz ids (a track found
 * by two comes twice, as two objects), each group in the order of its key, as SQLite's index gives them.
 */
export function tracksOfKeys(rows: Row[], uris: string[], isrcs: string[], mbids: string[], toTrack: (r: Row) => TrackValues): TrackValues[] {
  const out: TrackValues[] = [];
  for (const [values, column] of [
    [uris, 'spotify_uri'],
    [isrcs, 'isrc'],
    [mbids, 'musicbrainz_id'],
  ] as const) {
    if (!values.length) continue;
    const wanted = new Set(values);
    const held = rows.filter((r) => wanted.has(r[column] as string));
    held.sort((x, y) => ((x[column] as string) < (y[column] as string) ? -1 : 1));
    for (const r of held) out.push(toTrack(r));
  }
  return out;
}

/**
 * What the store's findTracksByTitle query returns, from the rows of a superset of the rowids:
 * for each (title, artist) in turn, the tracks of that title and artist in rowid order.
 */
export function tracksOfTitles(rows: Row[], titles: Array<[title: string, artistId: string]>, toTrack: (r: Row) => TrackValues): TrackValues[] {
  const byTitle = new Map<string, Row[]>();
  for (const r of [...rows].sort((x, y) => (x.rowid as number) - (y.rowid as number))) {
    const key = `${r.artist_id as string}\u0000${r.title as string}`;
    const list = byTitle.get(key);
    if (list) list.push(r);
    else byTitle.set(key, [r]);
  }
  const out: TrackValues[] = [];
  for (const [title, artistId] of titles) for (const r of byTitle.get(`${artistId}\u0000${title}`) ?? []) out.push(toTrack(r));
  return out;
}
