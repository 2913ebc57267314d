import { WTinyLFUCache } from '../../src/cache/w-tinylfu.js';
import { LRUCache } from '../../src/cache/lru-cache.js';
import { ManualClock } from '../../src/cache/clock.js';
import { FrequencySketch, hashKey } from '../../src/cache/frequency-sketch.js';
import { buildTrace } from '../../src/bench/cache-bench/traces.js';
import { createCache } from '../../src/cache/index.js';

describe('FrequencySketch', () => {
  test('counts, saturates at 15, and halves with age', () => {
    const sketch = new FrequencySketch(100);
    const hot = hashKey('hot');
    for (let i = 0; i < 20; i++) sketch.increment(hot);
    expect(sketch.frequency(hot)).toBe(15);
    expect(sketch.frequency(hashKey('never-seen'))).toBeLessThanOrEqual(1);
    // 1000 increments (10 × size) trigger aging: every counter halves.
    for (let i = 0; i < 1000; i++) sketch.increment(hashKey(`other-${i}`));
    expect(sketch.frequency(hot)).toBeLessThan(15);
    expect(sketch.frequency(hot)).toBeGreaterThanOrEqual(7);
  });
});

describe('WTinyLFUCache', () => {
  test('never holds more than maxSize entries, and keeps keys read now and then through a scan that flushes LRU', () => {
    const run = (cache: WTinyLFUCache<string, number> | LRUCache<string, number>) => {
      let popularHits = 0;
      let largest = 0;
      for (let i = 0; i < 20_000; i++) {
        if (i % 200 === 0) {
          for (let p = 0; p < 5; p++) {
            if (cache.get(`popular-${p}`) !== undefined) popularHits++;
            else cache.set(`popular-${p}`, p);
          }
        }
        if (cache.get(`scan-${i}`) === undefined) cache.set(`scan-${i}`, i);
        if (cache.size > largest) largest = cache.size;
      }
      expect(largest).toBe(100);
      return popularHits;
    };
    // 100 reads of each popular key; LRU has dropped them by the next read (200 new keys later).
    expect(run(new LRUCache<string, number>({ maxSize: 100 }))).toBe(0);
    const tiny = new WTinyLFUCache<string, number>({ maxSize: 100 });
    expect(run(tiny)).toBeGreaterThanOrEqual(5 * 95);
    const stats = tiny.stats();
    expect(stats.entries).toBe(100);
    expect(stats.evictions + stats.entries).toBe(stats.writes);
  });

  test('TTL, delete and purge behave as in LRUCache', () => {
    const clock = new ManualClock(1);
    const cache = new WTinyLFUCache<string, number>({ maxSize: 10, ttlMs: 10, clock });
    cache.set('a', 1);
    cache.set('b', 2, 0);
    clock.advance(10);
    expect(cache.get('a')).toBe(1);
    clock.advance(1);
    expect(cache.has('a')).toBe(false);
    expect(cache.purgeExpired()).toBe(1);
    expect(cache.get('b')).toBe(2);
    expect(cache.delete('b')).toBe(true);
    expect(cache.stats()).toMatchObject({ entries: 0, expirations: 1, evictions: 0, hits: 2, misses: 0 });
  });

  test('a cache of one entry works', () => {
    const cache = new WTinyLFUCache<number, number>({ maxSize: 1 });
    for (let i = 0; i < 10; i++) cache.set(i, i);
    expect(cache.size).toBe(1);
    expect(cache.stats().evictions).toBe(9);
  });

  test('beats LRU by at least 5 hit-rate points on Zipf 1.0 with a cache of 1% of the keys', () => {
    const keys = 20_000;
    const trace = buildTrace('zipf', { keys, ops: 100_000, skew: 1.0, seed: 7, ttlMs: 0, writeRatio: 0 });
    const rate = (cache: { get(k: number): number | undefined; set(k: number, v: number): void }) => {
      let hits = 0;
      for (const key of trace.keys) {
        if (cache.get(key) !== undefined) hits++;
        else cache.set(key, key);
      }
      return (hits / trace.keys.length) * 100;
    };
    const lru = rate(new LRUCache<number, number>({ maxSize: keys / 100 }));
    const tiny = rate(new WTinyLFUCache<number, number>({ maxSize: keys / 100 }));
    expect(tiny - lru).toBeGreaterThanOrEqual(5);
  });
});

test('createCache picks the policy', () => {
  expect(createCache({ maxSize: 2 })).toBeInstanceOf(LRUCache);
  expect(createCache({ maxSize: 2, policy: 'w-tinylfu' })).toBeInstanceOf(WTinyLFUCache);
  expect(() => createCache({ maxSize: 2, policy: 'lfu' as never })).toThrow(/policy/);
});
