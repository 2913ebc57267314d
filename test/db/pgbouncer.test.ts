import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { writeExporterCsv } from '../../src/bench/sample-data.js';
import { FakeSpotify } from '../../src/bench/fake-spotify/server.js';
import { startPgBouncer } from '../../src/bench/pgbouncer.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { createPgPool } from '../../src/db/pool.js';
import { isBehindPooler, sessionConfig } from '../../src/db/session.js';
import { ExitCode } from '../../src/errors.js';
import { applyMigrations, getMigrationStatus } from '../../src/migrate/migrator.js';
import { readMigrations } from '../../src/migrate/migrations.js';
import { migrationsDir } from '../../src/paths.js';
import { ArtistRepository, DownloadRepository, PlaylistRepository, TrackRepository } from '../../src/repositories/index.js';
import { runCli } from '../helpers/cli.js';
import { configFor, createEmptyDatabase, createMigratedDatabase, PG_ADMIN_URL, type TestDatabase } from '../helpers/db.js';
import { usePgBouncer, type PgBouncer } from '../helpers/pgbouncer.js';

// Everything here runs through a real PgBouncer in transaction mode with 3 server connections
// (issue 17), started for this file; the CLI runs are of the built CLI (npx tsc -p tsconfig.json first).
let bouncer: PgBouncer;
usePgBouncer((b) => (bouncer = b));

/** The bouncer's URL for `url` without the `?pgbouncer=true` marker: what an operator who forgot it would write. */
function unmarked(url: string, via: PgBouncer = bouncer): string {
  const through = new URL(via.urlFor(url));
  through.searchParams.delete('pgbouncer');
  return through.toString();
}

async function scalar<T>(url: string, sql: string): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Object.values((await client.query(sql)).rows[0] as Record<string, unknown>)[0] as T;
  } finally {
    await client.end();
  }
}

async function tableExists(url: string, table: string): Promise<boolean> {
  return (await scalar<string | null>(url, `SELECT to_regclass('${table}')::text`)) !== null;
}

/** A fresh empty PostgreSQL database for the describe block, dropped after it (`url` is read once it exists). */
function useEmptyDatabase(): { readonly url: string } {
  let created: TestDatabase | undefined;
  beforeAll(async () => {
    created = await createEmptyDatabase('postgresql');
  });
  afterAll(() => created?.drop());
  return {
    get url() {
      return created!.url;
    },
  };
}

const SESSION_LINE = /^soulspot: (migrate|import-tracks) needs a PostgreSQL session of its own .* and DATABASE_DIRECT_URL is not set; set DATABASE_DIRECT_URL to .*\n$/;

describe('DATABASE_DIRECT_URL and the session check', () => {
  const db = useEmptyDatabase();

  test('a pooler is found by its cancel key: not on the server itself, yes through PgBouncer (marked or not)', async () => {
    expect(await isBehindPooler(configFor(db.url))).toBe(false);
    expect(await isBehindPooler(configFor(unmarked(db.url)))).toBe(true);
    expect(await isBehindPooler(configFor(bouncer.urlFor(db.url)))).toBe(true);
  });

  test('sessionConfig: the direct URL when set; a ConfigError for a bouncer URL alone; the URL itself when direct', async () => {
    const both = configFor(bouncer.urlFor(db.url));
    expect((await sessionConfig({ ...both, directUrl: db.url }, 'migrate')).databaseUrl).toBe(db.url);
    await expect(sessionConfig(both, 'migrate')).rejects.toMatchObject({ exitCode: ExitCode.CONFIG, message: expect.stringMatching(/\?pgbouncer=true/) });
    await expect(sessionConfig(configFor(unmarked(db.url)), 'migrate')).rejects.toMatchObject({
      exitCode: ExitCode.CONFIG,
      message: expect.stringMatching(/goes through a connection pooler/),
    });
    expect((await sessionConfig(configFor(db.url), 'migrate')).databaseUrl).toBe(db.url);
  });

  test('migrate through the bouncer without DATABASE_DIRECT_URL: one line, exit 3, nothing created (marked and unmarked URL)', async () => {
    for (const url of [bouncer.urlFor(db.url), unmarked(db.url)]) {
      const run = await runCli(['migrate'], { env: { DATABASE_URL: url } });
      expect(run.stderr).toMatch(SESSION_LINE);
      expect(run.code).toBe(ExitCode.CONFIG);
      expect(await tableExists(db.url, '_prisma_migrations')).toBe(false);
    }
  });

  test('a bad DATABASE_DIRECT_URL is refused in one line (exit 3); --database-url ignores it', async () => {
    const bad = await runCli(['migrate', 'status'], { env: { DATABASE_URL: db.url, DATABASE_DIRECT_URL: 'mysql://u:secret@h/db' } });
    expect(bad.code).toBe(ExitCode.CONFIG);
    expect(bad.stderr).toMatch(/^soulspot: DATABASE_DIRECT_URL: expected a postgresql:\/\/… URL .*"mysql:\/\/u:\*\*\*\*@h\/db"; fix or unset DATABASE_DIRECT_URL\n$/);
    const beside = await runCli(['migrate', 'status'], { env: { DATABASE_URL: 'file:./x.db', DATABASE_DIRECT_URL: db.url } });
    expect(beside.code).toBe(ExitCode.CONFIG);
    expect(beside.stderr).toMatch(/DATABASE_DIRECT_URL: .*got a PostgreSQL URL beside a sqlite database/);
    // The flag names another database: the environment's direct URL is not used for it.
    expect(configFor(db.url, { DATABASE_DIRECT_URL: 'postgresql://elsewhere/db' }).directUrl).toBeUndefined();
  });
});

