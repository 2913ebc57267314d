import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { describeSchema } from '../helpers/catalog.js';
import { runCli } from '../helpers/cli.js';
import { withDatabase } from '../../src/db/client.js';
import { openRawConnection } from '../../src/db/raw.js';
import { SCALES, type BenchReport } from '../../src/bench/guide-bench.js';

async function fingerprint(db: TestDatabase): Promise<unknown> {
  const conn = await openRawConnection(db.config);
  const counts: Record<string, number> = {};
  for (const table of ['artists', 'albums', 'tracks', 'playlists', 'playlist_tracks', 'downloads', '_prisma_migrations']) {
    counts[table] = Number((await conn.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0].n);
  }
  const schemas =
    conn.provider === 'postgresql' ? (await conn.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%temp%' ORDER BY nspname")).map((r) => r.nspname) : [];
  await conn.close();
  return { counts, schemas, schema: await describeSchema(db.config, { includeMigrationsTable: true }) };
}

describe.each(providers)('soulspot bench on %s', (provider) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase(provider);
    await withDatabase(db.config, async ({ prisma }) => {
      const artist = await prisma.artist.create({ data: { name: 'User Artist' } });
      await prisma.track.create({ data: { title: 'User Track', artistId: artist.id } });
      await prisma.playlist.create({ data: { name: 'User Playlist' } });
    });
  });
  afterAll(async () => {
    await db.drop();
  });

  test('measures every row at the small scale, reports the counts executed, and leaves the user database unchanged', async () => {
    const before = await fingerprint(db);
    const fileHash = provider === 'sqlite' ? createHash('sha256').update(readFileSync(db.url.slice(5))).digest('hex') : undefined;
    const run = await runCli(['bench', '--scale', 'small', '--repetitions', '1', '--json'], { env: { DATABASE_URL: db.url } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as BenchReport;
    expect(report.provider).toBe(provider);
    expect(report.rows.map((r) => r.id)).toEqual(['playlists', 'bulk-insert', 'album-query', 'cache-hit', 'spotify-batch']);
    const byId = Object.fromEntries(report.rows.map((r) => [r.id, r]));
    const small = SCALES.small;
    // N+1: one statement for the playlists, then a fixed number per playlist; eager loading: constant.
    const perPlaylist = (byId.playlists.before.count - 1) / small.playlists;
    expect(Number.isInteger(perPlaylist) && perPlaylist >= 1).toBe(true);
    expect(byId.playlists.after.count).toBeLessThanOrEqual(3);
    expect(byId['bulk-insert'].before.count).toBe(100);
    expect(byId['bulk-insert'].after.count).toBe(1);
    expect(byId['album-query'].before.count).toBe(1);
    expect(byId['album-query'].after.count).toBe(1);
    expect(byId['cache-hit'].before.count).toBe(1);
    expect(byId['cache-hit'].after.count).toBe(0);
    expect(byId['spotify-batch'].before.count).toBe(50);
    expect(byId['spotify-batch'].after.count).toBe(1);
    for (const r of report.rows) {
      expect(r.before.timing.median_ms).toBeGreaterThan(0);
      expect(r.after.timing.median_ms).toBeGreaterThan(0);
      expect(r.factor).toBeCloseTo(r.before.timing.median_ms / r.after.timing.median_ms, 1);
      expect(r.claimed.factor).toBeGreaterThan(1);
    }
    expect(await fingerprint(db)).toEqual(before);
    if (fileHash) expect(createHash('sha256').update(readFileSync(db.url.slice(5))).digest('hex')).toBe(fileHash);
  });

  test('--only runs the named rows; an unknown row is a usage error', async () => {
    const run = await runCli(['bench', '--scale', 'small', '--repetitions', '1', '--only', 'cache-hit', '--json'], { env: { DATABASE_URL: db.url } });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as BenchReport).rows.map((r) => r.id)).toEqual(['cache-hit']);
    const bad = await runCli(['bench', '--only', 'nope'], { env: { DATABASE_URL: db.url } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--only: expected a comma-separated list of playlists, .*got "nope"/);
  });
});

test('Ctrl-C stops the bench with exit 130 and removes its throwaway PostgreSQL schema', async () => {
  const { spawn } = await import('node:child_process');
  const { packageRoot } = await import('../../src/paths.js');
  const db = await createMigratedDatabase('postgresql');
  try {
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'soulspot.js'), 'bench', '--scale', 'small', '--repetitions', '50'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const conn = await openRawConnection(db.config);
    const benchSchemas = async () =>
      (await conn.query<{ nspname: string }>("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'soulspot_bench_%'")).length;
    // Wait until the throwaway schema exists, then interrupt.
    for (let i = 0; i < 200 && (await benchSchemas()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await benchSchemas()).toBe(1);
    const code = await new Promise<number | null>((resolve) => {
      child.on('close', resolve);
      child.kill('SIGINT');
    });
    expect(code).toBe(130);
    expect(stdout).toBe('');
    expect(await benchSchemas()).toBe(0);
    await conn.close();
  } finally {
    await db.drop();
  }
});
