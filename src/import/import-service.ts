import type { Readable } from 'node:stream';
import { resolve } from 'node:path';
import { getHeapSpaceStatistics } from 'node:v8';
import { getGc } from '../gc.js';
import type { Logger } from '../logger.js';
import { SharedCacheTier, trackCacheNamespace } from '../cache/shared-tier.js';
import type { Database } from '../db/client.js';
import { openImportStore, type ImportStore } from './store/index.js';
import { maskSecretsInText } from '../database-url.js';
import { DatabaseError, SoulspotError, UsageError, describeError } from '../errors.js';
import { BatchImporter } from './batch-importer.js';
import type { ImportFormat } from './parse/formats.js';
import type { TrackRow } from './parse/normalize.js';
import { startParserThread, type ParserThread } from './parse/parser-thread.js';
import { detach } from './row-chunks.js';
import { RejectsWriteError, RejectsWriter, defaultRejectsPath, type Reject } from './rejects.js';

/**
 * Rows per batch, that is per transaction, by provider.
 * - SQLite: memory does not depend on it (rows travel and are written in chunks of CHUNK_ROWS),
 *   but every commit writes each index page the batch touched, and with random ids that is most
 *   of them: measured here (100k rows), 5,000-row batches took 3.26 s, 20,000-row batches 2.92 s,
 *   50,000 no faster.
 * - PostgreSQL: a batch's rows are kept until its commit (to redo the transaction after a
 *   conflict), and so are the tracks it wrote (for the lookups on the reader connection, which
 *   cannot see them): memory follows the batch. Commits cost little there. Measured here, peak RSS
 *   10k → 300k rows: 20,000-row batches 162 → 267 MB, 10,000: 179 → 240 MB, 5,000: 167 → 222 MB,
 *   at the same speed (14.4k rows/s at 100k rows with 5,000).
 */
export const DEFAULT_BATCH_SIZE = { sqlite: 20_000, postgresql: 5_000 } as const;

/**
 * The first batch of a bulk load: when no --batch-size is given and the tracks table holds fewer
 * tracks than this, the first batch takes up to this many rows, so that one transaction loads
 * most of a fresh library and can build the secondary indexes after its rows instead of row by
 * row, and skip the lookups of rows no track can match (see BatchImporter.writeBatch and
 * ImportStore.deferIndexes). Memory does not grow with it: such a batch is written chunk by chunk
 * and never redone (on PostgreSQL it locks the tables it writes instead, see store/postgres.ts).
 * A kill -9 loses at most this batch; the next run redoes it.
 */
export const BULK_BATCH_ROWS = 100_000;

/**
 * Rows between two looks at the heap (see gcIfGrown), by provider: the PostgreSQL path makes more
 * garbage a row (COPY text, array parameters, two connections' buffers), so it looks more often.
 */
const GC_EVERY_ROWS = { sqlite: 10_000, postgresql: 5_000 } as const;

/**
 * Growth of the old generation (bytes used) since the last full collection that calls for the next one,
 * checked every GC_EVERY_ROWS rows. A collection every GC_EVERY_ROWS rows whatever the heap held
 * cost the PostgreSQL import about a sixth of its main thread's time (0.9 s of CPU at 100k rows,
 * most of the collections finding little to free); this collects only once that much has piled up.
 */
const GC_HEAP_GROWTH_BYTES = 16 * 1024 * 1024;

/**
 * A full garbage collection when the old generation has grown by GC_HEAP_GROWTH_BYTES since the
 * last one, to keep peak memory flat over long imports: V8 lets its old generation grow for a long
 * while before collecting (measured here, single-threaded: peak RSS rose from 148 MB at 10k rows
 * to 259 MB at 300k without forced collections; 1M rows without them: 395 MB against 251 MB).
 * (The parser thread needs none: see parser-thread.ts.)
 */
function gcIfGrown(last: { oldUsed: number }): void {
  if (oldGenerationUsed() - last.oldUsed < GC_HEAP_GROWTH_BYTES) return;
  const gc = getGc();
  if (!gc) return;
  gc();
  last.oldUsed = oldGenerationUsed();
}

