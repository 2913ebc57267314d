import pLimit from 'p-limit';
import { describeError } from '../errors.js';
import type { Cache } from './slot-cache.js';

/** What a warm-up did, key by key: nothing is silently dropped. */
export interface WarmReport<K> {
  /** Keys whose value is now cached. */
  loaded: K[];
  /** Keys the loader found no value for (returned undefined); nothing cached. */
  missing: K[];
  /** Keys whose load threw or rejected, with the reason; the other keys are unaffected. */
  failed: Array<{ key: K; error: string }>;
}

export interface CacheWarmerOptions {
  /** Loads running at once (default 8). */
  concurrency?: number;
  /** TTL of warmed entries (default: the cache's). */
  ttlMs?: number;
}

/**
 * Fills a cache before traffic arrives: from a loader for a list of keys (bounded concurrency, one
 * failing key never loses the others), or from values already at hand.
 */
export class CacheWarmer<K, V> {
  private readonly concurrency: number;
  private readonly ttlMs: number | undefined;

  constructor(
    private readonly cache: Cache<K, V>,
    options: CacheWarmerOptions = {},
  ) {
    const concurrency = options.concurrency ?? 8;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${String(concurrency)}`);
    this.concurrency = concurrency;
    this.ttlMs = options.ttlMs;
  }

  /**
   * Loads every key (duplicates once) with at most `concurrency` loads at a time and caches the
   * values found. The report lists keys in the order given.
   */
  async warm(keys: Iterable<K>, loader: (key: K) => Promise<V | undefined> | V | undefined): Promise<WarmReport<K>> {
    const unique = [...new Set(keys)];
    const limit = pLimit(this.concurrency);
    const outcomes = await Promise.all(
      unique.map((key) =>
        limit(async () => {
          try {
            const value = await loader(key);
            if (value === undefined) return { kind: 'missing' as const };
            this.cache.set(key, value, this.ttlMs);
            return { kind: 'loaded' as const };
          } catch (error) {
            return { kind: 'failed' as const, error: describeError(error) };
          }
        }),
      ),
    );
    const report: WarmReport<K> = { loaded: [], missing: [], failed: [] };
    outcomes.forEach((outcome, i) => {
      const key = unique[i]!;
      if (outcome.kind === 'loaded') report.loaded.push(key);
      else if (outcome.kind === 'missing') report.missing.push(key);
      else report.failed.push({ key, error: outcome.error });
    });
    return report;
  }

  /**
   * Loads keys in batches of `batchSize` through a loader that fetches many at once (one database
   * query per batch); keys absent from a batch's result are missing; a failing batch fails its keys only.
   */
  async warmBatches(keys: Iterable<K>, batchLoader: (keys: K[]) => Promise<Map<K, V>>, batchSize = 500): Promise<WarmReport<K>> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${String(batchSize)}`);
    const unique = [...new Set(keys)];
    const batches: K[][] = [];
    for (let i = 0; i < unique.length; i += batchSize) batches.push(unique.slice(i, i + batchSize));
    const limit = pLimit(this.concurrency);
    const report: WarmReport<K> = { loaded: [], missing: [], failed: [] };
    const results = await Promise.all(
      batches.map((batch) =>
        limit(async () => {
          try {
            return { batch, values: await batchLoader(batch) };
          } catch (error) {
            return { batch, error: describeError(error) };
          }
        }),
      ),
    );
    for (const result of results) {
      for (const key of result.batch) {
        if ('error' in result) {
          report.failed.push({ key, error: result.error! });
          continue;
        }
        const value = result.values.get(key);
        if (value === undefined) report.missing.push(key);
        else {
          this.cache.set(key, value, this.ttlMs);
          report.loaded.push(key);
        }
      }
    }
    return report;
  }

  /** Caches values already at hand; entries whose value is undefined are reported missing. */
  warmFromMap(entries: Map<K, V | undefined> | Iterable<[K, V | undefined]>): WarmReport<K> {
    const report: WarmReport<K> = { loaded: [], missing: [], failed: [] };
    for (const [key, value] of entries) {
      if (value === undefined) report.missing.push(key);
      else {
        this.cache.set(key, value, this.ttlMs);
        report.loaded.push(key);
      }
    }
    return report;
  }
}
