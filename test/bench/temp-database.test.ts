import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { withTempDatabase } from '../../src/bench/temp-database.js';
import type { Database } from '../../src/db/client.js';
import { configFor, createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';

describe.each(providers)('withTempDatabase on %s', (provider) => {
  let user: TestDatabase;
  let dir: string;
  let admin: pg.Client | undefined;
  beforeAll(async () => {
    user = await createMigratedDatabase(provider);
    dir = mkdtempSync(join(tmpdir(), 'soulspot-temp-database-test-'));
    if (provider === 'postgresql') {
      admin = new pg.Client({ connectionString: user.url });
      await admin.connect();
    }
  });
  afterAll(async () => {
    await admin?.end();
    rmSync(dir, { recursive: true, force: true });
    await user.drop();
  });

  // On SQLite the configured file does not exist: the helper must neither open nor create it.
  const config = () => configFor(provider === 'sqlite' ? `file:${join(dir, 'users.db')}` : user.url);
  const benchSchemas = async () =>
    (await admin!.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'soulspot_temp_db_test_%'")).rows.map((r) => r.nspname);

  /** Where the throwaway database lives, seen from inside `fn`, and whether it is there. */
  async function locate(db: Database): Promise<{ exists: () => Promise<boolean> }> {
    if (provider === 'sqlite') {
      const folder = dirname(db.sqlitePath!);
      expect(folder.startsWith(join(tmpdir(), 'soulspot-temp-db-test-'))).toBe(true);
      return { exists: async () => existsSync(folder) };
    }
    expect(db.pgSchema).toMatch(/^soulspot_temp_db_test_[0-9a-f]{12}$/);
    const schema = db.pgSchema!;
    return { exists: async () => (await benchSchemas()).includes(schema) };
  }

  test('runs fn on a new migrated database, returns its result, and removes the database', async () => {
    let where = '';
    let place: { exists: () => Promise<boolean> } | undefined;
    const result = await withTempDatabase(config(), 'temp-db-test', async (db, description) => {
      where = description;
      expect(db.provider).toBe(provider);
      place = await locate(db);
      expect(await place.exists()).toBe(true);
      // Migrated: the tables are there, empty, and writable.
      const artist = await db.prisma.artist.create({ data: { name: 'Temp Artist' } });
      await db.prisma.track.create({ data: { title: 'Temp Track', artistId: artist.id } });
      return db.prisma.track.count();
    });
    expect(result).toBe(1);
    expect(where).toMatch(provider === 'sqlite' ? /^a temporary SQLite file$/ : /^a temporary schema "soulspot_temp_db_test_[0-9a-f]{12}" \(dropped afterwards\)/);
    expect(await place!.exists()).toBe(false);
    if (provider === 'sqlite') expect(existsSync(join(dir, 'users.db'))).toBe(false);
    else {
      expect(await benchSchemas()).toEqual([]);
      // The user's tables were not touched.
      expect((await admin!.query<{ n: number }>('SELECT count(*)::int AS n FROM tracks')).rows[0].n).toBe(0);
    }
  });

  test('removes the database when fn throws, and passes the error on', async () => {
    let place: { exists: () => Promise<boolean> } | undefined;
    const failure = new Error('the benchmark failed');
    await expect(
      withTempDatabase(config(), 'temp-db-test', async (db) => {
        place = await locate(db);
        await db.prisma.artist.create({ data: { name: 'Temp Artist' } });
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(place).toBeDefined();
    expect(await place!.exists()).toBe(false);
    if (provider === 'sqlite') expect(existsSync(join(dir, 'users.db'))).toBe(false);
    else expect(await benchSchemas()).toEqual([]);
  });
});
