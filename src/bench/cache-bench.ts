import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { LRUCache as NpmLRUCache } from 'lru-cache';
import { LRUCache } from '../cache/lru-cache.js';
import { getGc } from '../gc.js';
import { WTinyLFUCache } from '../cache/w-tinylfu.js';
import type { Clock } from '../cache/clock.js';
import type { Config } from '../config.js';
import { silentLogger, type Logger } from '../logger.js';
import { DatabaseError, SoulspotError, UsageError, describeError } from '../errors.js';
import { throwIfInterrupted, withTempDatabase } from './temp-database.js';

/**
 * `soulspot cache-bench`: the same seeded key trace through this cache (LRU, and W-TinyLFU) and the
 * npm `lru-cache` package, in one process and one run. Every implementation gets its own copy of the
 * driving loop so each call site stays monomorphic (a shared loop would let one implementation's
 * inline caches slow the other down).
 */

export const WORKLOADS = ['zipf', 'uniform', 'scan', 'mixed'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export const IMPLEMENTATIONS = ['soulspot-lru', 'lru-cache', 'soulspot-lru-no-metrics', 'soulspot-w-tinylfu'] as const;
export type ImplementationName = (typeof IMPLEMENTATIONS)[number];

/** The simulated clock of the mixed workload advances 1 ms every this many operations (10k ops/s of traffic). */
export const OPS_PER_SIMULATED_MS = 10;

export interface CacheBenchOptions {
  cacheSize: number;
  keys: number;
  ops: number;
  /** Zipf exponent of the zipf and mixed workloads. */
  skew: number;
  /** TTL of the mixed workload, in simulated ms. */
  ttlMs: number;
  seed: number;
  workloads: WorkloadName[];
  /** Timed runs per implementation and workload; the median is reported. */
  repeat: number;
  /** Share of writes in the mixed workload (0–1). */
  writeRatio: number;
  /** Also run LRU without metrics and the W-TinyLFU policy (default true). */
  extras?: boolean;
  /** Measure heap bytes per entry (default true). */
  memory?: boolean;
}

export interface WorkloadResult {
  implementation: ImplementationName;
  workload: WorkloadName;
  ops_per_sec: number;
  /** Percent of reads that hit (0–100, two decimals). */
  hit_rate: number;
  hits: number;
  reads: number;
  writes: number;
  /** null for soulspot-lru-no-metrics, which counts nothing (that is its point). */
  evictions: number | null;
  expirations: number | null;
  /** Heap (+ array buffer) growth per entry of a full cache after a forced GC; null if GC could not be forced. */
  bytes_per_entry: number | null;
  cache_size: number;
  keys: number;
  ops: number;
  seed: number;
}

/** A 32-bit seeded PRNG (mulberry32): the same seed gives the same trace on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `ops` key numbers in [0, keys) with P(rank i) ∝ 1/(i+1)^skew (skew 0 = uniform). */
export function zipfTrace(keys: number, ops: number, skew: number, random: () => number): Int32Array {
  const cdf = new Float64Array(keys);
  let sum = 0;
  for (let i = 0; i < keys; i++) {
    sum += 1 / Math.pow(i + 1, skew);
    cdf[i] = sum;
  }
  // Hot ranks land on scattered key numbers, as real ids would.
  const permutation = new Int32Array(keys);
  for (let i = 0; i < keys; i++) permutation[i] = i;
  for (let i = keys - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = permutation[i]!;
    permutation[i] = permutation[j]!;
    permutation[j] = t;
  }
  const trace = new Int32Array(ops);
  for (let k = 0; k < ops; k++) {
    const u = random() * sum;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    trace[k] = permutation[lo]!;
  }
  return trace;
}

export interface KeyTrace {
  workload: WorkloadName;
  keys: Int32Array;
  /** 1 = write (set), 0 = read-through get; null = reads only. */
  writes: Uint8Array | null;
  /** Whether entries carry a TTL and time is simulated. */
  ttlMs: number;
}

/** The key trace of a workload, reproducible from the seed. */
export function buildTrace(workload: WorkloadName, options: Pick<CacheBenchOptions, 'keys' | 'ops' | 'skew' | 'seed' | 'ttlMs' | 'writeRatio'>): KeyTrace {
  const random = mulberry32(options.seed);
  switch (workload) {
    case 'zipf':
      return { workload, keys: zipfTrace(options.keys, options.ops, options.skew, random), writes: null, ttlMs: 0 };
    case 'uniform': {
      const keys = new Int32Array(options.ops);
      for (let i = 0; i < options.ops; i++) keys[i] = Math.floor(random() * options.keys);
      return { workload, keys, writes: null, ttlMs: 0 };
    }
    case 'scan': {
      const keys = new Int32Array(options.ops);
      for (let i = 0; i < options.ops; i++) keys[i] = i % options.keys;
      return { workload, keys, writes: null, ttlMs: 0 };
    }
    case 'mixed': {
      const keys = zipfTrace(options.keys, options.ops, options.skew, random);
      const writes = new Uint8Array(options.ops);
      for (let i = 0; i < options.ops; i++) writes[i] = random() < options.writeRatio ? 1 : 0;
      return { workload, keys, writes, ttlMs: options.ttlMs };
    }
  }
}

/** Simulated time: the driving loop sets `t`; both caches read it through `now()`. Starts at 1 (lru-cache treats a start of 0 as "no TTL"). */
export class SimulatedClock implements Clock {
  t = 1;
  now(): number {
    return this.t;
  }
}

const VALUE = Object.freeze({ cached: true });
type Value = typeof VALUE;

interface RunCounts {
  hits: number;
  reads: number;
}

// The four loops here are the same text on purpose (see the module comment).

function driveSoulspot(cache: LRUCache<string, Value>, pool: string[], trace: KeyTrace, clock: SimulatedClock): RunCounts {
  const keys = trace.keys;
  const writes = trace.writes;
  const timed = trace.ttlMs > 0;
  let hits = 0;
  let reads = 0;
  for (let j = 0; j < keys.length; j++) {
    if (timed) clock.t = 1 + ((j / OPS_PER_SIMULATED_MS) | 0);
    const key = pool[keys[j]!]!;
    if (writes !== null && writes[j] === 1) {
      cache.set(key, VALUE);
      continue;
    }
    reads++;
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, VALUE);
  }
  return { hits, reads };
}