/**
 * Bytes in use in every space of the heap but the young generation's. (The whole heap's use, as
 * process.memoryUsage() gives it, also counts how full the young generation happens to be, up to
 * tens of MB that its next scavenge frees: measured here, a 100k SQLite import then forced 3-4 full
 * collections of 20-27 ms each where the old generation's growth calls for 1.)
 */
function oldGenerationUsed(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics()) if (space.space_name !== 'new_space' && space.space_name !== 'new_large_object_space') used += space.space_used_size;
  return used;
}

export interface ImportOptions {
  /** A file path, or "-" for stdin. */
  input: string;
  /** Overrides detection from the extension and header. */
  format?: ImportFormat;
  batchSize?: number;
  /** Rows per chunk handed from the parser thread (default CHUNK_ROWS; tests use small chunks to cover batches of many). */
  chunkRows?: number;
  /** Also place the imported tracks in this playlist, in file order (created if missing; order replaced). */
  playlist?: string;
  /** Where rejected rows go (default `<input>.rejects.csv` beside the input, `./stdin.rejects.csv` for stdin). */
  rejectsPath?: string;
  /** Validate and count without changing the database (one transaction, rolled back). */
  dryRun?: boolean;
  /**
   * Stop once more rows than this are rejected: a count, or a percentage of the rows read so far
   * (checked as each chunk is taken and each batch commits). The current batch is committed with
   * the rows it has, the rejects file holds every reject so far, the playlists are left as they
   * were. Default: no limit.
   */
  maxRejects?: { count: number } | { percent: number };
  /** Aborting stops after the current batch is committed (Ctrl-C). */
  signal?: AbortSignal;
  /**
   * CACHE_URL's shared cache tier (see src/cache/shared-tier.ts): after each commit, the tracks
   * the batch changed are dropped from it and from every process's first tier, so no reader
   * serves the old row. Redis away: one warning, and the import goes on.
   */
  sharedCache?: { url: string; databaseUrl: string; logger?: Logger };
  onProgress?: (progress: ImportProgress) => void;
  stdin?: Readable;
  cwd?: string;
  clock?: () => Date;
  busyTimeoutMs?: number;
}

export interface ImportedPlaylist {
  name: string;
  /** The export file it came from. */
  file: string;
  entries: number;
  created: number;
  matched: number;
  skipped: number;
  rejected: number;
  /** Its id, once written (the run completed). */
  id?: string;
}

export interface ImportProgress {
  rows: number;
  bytesRead: number;
  totalBytes?: number;
  elapsedMs: number;
}

export interface ImportSummary {
  input: string;
  format: ImportFormat;
  dryRun: boolean;
  /** True when stopped by the signal (Ctrl-C): the counts cover what was committed. */
  interrupted: boolean;
  /**
   * Why the import stopped before the end although the database did not fail (the rejects file
   * could not be written): the counts cover what was committed, the playlist was left as it was.
   */
  stopped?: string;
  /** Why the import stopped at --max-rejects (the counts cover what was committed). */
  tooManyRejects?: string;
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  rejected: number;
  artistsCreated: number;
  albumsCreated: number;
  batches: number;
  /** --playlist: its entries once the run completed (undefined when it did not: the playlist was left as it was). */
  playlist?: { name: string; id: string; tracks?: number };
  /** A Spotify account export: the files read (its other files are ignored). */
  files?: string[];
  /**
   * A Spotify account export: each playlist (Liked Songs first), in the export's order. `entries`
   * = created + matched; `skipped`: podcast episodes and audiobooks; `rejected`: items refused
   * (see the rejects file). Written only when the run completed (`written`).
   */
  playlists?: ImportedPlaylist[];
  /** The rejects file, when rows were rejected and it was written. */
  rejectsFile?: string;
  /** The first rejects (up to 10), for the summary. */
  firstRejects: Reject[];
  elapsedMs: number;
  rowsPerSecond: number;
}

/**
 * Imports tracks from a file or stdin, streaming, in batches of one transaction each; a parser
 * thread reads and normalises the rows while this thread writes them. Input
 * problems found before the first write (missing/unreadable/empty file, unknown format, header
 * without title/artist) throw UsageError and change nothing; database failures throw
 * DatabaseError (batches already committed stay). Bad rows never stop the import: they go to the
 * rejects file. The summary adds up: read = inserted + updated + unchanged + duplicates + rejected.
 */
