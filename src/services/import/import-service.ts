import type { Readable } from 'node:stream';
import { resolve } from 'node:path';
import { getGc } from '../../lib/gc.js';
import type { Database } from '../../db/client.js';
import { openImportStore, type ImportStore } from '../../db/fast-insert.js';
import { maskSecretsInText } from '../../db/url.js';
import { DatabaseError, SoulspotError, UsageError, describeError } from '../../errors.js';
import { BatchImporter } from './batch-importer.js';
import { openRecordSource, type ImportFormat, type SourceRecord } from './formats.js';
import { RowError, normaliseRow, type TrackRow } from './normalize.js';
import { RejectsWriter, defaultRejectsPath, type Reject } from './rejects.js';

/** Rows per transaction: large enough that commits cost little, small enough to stay a few MB. */
export const DEFAULT_BATCH_SIZE = 5000;

/** Rows between two full garbage collections (see fullGc). */
const GC_EVERY_ROWS = 10_000;

/**
 * A full garbage collection, to keep peak memory flat over long imports. Every batch's rows live
 * long enough to reach V8's old generation, which V8 lets grow for a long while before collecting:
 * measured here, peak RSS rose from 148 MB (10k rows) to 259 MB (300k rows) without this, and to
 * 171 MB with a collection every 5,000 rows. One collection every 10,000 rows costs a few percent
 * of the time.
 */
function fullGc(): void {
  getGc()?.();
}

export interface ImportOptions {
  /** A file path, or "-" for stdin. */
  input: string;
  /** Overrides detection from the extension and header. */
  format?: ImportFormat;
  batchSize?: number;
  /** Also place the imported tracks in this playlist, in file order (created if missing; order replaced). */
  playlist?: string;
  /** Where rejected rows go (default `<input>.rejects.csv` beside the input, `./stdin.rejects.csv` for stdin). */
  rejectsPath?: string;
  /** Validate and count without changing the database (one transaction, rolled back). */
  dryRun?: boolean;
  /** Aborting stops after the current batch is committed (Ctrl-C). */
  signal?: AbortSignal;
  onProgress?: (progress: ImportProgress) => void;
  stdin?: Readable;
  cwd?: string;
  clock?: () => Date;
  busyTimeoutMs?: number;
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
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  rejected: number;
  artistsCreated: number;
  albumsCreated: number;
  batches: number;
  playlist?: { name: string; id: string; tracks?: number };
  /** The rejects file, when rows were rejected and it was written. */
  rejectsFile?: string;
  /** The first rejects (up to 10), for the summary. */
  firstRejects: Reject[];
  elapsedMs: number;
  rowsPerSecond: number;
}

/**
 * Imports tracks from a file or stdin, streaming, in batches of one transaction each. Input
 * problems found before the first write (missing/unreadable/empty file, unknown format, header
 * without title/artist) throw UsageError and change nothing; database failures throw
 * DatabaseError (batches already committed stay). Bad rows never stop the import: they go to the
 * rejects file. The summary adds up: read = inserted + updated + unchanged + duplicates + rejected.
 */
