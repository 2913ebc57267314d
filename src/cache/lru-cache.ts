import { systemClock, type Clock } from './clock.js';
import { hitRate, percent, type CacheStats } from './stats.js';

export type { CacheStats } from './stats.js';
export type { Clock } from './clock.js';

/** Loads the value of a key on a miss; `undefined` means "no such value" and is not cached. */
export type Loader<K, V> = (key: K) => Promise<V | undefined> | V | undefined;

export interface LRUCacheOptions {
  /** Maximum number of entries (a positive integer). */
  maxSize: number;
  /** Default time to live in ms, counted from the last `set` of an entry; 0 or absent = no expiry. */
  ttlMs?: number;
  /** Time source (default: Date.now). */
  clock?: Clock;
}

/** The operations every cache policy in src/cache offers (LRU and W-TinyLFU). */
export interface Cache<K, V> {
  readonly maxSize: number;
  get(key: K): V | undefined;
  set(key: K, value: V, ttlMs?: number): void;
  getMany(keys: K[]): Map<K, V>;
  setMany(entries: Iterable<[K, V]>, ttlMs?: number): void;
  delete(key: K): boolean;
  has(key: K): boolean;
  clear(): void;
  purgeExpired(): number;
  getOrLoad(key: K, loader: Loader<K, V>, ttlMs?: number): Promise<V | undefined>;
  stats(): CacheStats;
  resetStats(): void;
}

const NONE = -1;

export function validateCacheOptions(options: LRUCacheOptions): void {
  if (!Number.isInteger(options.maxSize) || options.maxSize < 1) {
    throw new RangeError(`maxSize must be a positive integer, got ${String(options.maxSize)}`);
  }
  if (options.ttlMs !== undefined) validateTtl(options.ttlMs);
}

function validateTtl(ttlMs: number): void {
  if (!(ttlMs >= 0)) throw new RangeError(`ttlMs must be a number of milliseconds >= 0, got ${String(ttlMs)}`);
}

/**
 * A least-recently-used cache with optional per-entry TTL and always-on metrics.
 *
 * Layout: a `Map` from key to slot number, and an intrusive doubly-linked recency list kept in
 * typed arrays indexed by slot (head = most recent). Slots are preallocated and recycled, so a
 * `get` or `set` allocates nothing; the metrics are plain integer counters.
 *
 * TTL is absolute from the last `set`: an entry set at `t` with TTL `d` is served while
 * `now - t <= d` and is gone when `now - t > d` (the boundary `lru-cache` uses too).
 * Capacity evicts the least recently used entry whether or not it has expired (as `lru-cache`
 * does, so both give identical hit rates on one key trace); if that entry had expired, the removal
 * counts as an expiration, not an eviction.
 *
 * JavaScript runs one callback at a time, so no two calls ever interleave inside a method; the
 * hazard with many async callers is N concurrent misses for one key each running the same slow
 * load. `getOrLoad` coalesces them into one load.
 */
export class LRUCache<K, V> implements Cache<K, V> {
  readonly maxSize: number;
  readonly defaultTtlMs: number;
  protected readonly clock: Clock;
  protected readonly index = new Map<K, number>();
  protected readonly keyList: Array<K | undefined>;
  protected readonly valueList: Array<V | undefined>;
  /** Slot towards the least recent end. */
  protected readonly next: Int32Array;
  /** Slot towards the most recent end. */
  protected readonly prev: Int32Array;
  /** Absolute expiry time, 0 = never. */
  protected readonly expiresAt: Float64Array;
  protected readonly freeSlots: Int32Array;
  protected freeTop = 0;
  protected allocated = 0;
  protected head = NONE;
  protected tail = NONE;
  protected readonly inFlight = new Map<K, Promise<V | undefined>>();

  protected hits = 0;
  protected misses = 0;
  protected evictions = 0;
  protected expirations = 0;
  protected writes = 0;
  protected coalesced = 0;

  constructor(options: LRUCacheOptions) {
    validateCacheOptions(options);
    this.maxSize = options.maxSize;
    this.defaultTtlMs = options.ttlMs ?? 0;
    this.clock = options.clock ?? systemClock;
    const n = this.maxSize;
    this.keyList = new Array<K | undefined>(n).fill(undefined);
    this.valueList = new Array<V | undefined>(n).fill(undefined);
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.expiresAt = new Float64Array(n);
    this.freeSlots = new Int32Array(n);
  }

  /** Stored entries, including expired ones not yet found or purged (see `stats().entries`). */
  get size(): number {
    return this.index.size;
  }

  /** The value of `key` (counts a hit or a miss and makes the entry most recent), or undefined. */
  get(key: K): V | undefined {
    const i = this.index.get(key);
    if (i === undefined) {
      this.misses++;
      return undefined;
    }
    const expiresAt = this.expiresAt[i]!;
    if (expiresAt !== 0 && this.clock.now() > expiresAt) {
      this.removeSlot(i);
      this.expirations++;
      this.misses++;
      return undefined;
    }
    if (i !== this.head) this.moveToHead(i);
    this.hits++;
    return this.valueList[i];
  }

