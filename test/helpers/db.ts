import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type Config } from '../../src/config.js';
import type { Provider } from '../../src/database-url.js';

/** The admin URL of the test PostgreSQL server (TEST_PG_URL overrides). */
export const PG_ADMIN_URL = process.env.TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

export const providers: Provider[] = ['sqlite', 'postgresql'];

/** A throwaway empty database of its own: a SQLite file in a temp folder, or a new PostgreSQL database. */
export interface TestDatabase {
  url: string;
  config: Config;
  /** SQLite only: the temp folder holding the file. */
  dir?: string;
  drop(): Promise<void>;
}

export function configFor(url: string, env: Record<string, string> = {}): Config {
  return loadConfig({ databaseUrl: url }, env);
}

export async function createEmptyDatabase(provider: Provider, env: Record<string, string> = {}): Promise<TestDatabase> {
  if (provider === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'soulspot-test-'));
    const url = `file:${join(dir, 'test.db')}`;
    return { url, dir, config: configFor(url, env), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `soulspot_test_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    config: configFor(url.toString(), env),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A throwaway database with every migration applied. */
export async function createMigratedDatabase(provider: Provider, env: Record<string, string> = {}): Promise<TestDatabase> {
  const db = await createEmptyDatabase(provider, env);
  const { applyMigrations } = await import('../../src/migrate/migrator.js');
  await applyMigrations(db.config);
  return db;
}

/**
 * A migrated throwaway database for the tests of the enclosing describe block: made before all of
 * them (or before each), dropped after. Call the returned function inside a test to get it.
 */
export function useMigratedDatabase(provider: Provider, scope: 'all' | 'each' = 'all'): () => TestDatabase {
  let db: TestDatabase | undefined;
  (scope === 'all' ? beforeAll : beforeEach)(async () => {
    db = await createMigratedDatabase(provider);
  });
  (scope === 'all' ? afterAll : afterEach)(async () => {
    await db?.drop();
    db = undefined;
  });
  return () => {
    if (!db) throw new Error('useMigratedDatabase: the database is made in a before hook; use it inside a test');
    return db;
  };
}
