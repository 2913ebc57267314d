import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Database from 'better-sqlite3';
import pg from 'pg';
import { sqliteFilePath } from '../../src/database-url.js';
import { withDatabase } from '../../src/db/client.js';
import { DatabaseError } from '../../src/errors.js';
import { importTracks, type ImportOptions } from '../../src/import/import-service.js';
import { BatchImporter } from '../../src/import/batch-importer.js';
import { openRecordSource, rowOrReject } from '../../src/import/parse/formats.js';
import type { TrackRow } from '../../src/import/parse/normalize.js';
import { DEFERRED_TRACK_INDEXES, openImportStore } from '../../src/import/store/index.js';
import { EXPORTER_HEADER, exporterRow } from '../../src/bench/sample-data.js';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';

// The bulk load (import-service.ts BULK_BATCH_ROWS): into a small tracks table the first batch is
// large, and the indexes the import does not read are dropped in its transaction and built again
// before its commit. Whatever happens to that transaction, the indexes must be there, valid,
// exactly as migrated. The CLI part runs the build (npx tsc -p tsconfig.json first).
const BIN = join(process.cwd(), 'bin/soulspot.js');

/** The tracks' indexes as the catalog defines them, and whether the database finds them sound. */
async function trackIndexes(url: string, provider: string): Promise<{ definitions: string[]; sound: boolean }> {
  if (provider === 'sqlite') {
    const db = new Database(sqliteFilePath(url), { readonly: true, timeout: 10_000 });
    try {
      const rows = db.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tracks' ORDER BY name").all() as Array<{ name: string; sql: string | null }>;
      // integrity_check compares every index with the table, entry by entry.
      const check = db.prepare('PRAGMA integrity_check').pluck().all() as string[];
      return { definitions: rows.map((r) => `${r.name}: ${r.sql ?? '(automatic)'}`), sound: check.length === 1 && check[0] === 'ok' };
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query<{ name: string; definition: string; valid: boolean; ready: boolean }>(
      `SELECT i.indexname AS name, i.indexdef AS definition, x.indisvalid AS valid, x.indisready AS ready
       FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname AND c.relnamespace = current_schema()::regnamespace
       JOIN pg_index x ON x.indexrelid = c.oid WHERE i.schemaname = current_schema() AND i.tablename = 'tracks' ORDER BY i.indexname`,
    );
    // The planner reaches a rebuilt index and it answers like the table does.
    const scan = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM tracks WHERE updated_at > '1900-01-01'");
    await c.query('SET enable_seqscan = off');
    const viaIndex = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM tracks WHERE updated_at > '1900-01-01'");
    return { definitions: rows.map((r) => `${r.name}: ${r.definition}`), sound: rows.every((r) => r.valid && r.ready) && scan.rows[0].n === viaIndex.rows[0].n };
  } finally {
    await c.end();
  }
}

async function trackCount(url: string, provider: string, table = 'tracks'): Promise<number> {
  if (provider === 'sqlite') {
    const db = new Database(sqliteFilePath(url), { readonly: true, timeout: 10_000 });
    try {
      return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  } finally {
    await c.end();
  }
}

/** Resolves once the import's bulk transaction is open and has dropped an index (PostgreSQL) or holds the write lock (SQLite). */
async function bulkTransactionOpen(url: string, provider: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('the import never opened its bulk transaction');
    if (provider === 'sqlite') {
      const db = new Database(sqliteFilePath(url), { timeout: 0 });
      try {
        db.exec('BEGIN IMMEDIATE');
        db.exec('ROLLBACK');
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_BUSY') return;
        throw error;
      } finally {
        db.close();
      }
    } else {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        // DROP INDEX holds the index itself in AccessExclusiveLock until the transaction ends.
        const { rows } = await c.query(
          `SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = $1 AND l.mode = 'AccessExclusiveLock' AND l.granted`,
          ['ix_tracks_updated_at'],
        );
        if (rows.length) return;
      } finally {
        await c.end();
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const rowsOf = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => exporterRow(from + i)).join('\n');

/** Exporter rows from..to as the parser hands them to the importer. */
async function trackRows(dir: string, from: number, to: number): Promise<TrackRow[]> {
  const path = join(dir, `rows-${from}-${to}.csv`);
  writeFileSync(path, `${EXPORTER_HEADER}\n${rowsOf(from, to)}\n`);
  const source = await openRecordSource(path);
  const rows: TrackRow[] = [];
  try {
    for await (const group of source.records) {
      for (const record of group) {
        const read = rowOrReject(record);
        if (!('row' in read)) throw new Error(`row refused: ${read.reject.reason}`);
        rows.push(read.row);
      }
    }
  } finally {
    source.close();
  }
  return rows;
}

describe.each(providers)('bulk load on %s', (provider) => {
  let tdb: TestDatabase;
  let work: string;
  let migrated: { definitions: string[]; sound: boolean };
  const run = (options: Partial<ImportOptions> & { input: string }) => withDatabase(tdb.config, (d) => importTracks(d, { cwd: work, ...options }));

  beforeEach(async () => {
    tdb = await createMigratedDatabase(provider);
    work = mkdtempSync(join(tmpdir(), 'soulspot-bulk-'));
    migrated = await trackIndexes(tdb.url, provider);
  });
  afterEach(async () => {
    await tdb.drop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the migrated schema has the indexes a bulk load defers', () => {
    for (const name of DEFERRED_TRACK_INDEXES) expect(migrated.definitions.some((d) => d.startsWith(`${name}: `))).toBe(true);
    expect(migrated.sound).toBe(true);
  });

  test('success: one bulk batch into the empty table; the indexes come back as migrated, valid; duplicates are still found', async () => {
    const input = join(work, 'tracks.csv');
    // 3,000 tracks, then 200 of them again (a re-listed URI, found by the filter of this batch's keys).
    writeFileSync(input, `${EXPORTER_HEADER}\n${rowsOf(0, 3000)}\n${rowsOf(1000, 1200)}\n`);
    const s = await run({ input, chunkRows: 250 });
    expect(s).toMatchObject({ read: 3200, inserted: 3000, duplicates: 200, rejected: 0, batches: 1 });
    expect(await trackIndexes(tdb.url, provider)).toEqual(migrated);
    // A second file into the now larger table: ordinary batches, the same indexes.
    const more = join(work, 'more.csv');
    writeFileSync(more, `${EXPORTER_HEADER}\n${rowsOf(2500, 3500)}\n`);
    expect(await run({ input: more, batchSize: 300 })).toMatchObject({ read: 1000, inserted: 500, unchanged: 500, batches: 4 });
    expect(await trackIndexes(tdb.url, provider)).toEqual(migrated);
  }, 60_000);

  test('a bulk load into an empty table counts its repeated rows as duplicates, and so does a later batch of the same run', async () => {
    // The bulk batch owns every track it finds (no seen-id lookups) and writes its seen ids only
    // when another batch starts: the later batch must still see its tracks as matched by this run.
    await withDatabase(tdb.config, async (d) => {
      const store = await openImportStore(d, { busyTimeoutMs: 10_000 });
      try {
        const importer = new BatchImporter(store);
        const chunks = [await trackRows(work, 500, 1000), [...(await trackRows(work, 100, 150)), ...(await trackRows(work, 1000, 1100))]];
        const bulk = await importer.writeBatch(await trackRows(work, 0, 500), async () => chunks.shift(), { expectedRows: 1100 });
        expect(bulk).toMatchObject({ rows: 1150, inserted: 1100, duplicates: 50, unchanged: 0 });
        const later = await importer.writeBatch([...(await trackRows(work, 200, 300)), ...(await trackRows(work, 1100, 1200))], async () => undefined);
        expect(later).toMatchObject({ rows: 200, inserted: 100, duplicates: 100, unchanged: 0, updated: 0 });
        await importer.finish();
      } finally {
        await store.close();
      }
    });
    expect(await trackCount(tdb.url, provider)).toBe(1200);
    // Every credited artist after the first, written once for each new track (at the end of the
    // bulk batch on PostgreSQL, chunk by chunk on SQLite).
    const credited = (await trackRows(work, 0, 1200)).reduce((n, r) => n + (r.credits?.length ?? 0), 0);
    expect(credited).toBeGreaterThan(0);
    expect(await trackCount(tdb.url, provider, 'track_artists')).toBe(credited);
    expect(await trackIndexes(tdb.url, provider)).toEqual(migrated);
  }, 60_000);

  test('the same file gives the same result with and without the bulk load (an explicit --batch-size has none)', async () => {
    const input = join(work, 'tracks.csv');
    // Duplicates by URI, by ISRC (a URI-less copy) and by title and artist (neither).
    const noUri = (text: string) => text.replace(/^spotify:track:\w+/gm, '');
    const rows = [rowsOf(0, 1500), rowsOf(10, 20), noUri(rowsOf(30, 40)), noUri(rowsOf(50, 60)).replace(/,QZ\w{10},/g, ',,')];
    writeFileSync(input, `${EXPORTER_HEADER}\n${rows.join('\n')}\n`);
    const bulk = await run({ input, chunkRows: 200 });
    const other = await createMigratedDatabase(provider);
    try {
      const plain = await withDatabase(other.config, (d) => importTracks(d, { cwd: work, input, chunkRows: 200, batchSize: 400 }));
      const counts = (s: typeof bulk) => [s.read, s.inserted, s.updated, s.unchanged, s.duplicates, s.rejected, s.artistsCreated, s.albumsCreated];
      expect(counts(bulk)).toEqual(counts(plain));
      expect(bulk.duplicates).toBe(30);
      expect([bulk.batches, plain.batches]).toEqual([1, 4]);
    } finally {
      await other.drop();
    }
  }, 60_000);

  test('a repeated Spotify URI or ISRC under another title, in a later chunk of the bulk batch, is found by its key, as without the bulk load', async () => {
    const input = join(work, 'tracks.csv');
    const retitled = (n: number) => exporterRow(n).replace(/Song (\d+)/, 'Retitled $1');
    const repeats = [
      ...Array.from({ length: 10 }, (_, i) => retitled(100 + i)),
      // No URI: found by its ISRC alone.
      ...Array.from({ length: 10 }, (_, i) => retitled(200 + i).replace(/^spotify:track:\w+/, '')),
    ];
    writeFileSync(input, `${EXPORTER_HEADER}\n${rowsOf(0, 1500)}\n${repeats.join('\n')}\n`);
    const bulk = await run({ input, chunkRows: 200 });
    expect(bulk).toMatchObject({ read: 1520, inserted: 1500, duplicates: 20, rejected: 0, batches: 1 });
    expect(await trackCount(tdb.url, provider)).toBe(1500);
    expect(await trackIndexes(tdb.url, provider)).toEqual(migrated);
    const other = await createMigratedDatabase(provider);
    try {
      const plain = await withDatabase(other.config, (d) => importTracks(d, { cwd: work, input, chunkRows: 200, batchSize: 400 }));
      expect(plain).toMatchObject({ read: 1520, inserted: 1500, duplicates: 20, rejected: 0, batches: 4 });
    } finally {
      await other.drop();
    }
  }, 60_000);

  test('repeats within one chunk of the bulk batch (by URI, ISRC, title, a taken MusicBrainz id) come out as without the bulk load', async () => {
    // Most rows of a fresh load hold no key seen before and are planned without finds; these are
    // the rows that do, in the same chunk as the row they repeat, and the rows planned beside them.
    const id = (n: number) => n.toString(36).padStart(22, '0');
    const mbid = (n: number) => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;
    const line = (title: string, artist: string, uri: string, isrc: string, mb: string) => `${title},${artist},Album of ${artist},${uri},${isrc},${mb},200000`;
    const lines = Array.from({ length: 300 }, (_, n) =>
      line(`Song ${n}`, `Artist ${n % 7}`, `spotify:track:${id(n)}`, `QZ${n.toString().padStart(10, '0')}`, n % 3 === 0 ? mbid(n) : ''),
    );
    // Each repeat goes right after the row it repeats (chunks of 100 rows).
    const repeats: Array<[number, string]> = [
      [10, line('Song 10', 'Artist 3', `spotify:track:${id(10)}`, '', '')], // its URI
      [20, line('Other title', 'Artist 6', '', `QZ${'20'.padStart(10, '0')}`, '')], // its ISRC alone
      [30, line('Song 30', 'Artist 2', '', '', '')], // its title and artist
      [40, line('New song', 'Artist 5', `spotify:track:${id(1000)}`, '', mbid(39))], // a new track with another's MusicBrainz id: rejected
      [50, line('Song 50', 'Artist 1', `spotify:track:${id(50)}`, `QZ${'9999'.padStart(10, '0')}`, '')], // its URI with another ISRC
      [60, line('Song 60', 'Artist 4', `spotify:track:${id(60)}`, `QZ${'61'.padStart(10, '0')}`, '')], // its URI, the next one's ISRC
      [150, line('Song 5', 'Artist 5', '', '', '')], // a track of the chunk before, by title
    ];
    const all: string[] = [];
    lines.forEach((l, n) => {
      all.push(l);
      for (const [after, r] of repeats) if (after === n) all.push(r);
    });
    const input = join(work, 'tracks.csv');
    writeFileSync(input, `title,artist,album,spotify_uri,isrc,musicbrainz_id,duration_ms\n${all.join('\n')}\n`);
    const bulk = await run({ input, chunkRows: 100 });
    expect(bulk).toMatchObject({ read: 307, inserted: 300, duplicates: 6, rejected: 1, batches: 1 });
    expect(bulk.firstRejects.map((r) => r.reason)).toEqual([`musicbrainz_id ${mbid(39)} already belongs to another track; fix the row or that track`]);
    expect(await trackIndexes(tdb.url, provider)).toEqual(migrated);
    // The same file into a library that holds one other track: no row is planned without finds there.
    const other = await createMigratedDatabase(provider);
    try {
      const one = join(work, 'one.csv');
      writeFileSync(one, `title,artist\nUnrelated,Somebody else\n`);
      await withDatabase(other.config, (d) => importTracks(d, { cwd: work, input: one }));
      const plain = await withDatabase(other.config, (d) => importTracks(d, { cwd: work, input, chunkRows: 100 }));
      const counts = (x: typeof bulk) => [x.read, x.inserted, x.updated, x.unchanged, x.duplicates, x.rejected, x.artistsCreated, x.albumsCreated];
      expect(counts(bulk)).toEqual(counts(plain));
      expect(plain.batches).toBe(1);
      expect(await trackCount(other.url, provider)).toBe(301);
    } finally {
      await other.drop();
    }
  }, 60_000);

  test('into a new library, artists and albums come out as without the bulk load (created without finds, found again by URI or name)', async () => {
    // A row of the exporter's 19 columns: the track, its artist and album; the rest blank.
    const line = (n: number, artistUri: string, artist: string, albumUri: string, album: string, albumArtistUri = artistUri, albumArtist = artist) =>
      [`spotify:track:${String(n).padStart(22, '0')}`, `Song ${n}`, artistUri, artist, albumUri, album, albumArtistUri, albumArtist, '', '', '1', String(n), '1000', '', '', '', '', '', ''].join(',');
    const uri = (kind: string, n: number) => `spotify:${kind}:${String(n).padStart(22, 'x')}`;
    const rows = [
      // An artist and an album first without a URI, later with one: each gets the URI, once.
      line(1, '', 'Plain Artist', '', 'Plain Album'),
      line(2, uri('artist', 1), 'Plain Artist', uri('album', 1), 'Plain Album'),
      // An artist first by URI, later by name alone: the same artist.
      line(3, uri('artist', 2), 'Named Artist', uri('album', 2), 'Named Album'),
      line(4, '', 'Named Artist', '', 'Named Album'),
      // Two artists of one name with different URIs: two artists; the name alone then finds the first.
      line(5, uri('artist', 3), 'Twin', uri('album', 3), 'Twin Album'),
      line(6, uri('artist', 4), 'Twin', uri('album', 4), 'Twin Album'),
      line(7, '', 'Twin', '', 'Other Twin Album'),
      // An album artist that is not the track's artist, seen first as an album artist.
      line(8, uri('artist', 5), 'Guest', uri('album', 5), 'Split Album', uri('artist', 6), 'Host'),
      line(9, uri('artist', 6), 'Host', '', 'Split Album'),
      // By URI under another name: the same artist, the same album.
      line(10, uri('artist', 7), 'Old Name', uri('album', 9), 'Old Title'),
      line(11, uri('artist', 7), 'New Name', uri('album', 9), 'New Title'),
      // A URI given to an artist and an album found by name, then met under another name.
      line(12, '', 'Renamed', '', 'Renamed Album'),
      line(13, uri('artist', 8), 'Renamed', uri('album', 10), 'Renamed Album'),
      line(14, uri('artist', 8), 'Renamed Again', uri('album', 10), 'Renamed Album Again'),
    ];
    const input = join(work, 'refs.csv');
    // Each first sight in one chunk, the later ones in others (within a chunk the plan matches them itself).
    const [first, later, last] = [[0, 2, 4, 7, 9, 11], [1, 3, 5, 6, 8, 10, 12], [13]].map((picks) => picks.map((i) => rows[i]).join('\n'));
    writeFileSync(input, `${EXPORTER_HEADER}\n${rowsOf(0, 400)}\n${first}\n${rowsOf(400, 800)}\n${later}\n${rowsOf(800, 1000)}\n${last}\n${rowsOf(1000, 1200)}\n${rows.slice().reverse().join('\n')}\n`);
    const library = async (url: string) => {
      const query =
        provider === 'sqlite'
          ? (sql: string) => {
              const db = new Database(sqliteFilePath(url), { readonly: true });
              try {
                return db.prepare(sql).all();
              } finally {
                db.close();
              }
            }
          : async (sql: string) => {
              const c = new pg.Client({ connectionString: url });
              await c.connect();
              try {
                return (await c.query(sql)).rows;
              } finally {
                await c.end();
              }
            };
      return {
        artists: await query('SELECT name, spotify_uri FROM artists ORDER BY name, spotify_uri'),
        albums: await query('SELECT a.title, a.spotify_uri, r.name AS artist FROM albums a JOIN artists r ON r.id = a.artist_id ORDER BY a.title, a.spotify_uri, r.name'),
        tracks: await query('SELECT t.title, r.name AS artist, r.spotify_uri AS artist_uri, a.title AS album, a.spotify_uri AS album_uri FROM tracks t JOIN artists r ON r.id = t.artist_id LEFT JOIN albums a ON a.id = t.album_id ORDER BY t.title'),
      };
    };
    const bulk = await run({ input, chunkRows: 100 });
    expect(bulk.batches).toBe(1);
    const other = await createMigratedDatabase(provider);
    try {
      const plain = await withDatabase(other.config, (d) => importTracks(d, { cwd: work, input, chunkRows: 100, batchSize: 150 }));
      const counts = (s: typeof bulk) => [s.read, s.inserted, s.updated, s.unchanged, s.duplicates, s.rejected, s.artistsCreated, s.albumsCreated];
      expect(counts(bulk)).toEqual(counts(plain));
      const got = await library(tdb.url);
      expect(got).toEqual(await library(other.url));
      expect(got.artists.filter((a) => (a as { name: string }).name === 'Plain Artist')).toEqual([{ name: 'Plain Artist', spotify_uri: uri('artist', 1) }]);
      expect(got.artists.filter((a) => (a as { name: string }).name === 'Twin')).toHaveLength(2);
      expect(got.albums.filter((a) => (a as { title: string }).title === 'Plain Album')).toEqual([{ title: 'Plain Album', spotify_uri: uri('album', 1), artist: 'Plain Artist' }]);
    } finally {
      await other.drop();
    }
  }, 60_000);

  test('failure inside the bulk batch: nothing of it is kept, the indexes are as migrated and valid, a rerun completes', async () => {
    // A real database failure on one row: a trigger that refuses it.
    if (provider === 'sqlite') {
      const db = new Database(sqliteFilePath(tdb.url));
      db.exec("CREATE TRIGGER refuse BEFORE INSERT ON tracks WHEN NEW.title LIKE '%Refused%' BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END");
      db.close();
    } else {
      const c = new pg.Client({ connectionString: tdb.url });
      await c.connect();
      await c.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.title LIKE '%Refused%' THEN RAISE EXCEPTION 'refused by a test trigger'; END IF; RETURN NEW; END $$`);
      await c.query('CREATE TRIGGER refuse BEFORE INSERT ON tracks FOR EACH ROW EXECUTE FUNCTION refuse()');
      await c.end();
    }
    const input = join(work, 'tracks.csv');
    writeFileSync(input, `${EXPORTER_HEADER}\n${rowsOf(0, 2000)}\n${exporterRow(5000).replace(/Song 5000/, 'Refused')}\n${rowsOf(2000, 2500)}\n`);
    await expect(run({ input, chunkRows: 250 })).rejects.toThrow(DatabaseError);
    expect(await trackCount(tdb.url, provider)).toBe(0);
    expect(await trackIndexes(tdb.url, provider)).toEqual(migrated);
    writeFileSync(input, `${EXPORTER_HEADER}\n${rowsOf(0, 2500)}\n`);
    expect(await run({ input })).toMatchObject({ inserted: 2500, batches: 1 });
    expect(await trackIndexes(tdb.url, provider)).toEqual(migrated);
  }, 60_000);

  test('Ctrl-C inside the bulk batch commits its rows with the indexes built', async () => {
    const stdin = new PassThrough();
    stdin.write(`${EXPORTER_HEADER}\n${rowsOf(0, 1500)}\n`);
    const controller = new AbortController();
    const s = await run({
      input: '-',
      stdin,
      chunkRows: 250,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.rows >= 1500) setTimeout(() => controller.abort(), 200);
      },
    });
    expect(s).toMatchObject({ interrupted: true, read: 1500, inserted: 1500, batches: 1 });
    expect(await trackCount(tdb.url, provider)).toBe(1500);
    expect(await trackIndexes(tdb.url, provider)).toEqual(migrated);
  }, 60_000);

  test('kill -9 inside the bulk batch: the indexes are as migrated and valid, nothing of the batch is kept, a rerun completes', async () => {
    // Rows on stdin, which then stays open: the import waits for more inside its bulk transaction.
    const child = spawn(process.execPath, [BIN, '--database-url', tdb.url, '--json', 'import-tracks', '-'], { cwd: work, stdio: ['pipe', 'pipe', 'pipe'] });
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    child.stdin.on('error', () => {});
    child.stdin.write(`${EXPORTER_HEADER}\n${rowsOf(0, 3000)}\n`);
    try {
      await bulkTransactionOpen(tdb.url, provider);
      // The rows handed over are written by now (they wait in the transaction, uncommitted).
      await new Promise((resolve) => setTimeout(resolve, 1000));
    } finally {
      child.kill('SIGKILL');
    }
    expect(await closed).toBe('SIGKILL');
    expect(await trackCount(tdb.url, provider)).toBe(0);
    expect(await trackIndexes(tdb.url, provider)).toEqual(migrated);
    const input = join(work, 'tracks.csv');
    writeFileSync(input, `${EXPORTER_HEADER}\n${rowsOf(0, 3000)}\n`);
    expect(await run({ input })).toMatchObject({ inserted: 3000, batches: 1 });
    expect(await trackIndexes(tdb.url, provider)).toEqual(migrated);
  }, 90_000);
});
