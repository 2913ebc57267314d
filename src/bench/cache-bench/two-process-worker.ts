import { LRUCache } from '../../cache/lru-cache.js';
import { SharedCacheTier } from '../../cache/shared-tier.js';
import { mulberry32, zipfTrace } from './traces.js';

/**
 * One process of cache-bench's two-process workload (forked by two-process.ts): reads its half of
 * a Zipf trace read-through, L1 first, then (with a URL) the shared tier, then the "database": a
 * 1 ms timer standing in for a track read over the network. Reports its counters and time.
 */

export interface TwoProcessTask {
  /** 0 or 1: which half of the trace this process reads. */
  index: number;
  keys: number;
  ops: number;
  skew: number;
  seed: number;
  cacheSize: number;
  /** CACHE_URL, or undefined for the L1-only run. */
  cacheUrl?: string;
  namespace: string;
}

/** What one process counts, per tier (snake_case: these go to `--json`). */
export interface TwoProcessCounters {
  ops: number;
  l1_hits: number;
  l1_misses: number;
  l2_hits: number;
  l2_misses: number;
  l2_errors: number;
  source_loads: number;
}

export interface TwoProcessResult extends TwoProcessCounters {
  index: number;
  ms: number;
  /** The shared tier could not be reached (the run then measured L1 alone). */
  shared_unreachable: boolean;
}

/** What a miss of both tiers costs: one timer tick of at least 1 ms, like a database round trip. */
export const SOURCE_LATENCY_MS = 1;
/** The bench's values leave the shared tier soon after the run. */
const BENCH_TTL_MS = 60_000;

interface BenchTrack {
  id: string;
  title: string;
  durationMs: number;
  updatedAt: Date;
}

function loadFromSource(key: string): Promise<BenchTrack> {
  return new Promise((resolve) => setTimeout(() => resolve({ id: key, title: `Track ${key}`, durationMs: 200_000, updatedAt: new Date(0) }), SOURCE_LATENCY_MS));
}

async function run(task: TwoProcessTask, go: Promise<void>): Promise<TwoProcessResult> {
  // Both processes draw from one trace (same hot keys), each its own half.
  const trace = zipfTrace(task.keys, task.ops * 2, task.skew, mulberry32(task.seed)).subarray(task.index * task.ops, (task.index + 1) * task.ops);
  const l1 = new LRUCache<string, BenchTrack>({ maxSize: task.cacheSize });
  const tier = task.cacheUrl ? await SharedCacheTier.connect<BenchTrack>({ url: task.cacheUrl, namespace: task.namespace, ttlMs: BENCH_TTL_MS }) : undefined;
  tier?.onInvalidate((keys) => (keys === 'all' ? l1.clear() : keys.forEach((k) => l1.delete(k))));
  process.send!({ ready: true });
  await go;
  let sourceLoads = 0;
  const started = performance.now();
  try {
    for (let i = 0; i < trace.length; i++) {
      const key = String(trace[i]);
      if (l1.get(key) !== undefined) continue;
      if (tier) {
        const { found, generations } = await tier.getMany([key]);
        const shared = found.get(key);
        if (shared !== undefined) {
          l1.set(key, shared);
          continue;
        }
        const loaded = await loadFromSource(key);
        sourceLoads++;
        l1.set(key, loaded);
        await tier.fill([[key, loaded]], generations);
      } else {
        l1.set(key, await loadFromSource(key));
        sourceLoads++;
      }
    }
  } finally {
    tier?.close();
  }
  const ms = performance.now() - started;
  const l1Stats = l1.stats();
  const l2 = tier?.stats();
  return {
    index: task.index,
    ops: trace.length,
    ms,
    l1_hits: l1Stats.hits,
    l1_misses: l1Stats.misses,
    l2_hits: l2?.hits ?? 0,
    l2_misses: l2?.misses ?? 0,
    l2_errors: l2?.errors ?? 0,
    source_loads: sourceLoads,
    shared_unreachable: task.cacheUrl !== undefined && tier === undefined,
  };
}

if (process.send) {
  let start: () => void = () => {};
  const go = new Promise<void>((resolve) => (start = resolve));
  process.on('message', (message: { task?: TwoProcessTask; go?: boolean }) => {
    if (message.go) start();
    if (message.task) {
      run(message.task, go).then(
        (result) => process.send!({ result }, () => process.disconnect()),
        (error: Error) => process.send!({ error: error.message }, () => process.disconnect()),
      );
    }
  });
}
