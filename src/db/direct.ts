import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Database } from './client.js';
import { sqliteValue } from './sqlite-values.js';

/**
 * Statements sent straight to the connections Prisma's adapter uses, for the hot paths where
 * Prisma's own cost per statement (query compilation, argument and result conversion: 0.3–0.6 ms
 * measured) is a large part of the database's work: one-statement batch writes on both providers,
 * and the album listing on PostgreSQL. Same connections (PostgreSQL: the pool, its settings and
 * statistics; SQLite: the adapter's own connection), so they behave as Prisma's statements outside
 * a transaction. Each statement is recorded in the query log as Prisma's are (DATABASE_ECHO,
 * SLOW_QUERY_MS, the statement counter). Values are always bound, never interpolated.
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
    return pg.types.getTypeParser(oid, format) as (text: string) => unknown;
  },
};

/** Runs one statement on `db`'s pool (PostgreSQL only) and records it in the query log. */
export async function pgQuery<R extends Record<string, unknown>>(db: Database, text: string, values: unknown[] = []): Promise<{ rows: R[]; rowCount: number }> {
  if (!db.pgPool) throw new Error('pgQuery needs a PostgreSQL database');
  const started = performance.now();
  try {
    const name = db.pgNamedStatements ? statementName(text) : undefined;
    const result = await db.pgPool.query<R>({ name, text, values, types });
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  } finally {
    record(db, text, values, started);
  }
}

/** Logs and counts a statement as Prisma's are; the parameter text only when it will be shown. */
function record(db: Database, query: string, values: unknown[], started: number): void {
  const duration = performance.now() - started;
  db.queryLog.record({ query, params: db.queryLog.wantsParams(duration) ? JSON.stringify(values, jsonSafe) : undefined, duration });
}

/**
 * A server-side prepared statement per SQL text, parsed once per connection (node-postgres keeps
 * the names per connection): a 100-row insert takes 0.4–1 ms less. The texts come from code, not
 * data, so there are only a handful.
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

/** Prisma's `$executeRawUnsafe` without Prisma: what the batched writes need outside a transaction. */
export function directRunner(db: Database): { $executeRawUnsafe(sql: string, ...values: unknown[]): Promise<number> } {
  if (db.provider === 'postgresql') return { $executeRawUnsafe: async (sql, ...values) => (await pgQuery(db, sql, values)).rowCount };
  return { $executeRawUnsafe: (sql, ...values) => sqliteRun(db, sql, values) };
}

/** A better-sqlite3 statement per SQL text and connection (the texts come from code: a handful). */
const sqliteStatements = new WeakMap<object, Map<string, import('better-sqlite3').Statement>>();

async function sqliteRun(db: Database, text: string, values: unknown[]): Promise<number> {
  const connection = await db.sqliteConnection!();
  let statements = sqliteStatements.get(connection);
  if (!statements) sqliteStatements.set(connection, (statements = new Map<string, import('better-sqlite3').Statement>()));
  let statement = statements.get(text);
  if (!statement) statements.set(text, (statement = connection.prepare(text)));
  const started = performance.now();
  try {
    return statement.run(...values.map(sqliteValue)).changes;
  } finally {
    record(db, text, values, started);
  }
}
