import { appendFileSync, closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { configFor, createEmptyDatabase, createMigratedDatabase, providers, useMigratedDatabase, type TestDatabase } from '../helpers/db.js';
import { addMigration, copyMigrations } from '../helpers/migrations-dir.js';
import { readMigrations } from '../../src/migrate/migrations.js';
import { applyMigrations } from '../../src/migrate/migrator.js';
import { doctorExitCode, runDoctor, type DoctorReport } from '../../src/diagnostics/doctor.js';
import { PERFORMANCE_INDEXES } from '../../src/diagnostics/doctor-indexes.js';
import { ExitCode } from '../../src/errors.js';
import type { Provider } from '../../src/database-url.js';

/*
 * Each doctor check on both providers, driven into each of its states for real: indexes dropped,
 * redefined or left invalid, migrations pending, failed or edited, statistics made stale, a pool
 * larger than the server allows, a corrupted SQLite page. Nothing is faked.
 */

const sqlitePath = (db: TestDatabase) => db.url.slice('file:'.length);

/** Runs statements on the test database with the plain driver, one connection. */
async function exec(provider: Provider, db: TestDatabase, ...statements: string[]): Promise<void> {
  if (provider === 'sqlite') {
    const conn = new Database(sqlitePath(db));
    try {
      for (const s of statements) conn.exec(s);
    } finally {
      conn.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
    // Statistics reach pg_stat_* when a backend reports them: make this one report now.
    await client.query('SELECT pg_stat_force_next_flush()');
  } finally {
    await client.end();
  }
}

async function pgValue(db: TestDatabase, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return Number(Object.values((await client.query(sql)).rows[0])[0]);
  } finally {
    await client.end();
  }
}

/** Waits (bounded) until PostgreSQL's cumulative statistics show what `sql` asks for. */
async function untilStats(db: TestDatabase, sql: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if ((await pgValue(db, sql)) >= atLeast) return;
    if (Date.now() > deadline) throw new Error(`statistics never reached ${atLeast}: ${sql}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `n` rows made by the database itself: a series 1..n as `i`. */
function series(provider: Provider, n: number, insert: string, select: string): string {
  return provider === 'sqlite'
    ? `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ${n}) ${insert} ${select} FROM s`
    : `${insert} ${select} FROM generate_series(1, ${n}) AS s(i)`;
}

const seedArtists = (provider: Provider, n: number, prefix = 'a') =>
  series(provider, n, 'INSERT INTO artists (id, name)', `SELECT '${prefix}' || i, 'Artist ' || i`);
const seedTracks = (provider: Provider, n: number, prefix = 't') =>
  series(provider, n, 'INSERT INTO tracks (id, title, artist_id, file_path, track_number)', `SELECT '${prefix}' || i, 'Track ' || i, 'a1', '/music/${prefix}' || i || '.flac', 1 + i % 12`);

/** Runs `statements`, then the doctor. */
async function doctorAfter(provider: Provider, db: TestDatabase, ...statements: string[]): Promise<DoctorReport> {
  await exec(provider, db, ...statements);
  return runDoctor(db.config);
}

function row(report: DoctorReport, id: string) {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no check ${id} in ${report.checks.map((c) => c.id).join(', ')}`);
  return found;
}

