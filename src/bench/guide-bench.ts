import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { openDatabase, type Database } from '../db/client.js';
import { applyMigrations } from '../migrate/migrator.js';
import { createPgPool, pgConnectionString } from '../db/pool.js';
import { sqliteTimestamp } from '../db/sqlite-values.js';
import { InterruptedError, UsageError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { PlaylistRepository, TrackRepository, type TrackInput } from '../repositories/index.js';
import { LRUCache } from '../cache/index.js';
import { CachedTrackReader } from '../cache/cached-track-reader.js';
import { importTracks } from '../import/import-service.js';
import { FakeSpotify } from './fake-spotify/server.js';
import { SpotifyFetcher } from '../spotify/fetcher.js';
import { loadSpotifyConfig } from '../spotify/config.js';

/** The rows of the original guide's "Expected Improvements" table. */
export const BENCH_ROWS = ['playlists', 'bulk-insert', 'album-query', 'cache-hit', 'spotify-batch'] as const;
export type BenchRowId = (typeof BENCH_ROWS)[number];
export type BenchScale = 'small' | 'medium' | 'large';

interface ScaleSettings {
  playlists: number;
  tracksPerPlaylist: number;
  /** Tracks in the library for the album query. */
  libraryTracks: number;
  tracksPerAlbum: number;
  repetitions: number;
  /** Latency of the fake Spotify API per request (ms). */
  spotifyLatencyMs: number;
  /** Reads timed per sample for sub-millisecond operations. */
  readsPerSample: number;
}

export const SCALES: Record<BenchScale, ScaleSettings> = {
  small: { playlists: 10, tracksPerPlaylist: 20, libraryTracks: 5_000, tracksPerAlbum: 12, repetitions: 3, spotifyLatencyMs: 20, readsPerSample: 50 },
  medium: { playlists: 100, tracksPerPlaylist: 50, libraryTracks: 100_000, tracksPerAlbum: 12, repetitions: 5, spotifyLatencyMs: 100, readsPerSample: 200 },
  large: { playlists: 200, tracksPerPlaylist: 100, libraryTracks: 500_000, tracksPerAlbum: 12, repetitions: 7, spotifyLatencyMs: 100, readsPerSample: 500 },
};

/** Median and spread of one side, in milliseconds per operation. */
export interface Timing {
  median_ms: number;
  min_ms: number;
  max_ms: number;
  samples: number;
}

/** One measured line of the table. */
export interface BenchRow {
  id: BenchRowId;
  label: string;
  before: { method: string; timing: Timing; count: number };
  after: { method: string; timing: Timing; count: number };
  /** Extra "after" measurements (the import fast path for bulk insert). */
  alternatives?: Array<{ method: string; timing: Timing; count: number; factor: number }>;
  /** What `count` counts: SQL statements or HTTP requests, per operation. */
  unit: 'statements' | 'requests';
  factor: number;
  claimed: { before: string; after: string; factor: number };
}

export interface BenchReport {
  provider: Config['provider'];
  scale: BenchScale;
  /** Where the throwaway data lived (never the user's data). */
  workspace: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  rows: BenchRow[];
}

export interface BenchOptions {
  scale?: BenchScale;
  only?: BenchRowId[];
  repetitions?: number;
  logger?: Logger;
  onRowStart?: (id: BenchRowId, label: string) => void;
  onRowDone?: (row: BenchRow) => void;
  /** Aborting (Ctrl-C) stops at the next repetition; the throwaway database is still removed. */
  signal?: AbortSignal;
}

function throwIfInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new InterruptedError('bench interrupted: no results printed (the throwaway benchmark database was removed)');
  }
}


const LABELS: Record<BenchRowId, string> = {
  playlists: 'List playlists with tracks',
  'bulk-insert': 'Bulk insert 100 tracks',
  'album-query': 'Tracks of one album (indexed query)',
  'cache-hit': 'Track metadata: cache hit vs database',
  'spotify-batch': 'Spotify fetch of 50 tracks',
};

const CLAIMS: Record<BenchRowId, BenchRow['claimed']> = {
  playlists: { before: '1 s', after: '200 ms', factor: 5 },
  'bulk-insert': { before: '5 s', after: '100 ms', factor: 50 },
  'album-query': { before: '500 ms', after: '50 ms', factor: 10 },
  'cache-hit': { before: '100 ms', after: '<1 ms', factor: 100 },
  'spotify-batch': { before: '50 s', after: '1 s', factor: 50 },
};

