import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeSpotify } from '../../src/bench/fake-spotify/server.js';
import { runCli } from '../helpers/cli.js';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { makeIds, useFakeSpotify } from './helpers.js';

let fake: FakeSpotify;
useFakeSpotify((f) => (fake = f));

describe.each(providers)('soulspot spotify-fetch on %s (end to end)', (provider) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase(provider);
  });
  afterAll(async () => {
    await db.drop();
  });

  test('fetches ids, URIs and links (file too), prints the summary table, exits 0; a rerun costs the same requests and inserts nothing', async () => {
    const ids = makeIds(70, 'c');
    const dir = mkdtempSync(join(tmpdir(), 'soulspot-ids-'));
    const file = join(dir, 'ids.txt');
    writeFileSync(file, `# ids\n${ids.slice(10).map((id) => `https://open.spotify.com/track/${id}?si=x`).join('\n')}\n`);
    const env = { ...fake.env(), DATABASE_URL: db.url };
    const run = await runCli(['spotify-fetch', ...ids.slice(0, 10).map((id) => `spotify:track:${id}`), ids[20], '--file', file], { env });
    expect(run.stderr).not.toMatch(/soulspot:|error/); // (slow-query warnings may appear on a loaded machine)
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ids requested\s*│\s*70/);
    expect(run.stdout).toMatch(/requests made\s*│\s*2\b/);
    expect(run.stdout).toMatch(/inserted \/ updated \/ unchanged\s*│\s*70 \/ 0 \/ 0/);
    const again = await runCli(['spotify-fetch', ...ids, '--json'], { env });
    expect(again.code).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({ requested: 70, fetched: 70, requests: 2, library: { inserted: 0, unchanged: 70 }, exitCode: 0 });
    expect(fake.stats.batchRequests).toBe(4);
  });

  test('not-found ids: listed, exit 8 (PARTIAL)', async () => {
    const ids = makeIds(3, 'n');
    fake.setUnknownIds([ids[2]]);
    const run = await runCli(['spotify-fetch', ...ids, '--json'], { env: { ...fake.env(), DATABASE_URL: db.url } });
    expect(run.code).toBe(8);
    expect(JSON.parse(run.stdout).notFound).toEqual([ids[2]]);
  });
});

describe('soulspot spotify-fetch errors (end to end)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase('sqlite');
  });
  afterAll(async () => {
    await db.drop();
  });

  test('malformed ids: one line listing them, exit 2, no request', async () => {
    const run = await runCli(['spotify-fetch', '4uLU6hMCjMI75M1A2tKUQC', 'bogus-id'], { env: { ...fake.env(), DATABASE_URL: db.url } });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^soulspot: expected Spotify track ids .* got 1 malformed: "bogus-id"/);
    expect(fake.stats.tokenRequests + fake.stats.apiRequests).toBe(0);
  });

  test('no credentials: exit 3 naming SPOTIFY_CLIENT_ID', async () => {
    const run = await runCli(['spotify-fetch', '4uLU6hMCjMI75M1A2tKUQC'], { env: { DATABASE_URL: db.url } });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^soulspot: SPOTIFY_CLIENT_ID: expected the client id of your Spotify app, got nothing; set SPOTIFY_CLIENT_ID/);
  });

  test('quota exceeded: exit 5 with a clear line; secrets and tokens appear nowhere, even with --debug', async () => {
    fake.options.faultFor = (r) => (r.n === 2 ? { type: 'quota' } : undefined);
    const env = { ...fake.env({ SPOTIFY_CONCURRENCY: '1' }), DATABASE_URL: db.url };
    const run = await runCli(['spotify-fetch', ...makeIds(120, 'z'), '--debug'], { env });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/soulspot: Spotify quota exceeded/);
    expect(run.stdout).toMatch(/fetched\s*│\s*50/);
    expect(run.stderr).toMatch(/debug: spotify batch request/);
    const all = run.stdout + run.stderr;
    expect(all).not.toContain(fake.clientSecret);
    expect(all).not.toContain('fake-token-');
  });

  test('wrong secret: exit 5, the wrong secret is not printed', async () => {
    const env = { ...fake.env({ SPOTIFY_CLIENT_SECRET: 'sekret-that-is-wrong' }), DATABASE_URL: db.url };
    const run = await runCli(['spotify-fetch', '4uLU6hMCjMI75M1A2tKUQC', '--debug'], { env });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/refused the credentials.*check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET/);
    expect(run.stdout + run.stderr).not.toContain('sekret-that-is-wrong');
  });
});
