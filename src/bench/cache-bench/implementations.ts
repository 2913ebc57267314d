import { LRUCache as NpmLRUCache } from 'lru-cache';
import type { Clock } from '../../cache/clock.js';
import { LRUCache } from '../../cache/lru-cache.js';
import { WTinyLFUCache } from '../../cache/w-tinylfu.js';
// Derived from src/cache at build time (scripts/derive-lru-without-metrics.mjs).
import { LRUCacheWithoutMetrics } from '../../generated/lru-without-metrics.js';

export const IMPLEMENTATIONS = ['soulspot-lru', 'lru-cache', 'soulspot-lru-no-metrics', 'soulspot-w-tinylfu'] as const;
export type ImplementationName = (typeof IMPLEMENTATIONS)[number];

/** The one value every benchmark entry holds: the caches are measured, not the values. */
export const VALUE = Object.freeze({ cached: true });
export type Value = typeof VALUE;

/** What the benchmark asks of every implementation. */
export type BenchCache = { get(key: string): Value | undefined; set(key: string, value: Value): void };

export function npmOptions(maxSize: number, ttlMs: number, clock: Clock): NpmLRUCache.Options<string, Value, unknown> {
  // ttlResolution 0: read the (simulated) clock on every check, as this cache does.
  return ttlMs > 0 ? { max: maxSize, ttl: ttlMs, ttlResolution: 0, perf: clock } : { max: maxSize };
}

/** A new, empty cache of `implementation` holding `maxSize` entries, with `ttlMs` (0 = none) on `clock`. */
export function createBenchCache(implementation: ImplementationName, maxSize: number, ttlMs: number, clock: Clock): BenchCache {
  switch (implementation) {
    case 'soulspot-lru':
      return new LRUCache<string, Value>({ maxSize, ttlMs, clock });
    case 'lru-cache':
      return new NpmLRUCache<string, Value>(npmOptions(maxSize, ttlMs, clock));
    case 'soulspot-lru-no-metrics':
      return new LRUCacheWithoutMetrics<string, Value>({ maxSize, ttlMs, clock });
    case 'soulspot-w-tinylfu':
      return new WTinyLFUCache<string, Value>({ maxSize, ttlMs, clock });
  }
}
