/**
 * Runs the import's parsing on a worker thread (parse-worker.ts), so the writing thread only
 * writes: measured here, reading, validating and normalising the CSV took about a quarter of a
 * single-threaded import's time.
 *
 * Protocol: the worker posts `ready` (format known, first row read) or `error`; then `chunk`
 * messages (at most `chunkRows` rows; `last` marks the end of a batch, that is of a transaction),
 * each only against a credit; then `end`. The writer grants a credit, and hands the chunk's
 * buffers back, each time it takes a chunk: at most `credit` chunks wait in memory. stdin ("-")
 * is piped into the worker's own process.stdin.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import type { ImportFormat } from './formats.js';
import type { AccountProgress } from './account-progress.js';
import type { TrackRow } from './normalize.js';
import type { Reject } from '../rejects.js';
import { decodeRows, transferList, type ChunkBuffers, type EncodedChunk } from '../row-chunks.js';

/** workerData of the parser thread. */
export interface ParserData {
  /** An absolute path, or "-" for stdin. */
  input: string;
  format?: ImportFormat;
  /** Valid rows per batch (transaction). */
  batchSize: number;
  /** Valid rows per chunk at most (chunks never span two batches). */
  chunkRows: number;
  /** Valid rows in the first chunk at most (FIRST_CHUNK_ROWS, or chunkRows when that was asked for). */
  firstChunkRows: number;
  /** Chunks the worker may post before the writer takes the first. */
  credit: number;
}

export type ParserMessage =
  | { type: 'ready'; format: ImportFormat; name: string; totalBytes?: number; account?: AccountProgress }
  | { type: 'chunk'; chunk: EncodedChunk; last: boolean; account?: AccountProgress }
  | { type: 'end'; account?: AccountProgress }
  | { type: 'error'; usage: boolean; message: string; stack?: string };

/**
 * `credit`: one more chunk may be posted; `buffers` are a chunk's, to reuse. `firstBatch`: the
 * first batch may hold up to `rows` rows (ignored once the first batch has ended).
 */
export type WriterMessage = { type: 'credit'; buffers: ChunkBuffers } | { type: 'firstBatch'; rows: number };

/** A chunk as the writer gets it. */
export interface ParsedChunk {
  /** The valid rows. */
  rows: TrackRow[];
  /** Records read for this chunk: the rows plus the rejects. */
  read: number;
  /** Records rejected while parsing or normalising, in file order. */
  rejects: Reject[];
  /** Bytes of the input read so far (progress). */
  bytesRead: number;
  /** About how many bytes the records so far took (see EncodedChunk.bytesDone). */
  bytesDone: number;
  /** The last chunk of its batch: commit after it. */
  last: boolean;
}

/** The compiled worker: a Worker cannot load TypeScript, so tests running src/ use the build too. */
const PARSER_WORKER_PATH = join(packageRoot, 'dist', 'import', 'parse', 'parse-worker.js');

/**
 * Rows per chunk. Small enough that the first rows reach the database soon after the start and
 * that chunks waiting in memory weigh little; large enough that per-chunk costs (one lookup
 * statement per kind) stay small.
 */
export const CHUNK_ROWS = 1000;

/**
 * Rows in the first chunk at most: the writer waits for it (and the parser's code is not yet
 * optimized), so it comes as soon as this many rows are read; the chunks after it have CHUNK_ROWS.
 * Measured here (100k rows): the first rows reached the writer 60-80 ms sooner than with a first
 * chunk of CHUNK_ROWS.
 */
export const FIRST_CHUNK_ROWS = 100;

/**
 * Rows the parser may have ready ahead of the writer: enough to keep the writer busy while the
 * parser is descheduled (in chunks: at least 2, one being taken while the next is posted).
 */
const ROWS_AHEAD = 4000;

/**
 * The worker's young generation (V8 semi-spaces). Its garbage dies young: a young generation this
 * size keeps most of it out of the old generation. Measured here (100k rows): 8 MB made the worker
 * spend a third of its time in GC and the import ~4% slower; peak memory 1M/10k rows was
 * 1.44-1.48x with 8 MB, 1.52x with 16 MB, 1.35-1.41x with 32 MB.
 */
const WORKER_YOUNG_GENERATION_MB = 32;

export interface ParserThread {
  format: ImportFormat;
  /** What the input is called in messages: the path, or "stdin". */
  name: string;
  totalBytes?: number;
  /**
   * The next chunk, or undefined after the last; 'aborted' as soon as `signal` aborts (stdin may
   * sit idle). Throws what the parser threw (UsageError for bad input).
   */
  next(signal?: AbortSignal): Promise<ParsedChunk | undefined | 'aborted'>;
  /**
   * Lets the first batch grow to `rows` rows (a bulk load, see import-service.ts). Only before
   * the first chunk is taken; a first batch already ended (a batch size below the rows the parser
   * reads ahead, or the end of the input) stays as it was.
   */
  growFirstBatch(rows: number): void;
  /** Stops the worker (at once, wherever it is) and detaches stdin. */
  close(): Promise<void>;
  /**
   * A Spotify account export: the files and playlists read so far (a playlist is known before
   * the chunk holding its first entry arrives); undefined for other formats.
   */
  readonly account: AccountProgress | undefined;
}

