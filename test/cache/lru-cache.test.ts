import { LRUCache } from '../../src/cache/lru-cache.js';
import { ManualClock } from '../../src/cache/clock.js';
import { WTinyLFUCache } from '../../src/cache/w-tinylfu.js';

describe('LRUCache order', () => {
  test('evicts the least recently used entry; get refreshes recency, has does not', () => {
    const cache = new LRUCache<string, number>({ maxSize: 3 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect(cache.keysByRecency()).toEqual(['c', 'b', 'a']);
    expect(cache.get('a')).toBe(1); // a becomes most recent; b is now the oldest
    expect(cache.has('b')).toBe(true); // no recency change
    cache.set('d', 4);
    expect(cache.keysByRecency()).toEqual(['d', 'a', 'c']);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.stats().evictions).toBe(1);
  });

  test('overwriting a key updates value and recency without growing or evicting', () => {
    const cache = new LRUCache<string, number>({ maxSize: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 10);
    expect(cache.keysByRecency()).toEqual(['a', 'b']);
    cache.set('c', 3);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe(10);
    expect(cache.stats()).toMatchObject({ entries: 2, evictions: 1, writes: 4 });
  });

  test('delete, clear, getMany, setMany, and slot reuse after deletes', () => {
    const cache = new LRUCache<number, string>({ maxSize: 4 });
    cache.setMany([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expect(cache.delete(2)).toBe(true);
    expect(cache.delete(2)).toBe(false);
    cache.setMany([
      [4, 'four'],
      [5, 'five'],
    ]);
    expect(cache.size).toBe(4);
    expect(cache.stats().evictions).toBe(0);
    expect([...cache.getMany([1, 2, 5]).entries()]).toEqual([
      [1, 'one'],
      [5, 'five'],
    ]);
    cache.set(6, 'six');
    expect(cache.has(3)).toBe(false); // 3 was the least recent after getMany touched 1 and 5
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.keysByRecency()).toEqual([]);
    cache.set(7, 'seven');
    expect(cache.keysByRecency()).toEqual([7]);
  });

  test('storing undefined deletes the key; bad options are refused', () => {
    const cache = new LRUCache<string, number | undefined>({ maxSize: 2 });
    cache.set('a', 1);
    cache.set('a', undefined);
    expect(cache.has('a')).toBe(false);
    expect(() => new LRUCache({ maxSize: 0 })).toThrow(/maxSize/);
    expect(() => new LRUCache({ maxSize: 1.5 })).toThrow(/maxSize/);
    expect(() => new LRUCache({ maxSize: 1, ttlMs: -1 })).toThrow(/ttlMs/);
    expect(() => cache.set('b', 2, Number.NaN)).toThrow(/ttlMs/);
  });
});

describe('LRUCache TTL with a fake clock', () => {
  test('an entry lives exactly ttl ms from its last set', () => {
    const clock = new ManualClock(1000);
    const cache = new LRUCache<string, string>({ maxSize: 10, ttlMs: 100, clock });
    cache.set('k', 'v');
    clock.advance(100);
    expect(cache.get('k')).toBe('v'); // now - set = ttl: still served
    clock.advance(1);
    expect(cache.has('k')).toBe(false);
    expect(cache.get('k')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, expirations: 1, evictions: 0 });
  });

  test('a get does not extend the TTL; a set does', () => {
    const clock = new ManualClock(1);
    const cache = new LRUCache<string, string>({ maxSize: 10, ttlMs: 50, clock });
    cache.set('k', 'v');
    clock.advance(40);
    expect(cache.get('k')).toBe('v');
    clock.advance(20);
    expect(cache.get('k')).toBeUndefined(); // 60 ms after the set
    cache.set('k', 'v1');
    clock.advance(40);
    cache.set('k', 'v2');
    clock.advance(40);
    expect(cache.get('k')).toBe('v2');
  });

  test('per-entry TTL overrides the default; 0 means no expiry', () => {
    const clock = new ManualClock(1);
    const cache = new LRUCache<string, string>({ maxSize: 10, ttlMs: 10, clock });
    cache.set('short', 's');
    cache.set('long', 'l', 1000);
    cache.set('forever', 'f', 0);
    clock.advance(500);
    expect(cache.get('short')).toBeUndefined();
    expect(cache.get('long')).toBe('l');
    clock.advance(1_000_000);
    expect(cache.get('forever')).toBe('f');
  });

  test('purgeExpired removes only expired entries and counts them as expirations', () => {
    const clock = new ManualClock(1);
    const cache = new LRUCache<number, number>({ maxSize: 10, clock });
    for (let i = 0; i < 6; i++) cache.set(i, i, i % 2 === 0 ? 10 : 0);
    clock.advance(11);
    expect(cache.size).toBe(6);
    expect(cache.stats().entries).toBe(3); // live entries only
    expect(cache.stats().utilization).toBe(30);
    expect(cache.purgeExpired()).toBe(3);
    expect(cache.size).toBe(3);
    expect(cache.keysByRecency()).toEqual([5, 3, 1]);
    expect(cache.stats()).toMatchObject({ expirations: 3, evictions: 0, hits: 0, misses: 0 });
    expect(cache.purgeExpired()).toBe(0);
  });
});

describe('evictions versus expirations', () => {
  test('capacity removal of a live entry is an eviction; of an expired one, an expiration', () => {
    const clock = new ManualClock(1);
    const cache = new LRUCache<string, number>({ maxSize: 2, clock });
    cache.set('old', 1, 5);
    cache.set('live', 2);
    clock.advance(10); // 'old' has expired but is still stored, as the least recent entry
    cache.set('new', 3); // capacity drops 'old'
    expect(cache.stats()).toMatchObject({ evictions: 0, expirations: 1 });
    cache.set('newer', 4); // capacity drops 'live', which had not expired
    expect(cache.stats()).toMatchObject({ evictions: 1, expirations: 1 });
    expect(cache.keysByRecency()).toEqual(['newer', 'new']);
  });

  test('delete and clear are neither evictions nor expirations', () => {
    const cache = new LRUCache<string, number>({ maxSize: 2 });
    cache.set('a', 1);
    cache.delete('a');
    cache.set('b', 2);
    cache.clear();
    expect(cache.stats()).toMatchObject({ evictions: 0, expirations: 0, writes: 2 });
  });
});

describe('metrics arithmetic', () => {
  test('hits, misses, hit rate and utilization add up', () => {
    const cache = new LRUCache<number, number>({ maxSize: 8 });
    for (let i = 0; i < 4; i++) cache.set(i, i);
    let hits = 0;
    let misses = 0;
    for (let i = 0; i < 10; i++) {
      if (cache.get(i) === undefined) misses++;
      else hits++;
    }
    const stats = cache.stats();
    expect(hits).toBe(4);
    expect(misses).toBe(6);
    expect(stats).toMatchObject({ hits: 4, misses: 6, hit_rate: 40, entries: 4, max_size: 8, utilization: 50, writes: 4 });
    cache.has(1);
    expect(cache.stats().hits + cache.stats().misses).toBe(10); // has() counts nothing
    cache.getMany([1, 2, 99]);
    expect(cache.stats()).toMatchObject({ hits: 6, misses: 7, hit_rate: 46.15 });
  });

  test('no lookups yet: hit_rate is null, not 0', () => {
    const cache = new LRUCache<string, number>({ maxSize: 4 });
    cache.set('a', 1);
    expect(cache.stats().hit_rate).toBeNull();
    cache.get('a');
    cache.resetStats();
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 0, hit_rate: null, writes: 0, entries: 1 });
  });
});

