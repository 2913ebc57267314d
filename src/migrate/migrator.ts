import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { DatabaseError, UsageError, describeError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { readMigrations, type MigrationFile, type MigrationSet } from './migrations.js';
import { migrationsDir } from '../paths.js';
import { openRawConnection, type RawConnection } from '../db/raw.js';
import { maskSecretsInText, sqliteFilePath } from '../database-url.js';
import { assertSqliteFileExists, sqliteFileError } from '../db/sqlite-file.js';
import { sessionConfig } from '../db/session.js';

export type MigrationState = 'applied' | 'pending' | 'failed' | 'edited' | 'unknown';

/** One line of `migrate status`. `unknown`: recorded in the database but absent from the folder. */
export interface MigrationStatusRow {
  name: string;
  state: MigrationState;
  appliedAt: Date | null;
  /** The database's error, for failed migrations. */
  logs?: string | null;
}

export interface MigrationStatus {
  provider: Config['provider'];
  rows: MigrationStatusRow[];
  /** True when nothing is pending, failed, edited or unknown. */
  upToDate: boolean;
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: string | Date | null;
  started_at: string | Date;
  rolled_back_at: string | Date | null;
  logs: string | null;
}

/** Prisma's advisory lock key, shared with `prisma migrate deploy` so the two exclude each other. */
const PRISMA_ADVISORY_LOCK = 72707369;

async function readHistory(conn: RawConnection): Promise<HistoryRow[] | undefined> {
  const exists =
    conn.provider === 'sqlite'
      ? (await conn.query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'`)).length > 0
      : (await conn.query<{ t: string | null }>(`SELECT to_regclass('_prisma_migrations')::text AS t`))[0]?.t != null;
  if (!exists) return undefined;
  return conn.query<HistoryRow>(
    `SELECT migration_name, checksum, finished_at, started_at, rolled_back_at, logs FROM _prisma_migrations ORDER BY started_at`,
  );
}

function toDate(value: string | Date | null): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  // SQLite stores Prisma timestamps as text or as unix milliseconds.
  return /^\d+$/.test(String(value)) ? new Date(Number(value)) : new Date(String(value).replace(' ', 'T') + (/[zZ]|[+-]\d\d:?\d\d$/.test(String(value)) ? '' : 'Z'));
}

/** Combines the migrations folder with the database's `_prisma_migrations` records. */
function computeStatus(set: MigrationSet, history: HistoryRow[] | undefined): MigrationStatus {
  const live = new Map<string, HistoryRow>();
  for (const row of history ?? []) if (row.rolled_back_at === null) live.set(row.migration_name, row);
  const rows: MigrationStatusRow[] = set.migrations.map((m) => {
    const row = live.get(m.name);
    if (!row) return { name: m.name, state: 'pending', appliedAt: null };
    if (row.finished_at === null) return { name: m.name, state: 'failed', appliedAt: null, logs: row.logs };
    return { name: m.name, state: row.checksum === m.checksum ? 'applied' : 'edited', appliedAt: toDate(row.finished_at) };
  });
  const known = new Set(set.migrations.map((m) => m.name));
  for (const [name, row] of live) {
    if (!known.has(name)) rows.push({ name, state: row.finished_at === null ? 'failed' : 'unknown', appliedAt: toDate(row.finished_at), logs: row.logs });
  }
  return { provider: set.provider, rows, upToDate: rows.every((r) => r.state === 'applied') };
}

async function withRaw<T>(config: Config, fn: (conn: RawConnection) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const conn = await openRawConnection(config, options);
  try {
    return await fn(conn);
  } finally {
    await conn.close();
  }
}

/** `migrate status`: read-only, never loads the schema engine. */
export async function getMigrationStatus(config: Config): Promise<MigrationStatus> {
  const set = readMigrations(config.provider, config.migrationsDir ?? migrationsDir(config.provider));
  return withRaw(config, async (conn) => computeStatus(set, await readHistory(conn)));
}

function findMigrationIndex(set: MigrationSet, name: string): number {
  const index = set.migrations.findIndex((m) => m.name === name || m.name.replace(/^\d+_/, '') === name);
  if (index < 0) {
    throw new UsageError(
      `expected a migration of this folder (${set.migrations.map((m) => m.name).join(', ')}), got "${name}"; run soulspot migrate status to list them`,
    );
  }
  return index;
}

function refuseFailed(status: MigrationStatus): void {
  const failed = status.rows.find((r) => r.state === 'failed');
  if (failed) {
    throw new DatabaseError(
      `migration ${failed.name} failed earlier${failed.logs ? ` (${firstLine(failed.logs)})` : ''}; nothing was applied. ` +
        `Fix the database, then run soulspot migrate resolve --rolled-back ${failed.name} (or --applied if you finished it by hand)`,
    );
  }
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? text;
}

/**
 * A lock file whose holder stopped refreshing it for this long is taken over: a killed migrate
 * leaves one behind. Its holder refreshes it every LOCK_UPDATE_MS, but cannot while a long SQLite
 * script blocks its event loop, so this bounds the longest single migration script as well.
 */
const LOCK_STALE_MS = 10_000;
const LOCK_UPDATE_MS = 1_000;

/**
 * Serialises migrators on one database: PostgreSQL with Prisma's own advisory lock (taken by the
 * schema engine while it applies), SQLite with a lock file beside the database.
 */
async function withSqliteLock<T>(config: Config, timeoutMs: number, logger: Logger, fn: () => Promise<T>): Promise<T> {
  if (config.provider !== 'sqlite') return fn();
  const [lockfile, { default: pRetry }] = await Promise.all([import('proper-lockfile'), import('p-retry')]);
  const path = sqliteFilePath(config.databaseUrl);
  const lockfilePath = `${path}.migrate-lock`;
  const isHeld = (error: unknown) => (error as { code?: string }).code === 'ELOCKED';
  let release: () => Promise<void>;
  try {
    release = await pRetry(
      () =>
        lockfile.lock(path, {
          realpath: false,
          lockfilePath,
          stale: LOCK_STALE_MS,
          update: LOCK_UPDATE_MS,
          // The default throws from a timer, ending the process in the middle of a migration.
          onCompromised: (error) => logger.warn(`the migrate lock ${lockfilePath} was lost (${describeError(error)}); another migrate may run at the same time`),
        }),
      {
        retries: Number.POSITIVE_INFINITY,
        maxRetryTime: timeoutMs,
        minTimeout: 200,
        maxTimeout: 200,
        factor: 1,
        shouldRetry: ({ error }) => isHeld(error),
        onFailedAttempt: ({ error, attemptNumber }) => {
          if (attemptNumber === 1 && isHeld(error)) {
            logger.warn(
              `waiting for another soulspot migrate: it holds the lock file ${lockfilePath} (waiting up to ${Math.round(timeoutMs / 1000)} s; ` +
                `the lock of a killed migrate is taken over once it has not been refreshed for ${LOCK_STALE_MS / 1000} s)`,
            );
          }
        },
      },
    );
  } catch (error) {
    if (!isHeld(error)) throw sqliteFileError(path, error);
    throw new DatabaseError(
      `another soulspot migrate held the lock file ${lockfilePath} for ${Math.round(timeoutMs / 1000)} s; wait for it to finish, or raise --lock-timeout`,
    );
  }
  try {
    return await fn();
  } finally {
    await release().catch((error) => logger.warn(`could not release the migrate lock ${lockfilePath}: ${describeError(error)}`));
  }
}

export interface ApplyOptions {
  /** Apply up to and including this migration only. */
  to?: string;
  /** Report the pending migrations and their SQL, change nothing. */
  dryRun?: boolean;
  /** How long to wait for another migrator's lock (ms). */
  lockTimeoutMs?: number;
  logger?: Logger;
}

export interface ApplyReport {
  /** Migrations applied by this run (or, with dryRun, that would be). */
  applied: MigrationFile[];
  /** Applied migrations whose file changed since (reported, never re-applied). */
  edited: string[];
  dryRun: boolean;
}

function pgLockHeld(timeoutMs: number, cause: unknown): DatabaseError {
  return new DatabaseError(
    `another migrator held PostgreSQL's migration lock (advisory lock ${PRISMA_ADVISORY_LOCK}) for ${Math.round(timeoutMs / 1000)} s; wait for it to finish, or raise --lock-timeout`,
    { cause },
  );
}

/** Takes Prisma's migration lock on `conn`, waiting at most `timeoutMs` and saying that it waits. */
async function lockPgMigrations(conn: RawConnection, timeoutMs: number, logger: Logger, totalMs = timeoutMs): Promise<void> {
  const [{ locked }] = await conn.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${PRISMA_ADVISORY_LOCK}) AS locked`);
  if (locked) return;
  if (timeoutMs <= 0) throw pgLockHeld(totalMs, undefined);
  logger.warn(
    `waiting for another migrator: it holds PostgreSQL's migration lock (advisory lock ${PRISMA_ADVISORY_LOCK}); waiting up to ${Math.round(timeoutMs / 1000)} s`,
  );
  await conn.query(`SET lock_timeout = ${Math.max(1, Math.round(timeoutMs))}`);
  try {
    await conn.query(`SELECT pg_advisory_lock(${PRISMA_ADVISORY_LOCK})`);
  } catch (error) {
    // 55P03 lock_not_available: lock_timeout ran out.
    if ((error as { code?: string }).code === '55P03') throw pgLockHeld(totalMs, error);
    throw error;
  } finally {
    await conn.query('SET lock_timeout = 0');
  }
}

