#!/usr/bin/env node
// Benchmark of `soulspot import-tracks` against the raw drivers, side by side in one run.
//
//   npm run build && node bench/import.mjs [--rows 100000] [--rounds 3] [--memory-rows 1000000] [--skip-pg] [--skip-memory]
//
// 1. SQLite: N exporter-CSV rows imported by the CLI into a fresh migrated file, vs a raw
//    better-sqlite3 prepared-statement insert of the same rows (artists, albums, tracks; parsed
//    beforehand, not timed) into the same schema in one transaction.
// 2. PostgreSQL: the same import vs COPY of the same rows into the same schema.
// 3. Memory: peak RSS of the import child process for 10,000 rows and for 1,000,000 rows, on each.
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { parse } from 'csv-parse/sync';
import { writeExporterCsv } from '../dist/bench/sample-data.js';
import { normaliseRow, mapHeader } from '../dist/import/parse/normalize.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROWS = flag('--rows', 100_000);
const MEMORY_ROWS = flag('--memory-rows', 1_000_000);
const ROUNDS = flag('--rounds', 3);
const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const pct = (x) => `${(x * 100).toFixed(0)}%`;
const PG_ADMIN = process.env.TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const dir = mkdtempSync(join(tmpdir(), 'soulspot-bench-import-'));
const fmt = (n) => Math.round(n).toLocaleString('en');

// Prints the child's peak RSS on exit, whatever command it runs.
const RSS_HOOK =
  "data:text/javascript,process.on('exit',()=>{const u=process.resourceUsage();process.stderr.write('MAXRSS_KB '+u.maxRSS+' CPU_US '+(u.userCPUTime+u.systemCPUTime)+'\\n')})";

function run(argv, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', RSS_HOOK, join(root, 'bin/soulspot.js'), ...argv], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const rss = /MAXRSS_KB (\d+) CPU_US (\d+)/.exec(err);
      resolve({ code, out, err, maxRssMb: rss ? Number(rss[1]) / 1024 : NaN, cpuMs: rss ? Number(rss[2]) / 1000 : NaN });
    });
  });
}

async function migrate(url) {
  const r = await run(['--database-url', url, 'migrate']);
  if (r.code !== 0) throw new Error(`migrate failed: ${r.err}`);
}

async function importWithCli(url, file) {
  const r = await run(['--database-url', url, '--json', 'import-tracks', file]);
  if (r.code !== 0) throw new Error(`import failed (${r.code}): ${r.err}`);
  const summary = JSON.parse(r.out);
  return { ...summary, maxRssMb: r.maxRssMb, cpuMs: r.cpuMs };
}

/** The file's rows as the raw baselines insert them: parsed and given ids before the clock starts. */
function prepareRows(file) {
  const records = parse(readFileSync(file), { bom: true });
  const map = mapHeader(records[0]);
  const fields = [...map.entries()];
  const artists = new Map();
  const albums = new Map();
  const tracks = [];
  const artistId = (ref) => {
    const key = ref.spotifyUri ?? ref.name;
    if (!artists.has(key)) artists.set(key, { id: randomUUID(), name: ref.name, uri: ref.spotifyUri ?? null });
    return artists.get(key).id;
  };
  for (let i = 1; i < records.length; i++) {
    const values = {};
    for (const [f, idx] of fields) values[f] = records[i][idx];
    const row = normaliseRow(values, i + 1, '');
    const aId = artistId(row.artist);
    let albumId = null;
    if (row.album) {
      const albumArtist = artistId(row.album.artist);
      const key = row.album.spotifyUri ?? `${albumArtist}/${row.album.title}`;
      if (!albums.has(key)) albums.set(key, { id: randomUUID(), title: row.album.title, artistId: albumArtist, year: row.album.releaseYear ?? null, uri: row.album.spotifyUri ?? null });
      albumId = albums.get(key).id;
    }
    tracks.push([randomUUID(), row.title, aId, albumId, row.durationMs ?? 0, row.trackNumber ?? null, row.discNumber ?? 1, row.spotifyUri ?? null, row.isrc ?? null]);
  }
  return { artists: [...artists.values()], albums: [...albums.values()], tracks };
}