/** Parses `--only playlists,cache-hit` (names of BENCH_ROWS). */
export function parseRows(text: string): BenchRowId[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = ids.filter((id) => !(BENCH_ROWS as readonly string[]).includes(id));
  if (ids.length === 0 || unknown.length > 0) {
    throw new UsageError(`--only: expected a comma-separated list of ${BENCH_ROWS.join(', ')}, got "${text}"`);
  }
  return ids as BenchRowId[];
}

function timingOf(samplesMs: number[]): Timing {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median = sorted.length % 2 ? sorted[Math.floor(mid)] : (sorted[mid - 1] + sorted[mid]) / 2;
  const round = (x: number) => Math.round(x * 1e6) / 1e6; // to the nanosecond: cache hits take ~1 µs
  return { median_ms: round(median), min_ms: round(sorted[0]), max_ms: round(sorted.at(-1)!), samples: sorted.length };
}

/**
 * Times `op` `repetitions` times (after one warm-up), each sample divided by `perSample`
 * operations. `count` is what one operation costs (statements or requests), taken from the last run.
 */
async function measure(
  repetitions: number,
  perSample: number,
  op: (rep: number) => Promise<number>,
  signal?: AbortSignal,
): Promise<{ timing: Timing; count: number }> {
  await op(-1);
  const samples: number[] = [];
  let count = 0;
  for (let rep = 0; rep < repetitions; rep++) {
    throwIfInterrupted(signal);
    const t0 = performance.now();
    count = await op(rep);
    samples.push((performance.now() - t0) / perSample);
  }
  return { timing: timingOf(samples), count: count / perSample };
}

