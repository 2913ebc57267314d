import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Database } from './client.js';

/**
 * Statements sent straight to the pool Prisma's adapter uses, for the hot paths where Prisma's own
 * cost per statement (query compilation, argument and result conversion: 0.3–0.6 ms measured on
 * PostgreSQL) is many times the database's work: the album listing and one-statement batch
 * inserts. Same connections, same pool settings and statistics; each statement is recorded in the
 * query log as Prisma's are (DATABASE_ECHO, SLOW_QUERY_MS, the statement counter). Values are
 * always bound, never interpolated.
 */

/**
 * Results typed as Prisma types them: `timestamp(3)` (no time zone) is UTC, as Prisma writes it
 * (node-postgres would read it as local time), and BIGINT is a bigint (node-postgres: a string).
 */
const TIMESTAMP_OID = 1114;
const INT8_OID = 20;
const parseUtcTimestamp = (text: string): Date => new Date(`${text.replace(' ', 'T')}Z`);
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMP_OID) return parseUtcTimestamp;
    if (oid === INT8_OID) return (text: string) => BigInt(text);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** Runs one statement on `db`'s pool (PostgreSQL only) and records it in the query log. */
export async function pgQuery<R extends Record<string, unknown>>(db: Database, text: string, values: unknown[] = []): Promise<{ rows: R[]; rowCount: number }> {
  if (!db.pgPool) throw new Error('pgQuery needs a PostgreSQL database');
  const started = performance.now();
  try {
    const result = await db.pgPool.query<R>({ name: statementName(text), text, values, types });
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  } finally {
    db.queryLog.record({ query: text, params: JSON.stringify(values, jsonSafe), duration: performance.now() - started });
  }
}

/**
 * A server-side prepared statement per SQL text, parsed once per connection (node-postgres keeps
 * the names per connection). The texts come from code, not data, so there are only a handful.
 */
const names = new Map<string, string>();
function statementName(text: string): string {
  let name = names.get(text);
  if (!name) {
    name = `soulspot_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    names.set(text, name);
  }
  return name;
}

/** Parameters as the query log shows them (bigints as text, as Prisma's query events do). */
function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Prisma's `$executeRawUnsafe` on the pool: what the batched writes need outside a transaction. */
export function pgDirectRunner(db: Database) {
  return {
    $executeRawUnsafe: async (sql: string, ...values: unknown[]): Promise<number> => (await pgQuery(db, sql, values)).rowCount,
  };
}
