import { performance } from 'node:perf_hooks';
import type { Config } from '../config.js';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import { maskUrl } from '../database-url.js';
import { getPgSchema } from '../db/pool.js';
import { openRawConnection, type RawConnection } from '../db/raw.js';
import { finding, guarded, ok, oneLine, type DoctorCheck, type DoctorContext, type DoctorStatus } from './doctor-check.js';
import { checkMigrations } from './doctor-migrations.js';
import { checkIndexes } from './doctor-indexes.js';
import { checkStatistics } from './doctor-statistics.js';
import { checkEcho, checkPoolCapacity, checkPrePing, checkSlowQueryLog, checkTimeout } from './doctor-settings.js';
import { checkSequentialScans, checkSlowStatements, checkUnusedIndexes } from './doctor-postgres.js';
import { checkFreePages, checkIntegrity, checkJournal } from './doctor-sqlite.js';

export type { DoctorCheck, DoctorStatus } from './doctor-check.js';
export { PERFORMANCE_INDEXES } from './doctor-indexes.js';

export interface DoctorReport {
  /** The worst of the checks (`skipped` counts as ok). */
  status: Exclude<DoctorStatus, 'skipped'>;
  provider: Config['provider'];
  database: string;
  workers: number;
  /** How long the checks took, ms. */
  elapsed_ms: number;
  checks: DoctorCheck[];
}

export interface DoctorOptions {
  /** Processes that each run soulspot's pool against this database (default 1). */
  workers?: number;
}

/** Exit codes of `soulspot doctor`, as `health`'s: 0 all ok, 6 a warning, 7 a problem. */
export function doctorExitCode(status: DoctorReport['status']): ExitCodeValue {
  return status === 'ok' ? ExitCode.OK : status === 'warning' ? ExitCode.ATTENTION : ExitCode.UNHEALTHY;
}

const rank: Record<DoctorStatus, number> = { skipped: 0, ok: 0, warning: 1, problem: 2 };

export function worstStatus(checks: DoctorCheck[]): DoctorReport['status'] {
  const worst = checks.reduce((a, c) => (rank[c.status] > rank[a] ? c.status : a), 'ok' as DoctorStatus);
  return worst === 'skipped' ? 'ok' : worst;
}

async function open(config: Config): Promise<{ conn?: RawConnection; row: DoctorCheck }> {
  const id = 'database';
  const check = 'database reachable';
  const started = performance.now();
  let conn: RawConnection | undefined;
  try {
    conn = await openRawConnection(config);
    let what: string;
    if (conn.provider === 'sqlite') {
      // quick_check reads every page: through a memory map and a larger page cache it takes about
      // half the time (measured on a 1M-track file, bench/doctor.mjs). This connection only reads.
      await conn.query('PRAGMA mmap_size = 4294967296');
      await conn.query('PRAGMA cache_size = -262144');
      await conn.query('PRAGMA temp_store = MEMORY');
      what = `SQLite ${String((await conn.query<{ v: string }>('SELECT sqlite_version() AS v'))[0].v)}`;
    } else {
      const schema = getPgSchema(config.databaseUrl);
      // The checks read current_schema(). (A session setting: behind PgBouncer in transaction mode
      // only the default schema, public, is dependable.)
      if (schema !== 'public') await conn.query(`SELECT set_config('search_path', $1, false)`, [`"${schema.replace(/"/g, '""')}"`]);
      what = `PostgreSQL ${String((await conn.query<{ v: string }>(`SELECT current_setting('server_version') AS v`))[0].v)}, schema ${schema}`;
    }
    return { conn, row: ok(id, check, `${what}; connected in ${Math.round(performance.now() - started)} ms`) };
  } catch (error) {
    await conn?.close().catch(() => {});
    return { row: finding(id, check, 'problem', oneLine(error), 'check DATABASE_URL and that the server runs (soulspot health says more)') };
  }
}

/**
 * Runs the tuning checklist of the performance guide against the live database: migrations,
 * the 11 performance indexes (present, valid, used by their query), planner statistics, pool
 * settings against the server, logging, and per provider the activity statistics or the file's
 * health. Read-only; never throws for what it finds: each row says what is wrong and the fix.
 */
export async function runDoctor(config: Config, options: DoctorOptions = {}): Promise<DoctorReport> {
  const started = performance.now();
  const workers = options.workers ?? 1;
  const { conn, row } = await open(config);
  const checks: DoctorCheck[] = [row];
  if (conn) {
    const ctx: DoctorContext = { config, conn, workers };
    try {
      checks.push(...(await guarded('migrations', 'migrations applied, none failed or edited', () => checkMigrations(config))));
      checks.push(...(await guarded('indexes', 'performance indexes', () => checkIndexes(ctx))));
      checks.push(...(await guarded('statistics', 'planner statistics fresh', () => checkStatistics(ctx))));
      checks.push(...(await guarded('pool-capacity', 'pool size against the server', () => checkPoolCapacity(ctx))));
      checks.push(checkPrePing(ctx), checkTimeout(ctx), checkSlowQueryLog(ctx), checkEcho(ctx));
      if (conn.provider === 'postgresql') {
        checks.push(...(await guarded('unused-indexes', 'indexes never scanned', () => checkUnusedIndexes(ctx))));
        checks.push(...(await guarded('sequential-scans', 'large tables read mostly by sequential scans', () => checkSequentialScans(ctx))));
        checks.push(...(await guarded('slow-statements', 'slowest statements (pg_stat_statements)', () => checkSlowStatements(ctx))));
      } else {
        checks.push(...(await guarded('journal-mode', 'journal mode WAL', () => checkJournal(ctx))));
        checks.push(...(await guarded('integrity', 'quick integrity check', () => checkIntegrity(ctx))));
        checks.push(...(await guarded('free-pages', 'free pages worth a VACUUM', () => checkFreePages(ctx))));
      }
    } finally {
      await conn.close();
    }
  }
  return {
    status: worstStatus(checks),
    provider: config.provider,
    database: maskUrl(config.databaseUrl),
    workers,
    elapsed_ms: Math.round(performance.now() - started),
    checks,
  };
}
