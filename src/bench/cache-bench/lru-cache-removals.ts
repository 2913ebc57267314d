import { LRUCache as NpmLRUCache } from 'lru-cache';
import { npmOptions } from './implementations.js';
import { OPS_PER_SIMULATED_MS, SimulatedClock, type KeyTrace } from './traces.js';

/**
 * Evictions and expirations of the npm `lru-cache` on a trace, which it does not count itself:
 * counted in an untimed pass through its `dispose` hook. Removal at capacity of an entry that had
 * already expired counts as an expiration, as `LRUCache` counts it; the value stored is the set
 * time to tell which. `hits` lets the caller check the pass matched the timed one.
 */
export function countLruCacheRemovals(maxSize: number, pool: string[], trace: KeyTrace): { evictions: number; expirations: number; hits: number } {
  const clock = new SimulatedClock();
  let evictions = 0;
  let expirations = 0;
  const ttl = trace.ttlMs;
  const cache = new NpmLRUCache<string, number>({
    ...(npmOptions(maxSize, ttl, clock) as NpmLRUCache.Options<string, number, unknown>),
    dispose: (setAt, _key, reason) => {
      if (reason === 'expire') expirations++;
      else if (reason === 'evict') {
        if (ttl > 0 && clock.t - setAt > ttl) expirations++;
        else evictions++;
      }
    },
  });
  const keys = trace.keys;
  let hits = 0;
  for (let j = 0; j < keys.length; j++) {
    if (ttl > 0) clock.t = 1 + ((j / OPS_PER_SIMULATED_MS) | 0);
    const key = pool[keys[j]!]!;
    if (trace.writes !== null && trace.writes[j] === 1) {
      cache.set(key, clock.t);
      continue;
    }
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, clock.t);
  }
  return { evictions, expirations, hits };
}
