import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import type { FakeSpotify } from '../../src/bench/fake-spotify/server.js';
import { withDatabase } from '../../src/db/client.js';
import { packageRoot } from '../../src/paths.js';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { TableLock, until } from '../helpers/table-lock.js';
import { makeIds, useFakeSpotify } from './helpers.js';

// Ctrl-C on `soulspot spotify-fetch`, end to end: the built CLI (`npm run build` first) against the
// fake Spotify API answering slowly, interrupted by a real SIGINT.

let fake: FakeSpotify;
useFakeSpotify((f) => (fake = f));

interface Run {
  child: ChildProcessWithoutNullStreams;
  out: { stdout: string; stderr: string };
  exited: Promise<number | null>;
}

/** Starts `soulspot spotify-fetch args…`, with `input` on its stdin. */
function startFetch(args: string[], env: Record<string, string>, input = ''): Run {
  const child = spawn(process.execPath, [join(packageRoot, 'bin', 'soulspot.js'), 'spotify-fetch', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: 'pipe',
  });
  child.stdin.end(input);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out, exited };
}

describe.each(providers)('spotify-fetch, Ctrl-C (%s)', (provider) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase(provider);
  });
  afterAll(() => db.drop());

  test('the first Ctrl-C stops the fetch: no further request, what was fetched saved whole, the summary printed, exit 130', async () => {
    fake.options.latencyMs = 400;
    const ids = makeIds(1000, 'i'); // 20 requests of 50, two at a time: about 4 s when left alone
    const list = `${ids.join('\n')}\n`;
    const run = startFetch(['--file', '-', '--json'], { ...fake.env({ SPOTIFY_CONCURRENCY: '2' }), DATABASE_URL: db.url }, list);
    try {
      // The fifth request arrives once four have been answered: 200 tracks fetched, two requests in flight.
      await until(() => fake.stats.apiRequests >= 5, 'four requests were answered');
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
    } finally {
      run.child.kill('SIGKILL');
    }
    const sent = fake.stats.apiRequests;
    expect(sent).toBeLessThan(20);
    expect(run.out.stderr).toMatch(/Interrupted: saving what was fetched \(Ctrl-C again to stop at once\)/);
    const summary = JSON.parse(run.out.stdout) as {
      requested: number;
      fetched: number;
      failed: Array<{ id: string; kind: string }>;
      library: { inserted: number };
      interrupted: boolean;
      exitCode: number;
    };
    expect(summary).toMatchObject({ requested: 1000, interrupted: true, exitCode: 130 });
    expect(summary.fetched).toBeGreaterThanOrEqual(200);
    expect(summary.fetched).toBeLessThanOrEqual(sent * 50);
    expect(summary.failed.every((f) => f.kind === 'interrupted')).toBe(true);
    expect(summary.fetched + summary.failed.length).toBe(1000);
    expect(run.out.stderr).toMatch(new RegExp(`^soulspot: interrupted: ${1000 - summary.fetched} of 1000 id\\(s\\) not fetched; what was fetched is saved; run the same command again`, 'm'));

    // Every fetched track is in the library, complete; none of the ids reported as not fetched is.
    const rows = await withDatabase(db.config, ({ prisma }) =>
      prisma.track.findMany({ select: { spotifyUri: true, durationMs: true, isrc: true, albumId: true } }),
    );
    expect(rows).toHaveLength(summary.fetched);
    expect(summary.library.inserted).toBe(summary.fetched);
    expect(rows.every((r) => r.durationMs > 0 && r.isrc !== null && r.albumId !== null)).toBe(true);
    const stored = new Set(rows.map((r) => r.spotifyUri!.replace('spotify:track:', '')));
    expect(summary.failed.filter((f) => stored.has(f.id))).toEqual([]);
    expect(new Set([...stored, ...summary.failed.map((f) => f.id)]).size).toBe(1000);
    // No request after the interrupt: the run stopped starting them.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(fake.stats.apiRequests).toBe(sent);

    // Run again: it fetches the rest (and leaves what was saved unchanged).
    const again = startFetch(['--file', '-', '--json'], { ...fake.env({ SPOTIFY_CONCURRENCY: '8' }), DATABASE_URL: db.url }, list);
    fake.options.latencyMs = 0;
    expect(await again.exited).toBe(0);
    expect(JSON.parse(again.out.stdout)).toMatchObject({ fetched: 1000, library: { inserted: 1000 - summary.fetched, unchanged: summary.fetched } });
  });
});

describe('spotify-fetch, Ctrl-C twice (postgresql)', () => {
  let db: TestDatabase;
  let tables: TableLock;
  beforeAll(async () => {
    db = await createMigratedDatabase('postgresql');
    tables = await TableLock.open(db.url);
  });
  afterAll(async () => {
    await tables.close();
    await db.drop();
  });

  test('while the fetched tracks wait to be saved, a second Ctrl-C stops at once: exit 130, nothing half-written', async () => {
    // The tracks table is locked, so saving waits: the first Ctrl-C cannot end the run.
    await tables.lock('tracks');
    const run = startFetch(makeIds(120, 'w'), { ...fake.env(), DATABASE_URL: db.url });
    try {
      await until(() => tables.someoneWaits(), 'saving waits for the lock');
      run.child.kill('SIGINT');
      await until(() => /Interrupted: saving what was fetched/.test(run.out.stderr), 'the first Ctrl-C is acknowledged');
      expect(run.child.exitCode).toBeNull();
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
    } finally {
      run.child.kill('SIGKILL');
      await tables.release();
    }
    expect(run.out.stdout).toBe('');
    expect(run.out.stderr).toMatch(/^soulspot: interrupted twice: stopped at once instead of saving what was fetched$/m);
    expect(await tables.count('tracks')).toBe(0);
  });
});
