import type { PoolOverview, ProbeReport, ProbeSample, ServerView } from '../diagnostics/pool-probe.js';
import type { PoolStats } from '../db/pool-stats.js';
import { fieldEntries, outputWidth, renderKeyValue, renderTable, wrapText } from './render.js';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const waits = (s: PoolStats) => (s.acquire_wait_ms ? `${s.acquire_wait_ms.p50} / ${s.acquire_wait_ms.p95} / ${s.acquire_wait_ms.p99} / ${s.acquire_wait_ms.max}` : 'not measured (SQLite)');

function statsEntries(s: PoolStats): Array<[string, string | number]> {
  const gauges = { pool_size: 'pool_size', max_overflow: 'max_overflow', checked_out: 'checked_out', checked_in: 'checked_in', overflow: 'overflow', waiting: 'waiting' } as const;
  const counters = { acquired: 'acquired', timeouts: 'timeouts', queued: 'queued', connections_created: 'connections_created', recycled: 'recycled', pre_ping_failures: 'pre_ping_failures' } as const;
  return [
    ...fieldEntries(s, gauges),
    ['utilization', pct(s.utilization)],
    ['status', s.status],
    ...fieldEntries(s, counters),
    ['acquire_wait_ms p50/p95/p99/max', waits(s)],
  ];
}

function renderServer(server: ServerView | null, width: number): string {
  if (!server) return '';
  return renderTable(
    ['state', 'application_name', 'connections'],
    server.connections.map((r) => [r.state, r.application_name, r.count]),
    {
      title: `Server view (pg_stat_activity of this database): ${server.total} connection(s); ${server.server_total} of max_connections ${server.max_connections} in use on the server`,
      width,
    },
  );
}

/** `pool-stats` without --probe: this process's pool, its settings, the server's view. */
export function renderPoolOverview(o: PoolOverview, width: number): string {
  const settings: Array<[string, string | number]> = [
    ['DATABASE_POOL_TIMEOUT', `${o.settings.timeout_s} s`],
    ['DATABASE_POOL_RECYCLE', o.settings.recycle_s ? `${o.settings.recycle_s} s` : 'off'],
    ['DATABASE_POOL_PRE_PING', String(o.settings.pre_ping)],
    ['round trip (SELECT 1)', `${o.round_trip_ms} ms`],
  ];
  return (
    renderKeyValue([...statsEntries(o.stats), ...settings], { title: `Pool of ${o.database} (this process)`, width }) +
    (o.note ? `${wrapText(o.note, width)}\n` : '') +
    renderServer(o.server, width)
  );
}

/** The report of `pool-stats --probe`. */
export function renderProbeReport(r: ProbeReport, width: number): string {
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
  return `${run}${pool}${errors}${renderServer(r.server, width)}${wrapText(`Sizing: ${r.advice}`, width)}\n`;
}

/** A live view of the probe that redraws itself in place on a terminal. */
export function livePoolView(stream: NodeJS.WritableStream) {
  let lines = 0;
  let last = 0;
  return {
    draw(sample: ProbeSample, stats: PoolStats, force = false) {
      const now = Date.now();
      if (!force && now - last < 500) return;
      last = now;
      const text = renderKeyValue(
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
        { title: 'Pool (live)', width: outputWidth(stream) },
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
