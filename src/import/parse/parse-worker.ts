/**
 * The import's parser thread: opens the input, normalises its rows and posts them in chunks to
 * the writing thread (see parser-thread.ts for the protocol). It posts a chunk only while it has
 * credit, so at most a few chunks wait in memory however fast it parses.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../../errors.js';
import { openRecordSource, rowOrReject, type RecordSource, type SourceRecord } from './formats.js';
import type { ParserData, ParserMessage, WriterMessage } from './parser-thread.js';
import { ChunkEncoder, transferList } from '../row-chunks.js';

const port = parentPort!;
const data = workerData as ParserData;
const post = (message: ParserMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

const encoder = new ChunkEncoder();
let credit = data.credit;
let wake: (() => void) | undefined;
/** Valid rows the current batch may hold: the first may be made larger (growFirstBatch) until it ends. */
let batchLimit = data.batchSize;
let firstBatch = true;
const onMessage = (message: WriterMessage) => {
  if (message.type === 'firstBatch') {
    if (firstBatch) batchLimit = Math.max(batchLimit, message.rows);
    return;
  }
  credit += 1;
  encoder.recycle(message.buffers);
  wake?.();
};
port.on('message', onMessage);

async function run(): Promise<void> {
  let source: RecordSource | undefined;
  try {
    source = await openRecordSource(data.input, { format: data.format });
    // The first rows show an empty input (or a JSON file that is not an array) before any write.
    const first = await source.records.next();
    // An account export may hold only empty playlists: those are kept.
    if (first.done && !source.account?.progress.playlists.length) {
      throw new UsageError(`nothing to import: ${source.name} has no track rows; expected at least one row after the header`);
    }
    post({ type: 'ready', format: source.format, name: source.name, totalBytes: source.totalBytes, account: source.account?.snapshot() });

    const handle = (record: SourceRecord) => {
      const read = rowOrReject(record);
      if ('row' in read) encoder.add(read.row);
      else {
        encoder.reject(read.reject);
        if (record.playlist !== undefined) source!.account?.rejected(record.playlist);
      }
    };
    // Valid rows of the current batch (transaction) in the chunks posted so far.
    let inBatch = 0;
    let chunkRows = data.firstChunkRows;
    const send = async (last: boolean) => {
      while (credit <= 0) await new Promise<void>((resolve) => (wake = resolve));
      credit -= 1;
      chunkRows = data.chunkRows;
      inBatch = last ? 0 : inBatch + encoder.count;
      if (last) {
        firstBatch = false;
        batchLimit = data.batchSize;
      }
      const chunk = encoder.take(source!.bytesRead());
      post({ type: 'chunk', chunk, last, account: source!.account?.changes() }, transferList(chunk.buffers));
    };

    // A group's records in a plain loop: it waits (for credit) only when a chunk is full.
    const handleGroup = async (group: SourceRecord[]) => {
      for (const record of group) {
        handle(record);
        if (inBatch + encoder.count >= batchLimit) await send(true);
        else if (encoder.count >= chunkRows) await send(false);
      }
    };
    if (!first.done) await handleGroup(first.value);
    for await (const group of source.records) await handleGroup(group);
    if (encoder.records > 0) await send(true);
    post({ type: 'end', account: source.account?.snapshot() });
  } catch (error) {
    post({
      type: 'error',
      usage: error instanceof UsageError,
      message: error instanceof Error ? error.message : String(error),
      stack: error instanceof Error ? error.stack : undefined,
    });
  } finally {
    source?.close();
    port.off('message', onMessage);
  }
}

void run();
