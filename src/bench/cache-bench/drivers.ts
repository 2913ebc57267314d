import { performance } from 'node:perf_hooks';
import { createBenchCache, IMPLEMENTATIONS, VALUE, type BenchCache, type ImplementationName, type Value } from './implementations.js';
import { OPS_PER_SIMULATED_MS, SimulatedClock, type KeyTrace } from './traces.js';

export interface RunCounts {
  hits: number;
  reads: number;
}

/**
 * The driving loop: the trace's reads (a miss stores the key) and writes through `cache`, the
 * simulated clock advancing with the operations. Written once, but never run itself: each
 * implementation runs a copy of its own (`ownCopy`), so that each copy's `cache.get`/`cache.set`
 * call sites see one class only and stay monomorphic. One loop shared by all implementations lets
 * one implementation's inline caches slow the others down (measured: see docs/architecture.md,
 * "Known duplicates"). It uses nothing but its parameters: the copies are compiled from its text.
 */
function drive(cache: BenchCache, pool: string[], trace: KeyTrace, clock: SimulatedClock, value: Value, opsPerSimulatedMs: number): RunCounts {
  const keys = trace.keys;
  const writes = trace.writes;
  const timed = trace.ttlMs > 0;
  let hits = 0;
  let reads = 0;
  for (let j = 0; j < keys.length; j++) {
    if (timed) clock.t = 1 + ((j / opsPerSimulatedMs) | 0);
    const key = pool[keys[j]!]!;
    if (writes !== null && writes[j] === 1) {
      cache.set(key, value);
      continue;
    }
    reads++;
    if (cache.get(key) !== undefined) hits++;
    else cache.set(key, value);
  }
  return { hits, reads };
}

/**
 * A new function compiled from `drive`'s text. V8 keeps the type feedback (the inline caches) per
 * function literal, so a copy compiled apart learns only the class it is given; a closure made by
 * a factory would share its literal's feedback with its siblings.
 */
function ownCopy(): typeof drive {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- on purpose: a function literal of its own, from the one source above
  const compile = new Function(`return ${drive.toString()}`) as () => typeof drive;
  return compile();
}

const drivers = new Map<ImplementationName, typeof drive>(IMPLEMENTATIONS.map((implementation) => [implementation, ownCopy()]));

/** One timed pass of `trace` through a new cache of `implementation`; the cache is returned for its metrics. */
export function timedRun(implementation: ImplementationName, maxSize: number, pool: string[], trace: KeyTrace): { seconds: number; counts: RunCounts; cache: BenchCache } {
  const clock = new SimulatedClock();
  const cache = createBenchCache(implementation, maxSize, trace.ttlMs, clock);
  const run = drivers.get(implementation)!;
  const start = performance.now();
  const counts = run(cache, pool, trace, clock, VALUE, OPS_PER_SIMULATED_MS);
  const seconds = (performance.now() - start) / 1000;
  return { seconds, counts, cache };
}
