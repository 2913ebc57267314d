import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { FakeSpotify } from '../helpers/fake-spotify.js';
import { packageRoot } from '../../src/paths.js';

// Every table fits the output's width: 80 columns when stdout is no terminal (as here) and COLUMNS
// is not set, else COLUMNS. Through the built CLI (`npm run build` first). The printed text has
// no wide characters, so a line's width is its number of code points.

const lineWidths = (text: string) => text.split('\n').map((line) => [...line].length);

function expectTablesWithin(run: CliResult, width: number, code = 0): void {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code, stderr: expect.any(String) });
  expect(run.stdout).toContain('┌');
  expect(Math.max(...lineWidths(run.stdout))).toBeLessThanOrEqual(width);
}

describe.each(providers)('tables at 80 columns (%s)', (provider) => {
  let db: TestDatabase;
  let work: string;
  const env = (extra: Record<string, string> = {}) => ({ DATABASE_URL: db.url, ...extra });
  beforeAll(async () => {
    db = await createMigratedDatabase(provider);
    work = mkdtempSync(join(tmpdir(), 'soulspot-width-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(work, { recursive: true, force: true });
  });

  test('health', async () => {
    expectTablesWithin(await runCli(['health'], { env: env() }), 80);
  });

  test('health follows COLUMNS', async () => {
    expectTablesWithin(await runCli(['health'], { env: env({ COLUMNS: '50' }) }), 50);
  });

  test('migrate status', async () => {
    expectTablesWithin(await runCli(['migrate', 'status'], { env: env() }), 80);
  });

  test('pool-stats, and pool-stats --probe', async () => {
    expectTablesWithin(await runCli(['pool-stats'], { env: env() }), 80);
    expectTablesWithin(await runCli(['pool-stats', '--probe', '--duration', '1', '--concurrency', '2'], { env: env() }), 80);
  });

  test('import-tracks with rejected rows', async () => {
    // A long path in the title and the rejects file, long reasons in the rejects table.
    const dir = join(work, `a-folder-with-a-rather-long-name-for-the-import-${provider}`);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    copyFileSync(join(packageRoot, 'test', 'fixtures', 'import', 'bad-rows.csv'), join(dir, 'bad-rows.csv'));
    const run = await runCli(['import-tracks', join(dir, 'bad-rows.csv')], { env: env() });
    expectTablesWithin(run, 80, 8);
    expect(run.stdout).toMatch(/First rejected rows/);
  });

  test('spotify-fetch with ids not found and ids that failed', async () => {
    // 60 ids: two requests of up to 50; the first fails with a long message, the second has an unknown id.
    const ids = Array.from({ length: 60 }, (_, i) => `${'4uLU6hMCjMI75M1A2t'}${String(i).padStart(4, '0')}`);
    const fake = await FakeSpotify.start({
      unknownIds: [ids[59]],
      faults: [{ type: 'status', status: 400, body: `{"error":{"status":400,"message":"${'a long message from the API '.repeat(6)}"}}` }],
    });
    try {
      const run = await runCli(['spotify-fetch', ...ids], { env: env({ ...fake.env(), SPOTIFY_MAX_RETRIES: '0' }) });
      expectTablesWithin(run, 80, 8);
      expect(run.stdout).toMatch(/Not found/);
      expect(run.stdout).toMatch(/Failed/);
    } finally {
      await fake.close();
    }
  });
});

describe('benchmark tables at 80 columns (sqlite, smallest options)', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'soulspot-width-bench-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test('cache-bench', async () => {
    const run = await runCli(['cache-bench', '--ops', '2000', '--keys', '500', '--repeat', '1', '--db-samples', '20', '--db-rows', '20'], { cwd: work });
    expectTablesWithin(run, 80);
    expect(run.stdout).toMatch(/Track read by id/);
  });

  test('bench', async () => {
    const run = await runCli(['bench', '--scale', 'small', '--repetitions', '1', '--only', 'playlists,bulk-insert,cache-hit,spotify-batch'], { cwd: work });
    expectTablesWithin(run, 80);
  });
});