/**
 * LRUCache's get/set/list code line for line with only the metric counters taken out, as a class of its own (sharing
 * methods with LRUCache through inheritance would make their inline caches polymorphic and slow
 * both down). Run side by side with LRUCache, it shows what the always-on metrics cost.
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
    const ttl = ttlMs === undefined ? this.defaultTtlMs : ttlMs;
    if (ttl !== this.defaultTtlMs && !(ttl >= 0)) throw new RangeError('ttlMs must be >= 0');
    const expiresAt = ttl > 0 && ttl !== Infinity ? this.clock.now() + ttl : 0;
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

function driveNoMetrics(cache: LRUCacheWithoutMetrics<string, Value>, pool: string[], trace: KeyTrace, clock: SimulatedClock): RunCounts {
  const keys = trace.keys;
  const writes = trace.writes;
  const timed = trace.ttlMs > 0;
  let hits = 0;
  let reads = 0;
  for (let j = 0; j < keys.length; j++) {
    if (timed) clock.t = 1 + ((j / OPS_PER_SIMULATED_MS) | 0);
    const key = pool[keys[j]!]!;
    if (writes !== null && writes[j] === 1) {
      cache.set(key, VALUE);
      continue;
    }
    reads++;
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, VALUE);
  }
  return { hits, reads };
}

function driveNpm(cache: NpmLRUCache<string, Value>, pool: string[], trace: KeyTrace, clock: SimulatedClock): RunCounts {
  const keys = trace.keys;
  const writes = trace.writes;
  const timed = trace.ttlMs > 0;
  let hits = 0;
  let reads = 0;
  for (let j = 0; j < keys.length; j++) {
    if (timed) clock.t = 1 + ((j / OPS_PER_SIMULATED_MS) | 0);
    const key = pool[keys[j]!]!;
    if (writes !== null && writes[j] === 1) {
      cache.set(key, VALUE);
      continue;
    }
    reads++;
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, VALUE);
  }
  return { hits, reads };
}

function driveTinyLfu(cache: WTinyLFUCache<string, Value>, pool: string[], trace: KeyTrace, clock: SimulatedClock): RunCounts {
  const keys = trace.keys;
  const writes = trace.writes;
  const timed = trace.ttlMs > 0;
  let hits = 0;
  let reads = 0;
  for (let j = 0; j < keys.length; j++) {
    if (timed) clock.t = 1 + ((j / OPS_PER_SIMULATED_MS) | 0);
    const key = pool[keys[j]!]!;
    if (writes !== null && writes[j] === 1) {
      cache.set(key, VALUE);
      continue;
    }
    reads++;
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, VALUE);
  }
  return { hits, reads };
}

function npmOptions(maxSize: number, ttlMs: number, clock: Clock): NpmLRUCache.Options<string, Value, unknown> {
  // ttlResolution 0: read the (simulated) clock on every check, as this cache does.
  return ttlMs > 0 ? { max: maxSize, ttl: ttlMs, ttlResolution: 0, perf: clock } : { max: maxSize };
}

/**
 * Evictions and expirations of `lru-cache` on a trace, counted in an untimed pass through its
 * `dispose` hook. Removal at capacity of an entry that had already expired counts as an
 * expiration, as this cache counts it; the value stored is the set time to tell which.
 */
