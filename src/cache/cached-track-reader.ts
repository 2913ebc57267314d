import type { Database } from '../db/client.js';
import { TrackRepository } from '../repositories/track-repository.js';
import type { Track } from '../generated/sqlite/client.js';
import type { RepositoryHooks } from '../repositories/hooks.js';
import type { Cache } from './slot-cache.js';
import type { SharedCacheTier, SharedTierStats } from './shared-tier.js';
import type { CacheStats } from './stats.js';

export type { Track } from '../generated/sqlite/client.js';

/** Where tracks come from on a miss: anything that reads many tracks by id in one call. */
export interface TrackSource {
  /** The tracks among `ids` that exist (any order; absent ids are simply not returned). */
  getManyByIds(ids: string[]): Promise<Track[]>;
}

/** Ids per source call. */
const SOURCE_CHUNK = 1000;

/**
 * Read-through track metadata by id. Hits come from the cache; the misses of one call (and of all
 * calls started in the same tick) go to the source in ONE `getManyByIds`, and concurrent readers of
 * the same id share that load. Writes invalidate: wire `hooks` into the TrackRepository, and a track
 * it writes is dropped from the cache — including a load of it still in flight, whose (possibly
 * stale) result is then returned to its caller but not cached.
 *
 * With a shared tier (CACHE_URL), a miss of the in-process cache (L1) looks in Redis (L2) first,
 * the database last, and what the database gave is stored in L2 unless the track was written
 * meanwhile; a write invalidates both tiers in every process (see shared-tier.ts).
 *
 * Cached tracks are frozen (shallowly): callers share them and must not mutate them.
 */
export class CachedTrackReader {
  private pendingIds: string[] = [];
  private pendingBatch: Promise<Map<string, Track>> | undefined;

  /** Pass these to `new TrackRepository(db, hooks)` so its writes invalidate this cache. */
  readonly hooks: RepositoryHooks = { onTracksWritten: (ids) => this.invalidate(ids) };

  constructor(
    private readonly source: TrackSource,
    readonly cache: Cache<string, Track>,
    readonly shared?: SharedCacheTier<Track>,
  ) {
    shared?.onInvalidate((ids) => {
      if (ids === 'all') this.cache.clear();
      else for (const id of ids) this.cache.delete(id);
    });
  }

  /** Counters per tier: `l1` the in-process cache, `l2` the shared tier (absent without CACHE_URL). */
  stats(): { l1: CacheStats; l2?: SharedTierStats } {
    return { l1: this.cache.stats(), l2: this.shared?.stats() };
  }

  /** One track, or undefined when no track has that id. */
  async getById(id: string): Promise<Track | undefined> {
    return this.cache.getOrLoad(id, this.loadOne);
  }

  /** The tracks among `ids` that exist, keyed by id; one source call for all the misses. */
  async getManyByIds(ids: string[]): Promise<Map<string, Track>> {
    const unique = [...new Set(ids)];
    const values = await Promise.all(unique.map((id) => this.cache.getOrLoad(id, this.loadOne)));
    const found = new Map<string, Track>();
    unique.forEach((id, i) => {
      const track = values[i];
      if (track !== undefined) found.set(id, track);
    });
    return found;
  }

  /**
   * Drops tracks from the cache (the repository hook calls this after a committed write): from this
   * process's L1 at once, then from L2 and every other process's L1 (resolves once published).
   */
  async invalidate(ids: Iterable<string>): Promise<void> {
    const list = [...ids];
    for (const id of list) this.cache.delete(id);
    await this.shared?.invalidate(list);
  }

  /**
   * Loader for one id that joins the batch of the current tick: `getOrLoad` calls loaders in
   * microtasks, so every miss of a `getManyByIds` call lands in one batch before the batch runs.
   */
  private readonly loadOne = (id: string): Promise<Track | undefined> => {
    this.pendingIds.push(id);
    if (this.pendingBatch === undefined) {
      this.pendingBatch = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
        const ids = this.pendingIds;
        this.pendingIds = [];
        this.pendingBatch = undefined;
        const found = new Map<string, Track>();
        let missing = ids;
        let generations = new Map<string, string>();
        if (this.shared) {
          const lookup = await this.shared.getMany(ids);
          for (const [id, track] of lookup.found) found.set(id, Object.freeze(track));
          generations = lookup.generations;
          missing = ids.filter((id) => !found.has(id));
        }
        const loaded = new Map<string, Track>();
        // Chunks keep each query well under the databases' bound-parameter limits.
        for (let i = 0; i < missing.length; i += SOURCE_CHUNK) {
          for (const row of await this.source.getManyByIds(missing.slice(i, i + SOURCE_CHUNK))) loaded.set(row.id, Object.freeze(row) as Track);
        }
        for (const [id, track] of loaded) found.set(id, track);
        if (this.shared && loaded.size > 0) await this.shared.fill(loaded, generations);
        return found;
      });
    }
    return this.pendingBatch.then((rows) => rows.get(id));
  };
}

/**
 * A cached reader over `db`, the TrackRepository it reads through, and the hooks that keep it fresh.
 * Writes made through the returned `repository` invalidate the cache; another TrackRepository
 * sharing the cache must be built with the same `hooks`:
 * `const { reader, hooks, repository } = createCachedTrackReader(db, cache);`
 */
export function createCachedTrackReader(
  db: Database,
  cache: Cache<string, Track>,
  shared?: SharedCacheTier<Track>,
): { reader: CachedTrackReader; hooks: RepositoryHooks; repository: TrackRepository } {
  const reader: CachedTrackReader = new CachedTrackReader({ getManyByIds: (ids) => repository.getManyByIds(ids) }, cache, shared);
  const repository = new TrackRepository(db, reader.hooks);
  return { reader, hooks: reader.hooks, repository };
}