  /**
   * Stores `value` as the most recent entry, with `ttlMs` (default: the cache's TTL; 0 = never
   * expires). Storing `undefined` deletes the key, as in `lru-cache`.
   */
  set(key: K, value: V, ttlMs?: number): void {
    if (value === undefined) {
      this.delete(key);
      return;
    }
    const ttl = ttlMs === undefined ? this.defaultTtlMs : ttlMs;
    if (ttl !== this.defaultTtlMs) validateTtl(ttl);
    const expiresAt = ttl > 0 && ttl !== Infinity ? this.clock.now() + ttl : 0;
    // A value stored while a load for the key is in flight is newer than what the load will bring.
    if (this.inFlight.size !== 0) this.inFlight.delete(key);
    this.writes++;
    let i = this.index.get(key);
    if (i !== undefined) {
      this.valueList[i] = value;
      this.expiresAt[i] = expiresAt;
      if (i !== this.head) this.moveToHead(i);
      return;
    }
    if (this.index.size < this.maxSize) {
      i = this.freeTop > 0 ? this.freeSlots[--this.freeTop]! : this.allocated++;
    } else {
      i = this.tail;
      const old = this.expiresAt[i]!;
      if (old !== 0 && this.clock.now() > old) this.expirations++;
      else this.evictions++;
      this.index.delete(this.keyList[i] as K);
      this.unlink(i);
    }
    this.keyList[i] = key;
    this.valueList[i] = value;
    this.expiresAt[i] = expiresAt;
    this.index.set(key, i);
    this.linkAtHead(i);
  }

  /** The live values of `keys` (each lookup counts as `get` does); missing keys are absent. */
  getMany(keys: K[]): Map<K, V> {
    const found = new Map<K, V>();
    for (const key of keys) {
      const value = this.get(key);
      if (value !== undefined) found.set(key, value);
    }
    return found;
  }

  setMany(entries: Iterable<[K, V]>, ttlMs?: number): void {
    for (const [key, value] of entries) this.set(key, value, ttlMs);
  }

  /** Removes `key`; true when an entry was stored. Also cancels caching of a load in flight for it. */
  delete(key: K): boolean {
    if (this.inFlight.size !== 0) this.inFlight.delete(key);
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.removeSlot(i);
    return true;
  }

  /** Whether a live entry exists. Not a hit or a miss, and does not change recency. */
  has(key: K): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    const expiresAt = this.expiresAt[i]!;
    return expiresAt === 0 || this.clock.now() <= expiresAt;
  }

  /** Removes every entry (metrics are kept; see `resetStats`) and cancels caching of loads in flight. */
  clear(): void {
    this.inFlight.clear();
    this.index.clear();
    this.keyList.fill(undefined);
    this.valueList.fill(undefined);
    this.expiresAt.fill(0);
    this.head = this.tail = NONE;
    this.freeTop = 0;
    this.allocated = 0;
  }

  /** Removes every expired entry now; returns how many (each counts as an expiration). */
  purgeExpired(): number {
    const now = this.clock.now();
    let removed = 0;
    let i = this.head;
    while (i !== NONE) {
      const after = this.next[i]!;
      const expiresAt = this.expiresAt[i]!;
      if (expiresAt !== 0 && now > expiresAt) {
        this.removeSlot(i);
        removed++;
      }
      i = after;
    }
    this.expirations += removed;
    return removed;
  }

  /**
   * The cached value, or the loader's result stored in the cache. Concurrent callers that miss on
   * the same key share one load (one loader call); a rejected load is not cached and rejects every
   * waiter; a load whose key is set, deleted or cleared meanwhile is returned but not stored.
   */
  getOrLoad(key: K, loader: Loader<K, V>, ttlMs?: number): Promise<V | undefined> {
    const cached = this.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const pending = this.inFlight.get(key);
    if (pending !== undefined) {
      this.coalesced++;
      return pending;
    }
    const load: Promise<V | undefined> = Promise.resolve()
      .then(() => loader(key))
      .then(
        (value) => {
          if (this.inFlight.get(key) === load) {
            this.inFlight.delete(key);
            if (value !== undefined) this.set(key, value, ttlMs);
          }
          return value;
        },
        (error: unknown) => {
          if (this.inFlight.get(key) === load) this.inFlight.delete(key);
          throw error;
        },
      );
    this.inFlight.set(key, load);
    return load;
  }

  /** Live keys from most to least recently used (for inspection and tests; no metrics). */
  keysByRecency(): K[] {
    const now = this.clock.now();
    const keys: K[] = [];
    for (let i = this.head; i !== NONE; i = this.next[i]!) {
      const expiresAt = this.expiresAt[i]!;
      if (expiresAt === 0 || now <= expiresAt) keys.push(this.keyList[i] as K);
    }
    return keys;
  }

  stats(): CacheStats {
    const now = this.clock.now();
    let live = 0;
    for (const i of this.index.values()) {
      const expiresAt = this.expiresAt[i]!;
      if (expiresAt === 0 || now <= expiresAt) live++;
    }
    return {
      entries: live,
      max_size: this.maxSize,
      utilization: percent(live, this.maxSize),
      hits: this.hits,
      misses: this.misses,
      hit_rate: hitRate(this.hits, this.misses),
      evictions: this.evictions,
      expirations: this.expirations,
      writes: this.writes,
      coalesced_loads: this.coalesced,
    };
  }

  resetStats(): void {
    this.hits = this.misses = this.evictions = this.expirations = this.writes = this.coalesced = 0;
  }

  protected removeSlot(i: number): void {
    this.index.delete(this.keyList[i] as K);
    this.unlink(i);
    this.keyList[i] = undefined;
    this.valueList[i] = undefined;
    this.expiresAt[i] = 0;
    this.freeSlots[this.freeTop++] = i;
  }

  protected unlink(i: number): void {
    const p = this.prev[i]!;
    const n = this.next[i]!;
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
  }

  protected linkAtHead(i: number): void {
    this.prev[i] = NONE;
    this.next[i] = this.head;
    if (this.head !== NONE) this.prev[this.head] = i;
    else this.tail = i;
    this.head = i;
  }

  /** Moves a slot that is not the head to the head. */
  protected moveToHead(i: number): void {
    const p = this.prev[i]!;
    const n = this.next[i]!;
    this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.prev[i] = NONE;
    this.next[i] = this.head;
    this.prev[this.head] = i;
    this.head = i;
  }
}
