import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SharedRedis } from '../../cache/redis-connection.js';
import { silentLogger, type Logger } from '../../logger.js';
import { throwIfInterrupted } from '../temp-database.js';
import type { TwoProcessCounters, TwoProcessResult, TwoProcessTask } from './two-process-worker.js';

/** Operations per process at most: each is awaited (a Redis round trip on a miss of L1). */
export const TWO_PROCESS_MAX_OPS = 20_000;

export type TwoProcessMode = 'l1-only' | 'l1+shared-tier';

/** One row of the two-process workload: a process, or both together. */
export interface TwoProcessRow extends TwoProcessCounters {
  workload: 'two-process';
  implementation: TwoProcessMode;
  process: '1' | '2' | 'both';
  ops_per_sec: number;
  /** Percent of reads served without the source (by L1 or L2). */
  hit_rate: number;
  cache_size: number;
  keys: number;
  seed: number;
}

export interface TwoProcessOptions {
  keys: number;
  ops: number;
  skew: number;
  seed: number;
  cacheSize: number;
}

export interface TwoProcessReport {
  rows: TwoProcessRow[];
  /** CACHE_URL could not be reached: only the L1-only run was measured. */
  sharedUnreachable: boolean;
}

const WORKER = fileURLToPath(new URL('./two-process-worker.js', import.meta.url));

/** Forks the two processes, starts them together, and collects their results. */
async function runPair(tasks: TwoProcessTask[]): Promise<TwoProcessResult[]> {
  const children: ChildProcess[] = tasks.map(() => fork(WORKER, [], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }));
  try {
    const ready = children.map((child) => new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`a cache-bench process exited (${code}) before it was ready`)));
    }));
    const results = children.map((child) => new Promise<TwoProcessResult>((resolve, reject) => {
      child.on('message', (m: { result?: TwoProcessResult; error?: string }) => {
        if (m.result) resolve(m.result);
        else if (m.error) reject(new Error(m.error));
      });
      child.once('exit', (code) => reject(new Error(`a cache-bench process exited (${code}) without a result`)));
    }));
    children.forEach((child, i) => child.send({ task: tasks[i] }));
    await Promise.all(ready);
    for (const child of children) child.send({ go: true });
    return await Promise.all(results);
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
  }
}

function row(mode: TwoProcessMode, process: TwoProcessRow['process'], results: TwoProcessResult[], options: TwoProcessOptions): TwoProcessRow {
  const sum = (pick: (r: TwoProcessResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const ops = sum((r) => r.ops);
  const loads = sum((r) => r.source_loads);
  const ms = Math.max(...results.map((r) => r.ms));
  return {
    workload: 'two-process',
    implementation: mode,
    process,
    ops,
    ops_per_sec: Math.round((ops / ms) * 1000),
    hit_rate: Math.round(((ops - loads) / ops) * 10000) / 100,
    l1_hits: sum((r) => r.l1_hits),
    l1_misses: sum((r) => r.l1_misses),
    l2_hits: sum((r) => r.l2_hits),
    l2_misses: sum((r) => r.l2_misses),
    l2_errors: sum((r) => r.l2_errors),
    source_loads: loads,
    cache_size: options.cacheSize,
    keys: options.keys,
    seed: options.seed,
  };
}

/**
 * cache-bench's two-process workload: two processes read one Zipf trace (each its own half)
 * read-through, first with their in-process caches alone, then with the shared tier at
 * `cacheUrl` between them and the source (a 1 ms timer). Rows per process and for both.
 */
export async function runTwoProcessWorkload(
  options: TwoProcessOptions,
  cacheUrl: string,
  io: { logger?: Logger; signal?: AbortSignal; onProgress?: (message: string) => void } = {},
): Promise<TwoProcessReport> {
  const ops = Math.min(options.ops, TWO_PROCESS_MAX_OPS);
  const reachable = await SharedRedis.connect(cacheUrl, {
    setting: 'CACHE_URL',
    fallback: 'cache-bench measures the two processes with their in-process caches alone',
    logger: io.logger ?? silentLogger,
  });
  reachable?.close();
  const modes: TwoProcessMode[] = reachable ? ['l1-only', 'l1+shared-tier'] : ['l1-only'];
  const rows: TwoProcessRow[] = [];
  for (const mode of modes) {
    throwIfInterrupted(io.signal, 'cache-bench');
    io.onProgress?.(`two-process: ${mode}`);
    const namespace = `cache-bench:${randomBytes(6).toString('hex')}`;
    const tasks: TwoProcessTask[] = [0, 1].map((index) => ({
      index,
      keys: options.keys,
      ops,
      skew: options.skew,
      seed: options.seed,
      cacheSize: options.cacheSize,
      cacheUrl: mode === 'l1+shared-tier' ? cacheUrl : undefined,
      namespace,
    }));
    const results = await runPair(tasks);
    rows.push(row(mode, '1', [results[0]!], { ...options, ops }), row(mode, '2', [results[1]!], { ...options, ops }), row(mode, 'both', results, { ...options, ops }));
  }
  return { rows, sharedUnreachable: !reachable };
}
