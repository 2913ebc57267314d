import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { sqliteFilePath } from '../../src/database-url.js';
import { EXPORTER_HEADER, exporterRow, spotifyId, writeExporterCsv } from '../../src/bench/sample-data.js';
import { createEmptyDatabase, createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';

// End to end: the built CLI (npx tsc -p tsconfig.json first), as a user runs it.
const BIN = join(process.cwd(), 'bin/soulspot.js');
const FIXTURES = join(process.cwd(), 'test/fixtures/import');

interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], cwd: string, user: { uid?: number; gid?: number } = {}): { child: ChildProcess; done: Promise<Result> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' }, ...user });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Result>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}
const cli = (args: string[], cwd: string) => start(args, cwd).done;

/** The CLI, killed if it has not ended within `ms` (then `signal` is SIGKILL): for runs that must not hang. */
async function cliWithin(ms: number, args: string[], cwd: string, user: { uid?: number; gid?: number } = {}): Promise<Result> {
  const { child, done } = start(args, cwd, user);
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  try {
    return await done;
  } finally {
    clearTimeout(timer);
  }
}

/** The Spotify URIs of a playlist's tracks by position, as `position:uri`. */
async function playlistOf(url: string, provider: string, name: string): Promise<string[]> {
  const sql = `SELECT p.position, t.spotify_uri FROM playlist_tracks p JOIN tracks t ON t.id = p.track_id
               JOIN playlists l ON l.id = p.playlist_id WHERE l.name = ${provider === 'sqlite' ? '?' : '$1'} ORDER BY p.position, t.spotify_uri`;
  let rows: Array<{ position: number; spotify_uri: string }>;
  if (provider === 'sqlite') {
    const db = new Database(sqliteFilePath(url), { readonly: true });
    rows = db.prepare(sql).all(name) as typeof rows;
    db.close();
  } else {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    rows = (await c.query(sql, [name])).rows;
    await c.end();
  }
  return rows.map((r) => `${r.position}:${r.spotify_uri}`);
}

/** Rows of the library as comparable text, read with the raw drivers (no ids, no timestamps). */
async function snapshot(url: string, provider: string): Promise<{ tracks: string[]; artists: number; albums: number; playlist: string[] }> {
  const sql = {
    tracks: `SELECT t.title, a.name AS artist, al.title AS album, t.spotify_uri, t.isrc, t.duration_ms, t.track_number, t.disc_number
             FROM tracks t JOIN artists a ON a.id = t.artist_id LEFT JOIN albums al ON al.id = t.album_id`,
    artists: 'SELECT count(*) AS n FROM artists',
    albums: 'SELECT count(*) AS n FROM albums',
    playlist: 'SELECT p.position, t.spotify_uri FROM playlist_tracks p JOIN tracks t ON t.id = p.track_id ORDER BY p.position',
  };
  let rows: Record<string, Array<Record<string, unknown>>>;
  if (provider === 'sqlite') {
    const db = new Database(sqliteFilePath(url), { readonly: true });
    rows = Object.fromEntries(Object.entries(sql).map(([k, q]) => [k, db.prepare(q).all() as Array<Record<string, unknown>>]));
    db.close();
  } else {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    rows = {};
    for (const [k, q] of Object.entries(sql)) rows[k] = (await c.query(q)).rows;
    await c.end();
  }
  return {
    tracks: rows.tracks.map((r) => JSON.stringify(Object.values(r).map((v) => (v === null ? null : String(v))))).sort(),
    artists: Number(rows.artists[0].n),
    albums: Number(rows.albums[0].n),
    playlist: rows.playlist.map((r) => `${r.position}:${r.spotify_uri}`),
  };
}

async function trackCount(url: string, provider: string): Promise<number> {
  try {
    if (provider === 'sqlite') {
      const db = new Database(sqliteFilePath(url), { readonly: true, timeout: 5000 });
      const n = (db.prepare('SELECT count(*) AS n FROM tracks').get() as { n: number }).n;
      db.close();
      return n;
    }
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const n = Number((await c.query('SELECT count(*) AS n FROM tracks')).rows[0].n);
    await c.end();
    return n;
  } catch {
    return 0;
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('timed out waiting');
}

describe.each(providers)('soulspot import-tracks (CLI) on %s', (provider) => {
  let work: string;
  const dbs: TestDatabase[] = [];
  const fresh = async () => {
    const d = await createMigratedDatabase(provider);
    dbs.push(d);
    return d.url;
  };
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'soulspot-import-cli-'));
  });
  afterAll(async () => {
    for (const d of dbs) await d.drop();
    rmSync(work, { recursive: true, force: true });
  });

  test('exit 0 with a table; exit 8 with a rejects file; --json summary adds up', async () => {
    const url = await fresh();
    copyFileSync(join(FIXTURES, 'exportify.csv'), join(work, 'exportify.csv'));
    copyFileSync(join(FIXTURES, 'bad-rows.csv'), join(work, 'bad-rows.csv'));
    const ok = await cli(['--database-url', url, 'import-tracks', 'exportify.csv', '--playlist', 'Liked Songs'], work);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/inserted\s*│ 13/);
    expect(ok.stdout).toMatch(/Liked Songs \(14 tracks\)/);
    const bad = await cli(['--database-url', url, '--json', 'import-tracks', 'bad-rows.csv', '--batch-size', '3'], work);
    expect(bad.code).toBe(8);
    const s = JSON.parse(bad.stdout);
    expect(s).toMatchObject({ read: 11, inserted: 2, rejected: 9, exitCode: 8, rejectsFile: join(work, 'bad-rows.csv.rejects.csv') });
    expect(s.read).toBe(s.inserted + s.updated + s.unchanged + s.duplicates + s.rejected);
    expect(existsSync(join(work, 'bad-rows.csv.rejects.csv'))).toBe(true);
  });

  test('--max-rejects N: stops past N rejects (exit 8), committed batches and the rejects file so far kept, the playlist left as it was; a second run finishes', async () => {
    const url = await fresh();
    // 2,000 rows, every tenth followed by a line of the wrong column count: 200 rejects, about 20 a batch of 200.
    const lines = [EXPORTER_HEADER];
    for (let i = 0; i < 2000; i++) {
      lines.push(exporterRow(i));
      if (i % 10 === 9) lines.push(`broken,row,${i}`);
    }
    writeFileSync(join(work, 'rejecty.csv'), lines.join('\n') + '\n');
    const cut = await cli(['--database-url', url, '--json', 'import-tracks', 'rejecty.csv', '--batch-size', '200', '--playlist', 'R', '--max-rejects', '25'], work);
    expect(cut.code).toBe(8);
    const s = JSON.parse(cut.stdout);
    expect(s.tooManyRejects).toMatch(/^more than 25 row\(s\) rejected \(\d+ of \d+ read; --max-rejects\): the import stopped after \d+ committed batch\(es\) \(up to line \d+\), the playlists left as they were/);
    expect(cut.stderr).toContain(`soulspot: ${s.tooManyRejects}`);
    expect(s.rejected).toBeGreaterThan(25);
    expect(s.rejected).toBeLessThan(200);
    expect(s.inserted).toBeGreaterThan(0);
    expect(s.inserted).toBeLessThan(2000);
    expect(s.read).toBe(s.inserted + s.updated + s.unchanged + s.duplicates + s.rejected);
    // Every committed row is in the database, every reject so far in the rejects file, the playlist untouched.
    expect(await trackCount(url, provider)).toBe(s.inserted);
    const rejectLines = readFileSync(join(work, 'rejecty.csv.rejects.csv'), 'utf8').trim().split('\n');
    expect(rejectLines).toHaveLength(s.rejected + 1);
    expect(rejectLines.slice(1).every((l) => /^\d+,"wrong column count/.test(l))).toBe(true);
    expect(await playlistOf(url, provider, 'R')).toEqual([]);
    // A percentage above the file's share of bad rows lets it finish: exit 8 for the rejects, not stopped.
    const rest = await cli(['--database-url', url, '--json', 'import-tracks', 'rejecty.csv', '--batch-size', '200', '--playlist', 'R', '--max-rejects', '50%'], work);
    expect(rest.code).toBe(8);
    const r = JSON.parse(rest.stdout);
    expect(r.tooManyRejects).toBeUndefined();
    expect(r).toMatchObject({ read: 2200, rejected: 200, inserted: 2000 - s.inserted, unchanged: s.inserted });
    expect(await trackCount(url, provider)).toBe(2000);
    expect(await playlistOf(url, provider, 'R')).toHaveLength(2000);
    // 5%: the first chunk's share (10%) is past it.
    const pct = await cli(['--database-url', url, '--json', 'import-tracks', 'rejecty.csv', '--batch-size', '200', '--max-rejects', '5%'], work);
    expect(pct.code).toBe(8);
    expect(JSON.parse(pct.stdout).tooManyRejects).toMatch(/^more than 5% of the rows read rejected/);
    const badValue = await cli(['--database-url', url, 'import-tracks', 'rejecty.csv', '--max-rejects', '5x'], work);
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/--max-rejects: expected a whole number of at least 0 or a percentage from 0% to 100%, got "5x"/);
  });

  test('a Spotify account export zip: exit 8 for its one bad item, a table per playlist, the files read', async () => {
    const url = await fresh();
    copyFileSync(join(process.cwd(), 'test/fixtures/account/my_spotify_data.zip'), join(work, 'my_spotify_data.zip'));
    const r = await cli(['--database-url', url, 'import-tracks', 'my_spotify_data.zip'], work);
    expect(r.code).toBe(8);
    expect(r.stdout).toMatch(/import of my_spotify_data\.zip \(spotify-account\)/);
    expect(r.stdout).toMatch(/files read\s*│ Spotify Account Data\/YourLibrary\.json, Spotify Account/);
    expect(r.stdout).toContain('Playlist2.json');
    expect(r.stdout).not.toContain('StreamingHistory');
    expect(r.stdout).toMatch(/│ Road trip 🚗\s*│ 3\s*│ 1\s*│ 2\s*│ 2\s*│ 1\s*│/);
    expect(r.stdout).toMatch(/│ Nothing yet\s*│ 0\s*│ 0\s*│ 0\s*│ 0\s*│ 0\s*│/);
    expect(r.stdout).toMatch(/item 6: missing title/);
    expect(await playlistOf(url, provider, 'Liked Songs')).toHaveLength(3);
  });

  test('exit 2 for a missing or empty file, an unknown format or a bad --batch-size; nothing written', async () => {
    const url = await fresh();
    writeFileSync(join(work, 'empty.csv'), '');
    const cases: Array<[string[], RegExp]> = [
      [['import-tracks', 'missing.csv'], /no such file/],
      [['import-tracks', 'empty.csv'], /is empty/],
      [['import-tracks', 'empty.csv', '--format', 'xml'], /--format: expected one of csv, tsv, json, ndjson, exportify, spotify-account, got "xml"/],
      [['import-tracks', 'empty.csv', '--batch-size', '0'], /--batch-size/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(['--database-url', url, ...args], work);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
    }
    expect(await trackCount(url, provider)).toBe(0);
  });

  test('exit 4 when the database is not migrated or unreachable', async () => {
    copyFileSync(join(FIXTURES, 'exportify.csv'), join(work, 'e2.csv'));
    const empty = await createEmptyDatabase(provider);
    dbs.push(empty);
    const r = await cli(['--database-url', empty.url, 'import-tracks', 'e2.csv'], work);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^soulspot: /);
    if (provider === 'postgresql') {
      const down = await cli(['--database-url', 'postgresql://postgres@127.0.0.1:1/nothing', 'import-tracks', 'e2.csv'], work);
      expect(down.code).toBe(4);
    }
  });

  test('Ctrl-C (SIGINT) commits the batches done, prints the summary so far and exits 130', async () => {
    const url = await fresh();
    const file = join(work, `sigint-${provider}.csv`);
    await writeExporterCsv(file, 100_000);
    const { child, done } = start(['--database-url', url, '--json', 'import-tracks', file, '--batch-size', '500'], work);
    await waitFor(async () => (await trackCount(url, provider)) >= 1000);
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ interrupted: true, exitCode: 130 });
    expect(s.read).toBeLessThan(100_000);
    expect(s.read).toBe(s.inserted + s.updated + s.unchanged + s.duplicates + s.rejected);
    expect(await trackCount(url, provider)).toBe(s.inserted);
    expect(r.stderr).toMatch(/Interrupted/);
  });

  test('after kill -9 a second run completes the import: same end state as one uninterrupted run', async () => {
    const file = join(work, `crash-${provider}.csv`);
    await writeExporterCsv(file, 30_000);
    const reference = await fresh();
    const whole = await cli(['--database-url', reference, 'import-tracks', file, '--playlist', 'All'], work);
    expect(whole.code).toBe(0);

    const crashed = await fresh();
    const { child, done } = start(['--database-url', crashed, 'import-tracks', file, '--playlist', 'All', '--batch-size', '500'], work);
    await waitFor(async () => (await trackCount(crashed, provider)) >= 2000);
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');
    const partial = await trackCount(crashed, provider);
    expect(partial).toBeLessThan(30_000);
    const rerun = await cli(['--database-url', crashed, '--json', 'import-tracks', file, '--playlist', 'All'], work);
    expect(rerun.code).toBe(0);
    const s = JSON.parse(rerun.stdout);
    expect(s.inserted).toBe(30_000 - partial);
    expect(s.unchanged).toBe(partial);
    const [a, b] = await Promise.all([snapshot(reference, provider), snapshot(crashed, provider)]);
    expect(b.tracks).toHaveLength(30_000);
    expect(b).toEqual(a);
  });

  test('two concurrent imports of overlapping files into one --playlist: it ends as exactly one of the files, in its order', async () => {
    // A: tracks 0..2999 in order; B: tracks 1500..4499 in reverse. Small batches, so the two runs' batches interleave.
    const a = Array.from({ length: 3000 }, (_, i) => i);
    const b = Array.from({ length: 3000 }, (_, i) => 4499 - i);
    const fileA = join(work, `concurrent-a-${provider}.csv`);
    const fileB = join(work, `concurrent-b-${provider}.csv`);
    writeFileSync(fileA, `${EXPORTER_HEADER}\n${a.map(exporterRow).join('\n')}\n`);
    writeFileSync(fileB, `${EXPORTER_HEADER}\n${b.map(exporterRow).join('\n')}\n`);
    const expected = (ns: number[]) => ns.map((n, position) => `${position}:spotify:track:${spotifyId('tr', n)}`);
    for (let round = 0; round < 3; round++) {
      const url = await fresh();
      const [ra, rb] = await Promise.all([
        cli(['--database-url', url, 'import-tracks', fileA, '--playlist', 'Mix', '--batch-size', '100'], work),
        cli(['--database-url', url, 'import-tracks', fileB, '--playlist', 'Mix', '--batch-size', '100'], work),
      ]);
      expect([ra.code, rb.code, ra.stderr, rb.stderr]).toEqual([0, 0, '', '']);
      const playlist = await playlistOf(url, provider, 'Mix');
      expect([expected(a), expected(b)]).toContainEqual(playlist);
    }
  }, 180_000);

  test('--rejects that cannot be created: exit 2 before anything is written', async () => {
    const url = await fresh();
    copyFileSync(join(FIXTURES, 'exportify.csv'), join(work, 'clean.csv'));
    for (const [path, message] of [
      [join(work, 'clean.csv', 'rejects.csv'), /ENOTDIR/],
      [work, /is a directory/],
    ] as const) {
      const r = await cli(['--database-url', url, 'import-tracks', 'clean.csv', '--rejects', path], work);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^soulspot: cannot create the rejects file .*; pass --rejects with a path you can write to\n$/);
      expect(r.stderr).toMatch(message);
    }
    expect(await trackCount(url, provider)).toBe(0);
  });

  test('a rejects file that fails mid-import (/dev/full): exit 4, one line naming the committed batches, the summary of what was committed', async () => {
    const url = await fresh();
    // 30 good rows, then a row without a title (a reject), then 5 more; batches of 10 rows.
    const good = (i: number) => `Song ${i},Artist ${i % 3}`;
    const rows = [...Array.from({ length: 30 }, (_, i) => good(i)), ',Nobody', ...Array.from({ length: 5 }, (_, i) => good(100 + i))];
    writeFileSync(join(work, 'late-reject.csv'), `title,artist\n${rows.join('\n')}\n`);
    const r = await cli(['--database-url', url, '--json', 'import-tracks', 'late-reject.csv', '--batch-size', '10', '--rejects', '/dev/full'], work);
    expect(r.code).toBe(4);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ exitCode: 4, batches: 3, read: 30, inserted: 30, rejected: 0, interrupted: false });
    expect(s.read).toBe(s.inserted + s.updated + s.unchanged + s.duplicates + s.rejected);
    expect(r.stderr).toBe(`soulspot: ${s.stopped}\n`);
    expect(s.stopped).toMatch(/^cannot write the rejects file \/dev\/full: ENOSPC.*the import stopped after 3 committed batch\(es\) \(up to line 31\)/);
    expect(await trackCount(url, provider)).toBe(30);
  });

  test('an unmigrated database: exit 4 at once, with the advice to migrate (nothing left running)', async () => {
    copyFileSync(join(FIXTURES, 'exportify.csv'), join(work, 'e4.csv'));
    const empty = await createEmptyDatabase(provider);
    dbs.push(empty);
    // SQLite: an existing, empty file (a file that does not exist is refused earlier).
    if (provider === 'sqlite') writeFileSync(sqliteFilePath(empty.url), '');
    const r = await cliWithin(60_000, ['--database-url', empty.url, 'import-tracks', 'e4.csv'], work);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/^soulspot: .*(no such table|does not exist).*; run soulspot migrate first\n$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  if (provider === 'sqlite') {
    test('a database in a directory the user cannot write: exit 4 naming the permission, not migrate', async () => {
      const url = await fresh();
      // Root may write anywhere: run the CLI as nobody then, in a directory nobody may read but not write.
      const user = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
      const dir = join(work, 'read-only');
      mkdirSync(dir);
      copyFileSync(sqliteFilePath(url), join(dir, 'library.db'));
      copyFileSync(join(FIXTURES, 'exportify.csv'), join(dir, 'e5.csv'));
      chmodSync(join(dir, 'library.db'), 0o666);
      chmodSync(work, 0o755);
      chmodSync(dir, 0o555);
      const rejects = join(tmpdir(), `soulspot-rejects-${process.pid}.csv`);
      try {
        const r = await cliWithin(60_000, ['--database-url', `file:${join(dir, 'library.db')}`, 'import-tracks', 'e5.csv', '--rejects', rejects], dir, user);
        expect(r.code).toBe(4);
        expect(r.stderr).toMatch(/^soulspot: cannot open the SQLite database .*library\.db for import: .*; check that you may write the file and its directory/);
        expect(r.stderr).not.toMatch(/migrate/);
      } finally {
        chmodSync(dir, 0o755);
        rmSync(rejects, { force: true });
      }
    });
  }
});
