import { systemClock, type Clock } from './clock.js';
import { FrequencySketch, hashKey } from './frequency-sketch.js';
import { validateCacheOptions, type Cache, type LRUCacheOptions, type Loader } from './lru-cache.js';
import { hitRate, percent, type CacheStats } from './stats.js';

const NONE = -1;
const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;

/**
 * A cache with the W-TinyLFU policy (as in Caffeine): new entries enter a small LRU window (1 % of
 * the size); an entry leaving the window competes with the main space's victim (the least recent
 * entry of the probation segment), and only the one that a count-min sketch says is accessed more
 * often stays. The main space is a segmented LRU: probation (20 %) and protected (80 %); a hit in
 * probation promotes the entry to protected. This keeps one-hit wonders and scans from flushing
 * popular entries, which plain LRU cannot.
 *
 * Same API, TTL semantics and metrics as `LRUCache` (see there). Keys are hashed for the sketch:
 * integers directly, anything else through `String(key)` — use string or number keys.
 */
export class WTinyLFUCache<K, V> implements Cache<K, V> {
  readonly maxSize: number;
  readonly defaultTtlMs: number;
  private readonly clock: Clock;
  private readonly sketch: FrequencySketch;
  private readonly index = new Map<K, number>();
  private readonly keyList: Array<K | undefined>;
  private readonly valueList: Array<V | undefined>;
  private readonly hashes: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly segment: Uint8Array;
  private readonly expiresAt: Float64Array;
  private readonly freeSlots: Int32Array;
  private freeTop = 0;
  private allocated = 0;
  private readonly heads = new Int32Array([NONE, NONE, NONE]);
  private readonly tails = new Int32Array([NONE, NONE, NONE]);
  private readonly sizes = new Int32Array(3);
  private readonly windowMax: number;
  private readonly protectedMax: number;
  private readonly inFlight = new Map<K, Promise<V | undefined>>();

  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private expirations = 0;
  private writes = 0;
  private coalesced = 0;

  constructor(options: LRUCacheOptions) {
    validateCacheOptions(options);
    this.maxSize = options.maxSize;
    this.defaultTtlMs = options.ttlMs ?? 0;
    this.clock = options.clock ?? systemClock;
    const n = this.maxSize + 1; // one spare slot: an insert is placed before the loser is dropped
    this.keyList = new Array<K | undefined>(n).fill(undefined);
    this.valueList = new Array<V | undefined>(n).fill(undefined);
    this.hashes = new Int32Array(n);
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.segment = new Uint8Array(n);
    this.expiresAt = new Float64Array(n);
    this.freeSlots = new Int32Array(n);
    this.windowMax = Math.max(1, Math.round(this.maxSize * 0.01));
    const mainMax = this.maxSize - this.windowMax;
    this.protectedMax = Math.floor(mainMax * 0.8);
    this.sketch = new FrequencySketch(this.maxSize);
  }

  get size(): number {
    return this.index.size;
  }

  get(key: K): V | undefined {
    const i = this.index.get(key);
    if (i === undefined) {
      this.sketch.increment(hashKey(key));
      this.misses++;
      return undefined;
    }
    this.sketch.increment(this.hashes[i]!);
    const expiresAt = this.expiresAt[i]!;
    if (expiresAt !== 0 && this.clock.now() > expiresAt) {
      this.removeSlot(i);
      this.expirations++;
      this.misses++;
      return undefined;
    }
    this.onHit(i);
    this.hits++;
    return this.valueList[i];
  }

  set(key: K, value: V, ttlMs?: number): void {
    if (value === undefined) {
      this.delete(key);
      return;
    }
    const ttl = ttlMs === undefined ? this.defaultTtlMs : ttlMs;
    if (!(ttl >= 0)) throw new RangeError(`ttlMs must be a number of milliseconds >= 0, got ${String(ttl)}`);
    const expiresAt = ttl > 0 && ttl !== Infinity ? this.clock.now() + ttl : 0;
    if (this.inFlight.size !== 0) this.inFlight.delete(key);
    this.writes++;
    let i = this.index.get(key);
    if (i !== undefined) {
      this.valueList[i] = value;
      this.expiresAt[i] = expiresAt;
      this.onHit(i);
      return;
    }
    i = this.freeTop > 0 ? this.freeSlots[--this.freeTop]! : this.allocated++;
    this.keyList[i] = key;
    this.valueList[i] = value;
    this.expiresAt[i] = expiresAt;
    this.hashes[i] = hashKey(key);
    this.index.set(key, i);
    this.linkAtHead(WINDOW, i);
    if (this.sizes[WINDOW]! > this.windowMax) this.leaveWindow();
  }

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

