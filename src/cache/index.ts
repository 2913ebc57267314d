import { LRUCache } from './lru-cache.js';
import type { Cache, LRUCacheOptions } from './slot-cache.js';
import { WTinyLFUCache } from './w-tinylfu.js';

export { LRUCache } from './lru-cache.js';
export type { Cache, LRUCacheOptions, Loader } from './slot-cache.js';
export type { CacheStats } from './stats.js';
export { WTinyLFUCache } from './w-tinylfu.js';
export { CacheWarmer, type WarmReport, type CacheWarmerOptions } from './cache-warmer.js';
export { ManualClock, systemClock, type Clock } from './clock.js';
export { SharedCacheTier, trackCacheNamespace, type SharedTierOptions, type SharedTierStats } from './shared-tier.js';

export type CachePolicy = 'lru' | 'w-tinylfu';

/**
 * A cache with the chosen policy: 'lru' (default; identical behaviour to npm lru-cache) or
 * 'w-tinylfu' (frequency-aware admission: higher hit rates on skewed traffic and scans).
 */
export function createCache<K, V>(options: LRUCacheOptions & { policy?: CachePolicy }): Cache<K, V> {
  const { policy = 'lru', ...rest } = options;
  if (policy === 'lru') return new LRUCache<K, V>(rest);
  if (policy === 'w-tinylfu') return new WTinyLFUCache<K, V>(rest);
  throw new RangeError(`policy must be 'lru' or 'w-tinylfu', got ${String(policy)}`);
}