describe('a PgBouncer that refuses the options startup parameter (1.18 as configured by default)', () => {
  let strict: PgBouncer | undefined;
  afterAll(async () => {
    await strict?.stop();
  });

  test('behind ?pgbouncer=true the pool does not send options for the public schema; elsewhere it does', async () => {
    strict = await startPgBouncer(PG_ADMIN_URL, { ignoreStartupParameters: ['extra_float_digits'] });
    const settings = { size: 0, maxOverflow: 1, timeoutSeconds: 5, recycleSeconds: 0, prePing: true };
    const marked = createPgPool(strict.urlFor(PG_ADMIN_URL), settings);
    const unmarkedPool = createPgPool(unmarked(PG_ADMIN_URL, strict), settings);
    const otherSchema = createPgPool(`${strict.urlFor(PG_ADMIN_URL)}&schema=other`, settings);
    try {
      await expect(marked.query('SELECT 1 AS n')).resolves.toMatchObject({ rows: [{ n: 1 }] });
      await expect(unmarkedPool.query('SELECT 1')).rejects.toThrow(/unsupported startup parameter: options/);
    } finally {
      await Promise.all([marked.end(), unmarkedPool.end(), otherSchema.end()]);
    }
    // Another schema still needs its search_path: sent, for a PgBouncer that passes it on.
    expect((otherSchema.options as { options?: string }).options).toBe('-c search_path="other"');
    expect((marked.options as { options?: string }).options).toBeUndefined();
  });
});

describe('migrate through PgBouncer with DATABASE_DIRECT_URL', () => {
  const db = useEmptyDatabase();

  test('four concurrent migrate runs on a fresh database all succeed and record each migration once', async () => {
    const env = { DATABASE_URL: bouncer.urlFor(db.url), DATABASE_DIRECT_URL: db.url };
    const runs = await Promise.all(Array.from({ length: 4 }, () => runCli(['migrate', '--json'], { env })));
    for (const run of runs) {
      expect(run.stderr).not.toMatch(/soulspot:/);
      expect(run.code).toBe(ExitCode.OK);
    }
    const names = readMigrations('postgresql', migrationsDir('postgresql')).migrations.map((m) => m.name);
    const applied = runs.flatMap((r) => (JSON.parse(r.stdout) as { applied: string[] }).applied).sort();
    expect(applied).toEqual([...names].sort());
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ migration_name: string; n: string; finished: string }>(
        'SELECT migration_name, count(*) AS n, count(finished_at) AS finished FROM _prisma_migrations WHERE rolled_back_at IS NULL GROUP BY migration_name ORDER BY migration_name',
      );
      expect(rows).toEqual(names.map((name) => ({ migration_name: name, n: '1', finished: '1' })));
    } finally {
      await client.end();
    }
    // Read-only commands need no session: migrate status and health go through the bouncer alone.
    const status = await runCli(['migrate', 'status', '--json'], { env: { DATABASE_URL: bouncer.urlFor(db.url) } });
    expect(status.code).toBe(ExitCode.OK);
    expect(JSON.parse(status.stdout).upToDate).toBe(true);
    expect((await getMigrationStatus(configFor(bouncer.urlFor(db.url)))).upToDate).toBe(true);
  }, 180_000);

  test('migrate down and resolve take the direct URL too', async () => {
    const env = { DATABASE_URL: bouncer.urlFor(db.url), DATABASE_DIRECT_URL: db.url };
    const down = await runCli(['migrate', 'down', '--dry-run', '--json'], { env });
    expect(down.code).toBe(ExitCode.OK);
    expect(JSON.parse(down.stdout).dryRun).toBe(true);
    const refused = await runCli(['migrate', 'down', '--dry-run'], { env: { DATABASE_URL: bouncer.urlFor(db.url) } });
    expect(refused.code).toBe(ExitCode.CONFIG);
    expect(refused.stderr).toMatch(/^soulspot: migrate down needs a PostgreSQL session of its own/);
    const name = readMigrations('postgresql', migrationsDir('postgresql')).migrations[0].name;
    const resolve = await runCli(['migrate', 'resolve', '--rolled-back', name], { env: { DATABASE_URL: bouncer.urlFor(db.url) } });
    expect(resolve.code).toBe(ExitCode.CONFIG);
    expect(resolve.stderr).toMatch(/^soulspot: migrate resolve needs a PostgreSQL session of its own/);
  });
});

