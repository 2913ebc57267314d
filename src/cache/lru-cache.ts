import { NONE, SlotCache, expiryFor, type LRUCacheOptions } from './slot-cache.js';

/**
 * A least-recently-used cache with optional per-entry TTL and always-on metrics.
 *
 * Layout: a `Map` from key to slot number, and an intrusive doubly-linked recency list kept in
 * typed arrays indexed by slot (head = most recent). Slots are preallocated and recycled, so a
 * `get` or `set` allocates nothing; the metrics are plain integer counters (storage, metrics and
 * the operations built on get/set: `SlotCache`).
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
export class LRUCache<K, V> extends SlotCache<K, V> {
  /** Slot towards the least recent end. */
  protected readonly next: Int32Array;
  /** Slot towards the most recent end. */
  protected readonly prev: Int32Array;
  protected head = NONE;
  protected tail = NONE;

  constructor(options: LRUCacheOptions) {
    super(options, options.maxSize);
    this.next = new Int32Array(this.maxSize);
    this.prev = new Int32Array(this.maxSize);
  }

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

  set(key: K, value: V, ttlMs?: number): void {
    if (value === undefined) {
      this.delete(key);
      return;
    }
    const expiresAt = expiryFor(ttlMs, this.defaultTtlMs, this.clock);
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

  override clear(): void {
    super.clear();
    this.head = this.tail = NONE;
  }

  /** Live keys from most to least recently used (for inspection and tests; no metrics). */
  keysByRecency(): K[] {
    const now = this.clock.now();
    const keys: K[] = [];
    for (let i = this.head; i !== NONE; i = this.next[i]!) if (this.isLive(i, now)) keys.push(this.keyList[i] as K);
    return keys;
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
