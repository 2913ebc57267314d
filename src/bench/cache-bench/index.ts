import type { Config } from '../../config.js';
import { DatabaseError, SoulspotError, UsageError, describeError } from '../../errors.js';
import { silentLogger, type Logger } from '../../logger.js';
import { throwIfInterrupted } from '../temp-database.js';
import { measureReadLatency, type ReadLatencyOptions, type ReadLatencyResult } from './read-latency.js';
import { runTwoProcessWorkload, type TwoProcessReport } from './two-process.js';
import { runCacheWorkloads, type CacheBenchOptions, type WorkloadResult } from './workloads.js';

/**
 * `soulspot cache-bench`: the same seeded key trace (traces.ts) through this cache (LRU, and
 * W-TinyLFU), the npm `lru-cache` package and the LRU without metrics (implementations.ts), in
 * one process and one run (workloads.ts, drivers.ts, memory.ts); then a cache hit against a
 * database read on a throwaway database (read-latency.ts).
 */

export type { CacheBenchOptions, WorkloadResult } from './workloads.js';
export type { ReadLatencyOptions, ReadLatencyResult } from './read-latency.js';
export type { TwoProcessReport, TwoProcessRow } from './two-process.js';
export { TWO_PROCESS_MAX_OPS } from './two-process.js';

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

export interface CacheBenchReport {
  workloads: WorkloadResult[];
  latency: ReadLatencyResult[];
  /** The two-process workload (with `twoProcess`), L1 alone against L1 + the shared tier. */
  twoProcess?: TwoProcessReport;
}

/** The whole `cache-bench` run: workloads on every implementation, then (unless `db` is null) read latency. */
export async function runCacheBench(
  config: Config,
  options: CacheBenchOptions,
  db: ReadLatencyOptions | null,
  io: { logger?: Logger; onProgress?: (message: string) => void; signal?: AbortSignal; twoProcess?: { cacheUrl: string } } = {},
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
  let twoProcess: TwoProcessReport | undefined;
  if (io.twoProcess) {
    twoProcess = await runTwoProcessWorkload(
      { keys: options.keys, ops: options.ops, skew: options.skew, seed: options.seed, cacheSize: options.cacheSize },
      io.twoProcess.cacheUrl,
      { logger, signal: io.signal, onProgress: progress },
    );
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
  return { workloads, latency, twoProcess };
}
