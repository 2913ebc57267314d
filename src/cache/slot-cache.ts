import { systemClock, type Clock } from './clock.js';
import { hitRate, percent, type CacheStats } from './stats.js';

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

/** The "no slot" link of the policies' lists. */
export const NONE = -1;

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
 * The expiry stamp of an entry stored now with `ttlMs` (undefined = the cache's default, already
 * validated; 0 or Infinity = never expires, stored as 0). A plain function rather than a method so
 * that the policies' `set`, which call it on every write, share no polymorphic call site.
 */
export function expiryFor(ttlMs: number | undefined, defaultTtlMs: number, clock: Clock): number {
  const ttl = ttlMs === undefined ? defaultTtlMs : ttlMs;
  if (ttl !== defaultTtlMs) validateTtl(ttl);
  return ttl > 0 && ttl !== Infinity ? clock.now() + ttl : 0;
}

/**
 * What the cache policies share: entries in preallocated slots (a `Map` from key to slot number,
 * and keys, values and expiry stamps in arrays indexed by slot, recycled through a free stack), the
 * metric counters, and every operation built on `get`, `set` and slot removal.
 *
 * A policy supplies the hot path (`get`, `set`) and its recency lists (`unlink`, and `clear` for
 * their heads). `get` and `set` are written out in each policy, not here: they run millions of
 * times a second and must stay monomorphic when both policies live in one process.
 */
export abstract class SlotCache<K, V> implements Cache<K, V> {
  readonly maxSize: number;
  readonly defaultTtlMs: number;
  protected readonly clock: Clock;
  protected readonly index = new Map<K, number>();
  protected readonly keyList: Array<K | undefined>;
  protected readonly valueList: Array<V | undefined>;
  /** Absolute expiry time, 0 = never. */
  protected readonly expiresAt: Float64Array;
  protected readonly freeSlots: Int32Array;
  protected freeTop = 0;
  protected allocated = 0;
  protected readonly inFlight = new Map<K, Promise<V | undefined>>();

  protected hits = 0;
  protected misses = 0;
  protected evictions = 0;
  protected expirations = 0;
  protected writes = 0;
  protected coalesced = 0;

  /** `slots`: how many entries the arrays hold (the policy may need a spare one). */
  constructor(options: LRUCacheOptions, slots: number) {
    validateCacheOptions(options);
    this.maxSize = options.maxSize;
    this.defaultTtlMs = options.ttlMs ?? 0;
    this.clock = options.clock ?? systemClock;
    this.keyList = new Array<K | undefined>(slots).fill(undefined);
    this.valueList = new Array<V | undefined>(slots).fill(undefined);
    this.expiresAt = new Float64Array(slots);
    this.freeSlots = new Int32Array(slots);
  }

  /** The value of `key` (counts a hit or a miss and updates the policy's recency), or undefined. */
  abstract get(key: K): V | undefined;

  /**
   * Stores `value` with `ttlMs` (default: the cache's TTL; 0 = never expires). Storing `undefined`
   * deletes the key, as in `lru-cache`.
   */
  abstract set(key: K, value: V, ttlMs?: number): void;

  /** Takes slot `i` out of the policy's list it is in. */
  protected abstract unlink(i: number): void;

  /** Stored entries, including expired ones not yet found or purged (see `stats().entries`). */
  get size(): number {
    return this.index.size;
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
    return i !== undefined && this.isLive(i, this.clock.now());
  }

  /** Removes every entry (metrics are kept; see `resetStats`) and cancels caching of loads in flight. */
  clear(): void {
    this.inFlight.clear();
    this.index.clear();
    this.keyList.fill(undefined);
    this.valueList.fill(undefined);
    this.expiresAt.fill(0);
    this.freeTop = 0;
    this.allocated = 0;
  }

  /** Removes every expired entry now; returns how many (each counts as an expiration). */
  purgeExpired(): number {
    const now = this.clock.now();
    let removed = 0;
    // Deleting the entry being visited is safe in a Map iteration.
    for (const i of this.index.values()) {
      if (!this.isLive(i, now)) {
        this.removeSlot(i);
        removed++;
      }
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

  stats(): CacheStats {
    const now = this.clock.now();
    let live = 0;
    for (const i of this.index.values()) if (this.isLive(i, now)) live++;
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

  /** Whether slot `i` has not expired at `now` (the boundary: served while `now - set <= ttl`). */
  protected isLive(i: number, now: number): boolean {
    const expiresAt = this.expiresAt[i]!;
    return expiresAt === 0 || now <= expiresAt;
  }

  /** Drops slot `i`: out of the index and its list, its references released, back on the free stack. */
  protected removeSlot(i: number): void {
    this.index.delete(this.keyList[i] as K);
    this.unlink(i);
    this.keyList[i] = undefined;
    this.valueList[i] = undefined;
    this.expiresAt[i] = 0;
    this.freeSlots[this.freeTop++] = i;
  }
}
