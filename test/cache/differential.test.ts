import { LRUCache as NpmLRUCache } from 'lru-cache';
import { LRUCache } from '../../src/cache/lru-cache.js';
import { ManualClock } from '../../src/cache/clock.js';
import { mulberry32 } from '../../src/bench/cache-bench/traces.js';

/**
 * The same random operation sequence (get, set with and without TTL, delete, has, time passing)
 * through this cache and through npm lru-cache: every answer must agree, since both are LRU with
 * the same TTL boundary.
 */
test.each([1, 2, 3, 4, 5])('agrees with lru-cache on a random op sequence (seed %i)', (seed) => {
  const random = mulberry32(seed);
  const clock = new ManualClock(1);
  const maxSize = 1 + Math.floor(random() * 20);
  const ours = new LRUCache<number, number>({ maxSize, ttlMs: 30, clock });
  const theirs = new NpmLRUCache<number, number>({ max: maxSize, ttl: 30, ttlResolution: 0, perf: clock });
  const mismatches: string[] = [];
  const check = (what: string, a: unknown, b: unknown) => {
    if (a !== b && mismatches.length < 5) mismatches.push(`${what}: ours ${String(a)}, lru-cache ${String(b)}`);
  };
  for (let step = 0; step < 20_000; step++) {
    const key = Math.floor(random() * maxSize * 3);
    const op = random();
    if (op < 0.45) check(`step ${step} get(${key})`, ours.get(key), theirs.get(key));
    else if (op < 0.75) {
      ours.set(key, step);
      theirs.set(key, step);
    } else if (op < 0.85) {
      const ttl = Math.floor(random() * 60);
      ours.set(key, step, ttl);
      theirs.set(key, step, { ttl });
    } else if (op < 0.9) check(`step ${step} delete(${key})`, ours.delete(key), theirs.delete(key));
    else if (op < 0.95) check(`step ${step} has(${key})`, ours.has(key), theirs.has(key));
    else clock.advance(Math.floor(random() * 10));
  }
  expect(mismatches).toEqual([]);
  expect(ours.size).toBe(theirs.size);
  // Same order of what is stored, most recent first (lru-cache's keys() includes stale entries).
  expect([...theirs.keys()].filter((k) => theirs.has(k))).toEqual(ours.keysByRecency());
});