describe.each(providers)('doctor on %s', (provider) => {
  describe('a freshly migrated database', () => {
    const database = useMigratedDatabase(provider);

    test('every check is ok (or does not apply): exit 0', async () => {
      const db = database();
      const report = await runDoctor(db.config);
      const notOk = report.checks.filter((c) => c.status !== 'ok' && c.status !== 'skipped');
      expect(notOk).toEqual([]);
      expect(report.status).toBe('ok');
      expect(doctorExitCode(report.status)).toBe(ExitCode.OK);
      expect(row(report, 'migrations').found).toMatch(/applied, none pending, checksums match/);
      for (const ix of PERFORMANCE_INDEXES) expect(row(report, `index:${ix.name}`)).toMatchObject({ status: 'ok', fix: null });
      expect(PERFORMANCE_INDEXES).toHaveLength(11);
      const skipped = report.checks.filter((c) => c.status === 'skipped').map((c) => c.id);
      expect(skipped).toEqual(provider === 'sqlite' ? ['pool-capacity', 'pool-pre-ping'] : ['slow-statements']);
    });
  });

  describe('indexes', () => {
    const database = useMigratedDatabase(provider, 'each');

    test('a dropped index is a problem whose fix recreates it: exit 7', async () => {
      const report = await doctorAfter(provider, database(), 'DROP INDEX ix_downloads_completed_at');
      expect(row(report, 'index:ix_downloads_completed_at')).toMatchObject({
        status: 'problem',
        found: 'missing from downloads',
        fix: expect.stringContaining('CREATE INDEX ix_downloads_completed_at ON downloads (completed_at)'),
      });
      expect(report.status).toBe('problem');
      expect(doctorExitCode(report.status)).toBe(ExitCode.UNHEALTHY);
      expect(row(report, 'index:ix_tracks_file_path').status).toBe('ok');
    });

    test('an index the planner cannot use for its query is a problem, found by EXPLAIN', async () => {
      const db = database();
      // Same name, but on lower(file_path) (PostgreSQL) or with a NOCASE collation (SQLite): a plain
      // `file_path = ?` cannot use it.
      await exec(
        provider,
        db,
        'DROP INDEX ix_tracks_file_path',
        provider === 'sqlite' ? 'CREATE INDEX ix_tracks_file_path ON tracks (file_path COLLATE NOCASE)' : 'CREATE INDEX ix_tracks_file_path ON tracks (lower(file_path))',
      );
      const report = await runDoctor(db.config);
      const check = row(report, 'index:ix_tracks_file_path');
      expect(check.status).toBe('problem');
      expect(check.found).toMatch(provider === 'sqlite' ? /the planner cannot use it: the plan scans the whole table/ : /expected on tracks \(file_path\); the plan scans the whole table/);
      expect(check.fix).toBe('DROP INDEX IF EXISTS ix_tracks_file_path; CREATE INDEX ix_tracks_file_path ON tracks (file_path)');
      // Recreated as the fix says: ok again.
      await exec(provider, db, ...check.fix!.split('; '));
      expect(row(await runDoctor(db.config), 'index:ix_tracks_file_path').status).toBe('ok');
    });

    test('an index on other columns under the right name is a problem', async () => {
      const db = database();
      await exec(provider, db, 'DROP INDEX ix_albums_updated_at', 'CREATE INDEX ix_albums_updated_at ON albums (created_at)');
      const check = row(await runDoctor(db.config), 'index:ix_albums_updated_at');
      expect(check).toMatchObject({ status: 'problem', found: expect.stringMatching(/^present on albums \(created_at\), expected on albums \(updated_at\)/) });
    });

    if (provider === 'postgresql') {
      test('an INVALID index (a CREATE INDEX CONCURRENTLY that failed) is a problem: REINDEX', async () => {
        const db = database();
        // Two tracks of one album with the same track number make a unique build fail half-way,
        // which leaves the index behind, marked invalid: the way it happens on a live server.
        await exec(
          provider,
          db,
          seedArtists(provider, 1),
          `INSERT INTO albums (id, title, artist_id) VALUES ('al1', 'Album', 'a1')`,
          `INSERT INTO tracks (id, title, artist_id, album_id, track_number) VALUES ('t1', 'One', 'a1', 'al1', 1), ('t2', 'Two', 'a1', 'al1', 1)`,
          'DROP INDEX ix_tracks_album_track_number',
        );
        await expect(exec(provider, db, 'CREATE UNIQUE INDEX CONCURRENTLY ix_tracks_album_track_number ON tracks (album_id, track_number)')).rejects.toThrow(
          /could not create unique index/,
        );
        expect(await pgValue(db, `SELECT count(*) FROM pg_index WHERE indexrelid = 'ix_tracks_album_track_number'::regclass AND NOT indisvalid`)).toBe(1);
        const check = row(await runDoctor(db.config), 'index:ix_tracks_album_track_number');
        expect(check).toMatchObject({ status: 'problem', found: expect.stringMatching(/INVALID/), fix: 'REINDEX INDEX ix_tracks_album_track_number' });
      });
    }
  });

  describe('migrations', () => {
    const databases: TestDatabase[] = [];
    afterAll(async () => {
      for (const db of databases) await db.drop();
    });
    const database = async (dir: string, migrate: boolean) => {
      const db = migrate ? await createMigratedDatabase(provider, { SOULSPOT_MIGRATIONS_DIR: dir }) : await createEmptyDatabase(provider, { SOULSPOT_MIGRATIONS_DIR: dir });
      databases.push(db);
      return db;
    };

    test('a pending migration is a warning (exit 6) whose fix is soulspot migrate', async () => {
      const dir = copyMigrations(provider);
      const db = await database(dir, true);
      addMigration(dir, '20990101000000_add_notes', 'CREATE TABLE "notes" ("id" INTEGER NOT NULL PRIMARY KEY);\n');
      const report = await runDoctor(db.config);
      // Every packaged migration is applied; only the one added after is pending.
      const packaged = readMigrations(provider, dir).migrations.length - 1;
      expect(row(report, 'migrations')).toMatchObject({ status: 'warning', found: `${packaged} applied; pending: 20990101000000_add_notes`, fix: 'soulspot migrate' });
      expect(report.status).toBe('warning');
      expect(doctorExitCode(report.status)).toBe(ExitCode.ATTENTION);
    });

    test('a database with no migration applied is a problem (its tables and indexes are missing)', async () => {
      const dir = copyMigrations(provider);
      const db = await database(dir, false);
      if (provider === 'sqlite') writeFileEmpty(sqlitePath(db));
      const report = await runDoctor(db.config);
      expect(row(report, 'migrations')).toMatchObject({ status: 'problem', found: expect.stringMatching(/^not migrated; pending: /) });
      expect(row(report, 'index:ix_tracks_file_path')).toMatchObject({ status: 'problem', found: 'missing from tracks' });
    });

    test('a failed migration is a problem; an edited one a warning', async () => {
      const dir = copyMigrations(provider);
      addMigration(dir, '20990101000000_broken', 'CREATE TABLE "half_done" ("id" INTEGER NOT NULL PRIMARY KEY);\nINSERT INTO "no_such_table" VALUES (1);\n');
      const db = await database(dir, false);
      await applyMigrations(db.config).catch(() => undefined);
      const failed = row(await runDoctor(db.config), 'migrations');
      expect(failed).toMatchObject({ status: 'problem', found: expect.stringContaining('failed: 20990101000000_broken') });
      expect(failed.fix).toMatch(/soulspot migrate resolve --rolled-back 20990101000000_broken/);

      const editedDir = copyMigrations(provider);
      const edited = await database(editedDir, true);
      const all = readMigrations(provider, editedDir).migrations;
      const [init] = all;
      appendFileSync(join(editedDir, init.name, 'migration.sql'), '\n-- edited after it was applied\n');
      // The edited one is counted apart from the others, which stay applied.
      expect(row(await runDoctor(edited.config), 'migrations')).toMatchObject({
        status: 'warning',
        found: `${all.length - 1} applied; edited after applying (checksum differs): ${init.name}`,
      });
    });
  });

  describe('planner statistics', () => {
    const database = useMigratedDatabase(provider);
    beforeAll(async () => {
      // Autovacuum would analyze behind the test's back.
      if (provider === 'postgresql') await exec(provider, database(), 'ALTER TABLE tracks SET (autovacuum_enabled = false)', 'ALTER TABLE artists SET (autovacuum_enabled = false)');
    });

    test('stale after many changes (a warning whose fix is ANALYZE); fresh after ANALYZE', async () => {
      const db = database();
      await exec(provider, db, seedArtists(provider, 10), seedTracks(provider, 3000));
      if (provider === 'postgresql') await untilStats(db, `SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'tracks'`, 3000);
      const stale = row(await runDoctor(db.config), 'statistics');
      expect(stale.status).toBe('warning');
      expect(stale.found).toMatch(provider === 'sqlite' ? /no sqlite_stat1: the planner guesses; tracks has 3,000 rows/ : /tracks: 3,000 rows changed since never analyzed/);

      await exec(provider, db, 'ANALYZE');
      if (provider === 'postgresql') await untilStats(db, `SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'tracks' AND last_analyze IS NOT NULL AND n_mod_since_analyze = 0`, 1);
      expect(row(await runDoctor(db.config), 'statistics').status).toBe('ok');

      // A third more rows since that ANALYZE: stale again.
      await exec(provider, db, seedTracks(provider, 1000, 'u'));
      if (provider === 'postgresql') await untilStats(db, `SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = 'tracks'`, 1000);
      const again = row(await runDoctor(db.config), 'statistics');
      expect(again.status).toBe('warning');
      expect(again.found).toMatch(provider === 'sqlite' ? /tracks: 4,000 rows now, 3,000 rows at the last ANALYZE/ : /tracks: 1,000 rows changed since ANALYZE at /);
    });
  });

  describe('settings', () => {
    const database = useMigratedDatabase(provider);

    test('pre-ping off, a long timeout, slow-query logging off and DATABASE_ECHO on are warnings', async () => {
      const db = database();
      const config = configFor(db.url, { DATABASE_POOL_PRE_PING: 'false', DATABASE_POOL_TIMEOUT: '300', SLOW_QUERY_MS: '0', DATABASE_ECHO: 'true' });
      const report = await runDoctor(config);
      expect(row(report, 'pool-pre-ping')).toMatchObject(
        provider === 'sqlite' ? { status: 'skipped' } : { status: 'warning', fix: 'DATABASE_POOL_PRE_PING=true' },
      );
      expect(row(report, 'pool-timeout')).toMatchObject({ status: 'warning', fix: 'DATABASE_POOL_TIMEOUT=30' });
      expect(row(report, 'slow-query-log')).toMatchObject({ status: 'warning', found: 'SLOW_QUERY_MS=0: slow statements are not logged' });
      expect(row(report, 'echo')).toMatchObject({ status: 'warning', fix: 'DATABASE_ECHO=false' });
      expect(report.status).toBe('warning');
    });

    if (provider === 'postgresql') {
      test('a pool larger than the server allows is a problem, with --workers counted', async () => {
        const db = database();
        const maxConnections = await pgValue(db, `SELECT current_setting('max_connections')::int`);
        const big = row(await runDoctor(configFor(db.url, { DATABASE_POOL_SIZE: String(maxConnections), DATABASE_MAX_OVERFLOW: '10' })), 'pool-capacity');
        expect(big.status).toBe('problem');
        expect(big.found).toMatch(new RegExp(`^1 worker × \\(DATABASE_POOL_SIZE ${maxConnections} \\+ DATABASE_MAX_OVERFLOW 10\\) = ${maxConnections + 10} connections at most; max_connections ${maxConnections}`));
        expect(big.fix).toMatch(/^lower DATABASE_POOL_SIZE \+ DATABASE_MAX_OVERFLOW to \d+ a worker in all/);

        const defaults = await runDoctor(db.config, { workers: 1 });
        expect(row(defaults, 'pool-capacity').status).toBe('ok');
        // 5 + 10 connections a worker: enough workers overrun the same server.
        const workers = Math.ceil(maxConnections / 15) + 1;
        const many = row(await runDoctor(db.config, { workers }), 'pool-capacity');
        expect(many).toMatchObject({ status: 'problem', found: expect.stringMatching(new RegExp(`^${workers} workers × `)) });
      });
    }
  });

  if (provider === 'postgresql') {
    describe('PostgreSQL activity', () => {
      const database = useMigratedDatabase(provider);

      test('an index never scanned on a large table, and a large table read mostly by sequential scans, are warnings', async () => {
        const db = database();
        const before = await runDoctor(db.config);
        expect(row(before, 'unused-indexes').status).toBe('ok');
        expect(row(before, 'sequential-scans').status).toBe('ok');
        await exec(provider, db, seedArtists(provider, 12_000), 'CREATE INDEX ix_artists_name_by_hand ON artists (name)');
        // A search no index serves, run often.
        await exec(provider, db, ...Array.from({ length: 120 }, () => `SELECT count(*) FROM artists WHERE name LIKE '%9%'`));
        await untilStats(db, `SELECT seq_scan FROM pg_stat_user_tables WHERE relname = 'artists'`, 120);
        await untilStats(db, `SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'artists'`, 12_000);
        const report = await runDoctor(db.config);
        expect(row(report, 'unused-indexes')).toMatchObject({ status: 'warning', found: expect.stringMatching(/^ix_artists_name_by_hand on artists \(.+\): never scanned since/) });
        // Not the import's own lookup index on the same column, which an import needs whenever it runs.
        expect(row(report, 'unused-indexes').found).not.toMatch(/ix_artists_name on/);
        expect(row(report, 'sequential-scans')).toMatchObject({ status: 'warning', found: expect.stringMatching(/^artists: 1\d\d sequential scans against \d+ index scans? \([\d,]+ rows\)/) });
      });

      test('pg_stat_statements: said plainly when it is not available', async () => {
        const db = database();
        const check = row(await runDoctor(db.config), 'slow-statements');
        const loaded = (await pgValue(db, `SELECT (current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%')::int`)) === 1;
        if (loaded) throw new Error('this server preloads pg_stat_statements: the test expects a server without it');
        expect(check).toMatchObject({
          status: 'skipped',
          found: expect.stringMatching(/^pg_stat_statements is not available: the server does not load it \(shared_preload_libraries\), and the extension is not created in this database/),
        });
      });

      test('an unreachable database is one problem row: exit 7', async () => {
        const db = database();
        const url = new URL(db.url);
        url.pathname = '/soulspot_no_such_database';
        const report = await runDoctor(configFor(url.toString()));
        expect(report.checks).toHaveLength(1);
        expect(report.checks[0]).toMatchObject({ id: 'database', status: 'problem', found: expect.stringMatching(/soulspot_no_such_database/) });
        expect(doctorExitCode(report.status)).toBe(ExitCode.UNHEALTHY);
      });
    });
  } else {
    describe('SQLite file', () => {
      const database = useMigratedDatabase(provider, 'each');

      test('journal mode other than WAL is a warning; synchronous reported', async () => {
        const db = database();
        const report = await doctorAfter(provider, db, 'PRAGMA journal_mode = DELETE');
        expect(row(report, 'journal-mode')).toMatchObject({ status: 'warning', found: expect.stringMatching(/^journal_mode=delete/) });
        expect(row(report, 'synchronous')).toMatchObject({ status: 'ok', found: expect.stringMatching(/^synchronous=FULL with journal_mode=delete/) });
        await exec(provider, db, 'PRAGMA journal_mode = WAL');
        expect(row(await runDoctor(db.config), 'journal-mode').status).toBe('ok');
      });

      test('free pages worth a VACUUM are a warning; VACUUM clears it', async () => {
        const db = database();
        await exec(provider, db, seedArtists(provider, 1), seedTracks(provider, 40_000), 'DELETE FROM tracks');
        const report = await runDoctor(db.config);
        expect(row(report, 'free-pages')).toMatchObject({ status: 'warning', found: expect.stringMatching(/^[\d,]+ free pages of [\d,]+ pages/) });
        await exec(provider, db, 'VACUUM');
        expect(row(await runDoctor(db.config), 'free-pages').status).toBe('ok');
      });

      test('a corrupted page fails the quick check: a problem', async () => {
        const db = database();
        await exec(provider, db, seedArtists(provider, 1), seedTracks(provider, 2000), 'PRAGMA wal_checkpoint(TRUNCATE)');
        const conn = new Database(sqlitePath(db), { readonly: true });
        const { rootpage } = conn.prepare(`SELECT rootpage FROM sqlite_master WHERE name = 'tracks'`).get() as { rootpage: number };
        const pageSize = Number(conn.pragma('page_size', { simple: true }));
        conn.close();
        // Overwrite the table's root page (past its header) with garbage.
        const fd = openSync(sqlitePath(db), 'r+');
        writeSync(fd, Buffer.alloc(512, 0xa5), 0, 512, (rootpage - 1) * pageSize + 8);
        closeSync(fd);
        const report = await runDoctor(db.config);
        expect(row(report, 'integrity')).toMatchObject({ status: 'problem', found: expect.stringMatching(/^PRAGMA quick_check found/) });
        expect(report.status).toBe('problem');
      });
    });
  }
});

function writeFileEmpty(path: string): void {
  closeSync(openSync(path, 'w'));
}