export async function importTracks(db: Database, options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE[db.provider];
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size: expected a whole number of at least 1, got ${batchSize}`);
  const clock = options.clock ?? (() => new Date());
  const cwd = options.cwd ?? process.cwd();
  const input = options.input === '-' ? '-' : resolve(cwd, options.input);
  // Parsing runs on its own thread. Its start (a new isolate, the parser's modules, the first
  // rows: about 40 ms) overlaps with opening the store, but input problems are reported first:
  // they throw UsageError here, before any write, whatever the store's opening gave.
  const parserStarting = startParserThread(input, { format: options.format, batchSize, chunkRows: options.chunkRows, stdin: options.stdin });
  // Dry runs write no rejects file unless one is asked for.
  const rejectsPath = options.rejectsPath ? resolve(cwd, options.rejectsPath) : options.dryRun ? undefined : defaultRejectsPath(options.input, cwd);
  const rejects = rejectsPath ? new RejectsWriter(rejectsPath) : undefined;
  const opening = (async () => {
    // Before the first write: rejected rows must have somewhere to go.
    await rejects?.check();
    try {
      return await openImportStore(db, { busyTimeoutMs: options.busyTimeoutMs ?? 30_000, dryRun: options.dryRun });
    } catch (error) {
      throw asDatabaseError(error, 'cannot open the database for import');
    }
  })();
  // Its failure is reported below, after the input's (a rejection must not go unhandled meanwhile).
  opening.catch(() => {});
  let parser: ParserThread;
  try {
    parser = await parserStarting;
  } catch (error) {
    // The input's problem is the one reported, whether the store opened, did not, or fails to close.
    await opening.then((opened) => opened.close()).catch(() => {});
    throw error;
  }
  const summary: ImportSummary = {
    input: options.input === '-' ? 'stdin' : options.input,
    format: parser.format,
    dryRun: Boolean(options.dryRun),
    interrupted: false,
    read: 0,
    inserted: 0,
    updated: 0,
    unchanged: 0,
    duplicates: 0,
    rejected: 0,
    artistsCreated: 0,
    albumsCreated: 0,
    batches: 0,
    firstRejects: [],
    elapsedMs: 0,
    rowsPerSecond: 0,
  };
  let store: ImportStore | undefined;
  let tier: SharedCacheTier<unknown> | undefined;
  try {
    store = await opening;
    // A dry run changes nothing another process could hold.
    if (options.sharedCache && !options.dryRun) {
      const { url, databaseUrl, logger } = options.sharedCache;
      tier = await SharedCacheTier.connect({ url, namespace: trackCacheNamespace(databaseUrl), logger });
    }
    const importer = new BatchImporter(store, clock);
    const reject = async (r: Reject) => {
      summary.rejected += 1;
      // Copies: the texts may be slices of a chunk's text, which must not stay in memory.
      if (summary.firstRejects.length < 10) summary.firstRejects.push({ line: r.line, reason: detach(r.reason), original: detach(r.original) });
      await rejects?.write(r);
    };
    /** The current batch's limit in rows: the first may be a bulk load's. */
    let batchLimit = batchSize;
    // The counts as of the last commit, for a summary of what was committed if the import stops.
    const committed = { read: 0, rejected: 0, firstRejects: 0, lastLine: undefined as number | undefined };
    if (options.playlist && parser.format === 'spotify-account') {
      throw new UsageError(`--playlist does not apply to a Spotify account export: its playlists are imported under their own names (Liked Songs for YourLibrary.json); drop --playlist`);
    }
    try {
      if (options.dryRun) await store.beginDryRun();
      if (options.playlist) {
        const id = await importer.preparePlaylist(options.playlist);
        summary.playlist = { name: options.playlist, id };
      }
      // A bulk load (see BULK_BATCH_ROWS): asked for before the first chunk is taken.
      if (options.batchSize === undefined && !options.dryRun && (await store.countTracks(BULK_BATCH_ROWS)) < BULK_BATCH_ROWS) {
        parser.growFirstBatch(BULK_BATCH_ROWS);
        batchLimit = Math.max(batchSize, BULK_BATCH_ROWS);
      }
    } catch (error) {
      throw asDatabaseError(error, 'cannot start the import');
    }

    // The chunks of the current batch, as the importer asks for them. A chunk counts as soon as it
    // is taken: it is then written and committed with its batch (Ctrl-C commits the batch so far),
    // or the import fails.
    let ended = false;
    let batchEnded = false;
    let firstLine: number | undefined;
    let lastLine: number | undefined;
    let gcRound = 0;
    const heapAfterGc = { oldUsed: oldGenerationUsed() };
    let lastBytesDone = 0;
    const gcEveryRows = GC_EVERY_ROWS[db.provider];
    // The next batch's first chunk, asked for as soon as the current batch has all of its chunks:
    // it is decoded while the database finishes the current batch (on PostgreSQL the server runs
    // the COPY and the commit meanwhile).
    let prefetched: ReturnType<ParserThread['next']> | undefined;
    const { maxRejects } = options;
    const overLimit = () =>
      maxRejects !== undefined &&
      ('count' in maxRejects ? summary.rejected > maxRejects.count : summary.rejected > (maxRejects.percent / 100) * summary.read);
    const takeChunk = async (): Promise<TrackRow[] | undefined> => {
      if (ended || batchEnded) return undefined;
      // Past --max-rejects: no more rows; the batch commits what it has.
      if (overLimit()) {
        ended = true;
        return undefined;
      }
      // The wait also ends on abort (stdin may sit idle).
      const pending = prefetched ?? parser.next(options.signal);
      prefetched = undefined;
      const chunk = await pending;
      if (chunk === 'aborted') summary.interrupted = true;
      if (chunk === 'aborted' || chunk === undefined) {
        ended = true;
        return undefined;
      }
      summary.read += chunk.read;
      if (parser.account) importer.declarePlaylists(parser.account.playlists);
      for (const r of chunk.rejects) await reject(r);
      if (chunk.last) {
        batchEnded = true;
        prefetched = parser.next(options.signal);
        // Its failure surfaces when the next batch awaits it (or not at all, if this one fails).
        prefetched.catch(() => {});
      }
      const { rows } = chunk;
      if (rows.length) {
        firstLine ??= rows[0].line;
        lastLine = rows[rows.length - 1].line;
      }
      if (Math.floor(summary.read / gcEveryRows) > gcRound) {
        gcRound = Math.floor(summary.read / gcEveryRows);
        gcIfGrown(heapAfterGc);
      }
      lastBytesDone = chunk.bytesDone;
      options.onProgress?.({ rows: summary.read, bytesRead: chunk.bytesRead, totalBytes: parser.totalBytes, elapsedMs: performance.now() - started });
      return rows;
    };
    const nextChunk = async (): Promise<TrackRow[] | undefined> => {
      const rows = await takeChunk();
      // The batch is complete: its rejects reach the file before it commits.
      if (!rows) await rejects?.flush();
      return rows;
    };

    let stopped: RejectsWriteError | undefined;
    try {
      while (!ended) {
        batchEnded = false;
        firstLine = lastLine = undefined;
        const first = await nextChunk();
        if (!first) continue;
        let outcome;
        try {
          const expectedRows = expectedBatchRows(batchLimit, first.length, summary.read, lastBytesDone, parser.totalBytes);
          batchLimit = batchSize;
          outcome = await importer.writeBatch(first, nextChunk, { expectedRows });
        } catch (error) {
          if (error instanceof RejectsWriteError) throw error;
          const where = firstLine === undefined ? '' : ` from line ${firstLine} to ${lastLine}`;
          throw asDatabaseError(error, `import failed in the batch${where} (${summary.batches} earlier batch(es) committed; rerun to resume)`);
        }
        if (outcome.rows > 0) summary.batches += 1;
        summary.inserted += outcome.inserted;
        summary.updated += outcome.updated;
        summary.unchanged += outcome.unchanged;
        summary.duplicates += outcome.duplicates;
        summary.artistsCreated += outcome.artistsCreated;
        summary.albumsCreated += outcome.albumsCreated;
        // Committed: the changed tracks leave every process's cache (never throws).
        if (tier && outcome.updatedIds.length) await tier.invalidate(outcome.updatedIds);
        Object.assign(committed, { read: summary.read, rejected: summary.rejected + outcome.rejects.length, lastLine: lastLine ?? committed.lastLine });
        committed.firstRejects = Math.min(10, summary.firstRejects.length + outcome.rejects.length);
        for (const r of outcome.rejects) await reject(r);
        if (overLimit()) ended = true;
      }
      if (overLimit()) {
        const limit = 'count' in maxRejects! ? `${maxRejects.count} row(s)` : `${maxRejects!.percent}% of the rows read`;
        summary.tooManyRejects =
          `more than ${limit} rejected (${summary.rejected} of ${summary.read} read; --max-rejects): the import stopped after ${summary.batches} committed batch(es)` +
          `${committed.lastLine === undefined ? '' : ` (up to line ${committed.lastLine})`}${summary.playlist || parser.account ? ', the playlists left as they were' : ''}; ` +
          `see the rejects file, fix the rows and run again (committed rows are kept)`;
      }
      await rejects?.close();
    } catch (error) {
      if (!(error instanceof RejectsWriteError)) throw error;
      stopped = error;
    }
    if (stopped) {
      summary.read = committed.read;
      summary.rejected = committed.rejected;
      summary.firstRejects.length = Math.min(summary.firstRejects.length, committed.firstRejects);
      const upTo = committed.lastLine === undefined ? '' : ` (up to line ${committed.lastLine})`;
      summary.stopped =
        `${stopped.message}; the import stopped after ${summary.batches} committed batch(es)${upTo}` +
        `${summary.playlist ? ', the playlist left as it was' : ''}; make room or pass --rejects another path, and run again (committed rows are kept, their rejects found again)`;
    }
    const written = new Map<number, string>();
    if (!stopped && !summary.interrupted && !summary.tooManyRejects && (summary.playlist || parser.account)) {
      // Playlists declared after the last rows (empty ones at the end of an export).
      if (parser.account) importer.declarePlaylists(parser.account.playlists);
      try {
        for (const done of await importer.finishPlaylists()) {
          if (done.key < 0) summary.playlist!.tracks = done.counts.entries;
          else written.set(done.key, done.id);
        }
      } catch (error) {
        throw asDatabaseError(error, summary.playlist ? 'cannot finish the playlist' : 'cannot write the playlists');
      }
    }
    if (parser.account) {
      summary.files = [...parser.account.files];
      const counts = importer.playlistCounts();
      summary.playlists = parser.account.playlists.map((p) => {
        const c = counts.get(p.index);
        return {
          name: p.name,
          file: p.file,
          entries: c?.entries ?? 0,
          created: c?.created ?? 0,
          matched: c?.matched ?? 0,
          skipped: p.skipped,
          rejected: p.rejected + (c?.rejected ?? 0),
          id: written.get(p.index),
        };
      });
    }
    try {
      await importer.finish();
    } catch (error) {
      throw asDatabaseError(error, `cannot finish the import (${summary.batches} batch(es) committed)`);
    }
  } finally {
    try {
      await parser.close();
    } finally {
      try {
        await store?.close();
      } finally {
        tier?.close();
        // Closed already unless the import failed; then that failure is the one to report.
        await rejects?.close().catch(() => {});
      }
    }
  }
  if (rejects?.created) summary.rejectsFile = rejects.path;
  summary.elapsedMs = Math.round(performance.now() - started);
  summary.rowsPerSecond = summary.elapsedMs > 0 ? Math.round((summary.read * 1000) / summary.elapsedMs) : summary.read;
  return summary;
}

/**
 * About how many rows a batch will hold, once its first chunk is read: the batch size, or fewer
 * when the rest of the file is shorter, estimated from the `read` records so far and the bytes
 * they took (`bytesDone`, see EncodedChunk). From stdin, whose length is unknown, the batch size.
 */
export function expectedBatchRows(batchSize: number, firstChunkRows: number, read: number, bytesDone: number, totalBytes: number | undefined): number {
  if (!totalBytes || !read || !bytesDone) return batchSize;
  const rest = Math.ceil(((totalBytes - bytesDone) * read) / bytesDone);
  return Math.max(1, Math.min(batchSize, firstChunkRows + Math.max(0, rest)));
}

function asDatabaseError(error: unknown, what: string): SoulspotError {
  if (error instanceof SoulspotError) return error;
  return new DatabaseError(`${what}: ${maskSecretsInText(describeError(error))}`, { cause: error });
}
