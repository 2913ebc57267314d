import { performance } from 'node:perf_hooks';
import type { Config } from '../config.js';
import { ExitCode, describeError, type ExitCodeValue } from '../errors.js';
import { createPgPool } from '../db/pool.js';
import { sqliteStats, type PoolStats } from '../db/pool-stats.js';
import { maskSecretsInText, maskUrl, sqliteFilePath } from '../database-url.js';
import { openSqliteFile } from '../db/sqlite-file.js';
import { readServerView, settingsView, type PoolSettingsView, type ServerView } from './pool-probe.js';

export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';
export type CheckStatus = HealthStatus | 'skipped';

export interface HealthReport {
  /** The worst of the checks. */
  status: HealthStatus;
  provider: Config['provider'];
  database: string;
  checks: {
    database: { status: CheckStatus; reachable: boolean; round_trip_ms: number | null; connect_ms: number | null; detail: string };
    migrations: {
      status: CheckStatus;
      up_to_date: boolean | null;
      applied: number;
      pending: string[];
      failed: string[];
      edited: string[];
      unknown: string[];
      detail: string;
    };
    pool: {
      status: CheckStatus;
      settings: PoolSettingsView;
      stats: PoolStats | null;
      server: ServerView | null;
      detail: string;
    };
  };
}

/** Exit codes of `soulspot health`: 0 healthy, 6 degraded (attention), 7 unhealthy. */
export function healthExitCode(status: HealthStatus): ExitCodeValue {
  return status === 'healthy' ? ExitCode.OK : status === 'degraded' ? ExitCode.ATTENTION : ExitCode.UNHEALTHY;
}

/** Share of the server's max_connections in use from which the pool check reports degraded. */
export const SERVER_SATURATION = 0.9;

const rank: Record<CheckStatus, number> = { skipped: 0, healthy: 0, degraded: 1, unhealthy: 2 };