function countNpmRemovals(maxSize: number, pool: string[], trace: KeyTrace): { evictions: number; expirations: number; hits: number } {
  const clock = new SimulatedClock();
  let evictions = 0;
  let expirations = 0;
  const ttl = trace.ttlMs;
  const cache = new NpmLRUCache<string, number>({
    ...(npmOptions(maxSize, ttl, clock) as NpmLRUCache.Options<string, number, unknown>),
    dispose: (setAt, _key, reason) => {
      if (reason === 'expire') expirations++;
      else if (reason === 'evict') {
        if (ttl > 0 && clock.t - setAt > ttl) expirations++;
        else evictions++;
      }
    },
  });
  const keys = trace.keys;
  let hits = 0;
  for (let j = 0; j < keys.length; j++) {
    if (ttl > 0) clock.t = 1 + ((j / OPS_PER_SIMULATED_MS) | 0);
    const key = pool[keys[j]!]!;
    if (trace.writes !== null && trace.writes[j] === 1) {
      cache.set(key, clock.t);
      continue;
    }
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, clock.t);
  }
  return { evictions, expirations, hits };
}

function heapBytes(): number {
  const usage = process.memoryUsage();
  // Typed-array storage lives outside the JS heap; both caches use typed arrays.
  return usage.heapUsed + usage.arrayBuffers;
}

/**
 * Bytes per entry: heap + array-buffer growth after forced GCs, for a cache of `count` entries
 * filled with keys that existed before the baseline and one shared value, so it measures what the
 * cache itself adds (index, list, slots), not the keys or values.
 */
const memoryCache = new Map<string, number | null>();

export function measureBytesPerEntry(implementation: ImplementationName, count: number): number | null {
  const memoKey = `${implementation}:${count}`;
  if (memoryCache.has(memoKey)) return memoryCache.get(memoKey)!;
  const result = probeBytesPerEntry(implementation, count);
  memoryCache.set(memoKey, result);
  return result;
}

function probeBytesPerEntry(implementation: ImplementationName, count: number): number | null {
  const gc = getGc();
  if (gc === null) return null;
  const pool = Array.from({ length: count }, (_, i) => `track-${i}`);
  gc();
  gc();
  const before = heapBytes();
  const cache = createCache(implementation, count, 0, new SimulatedClock());
  for (let i = 0; i < count; i++) cache.set(pool[i]!, VALUE);
  gc();
  gc();
  const after = heapBytes();
  // Keep the cache alive until after the measurement.
  if (cache.get(pool[0]!) === undefined && implementation !== 'soulspot-w-tinylfu') throw new Error('memory probe lost its first entry');
  return Math.round(((after - before) / count) * 10) / 10;
}

type AnyCache = { get(key: string): Value | undefined; set(key: string, value: Value): void };

