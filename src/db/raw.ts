import type { Config } from '../config.js';
import { createPgPool } from './pool.js';
import { maskUrl, sqliteFilePath } from '../database-url.js';
import { DatabaseError } from '../errors.js';
import { openSqliteFile, sqliteFileError } from './sqlite-file.js';

/**
 * A plain driver connection (better-sqlite3 or one pg client), for work that must not go through
 * Prisma: reading the migration history cheaply, running reverse scripts in one transaction.
 */
export interface RawConnection {
  readonly provider: Config['provider'];
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a multi-statement script, then `after`, in one transaction; rolls back on any error. */
  runInTransaction(script: string, after?: (conn: RawConnection) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens one connection. A missing SQLite file is an error unless `create` is set: only
 * `soulspot migrate` creates a database.
 */
export async function openRawConnection(config: Config, options: { create?: boolean } = {}): Promise<RawConnection> {
  if (config.provider === 'sqlite') {
    const path = sqliteFilePath(config.databaseUrl);
    const db = await openSqliteFile(path, { create: options.create, timeoutMs: config.pool.timeoutSeconds * 1000 });
    if (options.create) {
      try {
        db.pragma('journal_mode = WAL');
      } catch (error) {
        db.close();
        throw sqliteFileError(path, error);
      }
    }
    const conn: RawConnection = {
      provider: 'sqlite',
      async query(sql, params = []) {
        const stmt = db.prepare(sql);
        return (stmt.reader ? stmt.all(...params) : (stmt.run(...params), [])) as never[];
      },
      async runInTransaction(script, after) {
        // PRAGMA foreign_keys is a no-op inside a transaction: reverse scripts that rebuild tables
        // need it off for the whole run, then checked again before commit.
        db.pragma('foreign_keys = OFF');
        try {
          db.exec('BEGIN IMMEDIATE');
          try {
            db.exec(script);
            if (after) await after(conn);
            const violations = db.pragma('foreign_key_check') as unknown[];
            if (violations.length > 0) throw new Error(`foreign key check failed for ${violations.length} row(s)`);
            db.exec('COMMIT');
          } catch (error) {
            if (db.inTransaction) db.exec('ROLLBACK');
            throw error;
          }
        } finally {
          db.pragma('foreign_keys = ON');
        }
      },
      async close() {
        db.close();
      },
    };
    return conn;
  }
  const pool = createPgPool(config.databaseUrl, { ...config.pool, size: 0, maxOverflow: 1 });
  let client: import('pg').PoolClient;
  try {
    client = await pool.connect();
  } catch (error) {
    await pool.end();
    throw new DatabaseError(
      `cannot connect to PostgreSQL at ${maskUrl(config.databaseUrl)}: ${(error as Error).message}; check that the server runs and DATABASE_URL is right`,
      { cause: error },
    );
  }
  const conn: RawConnection = {
    provider: 'postgresql',
    async query(sql, params = []) {
      return (await client.query(sql, params)).rows as never[];
    },
    async runInTransaction(script, after) {
      await client.query('BEGIN');
      try {
        await client.query(script);
        if (after) await after(conn);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    },
    async close() {
      client.release();
      await pool.end();
    },
  };
  return conn;
}
