import pg from 'pg';
import type { Config } from '../config.js';
import { ConfigError } from '../errors.js';
import { pgConnectionString, usesPgBouncer } from './pool.js';

/**
 * Work that needs a PostgreSQL session of its own — state kept between transactions: a session
 * advisory lock, `SET`, a temporary table — cannot run through PgBouncer in transaction mode, which
 * hands each transaction whichever server connection is free. DATABASE_DIRECT_URL (Prisma's
 * `directUrl`) names the connection that bypasses the bouncer; this module picks it for such work,
 * and refuses, in one line and before anything is changed, when only a pooled URL is known.
 */

/**
 * The configuration to run `what` with when it needs a session: DATABASE_DIRECT_URL when set (the
 * operator's word that it reaches PostgreSQL with a session of its own); else DATABASE_URL, unless
 * that is marked as PgBouncer in transaction mode (`?pgbouncer=true`) or a connection pooler is
 * found between (see {@link isBehindPooler}): then a ConfigError (exit 3) says what to set.
 * SQLite configurations are returned as they are.
 */
export async function sessionConfig(config: Config, what: string): Promise<Config> {
  if (config.provider !== 'postgresql') return config;
  if (config.directUrl) return { ...config, databaseUrl: config.directUrl };
  if (usesPgBouncer(config.databaseUrl)) throw needsSession(what, 'DATABASE_URL goes through PgBouncer in transaction mode (?pgbouncer=true)');
  if (await isBehindPooler(config)) {
    throw needsSession(what, 'DATABASE_URL goes through a connection pooler (the server process differs from the one the connection announced)');
  }
  return config;
}

function needsSession(what: string, why: string): ConfigError {
  return new ConfigError(
    `${what} needs a PostgreSQL session of its own (a session lock, settings or a temporary table kept between transactions), but ${why} ` +
      'and DATABASE_DIRECT_URL is not set; set DATABASE_DIRECT_URL to a URL that reaches PostgreSQL without the pooler (or to the same URL if the pooler runs in session mode)',
  );
}

/**
 * Whether a connection pooler sits between us and the server. A pooler answers the startup with a
 * cancel key of its own (PgBouncer, pgcat and Odyssey do: the key must route a cancel request
 * through them), so the process id node-postgres was told differs from `pg_backend_pid()`; on a
 * direct connection they are the same. Says false when it cannot connect: the work itself then
 * reports the connection error the usual way.
 */
export async function isBehindPooler(config: Config): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgConnectionString(config.databaseUrl), connectionTimeoutMillis: config.pool.timeoutSeconds * 1000 });
  // A connection lost here is reported by the work that follows, not as an unhandled 'error'.
  client.on('error', () => {});
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const announced = (client as unknown as { processID?: number | null }).processID;
    return typeof announced === 'number' && rows[0]?.pid !== announced;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