/** A migrated throwaway database: a temp SQLite file, or a temp schema in the PostgreSQL of DATABASE_URL. */
async function withWorkspace<T>(config: Config, fn: (db: Database, where: string) => Promise<T>): Promise<T> {
  if (config.provider === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'soulspot-bench-'));
    const url = `file:${join(dir, 'bench.db')}`;
    try {
      const benchConfig: Config = { ...config, databaseUrl: url, migrationsDir: undefined };
      await applyMigrations(benchConfig);
      const db = await openDatabase(benchConfig);
      try {
        return await fn(db, 'a temporary SQLite file');
      } finally {
        await db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const schema = `soulspot_bench_${randomBytes(6).toString('hex')}`;
  const url = new URL(pgConnectionString(config.databaseUrl));
  url.searchParams.set('schema', schema);
  const admin = createPgPool(config.databaseUrl, { ...config.pool, size: 0, maxOverflow: 1 });
  await admin.query(`CREATE SCHEMA "${schema}"`);
  try {
    const benchConfig: Config = { ...config, databaseUrl: url.toString(), migrationsDir: undefined };
    await applyMigrations(benchConfig);
    const db = await openDatabase(benchConfig);
    try {
      return await fn(db, `a temporary schema "${schema}" (dropped afterwards) of the PostgreSQL database`);
    } finally {
      await db.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
}

async function createArtistAndAlbum(db: Database, label: string): Promise<{ artistId: string; albumId: string }> {
  const artist = await db.prisma.artist.create({ data: { name: `Bench Artist ${label}` } });
  const album = await db.prisma.album.create({ data: { title: `Bench Album ${label}`, artistId: artist.id } });
  return { artistId: artist.id, albumId: album.id };
}

function trackInputs(n: number, artistId: string, albumId: string, prefix: string): TrackInput[] {
  return Array.from({ length: n }, (_, i) => ({ title: `${prefix} ${i + 1}`, artistId, albumId, trackNumber: i + 1, durationMs: 180_000 + i }));
}

/**
 * Inserts `count` tracks spread over albums of `perAlbum`, fast, with the raw driver (the data set
 * is only the stage of the album query; its own speed is import-tracks' benchmark).
 */
async function seedLibrary(db: Database, count: number, perAlbum: number): Promise<string[]> {
  const { artistId } = await createArtistAndAlbum(db, 'library');
  const albumIds: string[] = [];
  const now = new Date();
  const albums = Math.ceil(count / perAlbum);
  const chunk = 5_000;
  if (db.provider === 'sqlite') {
    const { default: Sqlite } = await import('better-sqlite3');
    const raw = new Sqlite(db.sqlitePath!, { timeout: 10_000 });
    try {
      const ts = sqliteTimestamp(now);
      const insAlbum = raw.prepare('INSERT INTO albums (id, title, artist_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
      const insTrack = raw.prepare(
        'INSERT INTO tracks (id, title, artist_id, album_id, track_number, disc_number, duration_ms, is_broken, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)',
      );
      raw.transaction(() => {
        for (let a = 0; a < albums; a++) {
          const albumId = randomUUID();
          albumIds.push(albumId);
          insAlbum.run(albumId, `Library Album ${a}`, artistId, ts, ts);
          for (let t = 0; t < perAlbum && a * perAlbum + t < count; t++) {
            insTrack.run(randomUUID(), `Library Track ${a}-${t}`, artistId, albumId, perAlbum - t, 1 + (t % 2), 200_000, ts, ts);
          }
        }
      })();
    } finally {
      raw.close();
    }
    return albumIds;
  }
  const pool = db.pgPool!;
  for (let a = 0; a < albums; a++) albumIds.push(randomUUID());
  for (let start = 0; start < albums; start += chunk) {
    const ids = albumIds.slice(start, start + chunk);
    await pool.query(
      `INSERT INTO albums (id, title, artist_id, created_at, updated_at)
       SELECT id, 'Library Album ' || id, $2, $3::timestamp, $3::timestamp FROM unnest($1::text[]) AS t(id)`,
      [ids, artistId, now.toISOString()],
    );
  }
  for (let start = 0; start < count; start += chunk) {
    const n = Math.min(chunk, count - start);
    const rows = Array.from({ length: n }, (_, i) => start + i);
    await pool.query(
      `INSERT INTO tracks (id, title, artist_id, album_id, track_number, disc_number, duration_ms, is_broken, created_at, updated_at)
       SELECT gen_random_uuid()::text, 'Library Track ' || t.k, $2, t.album_id, t.track_number, t.disc_number, 200000, false, $3::timestamp, $3::timestamp
         FROM unnest($1::int[], $4::text[], $5::int[], $6::int[]) AS t(k, album_id, track_number, disc_number)`,
      [
        rows,
        artistId,
        now.toISOString(),
        rows.map((k) => albumIds[Math.floor(k / perAlbum)]),
        rows.map((k) => perAlbum - (k % perAlbum)),
        rows.map((k) => 1 + ((k % perAlbum) % 2)),
      ],
    );
  }
  await pool.query('ANALYZE tracks');
  return albumIds;
}

const ALBUM_INDEXES = ['ix_tracks_album_track_number', 'ix_tracks_album_disc_track'];

/** Drops the album indexes, runs `fn`, and recreates them exactly as the migration made them. */
async function withoutAlbumIndexes<T>(db: Database, fn: () => Promise<T>): Promise<T> {
  const definitions: string[] = [];
  for (const name of ALBUM_INDEXES) {
    const rows =
      db.provider === 'sqlite'
        ? await db.prisma.$queryRawUnsafe<Array<{ sql: string }>>(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, name)
        : await db.prisma.$queryRawUnsafe<Array<{ sql: string }>>(`SELECT indexdef AS sql FROM pg_indexes WHERE schemaname = current_schema() AND indexname = $1`, name);
    if (!rows[0]) throw new Error(`index ${name} is missing from the benchmark database`);
    definitions.push(rows[0].sql);
    await db.prisma.$executeRawUnsafe(`DROP INDEX "${name}"`);
  }
  try {
    return await fn();
  } finally {
    for (const sql of definitions) await db.prisma.$executeRawUnsafe(sql);
  }
}

async function benchPlaylists(db: Database, s: ScaleSettings, reps: number, signal?: AbortSignal): Promise<BenchRow> {
  const { artistId, albumId } = await createArtistAndAlbum(db, 'playlists');
  const tracks = new TrackRepository(db);
  const ids = await tracks.addBatchReturningIds(trackInputs(s.playlists * s.tracksPerPlaylist, artistId, albumId, 'Playlist Track'));
  for (let p = 0; p < s.playlists; p++) {
    const playlist = await db.prisma.playlist.create({ data: { name: `Bench Playlist ${p}` } });
    await db.prisma.playlistTrack.createMany({
      data: ids.slice(p * s.tracksPerPlaylist, (p + 1) * s.tracksPerPlaylist).map((trackId, position) => ({ playlistId: playlist.id, trackId, position })),
    });
  }
  const repo = new PlaylistRepository(db);
  const expected = s.playlists * s.tracksPerPlaylist;
  const check = (n: number) => {
    if (n !== expected) throw new Error(`playlist benchmark read ${n} entries, expected ${expected}`);
  };
  // The naive way, as lazy loading does it (the original's pattern): the playlists, then per
  // playlist its entries, then per entry its track: 1 + N + N×M statements.
  const before = await measure(reps, 1, async () => {
    const { result, statements } = await db.queryLog.countDuring(async () => {
      const playlists = await db.prisma.playlist.findMany({ orderBy: { name: 'asc' } });
      let n = 0;
      for (const p of playlists) {
        const entries = await db.prisma.playlistTrack.findMany({ where: { playlistId: p.id }, orderBy: { position: 'asc' } });
        for (const entry of entries) {
          if (await db.prisma.track.findUnique({ where: { id: entry.trackId } })) n += 1;
        }
      }
      return n;
    });
    check(result);
    return statements;
  }, signal);
  const after = await measure(reps, 1, async () => {
    const { result, statements } = await db.queryLog.countDuring(() => repo.listAll({ pageSize: s.playlists }));
    check(result.reduce((n, p) => n + p.tracks.length, 0));
    return statements;
  }, signal);
  return row('playlists', `N+1 lazy loading (${s.playlists} playlists × ${s.tracksPerPlaylist} tracks)`, before, 'include-based eager loading (PlaylistRepository.listAll)', after, 'statements');
}

async function benchBulkInsert(db: Database, reps: number, signal?: AbortSignal): Promise<BenchRow> {
  const { artistId, albumId } = await createArtistAndAlbum(db, 'bulk');
  const tracks = new TrackRepository(db);
  let batch = 0;
  const before = await measure(reps, 1, async () => {
    const inputs = trackInputs(100, artistId, albumId, `Single ${batch++}`);
    const { statements } = await db.queryLog.countDuring(async () => {
      for (const t of inputs) await db.prisma.track.create({ data: t });
    });
    return statements;
  }, signal);
  const after = await measure(reps, 1, async () => {
    const inputs = trackInputs(100, artistId, albumId, `Batch ${batch++}`);
    const { result, statements } = await db.queryLog.countDuring(() => tracks.addBatch(inputs));
    if (result !== 100) throw new Error(`addBatch inserted ${result} of 100 tracks`);
    return statements;
  }, signal);
  // The import fast path (raw driver, one transaction) on a 100-row CSV, like `import-tracks`.
  const dir = mkdtempSync(join(tmpdir(), 'soulspot-bench-import-'));
  try {
    const fast = await measure(reps, 1, async () => {
      const file = join(dir, `batch-${batch++}.csv`);
      const lines = ['title,artist,album,track_number,duration_ms'];
      for (let i = 1; i <= 100; i++) lines.push(`Fast ${batch} ${i},Bench Artist bulk,Bench Album bulk,${i},${180_000 + i}`);
      writeFileSync(file, `${lines.join('\n')}\n`);
      const summary = await importTracks(db, { input: file, cwd: dir });
      if (summary.inserted !== 100) throw new Error(`the import fast path inserted ${summary.inserted} of 100 tracks`);
      return Number.NaN; // its statements run on the raw driver, outside Prisma's query log
    }, signal);
    const result = row('bulk-insert', '100 single creates', before, 'TrackRepository.addBatch (one bound multi-row statement)', after, 'statements');
    result.alternatives = [{ method: 'import-tracks fast path (raw driver, one transaction)', ...fast, factor: round2(before.timing.median_ms / fast.timing.median_ms) }];
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchAlbumQuery(db: Database, s: ScaleSettings, reps: number, signal?: AbortSignal): Promise<BenchRow> {
  const albumIds = await seedLibrary(db, s.libraryTracks, s.tracksPerAlbum);
  const tracks = new TrackRepository(db);
  const pick = (rep: number, i: number) => albumIds[Math.abs((rep + 2) * 7919 + i * 104_729) % albumIds.length];
  const run = async (rep: number, perSample: number) => {
    const { statements } = await db.queryLog.countDuring(async () => {
      for (let i = 0; i < perSample; i++) {
        const list = await tracks.listByAlbum(pick(rep, i));
        if (list.length === 0) throw new Error('album query found no tracks');
      }
    });
    return statements;
  };
  const perSampleAfter = Math.max(10, Math.floor(s.readsPerSample / 4));
  const after = await measure(reps, perSampleAfter, (rep) => run(rep, perSampleAfter), signal);
  // Without the indexes every query scans the whole table: fewer per sample keep the run short.
  const perSampleBefore = 5;
  const before = await withoutAlbumIndexes(db, () => measure(reps, perSampleBefore, (rep) => run(rep, perSampleBefore), signal));
  return row(
    'album-query',
    `no index (${s.libraryTracks.toLocaleString('en-US')} tracks, full scan)`,
    before,
    "the migrations' album indexes",
    after,
    'statements',
  );
}

async function benchCacheHit(db: Database, s: ScaleSettings, reps: number, signal?: AbortSignal): Promise<BenchRow> {
  const { artistId, albumId } = await createArtistAndAlbum(db, 'cache');
  const repo = new TrackRepository(db);
  const ids = await repo.addBatchReturningIds(trackInputs(100, artistId, albumId, 'Cached Track'));
  const reader = new CachedTrackReader({ getManyByIds: (x) => repo.getManyByIds(x) }, new LRUCache({ maxSize: 1_000 }));
  await reader.getManyByIds(ids); // warm: every read below is a hit
  const n = s.readsPerSample;
  const before = await measure(reps, n, async () => {
    const { statements } = await db.queryLog.countDuring(async () => {
      for (let i = 0; i < n; i++) if (!(await repo.getById(ids[i % ids.length]))) throw new Error('track vanished');
    });
    return statements;
  }, signal);
  const hitsPerSample = n * 50;
  const after = await measure(reps, hitsPerSample, async () => {
    const { statements } = await db.queryLog.countDuring(async () => {
      for (let i = 0; i < hitsPerSample; i++) if (!(await reader.getById(ids[i % ids.length]))) throw new Error('cache lost a track');
    });
    return statements;
  }, signal);
  return row('cache-hit', 'database read (TrackRepository.getById)', before, 'LRU cache hit (CachedTrackReader)', after, 'statements');
}

async function benchSpotify(s: ScaleSettings, reps: number, signal?: AbortSignal): Promise<BenchRow> {
  const fake = await FakeSpotify.start({ latencyMs: s.spotifyLatencyMs });
  try {
    const config = loadSpotifyConfig(fake.env({ SPOTIFY_CONCURRENCY: '1' }));
    let round = 0;
    const idsFor = () => Array.from({ length: 50 }, (_, i) => `r${String(round).padStart(4, '0')}x${String(i).padStart(16, '0')}`);
    const fetch = async (perTrack: boolean) => {
      round++;
      const ids = idsFor();
      const fetcher = new SpotifyFetcher(config);
      fake.resetStats();
      const report = await fetcher.fetchTracks(ids, { perTrack });
      if (report.tracks.length !== 50) throw new Error(`fetched ${report.tracks.length} of 50 tracks`);
      return fake.stats.apiRequests;
    };
    const before = await measure(reps, 1, () => fetch(true), signal);
    const after = await measure(reps, 1, () => fetch(false), signal);
    return row('spotify-batch', `one request per track, in a loop (fake API, ${s.spotifyLatencyMs} ms latency)`, before, 'one request of 50 ids', after, 'requests');
  } finally {
    await fake.close();
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function row(
  id: BenchRowId,
  beforeMethod: string,
  before: { timing: Timing; count: number },
  afterMethod: string,
  after: { timing: Timing; count: number },
  unit: BenchRow['unit'],
): BenchRow {
  return {
    id,
    label: LABELS[id],
    before: { method: beforeMethod, ...before },
    after: { method: afterMethod, ...after },
    unit,
    factor: round2(before.timing.median_ms / after.timing.median_ms),
    claimed: CLAIMS[id],
  };
}

/**
 * `soulspot bench`: measures each row of the original guide's table, before (the naive way) and
 * after (the way soulspot does it), in a throwaway database that is removed afterwards.
 */
export async function runGuideBench(config: Config, options: BenchOptions = {}): Promise<BenchReport> {
  const scale = options.scale ?? 'small';
  const s = SCALES[scale];
  const reps = options.repetitions ?? s.repetitions;
  const wanted = options.only ?? [...BENCH_ROWS];
  const logger = options.logger ?? silentLogger;
  const rows: BenchRow[] = [];
  const workspace = await withWorkspace(config, async (db, where) => {
    for (const id of BENCH_ROWS.filter((r) => wanted.includes(r))) {
      throwIfInterrupted(options.signal);
      options.onRowStart?.(id, LABELS[id]);
      logger.debug(`bench: ${id}`);
      let result: BenchRow;
      if (id === 'playlists') result = await benchPlaylists(db, s, reps, options.signal);
      else if (id === 'bulk-insert') result = await benchBulkInsert(db, reps, options.signal);
      else if (id === 'album-query') result = await benchAlbumQuery(db, s, reps, options.signal);
      else if (id === 'cache-hit') result = await benchCacheHit(db, s, reps, options.signal);
      else result = await benchSpotify(s, reps, options.signal);
      rows.push(result);
      options.onRowDone?.(result);
    }
    return where;
  });
  const cpu = cpus();
  return {
    provider: config.provider,
    scale,
    workspace,
    machine: { cpus: cpu.length, cpuModel: cpu[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform}-${process.arch}` },
    rows,
  };
}

