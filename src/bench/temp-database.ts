import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { openDatabase, type Database } from '../db/client.js';
import { pgConnectionString } from '../db/pool.js';
import { InterruptedError } from '../errors.js';
import { applyMigrations } from '../migrate/migrator.js';

/**
 * Runs `fn` against a throwaway database of the configured provider, made for the run, migrated
 * with the bundled migrations, and removed afterwards, also when the migration or `fn` throws.
 * The user's data is never read or written:
 * - SQLite: a new file `<name>.db` in a new temp folder `soulspot-<name>-*` (the configured file is
 *   not opened); the folder is removed.
 * - PostgreSQL: a new schema `soulspot_<name>_<random>` (dashes as underscores) in the configured
 *   database, which needs CREATE there; dropped with CASCADE. The URL keeps its other parameters
 *   (`?pgbouncer=true` included), so the run connects as the user's commands do.
 *
 * `fn` also gets `where`: the throwaway database in words, for reports.
 */
export async function withTempDatabase<T>(config: Config, name: string, fn: (db: Database, where: string) => Promise<T>): Promise<T> {
  if (config.provider === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `soulspot-${name}-`));
    try {
      return await migrateAndRun({ ...config, databaseUrl: `file:${join(dir, `${name}.db`)}`, migrationsDir: undefined }, (db) =>
        fn(db, 'a temporary SQLite file'),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const schema = `soulspot_${name.replaceAll('-', '_')}_${randomBytes(6).toString('hex')}`;
  const url = new URL(config.databaseUrl);
  url.searchParams.set('schema', schema);
  const { default: pg } = await import('pg');
  const admin = new pg.Client({ connectionString: pgConnectionString(config.databaseUrl) });
  // Without a listener a dropped connection would end the process; its next statement fails instead.
  admin.on('error', () => {});
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA "${schema}"`);
    try {
      // The direct URL (DATABASE_DIRECT_URL, for migrate behind PgBouncer) goes to the same schema.
      const direct = config.directUrl ? new URL(config.directUrl) : undefined;
      direct?.searchParams.set('schema', schema);
      return await migrateAndRun({ ...config, databaseUrl: url.toString(), directUrl: direct?.toString(), migrationsDir: undefined }, (db) =>
        fn(db, `a temporary schema "${schema}" (dropped afterwards) of the PostgreSQL database`),
      );
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  } finally {
    await admin.end();
  }
}

async function migrateAndRun<T>(config: Config, fn: (db: Database) => Promise<T>): Promise<T> {
  await applyMigrations(config);
  const db = await openDatabase(config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * Stops a benchmark run when its signal has fired (Ctrl-C), with exit code 130. Thrown inside
 * `withTempDatabase`, it still removes the throwaway database on its way out, as the message says.
 */
export function throwIfInterrupted(signal: AbortSignal | undefined, command: string): void {
  if (signal?.aborted) {
    throw new InterruptedError(`${command} interrupted: no results printed (the throwaway benchmark database was removed)`);
  }
}
