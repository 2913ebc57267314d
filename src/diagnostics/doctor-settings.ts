import { finding, ok, plural, type DoctorCheck, type DoctorContext } from './doctor-check.js';

/** A pool timeout above this leaves a caller hanging for a minute or more before it is told. */
const LONGEST_SENSIBLE_TIMEOUT_S = 60;

export interface ServerCapacity {
  max_connections: number;
  /** Slots only superusers (and, from PostgreSQL 16, pg_use_reserved_connections) may take. */
  reserved: number;
  /** Client connections held by other programs (not soulspot's pools, not this check). */
  others: number;
}

export async function readServerCapacity(ctx: DoctorContext): Promise<ServerCapacity> {
  const [row] = await ctx.conn.query<ServerCapacity>(
    `SELECT current_setting('max_connections')::int AS max_connections,
            current_setting('superuser_reserved_connections')::int + coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved,
            (SELECT count(*)::int FROM pg_stat_activity
              WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name NOT LIKE 'soulspot%') AS others`,
  );
  return { max_connections: Number(row.max_connections), reserved: Number(row.reserved), others: Number(row.others) };
}

/**
 * The pool against the server: at full load each of `--workers` processes opens
 * DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW connections; they must fit in max_connections less
 * the reserved slots and what other programs hold. soulspot's own connections open now are not
 * counted as "other": they are the pools being sized.
 */
export async function checkPoolCapacity(ctx: DoctorContext): Promise<DoctorCheck> {
  const id = 'pool-capacity';
  const check = 'pool size against the server';
  const { pool } = ctx.config;
  if (ctx.conn.provider === 'sqlite') return finding(id, check, 'skipped', 'SQLite has no pool: one connection per process, statements take turns', null);
  const server = await readServerCapacity(ctx);
  const perWorker = pool.size + pool.maxOverflow;
  const demand = perWorker * ctx.workers;
  const available = server.max_connections - server.reserved - server.others;
  const found =
    `${plural(ctx.workers, 'worker')} × (DATABASE_POOL_SIZE ${pool.size} + DATABASE_MAX_OVERFLOW ${pool.maxOverflow}) = ${plural(demand, 'connection')} at most; ` +
    `max_connections ${server.max_connections} − ${server.reserved} reserved − ${server.others} held by other clients = ${available} available`;
  if (demand <= available) return ok(id, check, found);
  const fitting = Math.max(1, Math.floor(Math.max(0, available) / ctx.workers));
  return finding(
    id,
    check,
    'problem',
    found,
    `lower DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW to ${fitting} a worker in all (or put PgBouncer in front), or raise max_connections`,
  );
}

export function checkPrePing(ctx: DoctorContext): DoctorCheck {
  const id = 'pool-pre-ping';
  const check = 'pre-ping on';
  if (ctx.conn.provider === 'sqlite') return finding(id, check, 'skipped', 'SQLite: no network connection to go stale', null);
  if (ctx.config.pool.prePing) return ok(id, check, 'DATABASE_POOL_PRE_PING=true: a connection the server dropped is replaced before a query uses it');
  return finding(id, check, 'warning', 'DATABASE_POOL_PRE_PING=false: the first query on a connection the server dropped (restart, idle timeout) fails', 'DATABASE_POOL_PRE_PING=true');
}

export function checkTimeout(ctx: DoctorContext): DoctorCheck {
  const id = 'pool-timeout';
  const check = 'a bounded wait for a connection';
  const seconds = ctx.config.pool.timeoutSeconds;
  const what = ctx.conn.provider === 'sqlite' ? 'a busy database file' : 'a free connection';
  if (seconds <= LONGEST_SENSIBLE_TIMEOUT_S) return ok(id, check, `DATABASE_POOL_TIMEOUT=${seconds}: a caller waits at most ${seconds} s for ${what}, then gets an error`);
  return finding(id, check, 'warning', `DATABASE_POOL_TIMEOUT=${seconds}: a caller may hang ${seconds} s for ${what} before it is told`, 'DATABASE_POOL_TIMEOUT=30');
}

/** Statements slower than SLOW_QUERY_MS are logged as warnings; 0 turns that off. */
export function checkSlowQueryLog(ctx: DoctorContext): DoctorCheck {
  const id = 'slow-query-log';
  const check = 'slow-query logging on';
  const { slowQueryMs } = ctx.config;
  if (slowQueryMs === 0) return finding(id, check, 'warning', 'SLOW_QUERY_MS=0: slow statements are not logged', 'SLOW_QUERY_MS=100');
  return ok(id, check, `SLOW_QUERY_MS=${slowQueryMs}: statements of ${slowQueryMs} ms or more are logged as warnings`);
}

export function checkEcho(ctx: DoctorContext): DoctorCheck {
  const id = 'echo';
  const check = 'DATABASE_ECHO off';
  if (!ctx.config.echo) return ok(id, check, 'DATABASE_ECHO=false');
  return finding(id, check, 'warning', 'DATABASE_ECHO=true: every statement is logged with its parameters (slow, and it writes your data to the logs)', 'DATABASE_ECHO=false');
}
