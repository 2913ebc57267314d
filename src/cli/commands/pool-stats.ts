import type { Command } from 'commander';
import { ExitCode, UsageError } from '../../errors.js';
import { action } from '../context.js';
import { wholeNumber } from '../options.js';
import type { PoolOverview, ProbeReport, ProbeSample, ServerView } from '../../diagnostics/pool-probe.js';
import type { PoolStats } from '../../db/pool-stats.js';

interface PoolStatsOptions {
  probe?: boolean;
  concurrency?: number;
  duration?: number;
  watch?: boolean;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const waits = (s: PoolStats) => (s.acquire_wait_ms ? `${s.acquire_wait_ms.p50} / ${s.acquire_wait_ms.p95} / ${s.acquire_wait_ms.p99} / ${s.acquire_wait_ms.max}` : 'not measured (SQLite)');

function statsEntries(s: PoolStats): Array<[string, string | number]> {
  return [
    ['pool_size', s.pool_size],
    ['max_overflow', s.max_overflow],
    ['checked_out', s.checked_out],
    ['checked_in', s.checked_in],
    ['overflow', s.overflow],
    ['waiting', s.waiting],
    ['utilization', pct(s.utilization)],
    ['status', s.status],
    ['acquired', s.acquired],
    ['timeouts', s.timeouts],
    ['queued', s.queued],
    ['connections_created', s.connections_created],
    ['recycled', s.recycled],
    ['pre_ping_failures', s.pre_ping_failures],
    ['acquire_wait_ms p50/p95/p99/max', waits(s)],
  ];
}

async function renderServer(server: ServerView | null, width: number): Promise<string> {
  if (!server) return '';
  const { renderTable } = await import('../render.js');
  return renderTable(
    ['state', 'application_name', 'connections'],
    server.connections.map((r) => [r.state, r.application_name, r.count]),
    {
      title: `Server view (pg_stat_activity of this database): ${server.total} connection(s); ${server.server_total} of max_connections ${server.max_connections} in use on the server`,
      width,
    },
  );
}

async function renderOverview(o: PoolOverview, width: number): Promise<string> {
  const { renderKeyValue, wrapText } = await import('../render.js');
  const settings: Array<[string, string | number]> = [
    ['DATABASE_POOL_TIMEOUT', `${o.settings.timeout_s} s`],
    ['DATABASE_POOL_RECYCLE', o.settings.recycle_s ? `${o.settings.recycle_s} s` : 'off'],
    ['DATABASE_POOL_PRE_PING', String(o.settings.pre_ping)],
    ['round trip (SELECT 1)', `${o.round_trip_ms} ms`],
  ];
  return (
    renderKeyValue([...statsEntries(o.stats), ...settings], { title: `Pool of ${o.database} (this process)`, width }) +
    (o.note ? `${wrapText(o.note, width)}\n` : '') +
    (await renderServer(o.server, width))
  );
}

async function renderProbe(r: ProbeReport, width: number): Promise<string> {
  const { renderKeyValue, renderTable, wrapText } = await import('../render.js');
  const run = renderKeyValue(
    [
      ['concurrency', r.concurrency],
      ['duration', `${r.duration_s} s`],
      ['operations ok / failed', `${r.operations.ok} / ${r.operations.failed}`],
      ['mix (tracks, track, count, write tx)', `${r.operations.by_kind.read_tracks}, ${r.operations.by_kind.read_track}, ${r.operations.by_kind.count}, ${r.operations.by_kind.write_tx}`],
      ['throughput', `${r.throughput_ops_s} ops/s`],
      ['operation ms p50/p95/p99/max', `${r.operation_ms.p50} / ${r.operation_ms.p95} / ${r.operation_ms.p99} / ${r.operation_ms.max}`],
      ['peak utilization', pct(r.peak.utilization)],
      ['peak checked_out / waiting / overflow', `${r.peak.checked_out} / ${r.peak.waiting} / ${r.peak.overflow}`],
      ['tracks before / after (writes rolled back)', `${r.tracks_before} / ${r.tracks_after}`],
    ],
    { title: `Probe of ${r.database}`, width },
  );
  const pool = renderKeyValue(statsEntries(r.stats), { title: 'Pool at the end of the probe (counters: the probe only)', width });
  const errors = r.errors.length
    ? renderTable(['error', 'count'], r.errors.map((e) => [e.message, e.count]), { title: 'Errors', width })
    : '';
  return `${run}${pool}${errors}${await renderServer(r.server, width)}${wrapText(`Sizing: ${r.advice}`, width)}\n`;
}

/** A live view that redraws itself in place on a terminal. */
function liveView(stream: NodeJS.WritableStream, render: typeof import('../render.js')) {
  let lines = 0;
  let last = 0;
  return {
    draw(sample: ProbeSample, stats: PoolStats, force = false) {
      const now = Date.now();
      if (!force && now - last < 500) return;
      last = now;
      const text = render.renderKeyValue(
        [
          ['elapsed', `${(sample.t_ms / 1000).toFixed(1)} s`],
          ['operations', sample.operations],
          ['checked_out / checked_in', `${stats.checked_out} / ${stats.checked_in}`],
          ['overflow', stats.overflow],
          ['waiting', stats.waiting],
          ['utilization', `${pct(stats.utilization)} (${stats.status})`],
          ['acquired / timeouts', `${stats.acquired} / ${stats.timeouts}`],
          ['acquire_wait_ms p50/p95/p99/max', waits(stats)],
        ],
        { title: 'Pool (live)', width: render.outputWidth(stream) },
      );
      stream.write(`${lines ? `\x1b[${lines}F\x1b[J` : ''}${text}`);
      lines = text.split('\n').length - 1;
    },
    /** Erases the view (before the final report, or a notice). */
    stop() {
      if (lines) stream.write(`\x1b[${lines}F\x1b[J`);
      lines = 0;
    },
  };
}

export function registerPoolStats(program: Command): void {
  program
    .command('pool-stats')
    .description('print connection-pool settings and statistics; --probe puts the pool under a realistic load')
    .option('--probe', 'run a read/write mix through the pool and report waits, timeouts, throughput')
    .option('--concurrency <n>', 'concurrent workers of --probe (default: DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW)', wholeNumber({ min: 1, max: 1000 }))
    .option('--duration <seconds>', 'how long --probe runs (default 10)', wholeNumber({ min: 1, max: 3600 }))
    .option('--watch', 'redraw the statistics live while --probe runs (terminal only)')
    .addHelpText(
      'after',
      `
The probe's writes happen in transactions that are rolled back: your data is left unchanged.
Exit codes: 0 done (see the report), 2 bad options, 3 bad settings, 4 database unreachable, 130 interrupted.

Examples:
  $ soulspot pool-stats
  $ soulspot pool-stats --probe --concurrency 20 --duration 30 --watch
  $ DATABASE_POOL_SIZE=10 soulspot pool-stats --probe --json`,
    )
    .action(
      action(async (ctx, opts: PoolStatsOptions) => {
        if (!opts.probe && (opts.concurrency !== undefined || opts.duration !== undefined || opts.watch)) {
          throw new UsageError('pool-stats: --concurrency, --duration and --watch go with --probe; add --probe');
        }
        const render = await import('../render.js');
        const width = render.outputWidth(ctx.stdout);
        if (!opts.probe) {
          const { getPoolOverview } = await import('../../diagnostics/pool-probe.js');
          const overview = await getPoolOverview(ctx.config);
          if (ctx.options.json) render.writeJson(ctx.stdout, overview);
          else ctx.stdout.write(await renderOverview(overview, width));
          return ExitCode.OK;
        }

        const { runPoolProbe } = await import('../../diagnostics/pool-probe.js');
        const concurrency = opts.concurrency ?? (ctx.config.provider === 'sqlite' ? 4 : ctx.config.pool.size + ctx.config.pool.maxOverflow);
        const durationSeconds = opts.duration ?? 10;
        const tty = Boolean((ctx.stdout as NodeJS.WriteStream).isTTY);
        const live = opts.watch && tty && !ctx.options.json ? liveView(ctx.stdout, render) : undefined;
        if (opts.watch && !live) ctx.logger.warn('--watch redraws on a terminal only; printing the final report');
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
            onSample: (sample, stats) => {
              live?.draw(sample, stats);
              progress?.update(`probing the pool: ${sample.operations} operations, ${stats.checked_out} checked out, ${stats.waiting} waiting`);
            },
          });
        }).finally(() => {
          progress?.stop();
          live?.stop();
        });
        if (ctx.options.json) render.writeJson(ctx.stdout, report);
        else ctx.stdout.write(await renderProbe(report, width));
        return interrupted ? ExitCode.INTERRUPTED : ExitCode.OK;
      }),
    );
}