  delete(key: K): boolean {
    if (this.inFlight.size !== 0) this.inFlight.delete(key);
    const i = this.index.get(key);
    if (i === undefined) return false;
    this.removeSlot(i);
    return true;
  }

  has(key: K): boolean {
    const i = this.index.get(key);
    if (i === undefined) return false;
    const expiresAt = this.expiresAt[i]!;
    return expiresAt === 0 || this.clock.now() <= expiresAt;
  }

  clear(): void {
    this.inFlight.clear();
    this.index.clear();
    this.keyList.fill(undefined);
    this.valueList.fill(undefined);
    this.expiresAt.fill(0);
    this.heads.fill(NONE);
    this.tails.fill(NONE);
    this.sizes.fill(0);
    this.freeTop = 0;
    this.allocated = 0;
    this.sketch.clear();
  }

  purgeExpired(): number {
    const now = this.clock.now();
    let removed = 0;
    for (const i of [...this.index.values()]) {
      const expiresAt = this.expiresAt[i]!;
      if (expiresAt !== 0 && now > expiresAt) {
        this.removeSlot(i);
        removed++;
      }
    }
    this.expirations += removed;
    return removed;
  }

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

  private onHit(i: number): void {
    const s = this.segment[i]!;
    if (s === PROBATION) {
      this.unlink(i);
      this.linkAtHead(PROTECTED, i);
      if (this.sizes[PROTECTED]! > this.protectedMax) {
        const demoted = this.tails[PROTECTED]!;
        this.unlink(demoted);
        this.linkAtHead(PROBATION, demoted);
      }
    } else if (this.heads[s] !== i) {
      this.unlink(i);
      this.linkAtHead(s, i);
    }
  }

  /** The window is over its share: its oldest entry moves to main, where it may have to win admission. */
  private leaveWindow(): void {
    const candidate = this.tails[WINDOW]!;
    this.unlink(candidate);
    this.linkAtHead(PROBATION, candidate);
    if (this.index.size <= this.maxSize) return;
    let victim = this.tails[PROBATION]!;
    if (victim === candidate) victim = this.tails[PROTECTED]!;
    if (victim === NONE) {
      // Nothing in main but the candidate (a cache of one entry): the candidate leaves.
      if (this.expiresAt[candidate] !== 0 && this.clock.now() > this.expiresAt[candidate]!) this.expirations++;
      else this.evictions++;
      this.removeSlot(candidate);
      return;
    }
    // An expired victim goes first, whatever its frequency.
    const now = this.clock.now();
    const expired = (i: number) => this.expiresAt[i] !== 0 && now > this.expiresAt[i]!;
    let loser: number;
    if (expired(candidate)) loser = candidate;
    else if (expired(victim)) loser = victim;
    else loser = this.sketch.frequency(this.hashes[candidate]!) > this.sketch.frequency(this.hashes[victim]!) ? victim : candidate;
    if (expired(loser)) this.expirations++;
    else this.evictions++;
    this.removeSlot(loser);
  }

  private removeSlot(i: number): void {
    this.index.delete(this.keyList[i] as K);
    this.unlink(i);
    this.keyList[i] = undefined;
    this.valueList[i] = undefined;
    this.expiresAt[i] = 0;
    this.freeSlots[this.freeTop++] = i;
  }

  private unlink(i: number): void {
    const s = this.segment[i]!;
    const p = this.prev[i]!;
    const n = this.next[i]!;
    if (p === NONE) this.heads[s] = n;
    else this.next[p] = n;
    if (n === NONE) this.tails[s] = p;
    else this.prev[n] = p;
    this.sizes[s]!--;
  }

  private linkAtHead(s: number, i: number): void {
    const head = this.heads[s]!;
    this.segment[i] = s;
    this.prev[i] = NONE;
    this.next[i] = head;
    if (head !== NONE) this.prev[head] = i;
    else this.tails[s] = i;
    this.heads[s] = i;
    this.sizes[s]!++;
  }
}