function isLockTimeout(error: unknown): boolean {
  return /advisory lock/i.test(describeError(error)) && /time(d)? ?out/i.test(describeError(error));
}

/**
 * Applies the pending migrations through Prisma's schema engine, recording them in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does. Each migration script runs in one
 * transaction, so a failing one leaves no half-applied schema; it is recorded as failed.
 */
export async function applyMigrations(config: Config, options: ApplyOptions = {}): Promise<ApplyReport> {
  // Prisma's advisory lock and ours, and `SET lock_timeout`, live in the session: DATABASE_DIRECT_URL.
  config = await sessionConfig(config, 'migrate');
  const logger = options.logger ?? silentLogger;
  const lockTimeoutMs = options.lockTimeoutMs ?? 300_000;
  const set = readMigrations(config.provider, config.migrationsDir ?? migrationsDir(config.provider));
  if (set.migrations.length === 0) throw new DatabaseError(`no migrations found in ${set.dir}; the installation is incomplete, reinstall soulspot`);
  const count = options.to ? findMigrationIndex(set, options.to) + 1 : set.migrations.length;

  // A dry run never creates the database: a missing SQLite file has every migration pending.
  const missing = config.provider === 'sqlite' && options.dryRun && !existsSync(sqliteFilePath(config.databaseUrl));
  const plan = async () => {
    const status = missing ? computeStatus(set, undefined) : await withRaw(config, async (conn) => {
      const status = computeStatus(set, await readHistory(conn));
      if (conn.provider !== 'postgresql' || !status.rows.some((r) => r.state === 'failed')) return status;
      // A migration another migrate is applying right now looks the same as a failed one (started,
      // not finished): wait until no migrator holds Prisma's lock, then look again.
      await lockPgMigrations(conn, lockTimeoutMs, logger);
      try {
        return computeStatus(set, await readHistory(conn));
      } finally {
        await conn.query(`SELECT pg_advisory_unlock(${PRISMA_ADVISORY_LOCK})`);
      }
    }, { create: !options.dryRun });
    refuseFailed(status);
    const pending = new Set(status.rows.filter((r) => r.state === 'pending').map((r) => r.name));
    const edited = status.rows.filter((r) => r.state === 'edited').map((r) => r.name);
    for (const name of edited) logger.warn(`migration ${name} was edited after it was applied (checksum differs); it is not applied again`);
    return { edited, pending: set.migrations.slice(0, count).filter((m) => pending.has(m.name)) };
  };

  const first = await plan();
  if (first.pending.length === 0 || options.dryRun) return { applied: first.pending, edited: first.edited, dryRun: Boolean(options.dryRun) };

  return withSqliteLock(config, lockTimeoutMs, logger, async () => {
    // Another process may have applied them while we waited for the lock.
    const { pending, edited } = config.provider === 'sqlite' ? await plan() : first;
    if (pending.length === 0) return { applied: [], edited, dryRun: false };
    const byScript = new Map(set.migrations.map((m) => [m.sql, m.name]));
    // The engine's own error names the migration but loses the database's message: keep both here.
    let failure: { name: string; error: unknown } | undefined;
    const executeScript = async (script: string, original: (s: string) => Promise<void>, pool?: import('pg').Pool) => {
      const name = byScript.get(script);
      if (name === undefined) return original(script);
      try {
        await runAtomically(config, script, original, pool);
      } catch (error) {
        failure = { name, error };
        throw error;
      }
    };
    const { withSchemaEngine, toMigrationList, noFilters } = await import('./schema-engine.js');
    const deadline = Date.now() + lockTimeoutMs;
    for (;;) {
      // The engine waits a fixed 10 s for Prisma's lock, and its waiting query outlives that: wait
      // here, within --lock-timeout, until no other migrator holds it.
      if (config.provider === 'postgresql') {
        await withRaw(config, async (conn) => {
          await lockPgMigrations(conn, deadline - Date.now(), logger, lockTimeoutMs);
          await conn.query(`SELECT pg_advisory_unlock(${PRISMA_ADVISORY_LOCK})`);
        });
      }
      try {
        const names = await withSchemaEngine(
          config,
          async ({ engine }) => (await engine.applyMigrations({ migrationsList: toMigrationList(set, count), filters: noFilters })).appliedMigrationNames,
          { executeScript },
        );
        const applied = set.migrations.filter((m) => names.includes(m.name));
        return { applied, edited, dryRun: false };
      } catch (error) {
        if (isLockTimeout(error)) {
          if (Date.now() < deadline) continue;
          throw pgLockHeld(lockTimeoutMs, error);
        }
        if (failure) throw migrationFailed(failure.name, failure.error);
        throw new DatabaseError(`migration failed: ${oneLine(error)}`, { cause: error });
      }
    }
  });
}