describe.each([
  ['LRUCache', (clock: ManualClock) => new LRUCache<string, number>({ maxSize: 100, clock })],
  ['WTinyLFUCache', (clock: ManualClock) => new WTinyLFUCache<string, number>({ maxSize: 100, clock })],
])('%s getOrLoad with many concurrent callers', (_name, make) => {
  test('one load per key however many callers miss at once', async () => {
    const cache = make(new ManualClock(1));
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const loader = async (key: string) => {
      calls++;
      await gate;
      return key.length;
    };
    const callers = Array.from({ length: 200 }, (_, i) => cache.getOrLoad(i % 2 === 0 ? 'even' : 'oddkey', loader));
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(2);
    release();
    const values = await Promise.all(callers);
    expect(values.filter((v) => v === 4)).toHaveLength(100);
    expect(values.filter((v) => v === 6)).toHaveLength(100);
    expect(cache.stats()).toMatchObject({ coalesced_loads: 198, writes: 2, misses: 200 });
    expect(await cache.getOrLoad('even', loader)).toBe(4);
    expect(calls).toBe(2); // served from the cache now
  });

  test('a failing load rejects every waiter, caches nothing, and the next call retries', async () => {
    const cache = make(new ManualClock(1));
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error('source down');
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => cache.getOrLoad('k', failing)));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(calls).toBe(1);
    expect(cache.has('k')).toBe(false);
    expect(await cache.getOrLoad('k', () => 7)).toBe(7);
    expect(cache.get('k')).toBe(7);
  });

  test('a delete during the load keeps its (stale) result out of the cache', async () => {
    const cache = make(new ManualClock(1));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pending = cache.getOrLoad('k', async () => {
      await gate;
      return 1;
    });
    await new Promise((resolve) => setImmediate(resolve));
    cache.delete('k'); // the data changed while it was being read
    release();
    expect(await pending).toBe(1);
    expect(cache.has('k')).toBe(false);
  });

  test('a value set during the load wins over the loaded one; undefined is not cached', async () => {
    const cache = make(new ManualClock(1));
    const pending = cache.getOrLoad('k', async () => 1);
    cache.set('k', 2);
    await pending;
    expect(cache.get('k')).toBe(2);
    expect(await cache.getOrLoad('none', async () => undefined)).toBeUndefined();
    expect(cache.has('none')).toBe(false);
  });
});