let lastCpuMs = NaN;
function rawSqlite(path, rows) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  const ts = new Date().toISOString().replace('Z', '+00:00');
  const insArtist = db.prepare('INSERT INTO artists (id, name, spotify_uri, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
  const insAlbum = db.prepare('INSERT INTO albums (id, title, artist_id, release_year, spotify_uri, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const insTrack = db.prepare(
    'INSERT INTO tracks (id, title, artist_id, album_id, duration_ms, track_number, disc_number, spotify_uri, isrc, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  db.transaction(() => {
    for (const a of rows.artists) insArtist.run(a.id, a.name, a.uri, ts, ts);
    for (const a of rows.albums) insAlbum.run(a.id, a.title, a.artistId, a.year, a.uri, ts, ts);
    for (const t of rows.tracks) insTrack.run(...t, ts, ts);
  })();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  lastCpuMs = (cpu.user + cpu.system) / 1000;
  db.close();
  return ms;
}

const copyText = (rows) => rows.map((r) => r.map((v) => (v === null ? '\\N' : String(v).replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]))).join('\t')).join('\n') + '\n';

async function copyInto(client, table, columns, rows) {
  const stream = client.query(copyFrom(`COPY ${table} (${columns}) FROM STDIN`));
  await new Promise((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', resolve);
    stream.end(copyText(rows));
  });
}

async function rawCopy(url, rows) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const ts = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const artists = rows.artists.map((a) => [a.id, a.name, a.uri, ts, ts]);
  const albums = rows.albums.map((a) => [a.id, a.title, a.artistId, a.year, a.uri, ts, ts]);
  const tracks = rows.tracks.map((t) => [...t, ts, ts]);
  const t0 = performance.now();
  await client.query('BEGIN');
  await copyInto(client, 'artists', 'id, name, spotify_uri, created_at, updated_at', artists);
  await copyInto(client, 'albums', 'id, title, artist_id, release_year, spotify_uri, created_at, updated_at', albums);
  await copyInto(client, 'tracks', 'id, title, artist_id, album_id, duration_ms, track_number, disc_number, spotify_uri, isrc, created_at, updated_at', tracks);
  await client.query('COMMIT');
  const ms = performance.now() - t0;
  await client.end();
  return ms;
}

/** The OS writes back its dirty pages now, so a timed SQLite run does not pay for an earlier one's. */
function flushDisk() {
  try {
    execFileSync('sync');
  } catch {
    // no sync command: the runs share the disk as it is
  }
}

/** A checkpoint, so a timed run starts with no dirty pages of an earlier one (skipped without the privilege). */
async function settle() {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    await c.query('CHECKPOINT');
  } catch {
    // not a superuser (nor pg_checkpoint): the runs just share the server as it is
  } finally {
    await c.end();
  }
}