/** Runs one migration script in a transaction of its own. */
async function runAtomically(
  config: Config,
  script: string,
  original: (script: string) => Promise<void>,
  pool?: import('pg').Pool,
): Promise<void> {
  if (config.provider === 'postgresql' && pool) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(script);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
    return;
  }
  // SQLite: foreign keys must be off outside the transaction, or a table rebuild would cascade.
  await original('PRAGMA foreign_keys = OFF');
  try {
    await original('BEGIN IMMEDIATE');
    try {
      await original(script);
      await original('COMMIT');
    } catch (error) {
      await original('ROLLBACK').catch(() => {});
      throw error;
    }
  } finally {
    await original('PRAGMA foreign_keys = ON');
  }
}

function oneLine(error: unknown): string {
  const cause = (error as { cause?: { originalMessage?: string } })?.cause;
  return maskSecretsInText(cause?.originalMessage ?? describeError(error)).replace(/\s*\n\s*/g, ' ').trim();
}

function migrationFailed(name: string, error: unknown): DatabaseError {
  return new DatabaseError(
    `migration ${name} failed: ${oneLine(error)}; it was rolled back and recorded as failed. ` +
      `Fix the cause, then run soulspot migrate resolve --rolled-back ${name} and migrate again`,
    { cause: error },
  );
}

