import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../errors.js';
import { action } from '../context.js';
import { formatOption, outputFormat, type OutputFormat } from '../format.js';
import { hostPort, wholeNumber } from '../options.js';
import type { PoolStats } from '../../db/pool-stats.js';

interface PoolStatsOptions {
  probe?: boolean;
  concurrency?: number;
  duration?: number;
  watch?: boolean;
  listen?: { host: string; port: number };
  format?: OutputFormat;
}

export function registerPoolStats(program: Command): void {
  program
    .command('pool-stats')
    .description('print connection-pool settings and statistics; --probe puts the pool under a realistic load')
    .option('--probe', 'run a read/write mix through the pool and report waits, timeouts, throughput')
    .option('--concurrency <n>', 'concurrent workers of --probe (default: DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW)', wholeNumber({ min: 1, max: 1000 }))
    .option('--duration <seconds>', 'how long --probe runs (default 10)', wholeNumber({ min: 1, max: 3600 }))
    .option('--watch', 'redraw the statistics live while --probe runs (terminal only)')
    .option('--listen <host:port>', 'serve the live pool metrics on http://HOST:PORT/metrics while --probe runs (port 0: any free port)', hostPort)
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
The probe's writes happen in transactions that are rolled back: your data is left unchanged.
--format openmetrics prints the Prometheus text exposition (soulspot_pool_*; with --probe also
soulspot_batch_items_total{batch="pool-probe"}); --listen serves the same, live, while the probe runs.
Exit codes: 0 done (see the report), 2 bad options, 3 bad settings, 4 database unreachable, 130 interrupted.

Examples:
  $ soulspot pool-stats
  $ soulspot pool-stats --probe --concurrency 20 --duration 30 --watch
  $ DATABASE_POOL_SIZE=10 soulspot pool-stats --probe --json
  $ soulspot pool-stats --format openmetrics
  $ soulspot pool-stats --probe --duration 60 --listen 127.0.0.1:9464`,
    )
    .action(
      action(async (ctx, opts: PoolStatsOptions) => {
        if (!opts.probe && (opts.concurrency !== undefined || opts.duration !== undefined || opts.watch || opts.listen)) {
          throw new UsageError('pool-stats: --concurrency, --duration, --watch and --listen go with --probe; add --probe');
        }
        const format = outputFormat(ctx, opts.format, 'pool-stats');
        const [render, renderPool, metrics] = await Promise.all([import('../render.js'), import('../render-pool.js'), import('../../diagnostics/metrics.js')]);
        const width = render.outputWidth(ctx.stdout);
        const registry = metrics.newRegistry();
        if (!opts.probe) {
          const { getPoolOverview } = await import('../../diagnostics/pool-probe.js');
          const waits: number[] = [];
          const overview = await getPoolOverview(ctx.config, { onAcquireWait: (ms) => waits.push(ms) });
          if (format === 'openmetrics') {
            const pool = metrics.addPoolMetrics(registry, () => overview);
            waits.forEach((ms) => pool.observeAcquireWait(ms));
            ctx.stdout.write(await registry.metrics());
          } else if (format === 'json') render.writeJson(ctx.stdout, overview);
          else ctx.stdout.write(renderPool.renderPoolOverview(overview, width));
          return ExitCode.OK;
        }

        const { runPoolProbe, settingsView } = await import('../../diagnostics/pool-probe.js');
        const concurrency = opts.concurrency ?? (ctx.config.provider === 'sqlite' ? 4 : ctx.config.pool.size + ctx.config.pool.maxOverflow);
        const durationSeconds = opts.duration ?? 10;
        const tty = Boolean((ctx.stdout as NodeJS.WriteStream).isTTY);
        const live = opts.watch && tty && format === 'table' ? renderPool.livePoolView(ctx.stdout) : undefined;
        if (opts.watch && !live) ctx.logger.warn('--watch redraws on a terminal only, in the table format; printing the final report');

        // The metrics read the probe's pool at each scrape (no pool series until it has one).
        let readStats: (() => PoolStats) | undefined;
        const operations = { ok: 0, failed: 0 };
        const settings = settingsView(ctx.config.pool, ctx.config.provider);
        const poolMetrics = metrics.addPoolMetrics(registry, () => ({ stats: readStats?.() ?? null, settings, operations }), { probe: true });
        const server = opts.listen ? await (await import('../../diagnostics/metrics-server.js')).serveMetrics(registry, opts.listen.host, opts.listen.port) : undefined;
        if (server) ctx.logger.info(`serving the pool metrics on ${server.url} while the probe runs`);

        const [{ startProgress }, { withInterrupt }] = await Promise.all([import('../progress.js'), import('../interrupt.js')]);
        const progress = live ? undefined : await startProgress(ctx, `probing the pool: ${concurrency} workers for ${durationSeconds} s`);
        let interrupted = false;
        const report = await withInterrupt(ctx, { stopping: 'ending the probe (its writes are rolled back)', progress: progress ?? live }, (signal) => {
          signal.addEventListener('abort', () => (interrupted = true));
          return runPoolProbe(ctx.config, {
            concurrency,
            durationSeconds,
            signal,
            logger: ctx.logger,
            onStart: (read) => (readStats = read),
            onAcquireWait: (ms) => poolMetrics.observeAcquireWait(ms),
            onSample: (sample, stats) => {
              operations.ok = sample.operations - sample.failed;
              operations.failed = sample.failed;
              live?.draw(sample, stats);
              progress?.update(`probing the pool: ${sample.operations} operations, ${stats.checked_out} checked out, ${stats.waiting} waiting`);
            },
          });
        }).finally(async () => {
          progress?.stop();
          live?.stop();
          await server?.close();
        });
        if (format === 'openmetrics') {
          // The final figures: the report's, read after the pool closed.
          readStats = () => report.stats;
          Object.assign(operations, { ok: report.operations.ok, failed: report.operations.failed });
          ctx.stdout.write(await registry.metrics());
        } else if (format === 'json') render.writeJson(ctx.stdout, report);
        else ctx.stdout.write(renderPool.renderProbeReport(report, width));
        return interrupted ? ExitCode.INTERRUPTED : ExitCode.OK;
      }),
    );
}
