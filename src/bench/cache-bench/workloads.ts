import type { Cache } from '../../cache/slot-cache.js';
import { timedRun, type RunCounts } from './drivers.js';
import { IMPLEMENTATIONS, type BenchCache, type ImplementationName, type Value } from './implementations.js';
import { countLruCacheRemovals } from './lru-cache-removals.js';
import { measureBytesPerEntry } from './memory.js';
import { buildTrace, type TraceOptions, type WorkloadName } from './traces.js';

export interface CacheBenchOptions extends TraceOptions {
  cacheSize: number;
  workloads: WorkloadName[];
  /** Timed runs per implementation and workload; the median is reported. */
  repeat: number;
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

export interface ProgressReporter {
  (message: string): void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
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
    const last = new Map<ImplementationName, { counts: RunCounts; cache: BenchCache }>();
    // One untimed warm-up, then alternate implementations so machine noise falls on all of them.
    for (const implementation of implementations) timedRun(implementation, options.cacheSize, pool, trace);
    for (let r = 0; r < options.repeat; r++) {
      progress(`workload ${workload}: run ${r + 1}/${options.repeat}`);
      for (const implementation of implementations) {
        const run = timedRun(implementation, options.cacheSize, pool, trace);
        seconds.get(implementation)!.push(run.seconds);
        last.set(implementation, run);
      }
    }
    const npmRemovals = countLruCacheRemovals(options.cacheSize, pool, trace);
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
        ({ evictions, expirations } = (cache as Cache<string, Value>).stats());
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