async function createPgDatabase() {
  const name = `soulspot_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

const results = [];
try {
  console.log(`import-tracks benchmark: ${fmt(ROWS)} exporter-CSV rows; ${cpus().length} CPU cores; Node ${process.version}`);
  const file = join(dir, 'tracks.csv');
  await writeExporterCsv(file, ROWS);
  const rows = prepareRows(file);
  console.log(`(${fmt(rows.artists.length)} artists, ${fmt(rows.albums.length)} albums, ${fmt(rows.tracks.length)} tracks)`);

  // Each side is measured ROUNDS times, alternating, on fresh databases; the table gives the
  // medians and each round's ratio (single runs on a shared 2-core machine vary by ±15%).
  const sqlite = { raw: [], rawParse: [], import: [], rawCpu: [], importCpu: [] };
  for (let round = 0; round < ROUNDS; round++) {
    const rawPath = join(dir, `raw-${round}.db`);
    await migrate(`file:${rawPath}`);
    flushDisk();
    sqlite.raw.push((ROWS * 1000) / rawSqlite(rawPath, rows));
    sqlite.rawCpu.push(lastCpuMs);
    // The same raw insert when the clock also covers reading the CSV with csv-parse (what a script
    // importing this file with the bare driver would do): shown for context, not the target.
    const rawPath2 = join(dir, `raw2-${round}.db`);
    await migrate(`file:${rawPath2}`);
    const parseStart = performance.now();
    const reparsed = prepareRows(file);
    const parseMs = performance.now() - parseStart;
    sqlite.rawParse.push((ROWS * 1000) / (parseMs + rawSqlite(rawPath2, reparsed)));
    const importPath = join(dir, `import-${round}.db`);
    await migrate(`file:${importPath}`);
    flushDisk();
    const imported = await importWithCli(`file:${importPath}`, file);
    sqlite.import.push((imported.read * 1000) / imported.elapsedMs);
    sqlite.importCpu.push(imported.cpuMs);
    for (const p of [rawPath, rawPath2, importPath]) for (const suffix of ['', '-wal', '-shm']) rmSync(p + suffix, { force: true });
  }
  // Each round's import against the baseline measured next to it; the table's ratio is the median
  // of those paired ratios.
  const ratios = (ours, base) => ours.map((x, i) => x / base[i]);
  results.push(['SQLite', 'raw better-sqlite3 prepared INSERT, 1 transaction (rows pre-parsed)', sqlite.raw, sqlite.import]);
  results.push(['SQLite', 'context: csv-parse + the same raw INSERT', sqlite.rawParse, sqlite.import]);
  console.log(
    `SQLite CPU time (less sensitive to other load on the machine): raw insert ${fmt(median(sqlite.rawCpu))} ms, import process ${fmt(median(sqlite.importCpu))} ms ` +
      `(medians; including Node start-up) = ${pct(median(sqlite.rawCpu) / median(sqlite.importCpu))} of the raw insert's speed`,
  );

  if (!args.includes('--skip-pg')) {
    const pgRuns = { copy: [], import: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const a = await createPgDatabase();
      const b = await createPgDatabase();
      try {
        await migrate(a.url);
        await migrate(b.url);
        await settle();
        pgRuns.copy.push((ROWS * 1000) / (await rawCopy(b.url, rows)));
        // The baseline's rows are dropped and flushed before the import starts, so the server's
        // background work on them (autovacuum, writing dirty pages) does not land in the import's time.
        await b.drop();
        await settle();
        const imported = await importWithCli(a.url, file);
        pgRuns.import.push((imported.read * 1000) / imported.elapsedMs);
      } finally {
        await a.drop();
        await b.drop();
      }
    }
    results.push(['PostgreSQL', 'COPY of the same rows, 1 transaction', pgRuns.copy, pgRuns.import]);
  }

  console.log(
    `\nThroughput (rows/s, median of ${ROUNDS} rounds; ratio: the median of each round's import / baseline; the import is timed from opening the file to the last commit, the baselines on pre-parsed rows)`,
  );
  console.table(
    results.map(([db, base, baseRates, ourRates]) => ({
      database: db,
      baseline: base,
      'baseline rows/s': fmt(median(baseRates)),
      'import rows/s': fmt(median(ourRates)),
      'import / baseline': pct(median(ratios(ourRates, baseRates))),
      'each round': ratios(ourRates, baseRates).map(pct).join(', '),
    })),
  );

  if (!args.includes('--skip-memory')) {
    const small = join(dir, 'small.csv');
    const big = join(dir, 'big.csv');
    await writeExporterCsv(small, 10_000);
    await writeExporterCsv(big, MEMORY_ROWS);
    const targets = [['SQLite', async () => ({ url: `file:${join(dir, `mem-${randomUUID()}.db`)}`, drop: async () => {} })]];
    if (!args.includes('--skip-pg')) targets.push(['PostgreSQL', createPgDatabase]);
    const memory = [];
    const ratios = [];
    for (const [database, create] of targets) {
      const peaks = [];
      for (const [label, f] of [
        ['10,000 rows', small],
        [`${fmt(MEMORY_ROWS)} rows`, big],
      ]) {
        const target = await create();
        try {
          await migrate(target.url);
          const r = await importWithCli(target.url, f);
          peaks.push(r.maxRssMb);
          memory.push({ database, rows: label, 'peak RSS (MB)': r.maxRssMb.toFixed(1), 'rows/s': fmt(r.rowsPerSecond) });
        } finally {
          await target.drop();
        }
      }
      ratios.push(`${database} ${(peaks[1] / peaks[0]).toFixed(2)}x`);
    }
    console.log('\nPeak memory of the import process');
    console.table(memory);
    console.log(`peak RSS ${fmt(MEMORY_ROWS)} rows / 10,000 rows: ${ratios.join(', ')} (target at most 1.5x)`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