describe('the repositories through PgBouncer (transaction mode, 3 server connections)', () => {
  let db: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    db = await createMigratedDatabase('postgresql');
    database = await openDatabase(configFor(bouncer.urlFor(db.url), { DATABASE_POOL_SIZE: '4', DATABASE_MAX_OVERFLOW: '6' }));
  });
  afterAll(async () => {
    await database.close();
    await db.drop();
  });

  test('batch writes, eager loading, transactions (committed and rolled back) and transitions, with more clients than server connections', async () => {
    expect(database.pgNamedStatements).toBe(false);
    const [artist] = await new ArtistRepository(database).getOrCreateBatch([{ name: 'Bouncer Artist', spotifyUri: 'spotify:artist:bouncer0000000000000001' }]);
    const tracks = new TrackRepository(database);
    const ids = await tracks.addBatchReturningIds(Array.from({ length: 200 }, (_, i) => ({ title: `t${i}`, artistId: artist.id, spotifyUri: `spotify:track:b${String(i).padStart(21, '0')}` })));
    expect(ids).toHaveLength(200);
    const upsert = await tracks.upsertBatch(Array.from({ length: 10 }, (_, i) => ({ title: `t${i} (remaster)`, artistId: artist.id, spotifyUri: `spotify:track:b${String(i).padStart(21, '0')}` })));
    expect(upsert).toMatchObject({ inserted: 0, updated: 10 });
    const playlists = new PlaylistRepository(database);
    // Ten transactions at once over 3 server connections: each holds one only while it runs.
    const created = await Promise.all(Array.from({ length: 10 }, (_, p) => playlists.create({ name: `p${p}`, trackIds: ids.slice(p * 20, p * 20 + 20) })));
    const listed = await playlists.listAll({ pageSize: 100 });
    expect(listed.map((p) => p.name)).toEqual(created.map((p) => p.name).sort());
    expect(listed.every((p) => p.tracks.length === 20)).toBe(true);
    expect((await playlists.getById(created[3].id))!.tracks.map((e) => e.trackId)).toEqual(ids.slice(60, 80));
    // A transaction that fails is rolled back as a whole: no playlist is left behind.
    await expect(playlists.create({ name: 'broken', trackIds: [ids[0], 'no-such-track'] })).rejects.toThrow();
    expect(await database.prisma.playlist.count({ where: { name: 'broken' } })).toBe(0);
    const downloads = new DownloadRepository(database);
    const download = await downloads.create({ trackId: ids[0] });
    await downloads.start(download.id);
    expect((await downloads.complete(download.id)).status).toBe('completed');
    const moved = await tracks.updateBatch(ids.slice(0, 50).map((id) => ({ id, durationMs: 1234 })));
    expect(moved).toEqual({ updated: 50, missingIds: [] });
    // The server saw the same data the repositories report.
    expect(Number(await scalar<string>(db.url, 'SELECT count(*) FROM tracks WHERE duration_ms = 1234'))).toBe(50);
  });
});

