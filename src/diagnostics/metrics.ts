import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolStats } from '../db/pool-stats.js';
import type { DoctorReport } from './doctor.js';
import type { HealthReport, CheckStatus } from './health.js';
import type { PoolSettingsView } from './pool-probe.js';

/*
 * The Prometheus text exposition (format 0.0.4, what `promtool check metrics` reads) of what the
 * diagnostics commands report, built with prom-client. Names follow Prometheus's conventions:
 * a `soulspot_` prefix, base units in the name (`_seconds`, `_ratio`), counters end in `_total`.
 * One registry per report; the CLI prints `registry.metrics()` or serves it on /metrics.
 */

/** Upper bounds (seconds) of the acquire-wait histogram: 100 µs to DATABASE_POOL_TIMEOUT's range. */
export const ACQUIRE_WAIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function newRegistry(): Registry {
  return new Registry();
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []): Gauge {
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

/** A counter whose value is a total already counted elsewhere (a report's figure). */
function counter(registry: Registry, name: string, help: string, labelNames: string[] = []): Counter {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

/** Live pool metrics: `read` is called at every scrape (a probe's latest statistics). */
export interface PoolMetrics {
  /** Feed one acquire wait (ms) into soulspot_pool_acquire_wait_seconds. */
  observeAcquireWait(waitMs: number): void;
}

/** What the pool metrics read at a scrape. */
export interface PoolView {
  /** null before the pool exists (a probe starting): its series are left out until then. */
  stats: PoolStats | null;
  settings: PoolSettingsView;
  /** A probe's operations so far: exposed as the items of the `pool-probe` batch. */
  operations?: { ok: number; failed: number };
}

/**
 * soulspot_pool_*: connections by state, waiting requests, size, utilization, and the counters of
 * acquisitions, timeouts and connections. `read` gives the current statistics at each scrape. The
 * acquire-wait histogram is fed by `observeAcquireWait` (PostgreSQL; SQLite has no pool to wait for).
 * With `probe`, the probe's operations are soulspot_batch_items_total{batch="pool-probe"}.
 */
export function addPoolMetrics(registry: Registry, read: () => PoolView, options: { probe?: boolean } = {}): PoolMetrics {
  // Every metric reads the same snapshot at a scrape: this gauge's collect (the first) takes it.
  const connections: Gauge = new Gauge({
    name: 'soulspot_pool_connections',
    help: 'Connections of the pool by state (checked_out: in use; checked_in: idle; overflow: beyond DATABASE_POOL_SIZE).',
    labelNames: ['state'],
    registers: [registry],
    collect: () => update(),
  });
  const waiting = gauge(registry, 'soulspot_pool_waiting_requests', 'Requests queued for a connection right now.');
  const size = gauge(registry, 'soulspot_pool_size_connections', 'DATABASE_POOL_SIZE: connections kept open.');
  const overflow = gauge(registry, 'soulspot_pool_max_overflow_connections', 'DATABASE_MAX_OVERFLOW: extra connections allowed under load.');
  const utilization = gauge(registry, 'soulspot_pool_utilization_ratio', 'Checked-out connections / (DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW), 0 to 1.');
  const timeout = gauge(registry, 'soulspot_pool_timeout_seconds', 'DATABASE_POOL_TIMEOUT: longest wait for a connection before an error.');
  const totals: Array<[Counter, (s: PoolStats) => number]> = [
    [counter(registry, 'soulspot_pool_acquisitions_total', 'Connections handed out.'), (s) => s.acquired],
    [counter(registry, 'soulspot_pool_timeouts_total', 'Requests that gave up after DATABASE_POOL_TIMEOUT without a connection.'), (s) => s.timeouts],
    [counter(registry, 'soulspot_pool_queued_total', 'Requests that had to wait because every connection was in use.'), (s) => s.queued],
    [counter(registry, 'soulspot_pool_connections_created_total', 'Connections opened.'), (s) => s.connections_created],
    [counter(registry, 'soulspot_pool_connections_closed_total', 'Connections closed.'), (s) => s.connections_closed],
    [counter(registry, 'soulspot_pool_recycled_total', 'Connections closed for reaching DATABASE_POOL_RECYCLE seconds of age.'), (s) => s.recycled],
    [counter(registry, 'soulspot_pool_pre_ping_failures_total', 'Connections that failed the pre-ping and were replaced.'), (s) => s.pre_ping_failures],
  ];
  const waits = new Histogram({
    name: 'soulspot_pool_acquire_wait_seconds',
    help: 'Time from asking the pool for a connection to getting a usable one (PostgreSQL).',
    buckets: ACQUIRE_WAIT_BUCKETS,
    registers: [registry],
  });
  const batch = options.probe ? batchCounter(registry) : undefined;
  const update = () => {
    const current = read();
    const s = current.stats;
    if (!s) return;
    if (batch && current.operations) {
      batch.reset();
      batch.inc({ batch: 'pool-probe', outcome: 'succeeded' }, current.operations.ok);
      batch.inc({ batch: 'pool-probe', outcome: 'failed' }, current.operations.failed);
    }
    connections.set({ state: 'checked_out' }, s.checked_out);
    connections.set({ state: 'checked_in' }, s.checked_in);
    connections.set({ state: 'overflow' }, s.overflow);
    waiting.set(s.waiting);
    size.set(current.settings.pool_size);
    overflow.set(current.settings.max_overflow);
    utilization.set(s.utilization);
    timeout.set(current.settings.timeout_s);
    for (const [metric, value] of totals) {
      metric.reset();
      metric.inc(value(s));
    }
  };
  return { observeAcquireWait: (waitMs) => waits.observe(waitMs / 1000) };
}

const HEALTH_VALUE: Record<CheckStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2, skipped: -1 };

/** soulspot_health_*: the health report, plus the pool's metrics when the pool was read. */
export function healthMetrics(report: HealthReport): Registry {
  const registry = newRegistry();
  const { database, migrations, pool } = report.checks;
  gauge(registry, 'soulspot_up', '1 when the database answered SELECT 1, else 0.').set(database.reachable ? 1 : 0);
  const status = gauge(registry, 'soulspot_health_status', 'Health by check: 0 healthy, 1 degraded, 2 unhealthy, -1 skipped.', ['check']);
  status.set({ check: 'overall' }, HEALTH_VALUE[report.status]);
  status.set({ check: 'database' }, HEALTH_VALUE[database.status]);
  status.set({ check: 'migrations' }, HEALTH_VALUE[migrations.status]);
  status.set({ check: 'pool' }, HEALTH_VALUE[pool.status]);
  if (database.round_trip_ms !== null) gauge(registry, 'soulspot_database_round_trip_seconds', 'Round trip of SELECT 1.').set(database.round_trip_ms / 1000);
  if (migrations.up_to_date !== null) {
    const byState = gauge(registry, 'soulspot_migrations', 'Migrations by state.', ['state']);
    byState.set({ state: 'applied' }, migrations.applied);
    byState.set({ state: 'pending' }, migrations.pending.length);
    byState.set({ state: 'failed' }, migrations.failed.length);
    byState.set({ state: 'edited' }, migrations.edited.length);
    byState.set({ state: 'unknown' }, migrations.unknown.length);
  }
  if (pool.stats) {
    const stats = pool.stats;
    addPoolMetrics(registry, () => ({ stats, settings: pool.settings }));
  }
  return registry;
}

const DOCTOR_VALUE = { ok: 0, warning: 1, problem: 2 } as const;

/** soulspot_doctor_*: one series per check (skipped checks are left out), and counts by status. */
export function doctorMetrics(report: DoctorReport): Registry {
  const registry = newRegistry();
  const status = gauge(registry, 'soulspot_doctor_check_status', 'Doctor check outcome: 0 ok, 1 warning, 2 problem.', ['check']);
  const counts = gauge(registry, 'soulspot_doctor_checks', 'Doctor checks by outcome.', ['status']);
  for (const s of ['ok', 'warning', 'problem', 'skipped'] as const) counts.set({ status: s }, report.checks.filter((c) => c.status === s).length);
  for (const c of report.checks) if (c.status !== 'skipped') status.set({ check: c.id }, DOCTOR_VALUE[c.status]);
  gauge(registry, 'soulspot_doctor_duration_seconds', 'How long the doctor took.').set(report.elapsed_ms / 1000);
  return registry;
}

/** What cache-bench reports per implementation and workload (the fields these metrics use). */
export interface CacheRunFigures {
  implementation: string;
  workload: string;
  hits: number;
  reads: number;
  writes: number;
  evictions: number | null;
  expirations: number | null;
  ops_per_sec: number;
}

/** What cache-bench reports of a read's latency (cache hit or database read). */
export interface ReadLatencyFigures {
  implementation: string;
  provider: string;
  mean_us: number;
  p50_us: number;
  p99_us: number;
}

/** soulspot_cache_*: requests by result, evictions, expirations, throughput; read latency by source. */
export function cacheBenchMetrics(runs: CacheRunFigures[], latency: ReadLatencyFigures[]): Registry {
  const registry = newRegistry();
  const labels = ['implementation', 'workload'];
  const requests = counter(registry, 'soulspot_cache_requests_total', 'Cache reads by result (hit or miss).', [...labels, 'result']);
  const writes = counter(registry, 'soulspot_cache_writes_total', 'Cache writes.', labels);
  const evictions = counter(registry, 'soulspot_cache_evictions_total', 'Entries evicted to make room.', labels);
  const expirations = counter(registry, 'soulspot_cache_expirations_total', 'Entries dropped at their TTL.', labels);
  const throughput = gauge(registry, 'soulspot_cache_operations_per_second', 'Median throughput of the timed runs.', labels);
  for (const r of runs) {
    const l = { implementation: r.implementation, workload: r.workload };
    requests.inc({ ...l, result: 'hit' }, r.hits);
    requests.inc({ ...l, result: 'miss' }, r.reads - r.hits);
    writes.inc(l, r.writes);
    // An implementation that counts nothing (the no-metrics LRU) has no series rather than a false 0.
    if (r.evictions !== null) evictions.inc(l, r.evictions);
    if (r.expirations !== null) expirations.inc(l, r.expirations);
    throughput.set(l, r.ops_per_sec);
  }
  if (latency.length) {
    const read = gauge(registry, 'soulspot_cache_read_latency_seconds', 'Latency of one read: a cache hit, or the database read it saves.', ['implementation', 'provider', 'stat']);
    for (const r of latency) {
      const l = { implementation: r.implementation, provider: r.provider };
      read.set({ ...l, stat: 'mean' }, r.mean_us / 1e6);
      read.set({ ...l, stat: 'p50' }, r.p50_us / 1e6);
      read.set({ ...l, stat: 'p99' }, r.p99_us / 1e6);
    }
  }
  return registry;
}

/**
 * soulspot_batch_items_total{batch,outcome}: the guide's batch success rate is succeeded /
 * (succeeded + failed). `pool-stats --probe` reports its operations as the `pool-probe` batch.
 */
function batchCounter(registry: Registry): Counter {
  return counter(registry, 'soulspot_batch_items_total', 'Items of a batch by outcome (succeeded or failed).', ['batch', 'outcome']);
}
