#!/usr/bin/env node
// Benchmark of `soulspot import-tracks` against the raw drivers and sqlite-utils, side by side in one run.
//
//   npm run build && node bench/import.mjs [--rows 100000] [--rounds 3] [--skip-pg] [--scale [--scale-only]] [--scale-rows 1000000]
//
// 1. SQLite: N exporter-CSV rows imported by the CLI into a fresh migrated file, vs a raw
//    better-sqlite3 prepared-statement insert of the same rows (artists, albums, tracks; parsed
//    beforehand, not timed) into the same schema in one transaction, and vs the whole process of
//    `sqlite-utils insert db tracks file.csv --csv` (Debian's package; installed with apt-get when
//    missing) against the whole `soulspot import-tracks` process.
// 2. PostgreSQL: the same import vs COPY of the same rows into the same schema.
// 3. --scale: 1,000,000 rows (--scale-rows) on both providers: peak RSS of the import process at
//    10,000 rows and at 1M, and on PostgreSQL the re-import of unchanged rows, per row, at N and 1M
//    (--rounds alternating rounds).
//    --scale-only runs just that part.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { parse } from 'csv-parse/sync';
import { writeExporterCsv } from '../dist/bench/sample-data.js';
import { normaliseRow, mapHeader } from '../dist/import/parse/normalize.js';
import { openSqliteImportStore } from '../dist/import/store/sqlite.js';
import { runMeasuredCli } from './lib/measured-cli.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const ROWS = flag('--rows', 100_000);
const SCALE_ROWS = flag('--scale-rows', flag('--memory-rows', 1_000_000));
const SCALE_ONLY = args.includes('--scale-only');
const SCALE = SCALE_ONLY || args.includes('--scale');
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
const load = () => `load average ${loadavg().map((x) => x.toFixed(2)).join(' / ')} (1 / 5 / 15 min)`;

const run = runMeasuredCli;

async function migrate(url) {
  const r = await run(['--database-url', url, 'migrate']);
  if (r.code !== 0) throw new Error(`migrate failed: ${r.err}`);
}

async function importWithCli(url, file) {
  const r = await run(['--database-url', url, '--json', 'import-tracks', file]);
  if (r.code !== 0) throw new Error(`import failed (${r.code}): ${r.err}`);
  const summary = JSON.parse(r.out);
  return { ...summary, maxRssMb: r.maxRssMb, cpuMs: r.cpuMs, wallMs: r.wallMs };
}