function createCache(implementation: ImplementationName, maxSize: number, ttlMs: number, clock: Clock): AnyCache {
  switch (implementation) {
    case 'soulspot-lru':
      return new LRUCache<string, Value>({ maxSize, ttlMs, clock });
    case 'lru-cache':
      return new NpmLRUCache<string, Value>(npmOptions(maxSize, ttlMs, clock));
    case 'soulspot-lru-no-metrics':
      return new LRUCacheWithoutMetrics<string, Value>({ maxSize, ttlMs, clock });
    case 'soulspot-w-tinylfu':
      return new WTinyLFUCache<string, Value>({ maxSize, ttlMs, clock });
  }
}

function timedRun(implementation: ImplementationName, maxSize: number, pool: string[], trace: KeyTrace): { seconds: number; counts: RunCounts; cache: AnyCache } {
  const clock = new SimulatedClock();
  const cache = createCache(implementation, maxSize, trace.ttlMs, clock);
  const start = performance.now();
  let counts: RunCounts;
  if (implementation === 'soulspot-lru') counts = driveSoulspot(cache as LRUCache<string, Value>, pool, trace, clock);
  else if (implementation === 'lru-cache') counts = driveNpm(cache as NpmLRUCache<string, Value>, pool, trace, clock);
  else if (implementation === 'soulspot-lru-no-metrics') counts = driveNoMetrics(cache as LRUCacheWithoutMetrics<string, Value>, pool, trace, clock);
  else counts = driveTinyLfu(cache as WTinyLFUCache<string, Value>, pool, trace, clock);
  const seconds = (performance.now() - start) / 1000;
  return { seconds, counts, cache };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function validateBenchOptions(options: CacheBenchOptions): string | null {
  const positive = (name: string, value: number) => (Number.isInteger(value) && value > 0 ? null : `--${name} must be a positive integer, got ${value}`);
  return (
    positive('cache-size', options.cacheSize) ??
    positive('keys', options.keys) ??
    positive('ops', options.ops) ??
    positive('repeat', options.repeat) ??
    (Number.isFinite(options.skew) && options.skew >= 0 ? null : `--skew must be a number >= 0, got ${options.skew}`) ??
    (Number.isInteger(options.ttlMs) && options.ttlMs > 0 ? null : `--ttl must be a positive integer of ms, got ${options.ttlMs}`) ??
    (Number.isInteger(options.seed) && options.seed >= 0 && options.seed <= 0xffffffff ? null : `--seed must be an integer 0..4294967295, got ${options.seed}`) ??
    (options.writeRatio >= 0 && options.writeRatio <= 1 ? null : `--write-ratio must be between 0 and 1, got ${options.writeRatio}`) ??
    (options.workloads.length > 0 ? null : 'at least one workload is needed')
  );
}

export interface ProgressReporter {
  (message: string): void;
}

/** Runs every workload through every implementation; results in workload order. */
export function runCacheWorkloads(options: CacheBenchOptions, progress: ProgressReporter = () => {}): WorkloadResult[] {
  const implementations: ImplementationName[] = options.extras === false ? ['soulspot-lru', 'lru-cache'] : [...IMPLEMENTATIONS];
  const pool = Array.from({ length: options.keys }, (_, i) => `track-${i}`);
  const memory = new Map<ImplementationName, number | null>();
  for (const implementation of implementations) {
    memory.set(implementation, options.memory === false ? null : measureBytesPerEntry(implementation, Math.max(options.cacheSize, 100_000)));
  }
  const results: WorkloadResult[] = [];
  for (const workload of options.workloads) {
    progress(`workload ${workload}: building the key trace`);
    const trace = buildTrace(workload, options);
    const writes = trace.writes ? trace.writes.reduce((n, w) => n + w, 0) : 0;
    const seconds = new Map<ImplementationName, number[]>(implementations.map((i) => [i, []]));
    const last = new Map<ImplementationName, { counts: RunCounts; cache: AnyCache }>();
    // One untimed warm-up, then alternate implementations so machine noise falls on both.
    for (const implementation of implementations) timedRun(implementation, options.cacheSize, pool, trace);
    for (let r = 0; r < options.repeat; r++) {
      progress(`workload ${workload}: run ${r + 1}/${options.repeat}`);
      for (const implementation of implementations) {
        const run = timedRun(implementation, options.cacheSize, pool, trace);
        seconds.get(implementation)!.push(run.seconds);
        last.set(implementation, run);
      }
    }
    const npmRemovals = countNpmRemovals(options.cacheSize, pool, trace);
    for (const implementation of implementations) {
      const { counts, cache } = last.get(implementation)!;
      let evictions: number | null;
      let expirations: number | null;
      if (implementation === 'soulspot-lru-no-metrics') {
        evictions = expirations = null;
      } else if (implementation === 'lru-cache') {
        if (npmRemovals.hits !== counts.hits) throw new Error('lru-cache gave different hits on the counting pass: the trace is not deterministic');
        ({ evictions, expirations } = npmRemovals);
      } else {
        ({ evictions, expirations } = (cache as LRUCache<string, Value>).stats());
      }
      results.push({
        implementation,
        workload,
        ops_per_sec: Math.round(options.ops / median(seconds.get(implementation)!)),
        hit_rate: counts.reads === 0 ? 0 : Math.round((counts.hits / counts.reads) * 10000) / 100,
        hits: counts.hits,
        reads: counts.reads,
        writes,
        evictions,
        expirations,
        bytes_per_entry: memory.get(implementation) ?? null,
        cache_size: options.cacheSize,
        keys: options.keys,
        ops: options.ops,
        seed: options.seed,
      });
    }
  }
  return results;
}

/** One row of the read-latency comparison: a cache hit against the same read from the database. */
export interface ReadLatencyResult {
  implementation: string;
  workload: 'read-latency';
  provider: 'sqlite' | 'postgresql';
  samples: number;
  /** Mean latency in µs (cache: a timer-free loop of `samples × 100` gets; database: per read). */
  mean_us: number;
  /** Percentiles of individually timed operations; they include the timer's own cost (`timer_overhead_us`). */
  p50_us: number;
  p99_us: number;
  /** Median cost of one pair of `process.hrtime.bigint()` calls on this machine, in µs. */
  timer_overhead_us: number;
  ops_per_sec: number;
  hit_rate: number | null;
  evictions: number;
  expirations: number;
  bytes_per_entry: null;
}

function percentile(sortedMicros: Float64Array, p: number): number {
  const i = Math.min(sortedMicros.length - 1, Math.floor((p / 100) * sortedMicros.length));
  return Math.round(sortedMicros[i]! * 1000) / 1000;
}

export interface ReadLatencyOptions {
  samples: number;
  rows: number;
  seed: number;
}

/**
 * Latency of a track read by id from the cache (a hit) and from the database (Prisma `findUnique`,
 * which the cached reader saves). The database is a throwaway one made for the run, never the
 * user's data: a temp SQLite file, or for a PostgreSQL `config` a temp schema in that database,
 * migrated, filled with `rows` tracks, and dropped at the end (also on error).
 */
export async function measureReadLatency(config: Config, options: ReadLatencyOptions, signal?: AbortSignal): Promise<ReadLatencyResult[]> {
  return withTempDatabase(config, 'cache-bench', async (db) => {
    const artist = await db.prisma.artist.create({ data: { name: 'cache-bench artist' } });
    const ids: string[] = [];
    for (let i = 0; i < options.rows; i++) ids.push(randomUUID());
    for (let i = 0; i < ids.length; i += 500) {
      throwIfInterrupted(signal, 'cache-bench');
      await db.prisma.track.createMany({
        data: ids.slice(i, i + 500).map((id, k) => ({ id, title: `cache-bench track ${i + k}`, artistId: artist.id, durationMs: 200_000 + k, trackNumber: k + 1 })),
      });
    }
    const random = mulberry32(options.seed);
    const sample = Array.from({ length: options.samples }, () => ids[Math.floor(random() * ids.length)]!);

    // Database: warm up connections and statement caches, then time each read.
    for (let i = 0; i < Math.min(100, sample.length); i++) await db.prisma.track.findUnique({ where: { id: sample[i]! } });
    const dbTimes = new Float64Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      if ((i & 63) === 0) throwIfInterrupted(signal, 'cache-bench');
      const t0 = process.hrtime.bigint();
      const row = await db.prisma.track.findUnique({ where: { id: sample[i]! } });
      dbTimes[i] = Number(process.hrtime.bigint() - t0) / 1000;
      if (row === null) throw new Error(`cache-bench: track ${sample[i]} vanished from its own temp database`);
    }

    const cache = new LRUCache<string, unknown>({ maxSize: ids.length });
    for (const row of await db.prisma.track.findMany()) cache.set(row.id, row);
    const hitTimes = new Float64Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const t0 = process.hrtime.bigint();
      const row = cache.get(sample[i]!);
      hitTimes[i] = Number(process.hrtime.bigint() - t0) / 1000;
      if (row === undefined) throw new Error('cache-bench: a preloaded track was not in the cache');
    }
    const loops = 100;
    const start = performance.now();
    let found = 0;
    for (let r = 0; r < loops; r++) for (let i = 0; i < sample.length; i++) if (cache.get(sample[i]!) !== undefined) found++;
    const hitMean = ((performance.now() - start) * 1000) / (loops * sample.length);
    if (found !== loops * sample.length) throw new Error('cache-bench: a preloaded track was not in the cache');

    const overhead = new Float64Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const t0 = process.hrtime.bigint();
      overhead[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    overhead.sort();
    const timerOverhead = percentile(overhead, 50);
    dbTimes.sort();
    hitTimes.sort();
    const dbMean = dbTimes.reduce((s, t) => s + t, 0) / dbTimes.length;
    const round = (us: number) => Math.round(us * 1000) / 1000;
    return [
      {
        implementation: 'soulspot-lru (hit)',
        workload: 'read-latency',
        provider: db.provider,
        samples: sample.length,
        mean_us: round(hitMean),
        p50_us: percentile(hitTimes, 50),
        p99_us: percentile(hitTimes, 99),
        timer_overhead_us: timerOverhead,
        ops_per_sec: Math.round(1e6 / hitMean),
        hit_rate: 100,
        evictions: 0,
        expirations: 0,
        bytes_per_entry: null,
      },
      {
        implementation: `${db.provider} (prisma findUnique)`,
        workload: 'read-latency',
        provider: db.provider,
        samples: sample.length,
        mean_us: round(dbMean),
        p50_us: percentile(dbTimes, 50),
        p99_us: percentile(dbTimes, 99),
        timer_overhead_us: timerOverhead,
        ops_per_sec: Math.round(1e6 / dbMean),
        hit_rate: null,
        evictions: 0,
        expirations: 0,
        bytes_per_entry: null,
      },
    ];
  });
}

