import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { FakeSpotify } from '../../src/bench/fake-spotify/server.js';
import { withDatabase } from '../../src/db/client.js';
import { packageRoot } from '../../src/paths.js';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
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

function startFetch(args: string[], env: Record<string, string>): Run {
  const child = spawn(process.execPath, [join(packageRoot, 'bin', 'soulspot.js'), 'spotify-fetch', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: 'pipe',
  });
  child.stdin.end();
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out, exited };
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

describe.each(providers)('spotify-fetch, Ctrl-C (%s)', (provider) => {
  let db: TestDatabase;
  let work: string;
  beforeAll(async () => {
    db = await createMigratedDatabase(provider);
    work = mkdtempSync(join(tmpdir(), 'soulspot-fetch-interrupt-'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the first Ctrl-C stops the fetch: no further request, what was fetched saved whole, the summary printed, exit 130', async () => {
    fake.options.latencyMs = 400;
    const ids = makeIds(1000, 'i'); // 20 requests of 50, two at a time: about 4 s when left alone
    const file = join(work, `ids-${provider}.txt`);
    writeFileSync(file, `${ids.join('\n')}\n`);
    const run = startFetch(['--file', file, '--json'], { ...fake.env({ SPOTIFY_CONCURRENCY: '2' }), DATABASE_URL: db.url });
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
    const again = startFetch(['--file', file, '--json'], { ...fake.env({ SPOTIFY_CONCURRENCY: '8' }), DATABASE_URL: db.url });
    fake.options.latencyMs = 0;
    expect(await again.exited).toBe(0);
    expect(JSON.parse(again.out.stdout)).toMatchObject({ fetched: 1000, library: { inserted: 1000 - summary.fetched, unchanged: summary.fetched } });
  });
});

describe('spotify-fetch, Ctrl-C twice (postgresql)', () => {
  let db: TestDatabase;
  let locker: pg.Client;
  /** Another session: pg_stat_activity holds still inside the locker's transaction. */
  let watcher: pg.Client;
  beforeAll(async () => {
    db = await createMigratedDatabase('postgresql');
    locker = new pg.Client({ connectionString: db.url });
    watcher = new pg.Client({ connectionString: db.url });
    await Promise.all([locker.connect(), watcher.connect()]);
  });
  afterAll(async () => {
    await Promise.all([locker.end(), watcher.end()]);
    await db.drop();
  });

  test('while the fetched tracks wait to be saved, a second Ctrl-C stops at once: exit 130, nothing half-written', async () => {
    // The tracks table is locked, so saving waits: the first Ctrl-C cannot end the run.
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE tracks IN ACCESS EXCLUSIVE MODE');
    const run = startFetch(makeIds(120, 'w'), { ...fake.env(), DATABASE_URL: db.url });
    try {
      const waiting = async () =>
        (await watcher.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")).rows[0].n > 0;
      await until(waiting, 'saving waits for the lock');
      run.child.kill('SIGINT');
      await until(() => /Interrupted: saving what was fetched/.test(run.out.stderr), 'the first Ctrl-C is acknowledged');
      expect(run.child.exitCode).toBeNull();
      run.child.kill('SIGINT');
      expect(await run.exited).toBe(130);
    } finally {
      run.child.kill('SIGKILL');
      await locker.query('ROLLBACK');
    }
    expect(run.out.stdout).toBe('');
    expect(run.out.stderr).toMatch(/^soulspot: interrupted twice: stopped at once instead of saving what was fetched$/m);
    expect((await watcher.query<{ n: number }>('SELECT count(*)::int AS n FROM tracks')).rows[0].n).toBe(0);
  });
});
