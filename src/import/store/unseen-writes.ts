/**
 * What the current batch transaction has written, for lookups that cannot see it: with a
 * separate reader (ImportStore.separateReader) the finds run on another connection and see only
 * committed rows. Their results are completed from here, so every chunk is planned as if the
 * finds had run inside the transaction.
 */
import type { ExistingAlbum, ExistingArtist, SeenTrack, TrackValues } from './types.js';
import type { ResolvedRow } from '../plan.js';

/** Tracks by id and by each key a row can match them on; a track added again replaces its old version. */
class TrackIndex {
  readonly byId = new Map<string, TrackValues>();
  private readonly byUri = new Map<string, TrackValues>();
  private readonly byIsrc = new Map<string, TrackValues>();
  private readonly byMbid = new Map<string, TrackValues>();
  private readonly byTitle = new Map<string, TrackValues[]>();

  add(track: TrackValues): void {
    const old = this.byId.get(track.id);
    if (old) this.remove(old);
    this.byId.set(track.id, track);
    if (track.spotifyUri) this.byUri.set(track.spotifyUri, track);
    if (track.isrc) this.byIsrc.set(track.isrc, track);
    if (track.musicbrainzId) this.byMbid.set(track.musicbrainzId, track);
    const key = `${track.artistId}\u0000${track.title}`;
    const list = this.byTitle.get(key);
    if (list) list.push(track);
    else this.byTitle.set(key, [track]);
  }

  private remove(track: TrackValues): void {
    if (track.spotifyUri && this.byUri.get(track.spotifyUri) === track) this.byUri.delete(track.spotifyUri);
    if (track.isrc && this.byIsrc.get(track.isrc) === track) this.byIsrc.delete(track.isrc);
    if (track.musicbrainzId && this.byMbid.get(track.musicbrainzId) === track) this.byMbid.delete(track.musicbrainzId);
    const key = `${track.artistId}\u0000${track.title}`;
    const list = this.byTitle.get(key);
    if (!list) return;
    const i = list.indexOf(track);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) this.byTitle.delete(key);
  }

  /** The tracks `row` could match, by the keys the finds look up. */
  matches(row: ResolvedRow, into: Set<TrackValues>): void {
    const add = (t: TrackValues | undefined) => t && into.add(t);
    if (row.spotifyUri) add(this.byUri.get(row.spotifyUri));
    if (row.isrc) add(this.byIsrc.get(row.isrc));
    if (row.musicbrainzId) add(this.byMbid.get(row.musicbrainzId));
    const list = this.byTitle.get(`${row.artistId}\u0000${row.title}`);
    if (list) for (const t of list) into.add(t);
  }
}

/** Artists or albums as the transaction left them: created, or given a Spotify URI. */
export class WrittenRefs<T extends { id: string }> {
  private readonly rows = new Map<string, T>();

  /**
   * A find's result as the transaction sees it: a found row it changed is replaced by its version,
   * in place (the find's order, oldest first, decides between same-named rows); rows it created
   * follow, in the order it created them.
   */
  found(found: T[]): T[] {
    const out = found.map((row) => this.rows.get(row.id) ?? row);
    const present = new Set(found.map((row) => row.id));
    for (const [id, row] of this.rows) if (!present.has(id)) out.push(row);
    return out;
  }

  /** Records a plan's creates and URI attaches; `candidates` are the rows it was planned against (the plan sets URIs on them). */
  planned(creates: T[], attaches: Array<{ id: string }>, candidates: T[]): void {
    for (const c of creates) this.rows.set(c.id, c);
    if (!attaches.length) return;
    // An attach to a row created in the same plan is recorded already (the create carries the URI).
    const byId = new Map(candidates.map((c) => [c.id, c]));
    for (const { id } of attaches) {
      const row = byId.get(id);
      if (row) this.rows.set(id, row);
    }
  }
}

export class UnseenWrites {
  readonly artists = new WrittenRefs<ExistingArtist>();
  readonly albums = new WrittenRefs<ExistingAlbum>();
  /** The tracks the transaction inserted or updated (all of them seen). */
  private readonly tracks = new TrackIndex();
  /**
   * The ids of the tracks it matched and left unchanged (all of them seen): the reader sees them as
   * they are, so only their id is kept. (Indexed like the others, they cost a re-import of
   * unchanged rows about a tenth of its writing thread's time.)
   */
  private readonly unchanged = new Set<string>();

  /** The tracks the transaction changed that `rows` could match, as it left them (all of them seen). */
  own(rows: ResolvedRow[]): Set<TrackValues> {
    const own = new Set<TrackValues>();
    for (const row of rows) this.tracks.matches(row, own);
    return own;
  }

  /** Found tracks the transaction has not changed; the others are stale (`own` has them as they are now). */
  committed(found: TrackValues[]): TrackValues[] {
    return found.filter((t) => !this.tracks.byId.has(t.id));
  }

  /** Whether the transaction matched this track and left it unchanged (then it is seen). */
  matchedUnchanged(id: string): boolean {
    return this.unchanged.has(id);
  }

  /** Records the tracks a chunk matched: `changed` false for those it leaves as they were. */
  tracksMatched(accepted: Array<{ track: TrackValues; changed: boolean }>): void {
    for (const { track, changed } of accepted) {
      if (changed) this.tracks.add(track);
      else this.unchanged.add(track.id);
    }
  }

  /** Every track the transaction matched, for markSeen once it commits. */
  matched(): SeenTrack[] {
    const all: SeenTrack[] = [...this.tracks.byId.values()];
    for (const id of this.unchanged) all.push({ id });
    return all;
  }
}
