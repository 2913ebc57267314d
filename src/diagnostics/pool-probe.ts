import { performance } from 'node:perf_hooks';
import type { Config, PoolSettings } from '../config.js';
import { DatabaseError, describeError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { openDatabase, toDatabaseError, type PrismaDb } from '../db/client.js';
import { createPgPool, pgConnectionString, type PoolTuning, type SoulspotPgPool } from '../db/pool.js';
import { newHistogram, percentilesMs, sqliteStats, type PoolStats, type WaitPercentiles } from '../db/pool-stats.js';
import { maskSecretsInText, maskUrl, sqliteFilePath } from '../database-url.js';
import { openSqliteFile } from '../db/sqlite-file.js';

/** Connections to this database as the server sees them (`pg_stat_activity`). */
export interface ServerView {
  /** One row per (state, application_name). */
  connections: Array<{ state: string; application_name: string; count: number }>;
  total: number;
  /** The server's max_connections (for every database together). */
  max_connections: number;
  /** Connections open on the whole server, all databases. */
  server_total: number;
}

export interface PoolOverview {
  provider: Config['provider'];
  database: string;
  settings: PoolSettingsView;
  stats: PoolStats;
  /** `SELECT 1` through a pooled connection, ms. */
  round_trip_ms: number;
  server: ServerView | null;
  note?: string;
}

export interface PoolSettingsView {
  pool_size: number;
  max_overflow: number;
  timeout_s: number;
  recycle_s: number;
  pre_ping: boolean;
}

export interface ProbeSample {
  t_ms: number;
  checked_out: number;
  checked_in: number;
  overflow: number;
  waiting: number;
  connections: number;
  utilization: number;
  operations: number;
  /** Operations that failed so far (of `operations`). */
  failed: number;
}

export interface ProbeReport {
  provider: Config['provider'];
  database: string;
  settings: PoolSettingsView;
  concurrency: number;
  duration_s: number;
  operations: { total: number; ok: number; failed: number; by_kind: Record<OperationKind, number> };
  throughput_ops_s: number;
  /** Whole operation (acquire + statements), ms. */
  operation_ms: WaitPercentiles;
  peak: { utilization: number; checked_out: number; waiting: number; overflow: number; connections: number };
  /** The pool's statistics at the end of the probe (counters cover the probe only). */
  stats: PoolStats;
  samples: ProbeSample[];
  /** pg_stat_activity taken halfway through the probe; null on SQLite. */
  server: ServerView | null;
  errors: Array<{ message: string; count: number }>;
  /** Tracks in the database before and after: the probe's writes are rolled back. */
  tracks_before: number;
  tracks_after: number;
  advice: string;
}

export type OperationKind = 'read_tracks' | 'read_track' | 'count' | 'write_tx';

/** The mix: mostly reads with eager-loaded relations, some counts, some small write transactions. */
const MIX: Array<[OperationKind, number]> = [
  ['read_tracks', 40],
  ['read_track', 25],
  ['count', 20],
  ['write_tx', 15],
];

export interface ProbeOptions {
  concurrency: number;
  durationSeconds: number;
  /** How often the pool is sampled (ms, default 200). */
  sampleIntervalMs?: number;
  /** Called with every sample (live display). */
  onSample?: (sample: ProbeSample, stats: PoolStats) => void;
  signal?: AbortSignal;
  logger?: Logger;
  /** Pool tuning (tests shorten the overflow idle time). */
  tuning?: PoolTuning;
  /** Random source (tests make the mix reproducible). */
  random?: () => number;
  /** Called with every acquire wait (ms) of the probe (PostgreSQL; metrics). */
  onAcquireWait?: (waitMs: number) => void;
  /** Called once the probe's pool is ready, with a reader of its live statistics (metrics). */
  onStart?: (read: () => PoolStats) => void;
}

export function settingsView(settings: PoolSettings, provider: Config['provider']): PoolSettingsView {
  if (provider === 'sqlite') return { pool_size: 1, max_overflow: 0, timeout_s: settings.timeoutSeconds, recycle_s: 0, pre_ping: false };
  return {
    pool_size: settings.size,
    max_overflow: settings.maxOverflow,
    timeout_s: settings.timeoutSeconds,
    recycle_s: settings.recycleSeconds,
    pre_ping: settings.prePing,
  };
}

/** This database's connections grouped by state and application name, plus the server's limits. */
export async function readServerView(query: (sql: string) => Promise<Array<Record<string, unknown>>>): Promise<ServerView> {
  const rows = await query(
    `SELECT coalesce(state, 'unknown') AS state, coalesce(nullif(application_name, ''), '(none)') AS application_name, count(*)::int AS count
       FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'
      GROUP BY 1, 2 ORDER BY 2, 1`,
  );
  const [limits] = await query(
    `SELECT current_setting('max_connections')::int AS max_connections,
            (SELECT count(*)::int FROM pg_stat_activity WHERE backend_type = 'client backend') AS server_total`,
  );
  const connections = rows.map((r) => ({ state: String(r.state), application_name: String(r.application_name), count: Number(r.count) }));
  return {
    connections,
    total: connections.reduce((n, r) => n + r.count, 0),
    max_connections: Number(limits.max_connections),
    server_total: Number(limits.server_total),
  };
}

/** `pool-stats` without `--probe`: settings, this process's pool after one round trip, the server's view. */
export async function getPoolOverview(config: Config, options: { onAcquireWait?: (waitMs: number) => void } = {}): Promise<PoolOverview> {
  const database = maskUrl(config.databaseUrl);
  const settings = settingsView(config.pool, config.provider);
  if (config.provider === 'sqlite') {
    const db = await openSqliteFile(sqliteFilePath(config.databaseUrl), { timeoutMs: config.pool.timeoutSeconds * 1000 });
    try {
      const started = performance.now();
      db.prepare('SELECT 1').get();
      const roundTrip = performance.now() - started;
      return {
        provider: 'sqlite',
        database,
        settings,
        stats: sqliteStats(true),
        round_trip_ms: round(roundTrip),
        server: null,
        note: 'SQLite: one connection per process, no pool; statements run one at a time',
      };
    } finally {
      db.close();
    }
  }
  const pool = createPgPool(config.databaseUrl, config.pool);
  if (options.onAcquireWait) pool.stats.onAcquire(options.onAcquireWait);
  try {
    const ping = await pingPostgres(pool);
    if (!ping.reachable) throw toDatabaseError(ping.error, `cannot reach PostgreSQL at ${database}`);
    return { provider: 'postgresql', database, settings, stats: pool.snapshot(), round_trip_ms: round(Math.min(ping.connectMs, ping.roundTripMs)), server: ping.server };
  } finally {
    await pool.end();
  }
}

export type PostgresPing = { reachable: false; error: unknown } | { reachable: true; connectMs: number; roundTripMs: number; server: ServerView | null };

/**
 * `SELECT 1` twice through a new pool (the first opens a connection, the second is a round trip
 * on it), then the server's view of the connections. Unreachable when the first fails.
 */
export async function pingPostgres(pool: SoulspotPgPool): Promise<PostgresPing> {
  const started = performance.now();
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    return { reachable: false, error };
  }
  const connectMs = performance.now() - started;
  const t0 = performance.now();
  await pool.query('SELECT 1');
  const roundTripMs = performance.now() - t0;
  // The server view is extra information: a role that may not read it still gets an answer.
  const server = await readServerView(async (sql) => (await pool.query<Record<string, unknown>>(sql)).rows).catch(() => null);
  return { reachable: true, connectMs, roundTripMs, server };
}