function oneLine(error: unknown): string {
  return maskSecretsInText(describeError(error)).replace(/\s*\n\s*/g, ' ').trim();
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

interface Reachability {
  check: HealthReport['checks']['database'];
  stats: PoolStats | null;
  server: ServerView | null;
}

async function checkSqlite(config: Config): Promise<Reachability> {
  const path = sqliteFilePath(config.databaseUrl);
  const unreachable = (detail: string): Reachability => ({
    check: { status: 'unhealthy', reachable: false, round_trip_ms: null, connect_ms: null, detail },
    stats: null,
    server: null,
  });
  const started = performance.now();
  let db: import('better-sqlite3').Database;
  try {
    // Never creates a missing file: a health check must not leave an empty database behind.
    db = await openSqliteFile(path, { timeoutMs: config.pool.timeoutSeconds * 1000 });
  } catch (error) {
    return unreachable(describeError(error));
  }
  try {
    const connectMs = performance.now() - started;
    const t0 = performance.now();
    db.prepare('SELECT 1').get();
    const roundTrip = performance.now() - t0;
    return {
      check: { status: 'healthy', reachable: true, round_trip_ms: round(roundTrip), connect_ms: round(connectMs), detail: `SQLite file ${path}` },
      stats: sqliteStats(true),
      server: null,
    };
  } catch (error) {
    return unreachable(`${path} is not a usable SQLite database: ${oneLine(error)}`);
  } finally {
    db.close();
  }
}

async function checkPostgres(config: Config): Promise<Reachability> {
  const pool = createPgPool(config.databaseUrl, config.pool);
  try {
    const started = performance.now();
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      return {
        check: { status: 'unhealthy', reachable: false, round_trip_ms: null, connect_ms: null, detail: `cannot reach PostgreSQL: ${oneLine(error)}` },
        stats: null,
        server: null,
      };
    }
    const connectMs = performance.now() - started;
    const t0 = performance.now();
    await pool.query('SELECT 1');
    const roundTrip = performance.now() - t0;
    // The server view is extra information: a role that may not read it still gets a health check.
    const server = await readServerView(async (sql) => (await pool.query<Record<string, unknown>>(sql)).rows).catch(() => null);
    const version = (await pool.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v;
    return {
      check: { status: 'healthy', reachable: true, round_trip_ms: round(roundTrip), connect_ms: round(connectMs), detail: `PostgreSQL ${version}` },
      stats: pool.snapshot(),
      server,
    };
  } catch (error) {
    return {
      check: { status: 'unhealthy', reachable: false, round_trip_ms: null, connect_ms: null, detail: `PostgreSQL is not usable: ${oneLine(error)}` },
      stats: null,
      server: null,
    };
  } finally {
    await pool.end().catch(() => {});
  }
}

function poolCheck(config: Config, reach: Reachability): HealthReport['checks']['pool'] {
  const settings = settingsView(config.pool, config.provider);
  const base = { settings, stats: reach.stats, server: reach.server };
  if (!reach.check.reachable || !reach.stats) return { ...base, status: 'skipped', detail: 'database not reachable' };
  if (config.provider === 'sqlite') return { ...base, status: reach.stats.status, detail: 'SQLite: one connection per process, no pool' };
  const problems: string[] = [];
  if (reach.stats.status === 'degraded') problems.push(`pool utilization ${Math.round(reach.stats.utilization * 100)}% (70% or more)`);
  const capacity = settings.pool_size + settings.max_overflow;
  const server = reach.server;
  if (server) {
    if (capacity > server.max_connections) {
      problems.push(
        `the pool may open ${capacity} connections (DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW) but the server allows ${server.max_connections}; lower them or raise max_connections`,
      );
    }
    if (server.server_total >= SERVER_SATURATION * server.max_connections) {
      problems.push(`the server has ${server.server_total} of ${server.max_connections} connections in use`);
    }
  }
  if (problems.length > 0) return { ...base, status: 'degraded', detail: problems.join('; ') };
  const here = server ? `; ${server.total} connection(s) to this database, ${server.server_total}/${server.max_connections} on the server` : '';
  return { ...base, status: 'healthy', detail: `${capacity} connection(s) at most (${settings.pool_size} + ${settings.max_overflow} overflow)${here}` };
}

async function migrationCheck(config: Config, reachable: boolean): Promise<HealthReport['checks']['migrations']> {
  const empty = { up_to_date: null, applied: 0, pending: [], failed: [], edited: [], unknown: [] };
  if (!reachable) return { ...empty, status: 'skipped', detail: 'database not reachable' };
  try {
    const { getMigrationStatus } = await import('../migrate/migrator.js');
    const status = await getMigrationStatus(config);
    const names = (state: string) => status.rows.filter((r) => r.state === state).map((r) => r.name);
    const result = {
      up_to_date: status.upToDate,
      applied: names('applied').length,
      pending: names('pending'),
      failed: names('failed'),
      edited: names('edited'),
      unknown: names('unknown'),
    };
    if (status.upToDate) return { ...result, status: 'healthy', detail: `${result.applied} migration(s) applied, none pending` };
    const parts = [
      // Only a database without any migration recorded is "not migrated"; an edited one is not.
      status.rows.every((r) => r.state === 'pending') ? 'not migrated' : '',
      result.pending.length ? `${result.pending.length} pending` : '',
      result.failed.length ? `failed: ${result.failed.join(', ')}` : '',
      result.edited.length ? `edited after applying: ${result.edited.join(', ')}` : '',
      result.unknown.length ? `unknown to this version: ${result.unknown.join(', ')}` : '',
    ].filter(Boolean);
    return { ...result, status: 'degraded', detail: `${parts.join('; ')}; run soulspot migrate status` };
  } catch (error) {
    return { ...empty, status: 'unhealthy', detail: `cannot read the migration history: ${oneLine(error)}` };
  }
}

/**
 * Checks that the database is reachable (round-trip of `SELECT 1`), that every migration is
 * applied (read-only, without the schema engine) and that the pool is sound. Never throws for an
 * unhealthy database: the report says what is wrong. Never creates a missing SQLite file.
 */
export async function checkHealth(config: Config): Promise<HealthReport> {
  const reach = config.provider === 'sqlite' ? await checkSqlite(config) : await checkPostgres(config);
  const migrations = await migrationCheck(config, reach.check.reachable);
  const pool = poolCheck(config, reach);
  const worst = [reach.check.status, migrations.status, pool.status].reduce((a, b) => (rank[b] > rank[a] ? b : a), 'healthy' as CheckStatus);
  return {
    status: worst === 'skipped' ? 'healthy' : worst,
    provider: config.provider,
    database: maskUrl(config.databaseUrl),
    checks: { database: reach.check, migrations, pool },
  };
}