export async function importTracks(db: Database, options: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError(`--batch-size: expected a whole number of at least 1, got ${batchSize}`);
  const clock = options.clock ?? (() => new Date());
  const cwd = options.cwd ?? process.cwd();
  const input = options.input === '-' ? '-' : resolve(cwd, options.input);
  const source = await openRecordSource(input, { format: options.format, stdin: options.stdin });
  const summary: ImportSummary = {
    input: options.input === '-' ? 'stdin' : options.input,
    format: source.format,
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
  // Dry runs write no rejects file unless one is asked for.
  const rejectsPath = options.rejectsPath ? resolve(cwd, options.rejectsPath) : options.dryRun ? undefined : defaultRejectsPath(options.input, cwd);
  const rejects = rejectsPath ? new RejectsWriter(rejectsPath) : undefined;
  let store: ImportStore | undefined;
  try {
    const records = source.records;
    // The first row shows an empty input (or a JSON file that is not an array) before any write.
    const first = await records.next();
    if (first.done) throw new UsageError(`nothing to import: ${source.name} has no track rows; expected at least one row after the header`);

    try {
      store = await openImportStore(db, { busyTimeoutMs: options.busyTimeoutMs ?? 30_000 });
    } catch (error) {
      throw asDatabaseError(error, 'cannot open the database for import');
    }
    const importer = new BatchImporter(store, clock);
    const reject = async (r: Reject) => {
      summary.rejected += 1;
      if (summary.firstRejects.length < 10) summary.firstRejects.push(r);
      await rejects?.write(r);
    };
    try {
      if (options.dryRun) await store.beginDryRun();
      if (options.playlist) {
        const id = await importer.preparePlaylist(options.playlist);
        summary.playlist = { name: options.playlist, id };
      }
    } catch (error) {
      throw asDatabaseError(error, 'cannot start the import');
    }

    let batch: TrackRow[] = [];
    const progress = () =>
      options.onProgress?.({ rows: summary.read, bytesRead: source.bytesRead(), totalBytes: source.totalBytes, elapsedMs: performance.now() - started });
    // One batch in flight while the next is read: on PostgreSQL the server works on the other core
    // while this process parses. (better-sqlite3 is synchronous, so on SQLite this changes nothing.)
    let inFlight: Promise<void> | undefined;
    let gcRound = 0;
    let failure: unknown;
    const write = async (rows: TrackRow[]) => {
      let outcome;
      try {
        outcome = await importer.writeBatch(rows);
      } catch (error) {
        throw asDatabaseError(
          error,
          `import failed in the batch from line ${rows[0].line} to ${rows[rows.length - 1].line} (${summary.batches} earlier batch(es) committed; rerun to resume)`,
        );
      }
      summary.batches += 1;
      summary.inserted += outcome.inserted;
      summary.updated += outcome.updated;
      summary.unchanged += outcome.unchanged;
      summary.duplicates += outcome.duplicates;
      summary.artistsCreated += outcome.artistsCreated;
      summary.albumsCreated += outcome.albumsCreated;
      for (const r of outcome.rejects) await reject(r);
      if (Math.floor(summary.read / GC_EVERY_ROWS) > gcRound) {
        gcRound = Math.floor(summary.read / GC_EVERY_ROWS);
        fullGc();
      }
      progress();
    };
    const settle = async () => {
      await inFlight;
      inFlight = undefined;
      if (failure) throw failure;
    };
    const flush = async () => {
      await settle();
      if (batch.length === 0) return;
      const rows = batch;
      batch = [];
      // The handler is attached at once, so a failure waits for the next settle() instead of
      // surfacing as an unhandled rejection.
      inFlight = write(rows).catch((error) => {
        failure = error;
      });
    };

    const handle = async (record: SourceRecord) => {
      summary.read += 1;
      if (!record.values) {
        await reject({ line: record.line, original: record.original, reason: record.error ?? 'unreadable row' });
        return;
      }
      try {
        batch.push(normaliseRow(record.values, record.line, record.original));
      } catch (error) {
        if (!(error instanceof RowError)) throw error;
        await reject({ line: record.line, original: record.original, reason: error.message });
      }
    };

    await handle(first.value);
    // stdin may sit idle: there the wait for the next row also ends on abort. (Files always move on.)
    const abortedWhileWaiting =
      options.input === '-' && options.signal
        ? new Promise<'aborted'>((res) => options.signal!.addEventListener('abort', () => res('aborted'), { once: true }))
        : undefined;
    for (;;) {
      if (options.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      const next = abortedWhileWaiting ? await Promise.race([records.next(), abortedWhileWaiting]) : await records.next();
      if (next === 'aborted') continue;
      if (next.done) break;
      await handle(next.value);
      if (batch.length >= batchSize) await flush();
    }
    await flush();
    await settle();
    if (!summary.interrupted && summary.playlist) {
      try {
        summary.playlist.tracks = await importer.finishPlaylist();
      } catch (error) {
        throw asDatabaseError(error, 'cannot finish the playlist');
      }
    }
  } finally {
    source.close();
    try {
      await store?.close();
    } finally {
      await rejects?.close();
    }
  }
  if (rejects?.created) summary.rejectsFile = rejects.path;
  summary.elapsedMs = Math.round(performance.now() - started);
  summary.rowsPerSecond = summary.elapsedMs > 0 ? Math.round((summary.read * 1000) / summary.elapsedMs) : summary.read;
  return summary;
}

function asDatabaseError(error: unknown, what: string): SoulspotError {
  if (error instanceof SoulspotError) return error;
  return new DatabaseError(`${what}: ${maskSecretsInText(describeError(error))}`, { cause: error });
}
