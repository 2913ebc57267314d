import type { Clock } from '../../cache/clock.js';
import { expiryFor } from '../../cache/slot-cache.js';

/**
 * The control of the "cost of metrics" measurement: `LRUCache`'s get/set/list code line for line
 * with only the metric counters taken out. It is a copy, not a subclass of `LRUCache`: a subclass
 * would share `LRUCache`'s list methods, whose inline caches would then see two classes in the
 * benchmark's process and slow both down (measured: see docs/architecture.md, "Known duplicates").
 * A change to `LRUCache.get`/`set` or its list methods belongs here too; the workload test checks
 * that both give the same hits.
 */
export class LRUCacheWithoutMetrics<K, V> {
  private readonly index = new Map<K, number>();
  private readonly keyList: Array<K | undefined>;
  private readonly valueList: Array<V | undefined>;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly expiresAt: Float64Array;
  private readonly freeSlots: Int32Array;
  private freeTop = 0;
  private allocated = 0;
  private head = -1;
  private tail = -1;
  private readonly inFlight = new Map<K, Promise<V | undefined>>();
  private readonly maxSize: number;
  private readonly defaultTtlMs: number;
  private readonly clock: Clock;

  constructor(options: { maxSize: number; ttlMs?: number; clock: Clock }) {
    this.maxSize = options.maxSize;
    this.defaultTtlMs = options.ttlMs ?? 0;
    this.clock = options.clock;
    const n = this.maxSize;
    this.keyList = new Array<K | undefined>(n).fill(undefined);
    this.valueList = new Array<V | undefined>(n).fill(undefined);
    this.next = new Int32Array(n);
    this.prev = new Int32Array(n);
    this.expiresAt = new Float64Array(n);
    this.freeSlots = new Int32Array(n);
  }

  get(key: K): V | undefined {
    const i = this.index.get(key);
    if (i === undefined) return undefined;
    const expiresAt = this.expiresAt[i]!;
    if (expiresAt !== 0 && this.clock.now() > expiresAt) {
      this.removeSlot(i);
      return undefined;
    }
    if (i !== this.head) this.moveToHead(i);
    return this.valueList[i];
  }

  set(key: K, value: V, ttlMs?: number): void {
    if (value === undefined) return;
    const expiresAt = expiryFor(ttlMs, this.defaultTtlMs, this.clock);
    if (this.inFlight.size !== 0) this.inFlight.delete(key);
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
      this.index.delete(this.keyList[i] as K);
      this.unlink(i);
    }
    this.keyList[i] = key;
    this.valueList[i] = value;
    this.expiresAt[i] = expiresAt;
    this.index.set(key, i);
    this.linkAtHead(i);
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
    const p = this.prev[i]!;
    const n = this.next[i]!;
    if (p === -1) this.head = n;
    else this.next[p] = n;
    if (n === -1) this.tail = p;
    else this.prev[n] = p;
  }

  private linkAtHead(i: number): void {
    this.prev[i] = -1;
    this.next[i] = this.head;
    if (this.head !== -1) this.prev[this.head] = i;
    else this.tail = i;
    this.head = i;
  }

  private moveToHead(i: number): void {
    const p = this.prev[i]!;
    const n = this.next[i]!;
    this.next[p] = n;
    if (n === -1) this.tail = p;
    else this.prev[n] = p;
    this.prev[i] = -1;
    this.next[i] = this.head;
    this.prev[this.head] = i;
    this.head = i;
  }
}
