import { performance } from 'node:perf_hooks';
import type { LRUCache as NpmLRUCache } from 'lru-cache';
import type { LRUCache } from '../../cache/lru-cache.js';
import type { WTinyLFUCache } from '../../cache/w-tinylfu.js';
import { createBenchCache, VALUE, type BenchCache, type ImplementationName, type Value } from './implementations.js';
import type { LRUCacheWithoutMetrics } from './lru-without-metrics.js';
import { OPS_PER_SIMULATED_MS, SimulatedClock, type KeyTrace } from './traces.js';

export interface RunCounts {
  hits: number;
  reads: number;
}

// The four loops are the same text on purpose: each implementation gets its own copy, so each
// `cache.get`/`cache.set` call site sees one class only and stays monomorphic (one shared loop
// would let one implementation's inline caches slow the others down; measured: see
// docs/architecture.md, "Known duplicates").

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

/** One timed pass of `trace` through a new cache of `implementation`; the cache is returned for its metrics. */
export function timedRun(implementation: ImplementationName, maxSize: number, pool: string[], trace: KeyTrace): { seconds: number; counts: RunCounts; cache: BenchCache } {
  const clock = new SimulatedClock();
  const cache = createBenchCache(implementation, maxSize, trace.ttlMs, clock);
  const start = performance.now();
  let counts: RunCounts;
  if (implementation === 'soulspot-lru') counts = driveSoulspot(cache as LRUCache<string, Value>, pool, trace, clock);
  else if (implementation === 'lru-cache') counts = driveNpm(cache as NpmLRUCache<string, Value>, pool, trace, clock);
  else if (implementation === 'soulspot-lru-no-metrics') counts = driveNoMetrics(cache as LRUCacheWithoutMetrics<string, Value>, pool, trace, clock);
  else counts = driveTinyLfu(cache as WTinyLFUCache<string, Value>, pool, trace, clock);
  const seconds = (performance.now() - start) / 1000;
  return { seconds, counts, cache };
}
