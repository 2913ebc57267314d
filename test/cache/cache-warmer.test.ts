import { CacheWarmer } from '../../src/cache/cache-warmer.js';
import { LRUCache } from '../../src/cache/lru-cache.js';

describe('CacheWarmer', () => {
  test('loads every key with bounded concurrency and reports loaded, missing and failed keys', async () => {
    const cache = new LRUCache<string, number>({ maxSize: 100 });
    const warmer = new CacheWarmer(cache, { concurrency: 3 });
    let running = 0;
    let peak = 0;
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    const report = await warmer.warm([...keys, 'k0'], async (key) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 2));
      running--;
      const n = Number(key.slice(1));
      if (n % 10 === 7) throw new Error(`source refused ${key}`);
      if (n % 10 === 3) return undefined;
      return n;
    });
    expect(peak).toBe(3);
    expect(report.failed).toEqual([
      { key: 'k7', error: 'source refused k7' },
      { key: 'k17', error: 'source refused k17' },
      { key: 'k27', error: 'source refused k27' },
    ]);
    expect(report.missing).toEqual(['k3', 'k13', 'k23']);
    expect(report.loaded).toHaveLength(24); // 30 keys (k0 once) - 3 failed - 3 missing
    expect(report.loaded.join(',')).not.toContain('k7');
    for (const key of report.loaded) expect(cache.get(key)).toBe(Number(key.slice(1)));
    expect(cache.has('k7')).toBe(false);
    expect(cache.has('k3')).toBe(false);
  });

  test('a loader that throws synchronously fails its key only', async () => {
    const cache = new LRUCache<number, number>({ maxSize: 10 });
    const report = await new CacheWarmer(cache).warm([1, 2, 3], (key) => {
      if (key === 2) throw new TypeError('bad key');
      return key * 10;
    });
    expect(report).toEqual({ loaded: [1, 3], missing: [], failed: [{ key: 2, error: 'bad key' }] });
  });

  test('batches: a failing batch fails its keys, the other batches load', async () => {
    const cache = new LRUCache<number, string>({ maxSize: 100 });
    const warmer = new CacheWarmer(cache, { concurrency: 2 });
    const calls: number[][] = [];
    const report = await warmer.warmBatches(
      Array.from({ length: 25 }, (_, i) => i),
      async (keys) => {
        calls.push(keys);
        if (keys.includes(12)) throw new Error('timeout');
        return new Map(keys.filter((k) => k !== 3).map((k) => [k, `v${k}`]));
      },
      10,
    );
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(report.failed.map((f) => f.key)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    expect(report.failed[0]!.error).toBe('timeout');
    expect(report.missing).toEqual([3]);
    expect(report.loaded).toHaveLength(14);
    expect(cache.get(24)).toBe('v24');
  });

  test('from a map, with the TTL of the warmer', async () => {
    let now = 1;
    const cache = new LRUCache<string, number>({ maxSize: 10, clock: { now: () => now } });
    const report = new CacheWarmer(cache, { ttlMs: 100 }).warmFromMap(
      new Map<string, number | undefined>([
        ['a', 1],
        ['b', undefined],
        ['c', 3],
      ]),
    );
    expect(report).toEqual({ loaded: ['a', 'c'], missing: ['b'], failed: [] });
    expect(cache.get('c')).toBe(3);
    now += 101;
    expect(cache.get('a')).toBeUndefined();
    expect(() => new CacheWarmer(cache, { concurrency: 0 })).toThrow(/concurrency/);
  });
});