class ProbeRollback extends Error {}

/** Prisma's messages span lines (invocation, blank lines, the cause): the cause is the last one. */
function lastLine(error: unknown): string {
  return maskSecretsInText(describeError(error)).split('\n').map((l) => l.trim()).filter(Boolean).pop()?.replace(/\.$/, '') ?? 'unknown error';
}

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function pick(random: () => number): OperationKind {
  const total = MIX.reduce((n, [, w]) => n + w, 0);
  let r = random() * total;
  for (const [kind, weight] of MIX) {
    if (r < weight) return kind;
    r -= weight;
  }
  return MIX[0][0];
}

/**
 * Runs `concurrency` workers doing the read/write mix through Prisma for `durationSeconds`,
 * sampling the pool every `sampleIntervalMs`. Every write happens in a transaction that is rolled
 * back, so the user's data is left as it was (tracks_before === tracks_after shows it).
 */
export async function runPoolProbe(config: Config, options: ProbeOptions): Promise<ProbeReport> {
  const logger = options.logger ?? silentLogger;
  const random = options.random ?? Math.random;
  const sampleIntervalMs = options.sampleIntervalMs ?? 200;
  const database = maskUrl(config.databaseUrl);
  // Prisma would create a missing file, and blame a file it cannot use on the schema.
  if (config.provider === 'sqlite') (await openSqliteFile(sqliteFilePath(config.databaseUrl), { timeoutMs: config.pool.timeoutSeconds * 1000 })).close();

  let pool: SoulspotPgPool | undefined;
  if (config.provider === 'postgresql') {
    pool = createPgPool(config.databaseUrl, config.pool, { logger, ...options.tuning });
  }
  // The probe's own statements are not the user's queries: no slow-query warnings for them.
  const db = await openDatabase({ ...config, echo: false }, { logger: silentLogger, pgPool: pool });
  let monitor: import('pg').Client | undefined;
  try {
    const prisma = db.prisma;
    let tracksBefore: number;
    let ids: string[];
    try {
      tracksBefore = await prisma.track.count();
      ids = (await prisma.track.findMany({ select: { id: true }, take: 500, orderBy: { updatedAt: 'desc' } })).map((t) => t.id);
    } catch (error) {
      throw new DatabaseError(`cannot read the tracks of ${database}: ${lastLine(error)}; run soulspot migrate (soulspot migrate status shows what is missing)`, {
        cause: error,
      });
    }
    // Counters and waits of the probe only, not of the preparation above.
    pool?.stats.reset();
    if (pool && options.onAcquireWait) pool.stats.onAcquire(options.onAcquireWait);

    if (pool) {
      const { default: pg } = await import('pg');
      monitor = new pg.Client({ connectionString: pgConnectionString(config.databaseUrl), application_name: 'soulspot-monitor' });
      monitor.on('error', () => {}); // a dropped monitor connection only costs the server view
      await monitor.connect();
    }

    const byKind: Record<OperationKind, number> = { read_tracks: 0, read_track: 0, count: 0, write_tx: 0 };
    const errors = new Map<string, number>();
    const latency = newHistogram();
    let ok = 0;
    let failed = 0;
    let inFlight = 0;
    const txTimeout = config.pool.timeoutSeconds * 1000;

    const run = async (kind: OperationKind, prisma: PrismaDb): Promise<void> => {
      switch (kind) {
        case 'read_tracks': {
          const skip = Math.floor(random() * Math.max(1, tracksBefore - 25));
          await prisma.track.findMany({ include: { artist: true, album: true }, orderBy: { updatedAt: 'desc' }, take: 25, skip });
          return;
        }
        case 'read_track': {
          if (ids.length === 0) await prisma.track.findFirst({ include: { artist: true, album: true } });
          else await prisma.track.findUnique({ where: { id: ids[Math.floor(random() * ids.length)] }, include: { artist: true, album: true } });
          return;
        }
        case 'count': {
          const which = Math.floor(random() * 3);
          if (which === 0) await prisma.track.count({ where: { isBroken: false } });
          else if (which === 1) await prisma.album.count();
          else await prisma.artist.count();
          return;
        }
        case 'write_tx': {
          const tag = `soulspot-probe-${Math.floor(random() * 1e12)}`;
          try {
            await prisma.$transaction(
              async (tx) => {
                const artist = await tx.artist.create({ data: { name: tag } });
                const album = await tx.album.create({ data: { title: tag, artistId: artist.id } });
                const track = await tx.track.create({ data: { title: tag, artistId: artist.id, albumId: album.id, spotifyUri: `spotify:track:${tag}` } });
                await tx.track.update({ where: { id: track.id }, data: { durationMs: 1000, isBroken: false } });
                throw new ProbeRollback('rolled back on purpose');
              },
              // Prisma's own 2 s wait for a transaction connection would cut DATABASE_POOL_TIMEOUT short.
              { maxWait: txTimeout + 1000, timeout: txTimeout + 10_000 },
            );
          } catch (error) {
            if (!(error instanceof ProbeRollback)) throw error;
          }
          return;
        }
      }
    };

    const started = performance.now();
    const deadline = started + options.durationSeconds * 1000;
    const samples: ProbeSample[] = [];
    const peak = { utilization: 0, checked_out: 0, waiting: 0, overflow: 0, connections: 0 };
    const snapshot = (): PoolStats => (pool ? pool.snapshot() : sqliteStats(true, inFlight, ok + failed));
    options.onStart?.(snapshot);
    const sample = () => {
      const s = snapshot();
      const point: ProbeSample = {
        t_ms: Math.round(performance.now() - started),
        checked_out: s.checked_out,
        checked_in: s.checked_in,
        overflow: s.overflow,
        waiting: s.waiting,
        connections: s.connections,
        utilization: s.utilization,
        operations: ok + failed,
        failed,
      };
      samples.push(point);
      peak.utilization = Math.max(peak.utilization, s.utilization);
      peak.checked_out = Math.max(peak.checked_out, s.checked_out);
      peak.waiting = Math.max(peak.waiting, s.waiting);
      peak.overflow = Math.max(peak.overflow, s.overflow);
      peak.connections = Math.max(peak.connections, s.connections);
      options.onSample?.(point, s);
    };
    const timer = setInterval(sample, sampleIntervalMs);
    let server: ServerView | null = null;
    const serverTimer = monitor
      ? setTimeout(() => {
          readServerView(async (sql) => (await monitor!.query<Record<string, unknown>>(sql)).rows)
            .then((view) => (server = view))
            .catch((error) => logger.warn(`could not read pg_stat_activity: ${describeError(error)}`));
        }, (options.durationSeconds * 1000) / 2)
      : undefined;

    const worker = async () => {
      while (performance.now() < deadline && !options.signal?.aborted) {
        const kind = pick(random);
        inFlight += 1;
        const t0 = performance.now();
        try {
          await run(kind, prisma);
          ok += 1;
          byKind[kind] += 1;
        } catch (error) {
          failed += 1;
          const message = lastLine(error);
          errors.set(message, (errors.get(message) ?? 0) + 1);
        } finally {
          inFlight -= 1;
          latency.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        }
        // better-sqlite3 answers synchronously: without a turn of the event loop the sampling
        // timer (and Ctrl-C) would never run.
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    try {
      await Promise.all(Array.from({ length: options.concurrency }, worker));
    } finally {
      clearInterval(timer);
      if (serverTimer) clearTimeout(serverTimer);
    }
    const elapsed = (performance.now() - started) / 1000;
    sample();
    if (!server && monitor) server = await readServerView(async (sql) => (await monitor!.query<Record<string, unknown>>(sql)).rows).catch(() => null);
    const tracksAfter = await prisma.track.count();
    const stats = snapshot();
    const settings = settingsView(config.pool, config.provider);
    const report: ProbeReport = {
      provider: config.provider,
      database,
      settings,
      concurrency: options.concurrency,
      duration_s: round(elapsed, 2),
      operations: { total: ok + failed, ok, failed, by_kind: byKind },
      throughput_ops_s: round(ok / Math.max(elapsed, 1e-9), 1),
      operation_ms: percentilesMs(latency),
      peak,
      stats,
      samples,
      server,
      errors: [...errors].map(([message, count]) => ({ message, count })).sort((a, b) => b.count - a.count),
      tracks_before: tracksBefore,
      tracks_after: tracksAfter,
      advice: '',
    };
    report.advice = sizingAdvice(report);
    return report;
  } finally {
    await monitor?.end().catch(() => {});
    await db.close();
    if (pool) await pool.end();
  }
}

/** Acquisitions that queued, as a share of all, from which waits count as a sign of a small pool. */
const QUEUED_SHARE = 0.05;
/** p95 acquire wait (ms) from which waits count as a sign of a small pool. */
const WAIT_P95_MS = 5;

/**
 * One line of sizing advice from a probe: too small when requests timed out, or when a noticeable
 * share of them queued for a connection and the p95 wait is above a few milliseconds.
 */
export function sizingAdvice(report: Pick<ProbeReport, 'provider' | 'settings' | 'concurrency' | 'peak' | 'stats' | 'server'>): string {
  const { settings, stats, peak, concurrency } = report;
  if (report.provider === 'sqlite') {
    return peak.waiting > 0
      ? `SQLite runs one statement at a time: up to ${peak.waiting} operation(s) queued at concurrency ${concurrency}; use PostgreSQL for many concurrent clients.`
      : `SQLite runs one statement at a time; at concurrency ${concurrency} nothing queued.`;
  }
  const capacity = settings.pool_size + settings.max_overflow;
  const wait = stats.acquire_wait_ms ?? { p50: 0, p95: 0, p99: 0, max: 0 };
  const queuedShare = stats.acquired + stats.timeouts === 0 ? 0 : stats.queued / (stats.acquired + stats.timeouts);
  const demand = Math.max(capacity, Math.min(concurrency, peak.checked_out + peak.waiting));
  const suggestOverflow = Math.max(settings.max_overflow + 1, demand - settings.pool_size);
  const limit = report.server ? ` (the server allows ${report.server.max_connections} connections in all)` : '';
  const raise = `raise DATABASE_MAX_OVERFLOW to ${suggestOverflow} (or DATABASE_POOL_SIZE)${limit}, or lower the concurrency`;
  if (stats.timeouts > 0) {
    return `Too small: ${stats.timeouts} request(s) timed out after ${settings.timeout_s} s with all ${capacity} connections in use; ${raise}.`;
  }
  if (queuedShare >= QUEUED_SHARE && wait.p95 >= WAIT_P95_MS) {
    return `Too small for concurrency ${concurrency}: ${Math.round(queuedShare * 100)}% of requests waited for a connection (p95 ${wait.p95} ms, peak ${peak.waiting} waiting); ${raise}.`;
  }
  return `The pool kept up: peak utilization ${Math.round(peak.utilization * 100)}%, p95 wait ${wait.p95} ms, no timeouts; no change needed.`;
}
