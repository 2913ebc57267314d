/**
 * What the current batch transaction has written, for lookups that cannot see it: with a
 * separate reader (ImportStore.separateReader) the finds run on another connection and see only
 * committed rows. Their results are completed from here, so every chunk is planned as if the
 * finds had run inside the transaction.
 */
import type { ExistingAlbum, ExistingArtist, TrackValues } from '../../db/fast-insert.js';
import type { ResolvedRow } from './plan.js';

/**
 * Found rows completed with the transaction's own: a found row it changed is replaced by its
 * version, in place (the finds' order, oldest first, decides between same-named rows); rows it
 * created follow, in the order it created them.
 */
function completed<T extends { id: string }>(found: T[], written: Map<string, T>): T[] {
  const out = found.map((row) => written.get(row.id) ?? row);
  const present = new Set(found.map((row) => row.id));
  for (const [id, row] of written) if (!present.has(id)) out.push(row);
  return out;
}

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

export class UnseenWrites {
  /** Artists and albums as the transaction left them: created, or given a Spotify URI. */
  private readonly artists = new Map<string, ExistingArtist>();
  private readonly albums = new Map<string, ExistingAlbum>();
  /** Every track the transaction matched: inserted, updated or unchanged (all of them seen). */
  private readonly tracks = new TrackIndex();

  /** findArtists' result as the transaction sees it. */
  artistsFound(found: ExistingArtist[]): ExistingArtist[] {
    return completed(found, this.artists);
  }

  albumsFound(found: ExistingAlbum[]): ExistingAlbum[] {
    return completed(found, this.albums);
  }

  /** Records a plan's creates and URI attaches; `candidates` are the rows it was planned against (planArtists sets URIs on them). */
  artistsPlanned(creates: ExistingArtist[], attaches: Array<{ id: string }>, candidates: ExistingArtist[]): void {
    remember(this.artists, creates, attaches, candidates);
  }

  albumsPlanned(creates: ExistingAlbum[], attaches: Array<{ id: string }>, candidates: ExistingAlbum[]): void {
    remember(this.albums, creates, attaches, candidates);
  }

  /** Found tracks for `rows` as the transaction sees them: its own versions of the tracks it wrote, that `rows` could match, and the committed rest. */
  view(rows: ResolvedRow[], found: TrackValues[]): TrackValues[] {
    const { own, committed } = this.split(rows, found);
    return [...own, ...committed];
  }

  /**
   * The finds' result for `rows` as the transaction sees it (see view), and which of those this
   * run has matched before: `seenFound` is findSeen over the committed tracks returned.
   */
  async tracksFound(
    rows: ResolvedRow[],
    found: TrackValues[],
    seenFound: (tracks: TrackValues[]) => Promise<Set<string>>,
  ): Promise<{ candidates: TrackValues[]; seen: Set<string> }> {
    const { own, committed } = this.split(rows, found);
    const seen = await seenFound(committed);
    for (const t of own) seen.add(t.id);
    return { candidates: [...own, ...committed], seen };
  }

  private split(rows: ResolvedRow[], found: TrackValues[]): { own: Set<TrackValues>; committed: TrackValues[] } {
    const own = new Set<TrackValues>();
    for (const row of rows) this.tracks.matches(row, own);
    return { own, committed: found.filter((t) => !this.tracks.byId.has(t.id)) };
  }

  tracksMatched(tracks: TrackValues[]): void {
    for (const t of tracks) this.tracks.add(t);
  }

  /** Every track the transaction matched, for markSeen once it commits. */
  matched(): TrackValues[] {
    return [...this.tracks.byId.values()];
  }
}

function remember<T extends { id: string }>(into: Map<string, T>, creates: T[], attaches: Array<{ id: string }>, candidates: T[]): void {
  for (const c of creates) into.set(c.id, c);
  if (!attaches.length) return;
  // An attach to a row created in the same plan is recorded already (the create carries the URI).
  const byId = new Map(candidates.map((c) => [c.id, c]));
  for (const { id } of attaches) {
    const row = byId.get(id);
    if (row) into.set(id, row);
  }
}