/** sqlite-utils from Debian's package, installed when missing (the benchmark runs as root on the CI machines). */
function ensureSqliteUtils() {
  const has = () => spawnSync('sqlite-utils', ['--version'], { stdio: 'ignore' }).status === 0;
  if (has()) return;
  console.log('sqlite-utils is missing: apt-get install -y sqlite-utils');
  let r = spawnSync('apt-get', ['install', '-y', 'sqlite-utils'], { stdio: 'inherit' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    r = spawnSync('apt-get', ['install', '-y', 'sqlite-utils'], { stdio: 'inherit' });
  }
  if (r.status !== 0 || !has()) throw new Error('sqlite-utils is not installed and apt-get install -y sqlite-utils failed; install it (Debian package sqlite-utils) and run again');
}

/** The whole `sqlite-utils insert db tracks file.csv --csv` process (a flat table, no indexes), in ms. */
function sqliteUtilsInsert(path, file) {
  const t0 = performance.now();
  const r = spawnSync('sqlite-utils', ['insert', path, 'tracks', file, '--csv'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`sqlite-utils insert failed (${r.status}): ${r.stderr}`);
  return ms;
}

/** The file's rows as the raw baselines insert them: parsed and given ids before the clock starts. */
function prepareRows(file) {
  const records = parse(readFileSync(file), { bom: true });
  const map = mapHeader(records[0]);
  const fields = [...map.entries()];
  const artists = new Map();
  const albums = new Map();
  const tracks = [];
  // The artists each track credits after its first, comma-joined: what the import writes to
  // track_artists (the raw baselines leave that table empty).
  const credits = [];
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
    credits.push(row.credits ? row.credits.map(artistId).join(',') : '');
  }
  return { artists: [...artists.values()], albums: [...albums.values()], tracks, credits };
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
  // Closed inside the clock, as the import's time ends with its store closed: the close writes
  // back what the commit left in the WAL and syncs the file (the last connection checkpoints).
  db.close();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  lastCpuMs = (cpu.user + cpu.system) / 1000;
  return ms;
}

/**
 * The import's own SQLite writes of the same rows, through its store (src/import/store/sqlite.ts)
 * as a bulk load runs them: deferred indexes dropped, artists, albums, then tracks and their
 * credits in chunks of 1,000, the indexes built again, one transaction; no parsing, no planning.
 * What the import cannot go below on one writing thread. Timed like the raw insert, to the store closed.
 */
async function storeWrites(path, rows) {
  const store = openSqliteImportStore(path, 5000);
  const now = new Date();
  const artists = rows.artists.map((a) => ({ id: a.id, name: a.name, spotifyUri: a.uri }));
  const albums = rows.albums.map((a) => ({ id: a.id, title: a.title, artistId: a.artistId, releaseYear: a.year, spotifyUri: a.uri }));
  const tracks = rows.tracks.map((t, i) => ({
    id: t[0], title: t[1], artistId: t[2], albumId: t[3], durationMs: t[4], trackNumber: t[5], discNumber: t[6], spotifyUri: t[7], isrc: t[8],
    musicbrainzId: null, filePath: null, fileSize: null, audioBitrate: null, audioFormat: null, audioSampleRate: null, credits: rows.credits[i],
  }));
  const t0 = performance.now();
  await store.transaction(async () => {
    const restore = await store.deferIndexes();
    await store.insertArtists(artists, now);
    await store.insertAlbums(albums, now);
    for (let i = 0; i < tracks.length; i += 1000) {
      const chunk = tracks.slice(i, i + 1000);
      await store.insertTracks(chunk, now);
      await store.writeCredits(chunk.filter((t) => t.credits), false);
    }
    await restore();
  });
  await store.close();
  return performance.now() - t0;
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


/** The side-by-side comparisons at ROWS rows: SQLite against the raw insert and sqlite-utils, PostgreSQL against COPY. */
async function compare(file) {
  ensureSqliteUtils();
  const rows = prepareRows(file);
  console.log(`(${fmt(rows.artists.length)} artists, ${fmt(rows.albums.length)} albums, ${fmt(rows.tracks.length)} tracks)`);
  const results = [];
  // Each side is measured ROUNDS times, alternating, on fresh databases; the table gives the
  // medians and each round's ratio (single runs on a shared 2-core machine vary by ±15%).
  const sqlite = { raw: [], rawParse: [], store: [], import: [], rawCpu: [], importCpu: [], importWall: [], sqliteUtils: [] };
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
    // The import's own writes alone (its store, pre-planned rows): its ceiling on one writing thread.
    const storePath = join(dir, `store-${round}.db`);
    await migrate(`file:${storePath}`);
    flushDisk();
    sqlite.store.push((ROWS * 1000) / (await storeWrites(storePath, rows)));
    // sqlite-utils and the import, whole processes, in turns (which goes first alternates).
    const importPath = join(dir, `import-${round}.db`);
    const utilsPath = join(dir, `utils-${round}.db`);
    await migrate(`file:${importPath}`);
    const runImport = async () => {
      flushDisk();
      const imported = await importWithCli(`file:${importPath}`, file);
      sqlite.import.push((imported.read * 1000) / imported.elapsedMs);
      sqlite.importCpu.push(imported.cpuMs);
      sqlite.importWall.push(imported.wallMs);
    };
    const runUtils = () => {
      flushDisk();
      sqlite.sqliteUtils.push(sqliteUtilsInsert(utilsPath, file));
    };
    if (round % 2 === 0) {
      await runImport();
      runUtils();
    } else {
      runUtils();
      await runImport();
    }
    for (const p of [rawPath, rawPath2, storePath, importPath, utilsPath]) for (const suffix of ['', '-wal', '-shm']) rmSync(p + suffix, { force: true });
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
  const storeRatios = ratios(sqlite.store, sqlite.raw);
  console.log(
    `SQLite ceiling: the import's own writes alone (its store on pre-planned rows: no parsing, no planning; with the ${fmt(rows.credits.filter(Boolean).length)} ` +
      `credit rows the raw insert does not write) ran at ${fmt(median(sqlite.store))} rows/s = ${pct(median(storeRatios))} of the raw insert (each round ${storeRatios.map(pct).join(', ')})`,
  );
  const wallRatios = ratios(sqlite.importWall, sqlite.sqliteUtils);
  console.log(`\nWhole processes on SQLite, wall time (median of ${ROUNDS} alternating rounds; ${load()})`);
  console.table([
    {
      command: `sqlite-utils insert db tracks file.csv --csv (flat table, no indexes)`,
      'wall s (median)': (median(sqlite.sqliteUtils) / 1000).toFixed(2),
      'each round': sqlite.sqliteUtils.map((x) => (x / 1000).toFixed(2)).join(', '),
    },
    {
      command: 'node bin/soulspot.js import-tracks file.csv (fresh migrated file)',
      'wall s (median)': (median(sqlite.importWall) / 1000).toFixed(2),
      'each round': sqlite.importWall.map((x) => (x / 1000).toFixed(2)).join(', '),
    },
  ]);
  console.log(`import-tracks / sqlite-utils wall time: ${median(wallRatios).toFixed(2)}x (each round ${wallRatios.map((x) => x.toFixed(2)).join(', ')}; target at most 1.00x)`);

  if (!args.includes('--skip-pg')) {
    const pgRuns = { copy: [], import: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const a = await createPgDatabase();
      const b = await createPgDatabase();
      try {
        await migrate(a.url);
        await migrate(b.url);
        await settle();
        const copyRound = async () => {
          pgRuns.copy.push((ROWS * 1000) / (await rawCopy(b.url, rows)));
          // The baseline's rows are dropped and flushed before the import starts, so the server's
          // background work on them (autovacuum, writing dirty pages) does not land in the import's time.
          await b.drop();
          await settle();
        };
        const importRound = async () => {
          const imported = await importWithCli(a.url, file);
          pgRuns.import.push((imported.read * 1000) / imported.elapsedMs);
          await a.drop();
          await settle();
        };
        if (round % 2 === 0) {
          await copyRound();
          await importRound();
        } else {
          await importRound();
          await copyRound();
        }
      } finally {
        await a.drop();
        await b.drop();
      }
    }
    results.push(['PostgreSQL', 'COPY of the same rows, 1 transaction', pgRuns.copy, pgRuns.import]);
  }

  console.log(
    `\nThroughput (rows/s, median of ${ROUNDS} alternating rounds; ratio: the median of each round's import / baseline; the import is timed from opening the file to its database closed, the baselines on pre-parsed rows to theirs; ${load()})`,
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

}

try {
  console.log(`import-tracks benchmark: ${fmt(ROWS)} exporter-CSV rows; ${cpus().length} CPU cores; Node ${process.version}; ${load()}`);
  const file = join(dir, 'tracks.csv');
  await writeExporterCsv(file, ROWS);
  if (!SCALE_ONLY) await compare(file);

  if (SCALE) {
    const small = join(dir, 'small.csv');
    const big = join(dir, 'big.csv');
    await writeExporterCsv(small, 10_000);
    await writeExporterCsv(big, SCALE_ROWS);
    const targets = [['SQLite', async () => ({ url: `file:${join(dir, `mem-${randomUUID()}.db`)}`, drop: async () => {} })]];
    if (!args.includes('--skip-pg')) targets.push(['PostgreSQL', createPgDatabase]);
    const memory = [];
    const memoryRatios = [];
    // The PostgreSQL database holding the SCALE_ROWS import, kept for the re-imports below.
    let big1m;
    for (const [database, create] of targets) {
      const peaks = [];
      for (const [label, f, rowCount] of [
        ['10,000 rows', small, 10_000],
        [`${fmt(SCALE_ROWS)} rows`, big, SCALE_ROWS],
      ]) {
        const target = await create();
        try {
          await migrate(target.url);
          const r = await importWithCli(target.url, f);
          peaks.push(r.maxRssMb);
          memory.push({ database, rows: label, 'peak RSS (MB)': r.maxRssMb.toFixed(1), 'rows/s': fmt(r.rowsPerSecond), 'wall s': (r.wallMs / 1000).toFixed(1) });
          if (database === 'PostgreSQL' && rowCount === SCALE_ROWS) big1m = target;
        } finally {
          if (target !== big1m) await target.drop();
        }
      }
      memoryRatios.push(`${database} ${(peaks[1] / peaks[0]).toFixed(2)}x`);
    }
    // Re-importing each file into the database it was imported into (every row found unchanged):
    // ROWS and SCALE_ROWS in turns (which goes first alternates), the server checkpointed before each.
    const reimport = { small: [], big: [] };
    if (big1m) {
      let target;
      try {
        target = await createPgDatabase();
        await migrate(target.url);
        await importWithCli(target.url, file);
        const perRow = async (url, f, into) => {
          await settle();
          const again = await importWithCli(url, f);
          if (again.unchanged !== again.read) throw new Error(`re-import found ${again.unchanged} of ${again.read} rows unchanged`);
          into.push((again.elapsedMs * 1000) / again.read);
        };
        for (let round = 0; round < ROUNDS; round++) {
          if (round % 2 === 0) {
            await perRow(target.url, file, reimport.small);
            await perRow(big1m.url, big, reimport.big);
          } else {
            await perRow(big1m.url, big, reimport.big);
            await perRow(target.url, file, reimport.small);
          }
        }
      } finally {
        await target?.drop();
        await big1m.drop();
      }
    }
    console.log(`\nScale: peak memory of the import process (${load()})`);
    console.table(memory);
    console.log(`peak RSS ${fmt(SCALE_ROWS)} rows / 10,000 rows: ${memoryRatios.join(', ')} (target at most 1.5x)`);
    if (reimport.big.length) {
      const ratios = reimport.big.map((b, i) => b / reimport.small[i]);
      console.log(`\nPostgreSQL: re-importing the same file into the database it was imported into (every row unchanged), µs a row, ${ROUNDS} alternating rounds (${load()})`);
      console.table([
        { rows: fmt(ROWS), 'µs a row (median)': median(reimport.small).toFixed(1), 'each round': reimport.small.map((x) => x.toFixed(1)).join(', ') },
        { rows: fmt(SCALE_ROWS), 'µs a row (median)': median(reimport.big).toFixed(1), 'each round': reimport.big.map((x) => x.toFixed(1)).join(', ') },
      ]);
      console.log(`per row, ${fmt(SCALE_ROWS)} / ${fmt(ROWS)} rows: ${median(ratios).toFixed(2)}x (each round ${ratios.map((x) => x.toFixed(2)).join(', ')}; target at most 1.00x)`);
    }
  }
  console.log(`\n(${load()})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
