import type { Clock } from '../../cache/clock.js';

export const WORKLOADS = ['zipf', 'uniform', 'scan', 'mixed'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** The simulated clock of the mixed workload advances 1 ms every this many operations (10k ops/s of traffic). */
export const OPS_PER_SIMULATED_MS = 10;

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

export interface TraceOptions {
  keys: number;
  ops: number;
  /** Zipf exponent of the zipf and mixed workloads. */
  skew: number;
  seed: number;
  /** TTL of the mixed workload, in simulated ms. */
  ttlMs: number;
  /** Share of writes in the mixed workload (0–1). */
  writeRatio: number;
}

/** The key trace of a workload, reproducible from the seed. */
export function buildTrace(workload: WorkloadName, options: TraceOptions): KeyTrace {
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

/** Simulated time: the driving loop sets `t`; every cache reads it through `now()`. Starts at 1 (lru-cache treats a start of 0 as "no TTL"). */
export class SimulatedClock implements Clock {
  t = 1;
  now(): number {
    return this.t;
  }
}
