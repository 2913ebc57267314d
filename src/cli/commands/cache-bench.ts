import type { Command } from 'commander';
import { UsageError } from '../../errors.js';
import { action } from '../context.js';

const WORKLOAD_NAMES = ['zipf', 'uniform', 'scan', 'mixed'];

function wholeNumber(name: string, min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new UsageError(`${name}: expected a whole number of at least ${min}, got "${value}"`);
    return Number(value);
  };
}

function decimal(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new UsageError(`${name}: expected a number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

function workloadList(value: string, previous: string[] | undefined): string[] {
  const names = value.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const name of names) {
    if (!WORKLOAD_NAMES.includes(name)) throw new UsageError(`--workload: expected one of ${WORKLOAD_NAMES.join(', ')}, got "${name}"`);
  }
  return [...(previous ?? []), ...names];
}

interface CacheBenchFlags {
  cacheSize: number;
  keys: number;
  ops: number;
  skew: number;
  ttl: number;
  seed: number;
  workload?: string[];
  repeat: number;
  writeRatio: number;
  policy: 'all' | 'lru';
  memory: boolean;
  db: boolean;
  dbSamples: number;
  dbRows: number;
}

export function registerCacheBench(program: Command): void {
  program
    .command('cache-bench')
    .description('benchmark the LRU cache (and W-TinyLFU) against lru-cache on one key trace, and a cache hit against a database read')
    .option('--cache-size <n>', 'cache capacity in entries', wholeNumber('--cache-size', 1), 1000)
    .option('--keys <n>', 'distinct keys in the trace', wholeNumber('--keys', 1), 100_000)
    .option('--ops <n>', 'operations per run', wholeNumber('--ops', 1), 1_000_000)
    .option('--skew <s>', 'Zipf exponent of the zipf and mixed workloads', decimal('--skew', 0, 10), 1.0)
    .option('--ttl <ms>', 'TTL of the mixed workload in simulated ms (the clock advances 1 ms every 10 operations)', wholeNumber('--ttl', 1), 1000)
    .option('--seed <n>', 'seed of the key traces (same seed, same trace)', wholeNumber('--seed', 0), 42)
    .option('--workload <names>', `workloads, comma-separated or repeated: ${WORKLOAD_NAMES.join(', ')} (default: all)`, workloadList)
    .option('--repeat <n>', 'timed runs per implementation and workload (median reported)', wholeNumber('--repeat', 1), 3)
    .option('--write-ratio <r>', 'share of writes in the mixed workload', decimal('--write-ratio', 0, 1), 0.2)
    .option('--policy <which>', 'all = LRU, lru-cache, LRU without metrics and W-TinyLFU; lru = LRU and lru-cache only', 'all')
    .option('--no-memory', 'skip the bytes-per-entry measurement')
    .option('--no-db', 'skip the cache-hit versus database-read latency')
    .option('--db-samples <n>', 'timed database reads', wholeNumber('--db-samples', 1), 2000)
    .option('--db-rows <n>', 'tracks in the throwaway benchmark database', wholeNumber('--db-rows', 1), 1000)
    .addHelpText(
      'after',
      `
The database part runs on a throwaway database (a temp SQLite file, or with a PostgreSQL
DATABASE_URL a temp schema in that database, dropped afterwards); your data is never read.

Examples:
  $ soulspot cache-bench
  $ soulspot cache-bench --workload zipf --skew 1.0 --cache-size 1000 --keys 100000
  $ soulspot cache-bench --json --ops 100000 --no-db`,
    )
    .action(
      action(async (ctx, flags: CacheBenchFlags) => {
        if (flags.policy !== 'all' && flags.policy !== 'lru') throw new UsageError(`--policy: expected all or lru, got "${flags.policy}"`);
        const { runCacheBench } = await import('../../bench/cache-bench/index.js');
        // Ctrl-C stops at the next workload or database read, still removing the throwaway database.
        const controller = new AbortController();
        const onSigint = () => {
          ctx.stderr.write('\nInterrupted: stopping and removing the throwaway database (Ctrl-C again to stop at once)…\n');
          controller.abort();
        };
        process.once('SIGINT', onSigint);
        const { startSpinner } = await import('../spinner.js');
        const spinner = await startSpinner(ctx, 'cache-bench');
        const report = await runCacheBench(
          ctx.config,
          {
            cacheSize: flags.cacheSize,
            keys: flags.keys,
            ops: flags.ops,
            skew: flags.skew,
            ttlMs: flags.ttl,
            seed: flags.seed,
            workloads: (flags.workload ?? WORKLOAD_NAMES) as never,
            repeat: flags.repeat,
            writeRatio: flags.writeRatio,
            extras: flags.policy === 'all',
            memory: flags.memory,
          },
          flags.db ? { samples: flags.dbSamples, rows: flags.dbRows, seed: flags.seed } : null,
          { logger: ctx.logger, onProgress: spinner.shown ? (message) => spinner.update(message) : undefined, signal: controller.signal },
        ).finally(() => {
          process.removeListener('SIGINT', onSigint);
          spinner.stop();
        });
        if (ctx.options.json) {
          const { writeJson } = await import('../render.js');
          writeJson(ctx.stdout, [...report.workloads, ...report.latency]);
        } else {
          const { renderTable } = await import('../render.js');
          const fmt = (n: number | null) => (n === null ? 'n/a' : n.toLocaleString('en-US'));
          const first = report.workloads[0];
          if (first) {
            ctx.stdout.write(
              renderTable(
                ['workload', 'implementation', 'ops/s', 'hit rate %', 'evictions', 'expirations', 'bytes/entry'],
                report.workloads.map((r) => [r.workload, r.implementation, fmt(r.ops_per_sec), r.hit_rate.toFixed(2), fmt(r.evictions), fmt(r.expirations), fmt(r.bytes_per_entry)]),
                `Cache workloads: cache ${fmt(first.cache_size)} entries, ${fmt(first.keys)} keys, ${fmt(first.ops)} ops, skew ${flags.skew}, TTL ${flags.ttl} ms (mixed), seed ${first.seed}`,
              ),
            );
          }
          if (report.latency.length > 0) {
            ctx.stdout.write(
              renderTable(
                ['read', 'mean µs', 'p50 µs', 'p99 µs', 'reads/s'],
                report.latency.map((r) => [r.implementation, r.mean_us.toFixed(3), r.p50_us.toFixed(3), r.p99_us.toFixed(3), fmt(r.ops_per_sec)]),
                `Track read by id: cache hit vs database (${report.latency[0].provider}, throwaway database, ${fmt(report.latency[0].samples)} samples; p50/p99 include ${report.latency[0].timer_overhead_us.toFixed(3)} µs of timer overhead, the mean does not for the cache)`,
              ),
            );
          }
        }
      }),
    );
}
