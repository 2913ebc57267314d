import { Option, type Command } from 'commander';
import { action } from '../context.js';
import { decimal, listOf, oneOf, wholeNumber } from '../options.js';
import { formatOption, outputFormat, type OutputFormat } from '../format.js';

const WORKLOAD_NAMES = ['zipf', 'uniform', 'scan', 'mixed'] as const;
const POLICIES = ['all', 'lru'] as const;

interface CacheBenchFlags {
  cacheSize: number;
  keys: number;
  ops: number;
  skew: number;
  ttl: number;
  seed: number;
  workload?: Array<(typeof WORKLOAD_NAMES)[number]>;
  repeat: number;
  writeRatio: number;
  policy: 'all' | 'lru';
  memory: boolean;
  db: boolean;
  dbSamples: number;
  dbRows: number;
  format?: OutputFormat;
  twoProcess?: boolean;
}

export function registerCacheBench(program: Command): void {
  program
    .command('cache-bench')
    .description('benchmark the LRU cache (and W-TinyLFU) against lru-cache on one key trace, and a cache hit against a database read')
    .option('--cache-size <n>', 'cache capacity in entries', wholeNumber({ min: 1 }), 1000)
    .option('--keys <n>', 'distinct keys in the trace', wholeNumber({ min: 1 }), 100_000)
    .option('--ops <n>', 'operations per run', wholeNumber({ min: 1 }), 1_000_000)
    .option('--skew <s>', 'Zipf exponent of the zipf and mixed workloads', decimal({ min: 0, max: 10 }), 1.0)
    .option('--ttl <ms>', 'TTL of the mixed workload in simulated ms (the clock advances 1 ms every 10 operations)', wholeNumber({ min: 1 }), 1000)
    .option('--seed <n>', 'seed of the key traces (same seed, same trace)', wholeNumber({ min: 0 }), 42)
    .option('--workload <names>', `workloads, comma-separated or repeated: ${WORKLOAD_NAMES.join(', ')} (default: all)`, listOf(WORKLOAD_NAMES))
    .option('--repeat <n>', 'timed runs per implementation and workload (median reported)', wholeNumber({ min: 1 }), 3)
    .option('--write-ratio <r>', 'share of writes in the mixed workload', decimal({ min: 0, max: 1 }), 0.2)
    .addOption(
      new Option('--policy <which>', 'all = LRU, lru-cache, LRU without metrics and W-TinyLFU; lru = LRU and lru-cache only')
        .choices(POLICIES)
        .argParser(oneOf(POLICIES))
        .default('all'),
    )
    .option('--no-memory', 'skip the bytes-per-entry measurement')
    .option('--no-db', 'skip the cache-hit versus database-read latency')
    .option('--db-samples <n>', 'timed database reads', wholeNumber({ min: 1 }), 2000)
    .option('--db-rows <n>', 'tracks in the throwaway benchmark database', wholeNumber({ min: 1 }), 1000)
    .addOption(formatOption())
    .option('--two-process', 'also run two processes on one Zipf trace, with their in-process caches alone and then with the shared tier of CACHE_URL (at most 20,000 reads each)')
    .addHelpText(
      'after',
      `
The database part runs on a throwaway database (a temp SQLite file, or with a PostgreSQL
DATABASE_URL a temp schema in that database, dropped afterwards); your data is never read.

--two-process needs CACHE_URL=redis://… (the shared tier it compares with).

Examples:
  $ soulspot cache-bench
  $ soulspot cache-bench --workload zipf --skew 1.0 --cache-size 1000 --keys 100000
  $ soulspot cache-bench --json --ops 100000 --no-db
  $ soulspot cache-bench --format openmetrics --no-db`,
    )
    .action(
      action(async (ctx, flags: CacheBenchFlags) => {
        const format = outputFormat(ctx, flags.format, 'cache-bench');
        if (flags.twoProcess && !ctx.config.cacheUrl) {
          const { ConfigError } = await import('../../errors.js');
          throw new ConfigError('--two-process: expected CACHE_URL=redis://host:port (the shared tier to compare with), got none; set CACHE_URL or drop --two-process');
        }
        const { runCacheBench } = await import('../../bench/cache-bench/index.js');
        const { startProgress } = await import('../progress.js');
        const { withInterrupt } = await import('../interrupt.js');
        const progress = await startProgress(ctx, 'cache-bench');
        // Ctrl-C stops at the next workload or database read, still removing the throwaway database.
        const report = await withInterrupt(ctx, { stopping: 'stopping and removing the throwaway database', progress }, (signal) =>
          runCacheBench(
            ctx.config,
            {
              cacheSize: flags.cacheSize,
              keys: flags.keys,
              ops: flags.ops,
              skew: flags.skew,
              ttlMs: flags.ttl,
              seed: flags.seed,
              workloads: flags.workload ?? [...WORKLOAD_NAMES],
              repeat: flags.repeat,
              writeRatio: flags.writeRatio,
              extras: flags.policy === 'all',
              memory: flags.memory,
            },
            flags.db ? { samples: flags.dbSamples, rows: flags.dbRows, seed: flags.seed } : null,
            {
              logger: ctx.logger,
              onProgress: progress.shown ? (message: string) => progress.update(message) : undefined,
              signal,
              twoProcess: flags.twoProcess && ctx.config.cacheUrl ? { cacheUrl: ctx.config.cacheUrl } : undefined,
            },
          ),
        ).finally(() => progress.stop());
        if (format === 'openmetrics') {
          const { cacheBenchMetrics } = await import('../../diagnostics/metrics.js');
          ctx.stdout.write(await cacheBenchMetrics(report.workloads, report.latency).metrics());
        } else if (format === 'json') {
          const { writeJson } = await import('../render.js');
          writeJson(ctx.stdout, [...report.workloads, ...(report.twoProcess?.rows ?? []), ...report.latency]);
        } else {
          const { renderCacheBenchReport } = await import('../render-bench.js');
          const { outputWidth } = await import('../render.js');
          ctx.stdout.write(renderCacheBenchReport(report, { skew: flags.skew, ttlMs: flags.ttl }, outputWidth(ctx.stdout)));
        }
      }),
    );
}