/**
 * Starts the parser thread for `input` and waits until it has read the header and the first row.
 * Input problems (missing, unreadable or empty input, unknown format, bad header) throw UsageError
 * here, before the caller writes anything.
 */
export async function startParserThread(
  input: string,
  options: { format?: ImportFormat; batchSize: number; chunkRows?: number; stdin?: Readable; workerPath?: string },
): Promise<ParserThread> {
  const path = options.workerPath ?? PARSER_WORKER_PATH;
  if (!existsSync(path)) throw new Error(`the import's parser thread ${path} is missing; run npm run build`);
  const isStdin = input === '-';
  const data: ParserData = {
    input,
    format: options.format,
    batchSize: options.batchSize,
    chunkRows: options.chunkRows ?? CHUNK_ROWS,
    // Chunks asked for by size (tests) all have that size.
    firstChunkRows: options.chunkRows ?? FIRST_CHUNK_ROWS,
    credit: Math.max(2, Math.ceil(ROWS_AHEAD / (options.chunkRows ?? CHUNK_ROWS))),
  };
  // No forced collections here (unlike the writing thread): measured, the 1M/10k peak memory
  // ratio was lower without them (1.44 vs 1.48) and the import faster.
  const worker = new Worker(path, { workerData: data, stdin: isStdin, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  const stdin = isStdin ? (options.stdin ?? process.stdin) : undefined;
  // Writes after the worker stopped must not surface as unhandled errors.
  worker.stdin?.on('error', () => {});
  if (stdin) stdin.pipe(worker.stdin!);

  type Item = ParserMessage | { type: 'failed'; error: Error };
  const queue: Item[] = [];
  let waiting: ((item: Item) => void) | undefined;
  let finished = false;
  const push = (item: Item) => {
    if (waiting) {
      const w = waiting;
      waiting = undefined;
      w(item);
    } else queue.push(item);
  };
  worker.on('message', (m: ParserMessage) => push(m));
  worker.on('error', (error) => push({ type: 'failed', error }));
  worker.on('exit', (code) => push({ type: 'failed', error: new Error(`the import's parser thread stopped unexpectedly (exit code ${code})`) }));
  const take = () => (queue.length ? Promise.resolve(queue.shift()!) : new Promise<Item>((resolve) => (waiting = resolve)));
  const thrown = (item: Item): Error => {
    if (item.type === 'failed') return item.error;
    if (item.type === 'error') {
      if (item.usage) return new UsageError(item.message);
      const error = new Error(`the import's parser thread failed: ${item.message}`);
      if (item.stack) error.stack = item.stack;
      return error;
    }
    return new Error(`the import's parser thread sent ${item.type} out of turn`);
  };
  const close = async () => {
    finished = true;
    if (stdin) {
      stdin.unpipe(worker.stdin!);
      stdin.destroy();
    }
    await worker.terminate();
  };

  const first = await take();
  if (first.type !== 'ready') {
    await close();
    throw thrown(first);
  }
  let account = first.account;
  return {
    format: first.format,
    name: first.name,
    totalBytes: first.totalBytes,
    get account() {
      return account;
    },
    async next(signal) {
      // One turn of the event loop first. Node delivers a port's messages in a loop that goes on
      // while more arrive, running each handler's promise continuations in between, and the
      // worker keeps posting as chunks are taken: without this the writer could run a whole
      // import inside that loop and never see Ctrl-C (a signal waits for the poll phase).
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (finished) return undefined;
      if (signal?.aborted) return 'aborted';
      // The abort listener goes as soon as the wait ends: a listener (or a Promise.race against a
      // promise that never settles) left behind per chunk would keep every chunk in memory.
      let onAbort: (() => void) | undefined;
      const item = await new Promise<Item | 'aborted'>((resolve) => {
        if (signal) {
          onAbort = () => {
            waiting = undefined;
            resolve('aborted');
          };
          signal.addEventListener('abort', onAbort, { once: true });
        }
        void take().then(resolve);
      });
      if (onAbort) signal!.removeEventListener('abort', onAbort);
      if (item === 'aborted') return item;
      if ((item.type === 'chunk' || item.type === 'end') && item.account) account = item.account;
      if (item.type === 'chunk') {
        const { chunk } = item;
        const rows = decodeRows(chunk);
        worker.postMessage({ type: 'credit', buffers: chunk.buffers } satisfies WriterMessage, transferList(chunk.buffers));
        return { rows, read: chunk.read, rejects: chunk.rejects, bytesRead: chunk.bytesRead, bytesDone: chunk.bytesDone, last: item.last };
      }
      if (item.type === 'end') {
        finished = true;
        return undefined;
      }
      finished = true;
      throw thrown(item);
    },
    growFirstBatch(rows) {
      worker.postMessage({ type: 'firstBatch', rows } satisfies WriterMessage);
    },
    close,
  };
}