describe('import-tracks through PgBouncer', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createMigratedDatabase('postgresql');
    dir = mkdtempSync(join(tmpdir(), 'soulspot-bouncer-import-'));
    await writeExporterCsv(join(dir, 'tracks.csv'), 60_000);
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  test('without DATABASE_DIRECT_URL: one line, exit 3, nothing written', async () => {
    const run = await runCli(['import-tracks', join(dir, 'tracks.csv')], { env: { DATABASE_URL: bouncer.urlFor(db.url) } });
    expect(run.stderr).toMatch(SESSION_LINE);
    expect(run.code).toBe(ExitCode.CONFIG);
    expect(Number(await scalar<string>(db.url, 'SELECT count(*) FROM tracks'))).toBe(0);
  });

  test('a 60k-row import under light concurrent load succeeds (the store on the direct URL, everything else through the bouncer)', async () => {
    const reader = await openDatabase(configFor(bouncer.urlFor(db.url)));
    let stop = false;
    let reads = 0;
    const load = (async () => {
      const playlists = new PlaylistRepository(reader);
      while (!stop) {
        await reader.prisma.track.count();
        await playlists.listAll({ pageSize: 10 });
        reads += 1;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    let run;
    try {
      run = await runCli(['import-tracks', join(dir, 'tracks.csv'), '--playlist', 'Bounced', '--json'], {
        env: { DATABASE_URL: bouncer.urlFor(db.url), DATABASE_DIRECT_URL: db.url, LOG_LEVEL: 'error' },
      });
    } finally {
      stop = true;
      await load.finally(() => reader.close());
    }
    expect(run.stderr).toBe('');
    expect(run.code).toBe(ExitCode.OK);
    expect(JSON.parse(run.stdout)).toMatchObject({ read: 60_000, inserted: 60_000, rejected: 0, playlist: { name: 'Bounced', tracks: 60_000 } });
    expect(reads).toBeGreaterThan(0);
    expect(Number(await scalar<string>(db.url, 'SELECT count(*) FROM tracks'))).toBe(60_000);
    expect(Number(await scalar<string>(db.url, 'SELECT count(*) FROM playlist_tracks'))).toBe(60_000);
  }, 300_000);
});

describe('spotify-fetch, pool-stats and health through PgBouncer', () => {
  let db: TestDatabase;
  let fake: FakeSpotify;
  beforeAll(async () => {
    db = await createMigratedDatabase('postgresql');
    fake = await FakeSpotify.start();
  });
  afterAll(async () => {
    await fake.close();
    await db.drop();
  });

  test('spotify-fetch against the fake API stores every track', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `b${String(i).padStart(21, '0')}`);
    const run = await runCli(['spotify-fetch', ...ids, '--json'], { env: { ...fake.env(), DATABASE_URL: bouncer.urlFor(db.url), LOG_LEVEL: 'error' } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(ExitCode.OK);
    expect(JSON.parse(run.stdout)).toMatchObject({ requested: 120, fetched: 120, library: { inserted: 120 } });
    expect(Number(await scalar<string>(db.url, 'SELECT count(*) FROM tracks'))).toBe(120);
  });

  test('pool-stats (with --probe) and health report through the bouncer', async () => {
    const env = { DATABASE_URL: bouncer.urlFor(db.url), DATABASE_POOL_SIZE: '2', DATABASE_MAX_OVERFLOW: '4' };
    const stats = await runCli(['pool-stats', '--json'], { env });
    expect(stats.code).toBe(ExitCode.OK);
    expect(JSON.parse(stats.stdout).stats).toMatchObject({ pool_size: 2, max_overflow: 4, checked_out: 0 });
    const probe = await runCli(['pool-stats', '--probe', '--concurrency', '8', '--duration', '2', '--json'], { env });
    expect(probe.code).toBe(ExitCode.OK);
    const report = JSON.parse(probe.stdout);
    expect(report.operations.failed).toBe(0);
    expect(report.operations.ok).toBeGreaterThan(0);
    expect(report.tracks_after).toBe(report.tracks_before);
    const health = await runCli(['health', '--json'], { env });
    expect(health.code).toBe(ExitCode.OK);
    expect(JSON.parse(health.stdout)).toMatchObject({ status: 'healthy', checks: { database: { reachable: true }, migrations: { up_to_date: true } } });
  });

  test('in process: applyMigrations through the bouncer with a direct URL applies nothing on a migrated database', async () => {
    const report = await applyMigrations({ ...configFor(bouncer.urlFor(db.url)), directUrl: db.url });
    expect(report.applied).toEqual([]);
  });
});
