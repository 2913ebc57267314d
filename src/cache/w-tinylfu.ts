import { FrequencySketch, hashKey } from './frequency-sketch.js';
import { NONE, SlotCache, expiryFor, type LRUCacheOptions } from './slot-cache.js';

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
export class WTinyLFUCache<K, V> extends SlotCache<K, V> {
  private readonly sketch: FrequencySketch;
  private readonly hashes: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly segment: Uint8Array;
  private readonly heads = new Int32Array([NONE, NONE, NONE]);
  private readonly tails = new Int32Array([NONE, NONE, NONE]);
  private readonly sizes = new Int32Array(3);
  private readonly windowMax: number;
  private readonly protectedMax: number;

  constructor(options: LRUCacheOptions) {
    // One spare slot: an insert is placed before the loser is dropped.
    super(options, options.maxSize + 1);
    const n = this.maxSize + 1;
    this.hashes = new Int32Array(n);
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.segment = new Uint8Array(n);
    this.windowMax = Math.max(1, Math.round(this.maxSize * 0.01));
    const mainMax = this.maxSize - this.windowMax;
    this.protectedMax = Math.floor(mainMax * 0.8);
    this.sketch = new FrequencySketch(this.maxSize);
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
    const expiresAt = expiryFor(ttlMs, this.defaultTtlMs, this.clock);
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

  override clear(): void {
    super.clear();
    this.heads.fill(NONE);
    this.tails.fill(NONE);
    this.sizes.fill(0);
    this.sketch.clear();
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
    const now = this.clock.now();
    if (victim === NONE) {
      // Nothing in main but the candidate (a cache of one entry): the candidate leaves.
      if (this.isLive(candidate, now)) this.evictions++;
      else this.expirations++;
      this.removeSlot(candidate);
      return;
    }
    // An expired victim goes first, whatever its frequency.
    let loser: number;
    if (!this.isLive(candidate, now)) loser = candidate;
    else if (!this.isLive(victim, now)) loser = victim;
    else loser = this.sketch.frequency(this.hashes[candidate]!) > this.sketch.frequency(this.hashes[victim]!) ? victim : candidate;
    if (this.isLive(loser, now)) this.evictions++;
    else this.expirations++;
    this.removeSlot(loser);
  }

  protected unlink(i: number): void {
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