export interface RollbackOptions {
  steps?: number;
  to?: string;
  all?: boolean;
  dryRun?: boolean;
  lockTimeoutMs?: number;
  logger?: Logger;
}

/**
 * `migrate down`: runs the reverse scripts of the newest applied migrations, newest first, each in
 * one transaction together with the removal of its `_prisma_migrations` record. Refuses, changing
 * nothing, when any of them has no reverse script.
 */
export async function rollbackMigrations(config: Config, options: RollbackOptions = {}): Promise<{ rolledBack: MigrationFile[]; dryRun: boolean }> {
  config = await sessionConfig(config, 'migrate down');
  const set = readMigrations(config.provider, config.migrationsDir ?? migrationsDir(config.provider));
  const lockTimeoutMs = options.lockTimeoutMs ?? 300_000;
  // Checked before the lock, whose file would otherwise be made beside a database that is not there.
  if (config.provider === 'sqlite') assertSqliteFileExists(sqliteFilePath(config.databaseUrl));
  const rollback = () =>
    withRaw(config, async (conn) => {
      if (conn.provider === 'postgresql') await lockPgMigrations(conn, lockTimeoutMs, options.logger ?? silentLogger);
      try {
        const status = computeStatus(set, await readHistory(conn));
        refuseFailed(status);
        const applied = set.migrations.filter((m) => status.rows.some((r) => r.name === m.name && (r.state === 'applied' || r.state === 'edited')));
        let victims: MigrationFile[];
        if (options.all) victims = applied;
        else if (options.to !== undefined) {
          const keep = findMigrationIndex(set, options.to);
          victims = applied.filter((m) => set.migrations.indexOf(m) > keep);
        } else victims = applied.slice(Math.max(0, applied.length - (options.steps ?? 1)));
        victims = victims.reverse();
        const missing = victims.filter((m) => m.downSql === undefined).map((m) => m.name);
        if (missing.length > 0) {
          throw new UsageError(`expected a reverse script (down.sql) for ${missing.join(', ')}, found none; nothing was rolled back`);
        }
        if (options.dryRun) return { rolledBack: victims, dryRun: true };
        const del = conn.provider === 'sqlite' ? 'DELETE FROM _prisma_migrations WHERE migration_name = ?' : 'DELETE FROM _prisma_migrations WHERE migration_name = $1';
        const done: MigrationFile[] = [];
        for (const m of victims) {
          try {
            await conn.runInTransaction(m.downSql!, async (c) => {
              await c.query(del, [m.name]);
            });
          } catch (error) {
            throw new DatabaseError(
              `reverse script of ${m.name} failed and was rolled back: ${describeError(error)}` +
                (done.length ? ` (already rolled back: ${done.map((d) => d.name).join(', ')})` : ''),
              { cause: error },
            );
          }
          done.push(m);
        }
        return { rolledBack: done, dryRun: false };
      } finally {
        if (conn.provider === 'postgresql') await conn.query(`SELECT pg_advisory_unlock(${PRISMA_ADVISORY_LOCK})`);
      }
    });
  return options.dryRun ? rollback() : withSqliteLock(config, lockTimeoutMs, options.logger ?? silentLogger, rollback);
}

/** `migrate resolve`: marks a failed migration applied (finished by hand) or rolled back. */
export async function resolveMigration(config: Config, name: string, as: 'applied' | 'rolled-back'): Promise<string> {
  config = await sessionConfig(config, 'migrate resolve');
  const set = readMigrations(config.provider, config.migrationsDir ?? migrationsDir(config.provider));
  const migration = set.migrations[findMigrationIndex(set, name)];
  // The schema engine would create a missing SQLite file (only migrate may) and names no cause when
  // it cannot open one: open it here first for the one-line error.
  if (config.provider === 'sqlite') await withRaw(config, () => Promise.resolve());
  const { withSchemaEngine, toMigrationList } = await import('./schema-engine.js');
  try {
    await withSchemaEngine(config, async ({ engine }) => {
      if (as === 'applied') await engine.markMigrationApplied({ migrationName: migration.name, migrationsList: toMigrationList(set) });
      else await engine.markMigrationRolledBack({ migrationName: migration.name });
    });
  } catch (error) {
    throw new DatabaseError(`cannot mark ${migration.name} ${as}: ${maskSecretsInText(describeError(error)).replace(/\s*\n\s*/g, ' ')}`, { cause: error });
  }
  return migration.name;
}