export interface CacheBenchReport {
  workloads: WorkloadResult[];
  latency: ReadLatencyResult[];
}

/** The whole `cache-bench` run: workloads on every implementation, then (unless `db` is null) read latency. */
export async function runCacheBench(
  config: Config,
  options: CacheBenchOptions,
  db: ReadLatencyOptions | null,
  io: { logger?: Logger; onProgress?: (message: string) => void; signal?: AbortSignal } = {},
): Promise<CacheBenchReport> {
  const problem = validateBenchOptions(options);
  if (problem !== null) {
    throw new UsageError(problem);
  }
  const logger = io.logger ?? silentLogger;
  const progress = io.onProgress ?? ((message: string) => logger.debug(message));
  // The workload loops are synchronous; yield once so a spinner can paint between phases.
  const workloads: WorkloadResult[] = [];
  for (const workload of options.workloads) {
    await new Promise((resolve) => setImmediate(resolve));
    throwIfInterrupted(io.signal, 'cache-bench');
    workloads.push(...runCacheWorkloads({ ...options, workloads: [workload] }, progress));
  }
  let latency: ReadLatencyResult[] = [];
  if (db !== null) {
    progress(`read latency: cache hit vs ${config.provider} (throwaway database)`);
    try {
      latency = await measureReadLatency(config, db, io.signal);
    } catch (error) {
      if (error instanceof SoulspotError || io.signal?.aborted) throw error;
      throw new DatabaseError(
        `cache-bench could not build its throwaway ${config.provider} database for the read-latency part (${describeError(error)}); check DATABASE_URL (PostgreSQL: the user needs CREATE on the database) or run with --no-db`,
        { cause: error },
      );
    }
  }
  return { workloads, latency };
}
