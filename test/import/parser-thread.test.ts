import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { UsageError } from '../../src/errors.js';
import { openRecordSource, rowOrReject } from '../../src/import/parse/formats.js';
import type { TrackRow } from '../../src/import/parse/normalize.js';
import { startParserThread, type ParsedChunk, type ParserThread } from '../../src/import/parse/parser-thread.js';
import type { Reject } from '../../src/import/rejects.js';
import { EXPORTER_HEADER, exporterRow } from '../../src/bench/sample-data.js';

// The parser thread runs the compiled worker (dist/), built by `npm test` before jest starts.
const FIXTURES = join(process.cwd(), 'test/fixtures/import');

/** The next chunk (no abort signal here, so never 'aborted'). */
async function next(parser: ParserThread): Promise<ParsedChunk | undefined> {
  const chunk = await parser.next();
  if (chunk === 'aborted') throw new Error('aborted without a signal');
  return chunk;
}

/** Everything the thread posts: rows decoded, rejects, and per-chunk counts. */
async function drain(parser: ParserThread) {
  const rows: TrackRow[] = [];
  const rejects: Reject[] = [];
  const chunks: Array<{ count: number; read: number; last: boolean }> = [];
  try {
    for (let chunk = await next(parser); chunk; chunk = await next(parser)) {
      rows.push(...chunk.rows);
      rejects.push(...chunk.rejects);
      chunks.push({ count: chunk.rows.length, read: chunk.read, last: chunk.last });
    }
  } finally {
    await parser.close();
  }
  return { rows, rejects, chunks };
}

/** The same input parsed on this thread, the way the importer did before it had a parser thread. */
async function parseHere(path: string) {
  const source = await openRecordSource(path);
  const rows: TrackRow[] = [];
  const rejects: Reject[] = [];
  try {
    for await (const group of source.records) {
      for (const record of group) {
        const read = rowOrReject(record);
        if ('row' in read) rows.push(read.row);
        else rejects.push(read.reject);
      }
    }
  } finally {
    source.close();
  }
  return { rows, rejects };
}

describe('the import parser thread', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'soulspot-parser-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  test.each(['exportify.csv', 'messy.csv', 'bad-rows.csv', 'tracks.tsv', 'tracks.ndjson', 'tracks.json'])(
    '%s: the rows and rejects that cross threads are exactly what normaliseRow makes on this thread',
    async (name) => {
      const path = join(FIXTURES, name);
      const expected = await parseHere(path);
      const got = await drain(await startParserThread(path, { batchSize: 3, chunkRows: 2 }));
      // (A row's text as read is decoded on demand: a getter, not a field.)
      expect(got.rows.map((r) => ({ ...r, original: r.original }))).toEqual(expected.rows);
      expect(got.rejects).toEqual(expected.rejects);
      // Chunks hold at most chunkRows valid rows and never span two batches of batchSize rows;
      // their counts add up to what was read.
      expect(got.chunks.every((c) => c.count <= 2)).toBe(true);
      let inBatch = 0;
      for (const c of got.chunks) {
        inBatch += c.count;
        expect(inBatch).toBeLessThanOrEqual(3);
        if (c.last) inBatch = 0;
      }
      expect(got.chunks.reduce((n, c) => n + c.read, 0)).toBe(expected.rows.length + expected.rejects.length);
    },
  );

  test('growFirstBatch before the first chunk: the first batch grows to that many rows, the later ones keep batchSize', async () => {
    // (The parser reads at most 4,000 rows ahead of the writer, so a batch of 5,000 cannot have ended before the message.)
    const path = join(work, 'grow.csv');
    writeFileSync(path, `${EXPORTER_HEADER}\n${Array.from({ length: 12_000 }, (_, i) => exporterRow(i)).join('\n')}\n`);
    const batchesOf = async (grow?: number) => {
      const parser = await startParserThread(path, { batchSize: 5000 });
      if (grow) parser.growFirstBatch(grow);
      const { chunks } = await drain(parser);
      const sizes: number[] = [];
      let inBatch = 0;
      for (const c of chunks) {
        inBatch += c.count;
        if (c.last) {
          sizes.push(inBatch);
          inBatch = 0;
        }
      }
      // (The end of the input ends the last batch.)
      if (inBatch) sizes.push(inBatch);
      return sizes;
    };
    expect(await batchesOf(9000)).toEqual([9000, 3000]);
    expect(await batchesOf()).toEqual([5000, 5000, 2000]);
  });

  test('a row whose album artist is its artist keeps one artist object (no second lookup)', async () => {
    const path = join(work, 'same-artist.csv');
    writeFileSync(path, 'title,artist,album,album_artist\nA,Band,LP,\nB,Band,LP,Other\n');
    const { rows } = await drain(await startParserThread(path, { batchSize: 10 }));
    expect(rows[0].album!.artist).toBe(rows[0].artist);
    expect(rows[1].album!.artist).toEqual({ name: 'Other' });
  });

  test('input problems are a UsageError from the start, before any batch', async () => {
    writeFileSync(join(work, 'empty.csv'), '');
    writeFileSync(join(work, 'header-only.csv'), 'title,artist\n');
    await expect(startParserThread(join(work, 'empty.csv'), { batchSize: 10 })).rejects.toThrow(UsageError);
    await expect(startParserThread(join(work, 'header-only.csv'), { batchSize: 10 })).rejects.toThrow(/no track rows/);
    await expect(startParserThread(join(work, 'missing.csv'), { batchSize: 10 })).rejects.toThrow(/no such file/);
  });

  test('lines that end in CR only (classic Mac OS) are lines; mixed endings too', async () => {
    const crOnly = join(work, 'cr-only.csv');
    writeFileSync(crOnly, 'title,artist,duration\rA,B,3:00\r"C\rc",D,4:00\rE,F,5:00');
    const { rows, rejects } = await drain(await startParserThread(crOnly, { batchSize: 10 }));
    expect(rejects).toEqual([]);
    expect(rows.map((r) => [r.line, r.title, r.durationMs])).toEqual([[2, 'A', 180_000], [3, 'C\nc', 240_000], [5, 'E', 300_000]]);
    const mixed = join(work, 'mixed.csv');
    writeFileSync(mixed, 'title,artist\r\nA,B\nC,D\r\nE,F\n');
    expect((await drain(await startParserThread(mixed, { batchSize: 10 }))).rows.map((r) => [r.line, r.title])).toEqual([[2, 'A'], [3, 'C'], [4, 'E']]);
  });

  test('rejects of a JSON array name the record (a whole array may sit on line 1); NDJSON rejects their line', async () => {
    const array = join(work, 'one-line.json');
    writeFileSync(array, '[{"title":"a","artist":"b"},{"title":"c"},{"title":"d","artist":"e","duration":[1]},5]');
    const got = await drain(await startParserThread(array, { batchSize: 10 }));
    expect(got.rejects.map((r) => [r.line, r.reason])).toEqual([
      [1, 'record 2: missing artist'],
      [1, 'record 3: duration must be text or a number, got [1]'],
      [1, 'record 4: expected a JSON object, got number'],
    ]);
    const ndjson = join(work, 'lines.ndjson');
    writeFileSync(ndjson, '{"title":"a","artist":"b"}\n\n{"title":"c"}\r\n{broken\n{"title":"d","artist":"e"}\n');
    const lines = await drain(await startParserThread(ndjson, { batchSize: 10 }));
    expect(lines.rows.map((r) => r.line)).toEqual([1, 5]);
    expect(lines.rejects.map((r) => [r.line, r.reason.replace(/:.*/, '')])).toEqual([[3, 'missing artist'], [4, 'invalid JSON']]);
  });

  test('a named pipe is read like a file; /dev/null is an empty input, not "a directory"', async () => {
    const fifo = join(work, 'pipe');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO waits for the other end: a child writes it (killed if the reader never opens it).
    const writer = spawn('sh', ['-c', 'printf "title,artist\\nA,B\\nC,D\\n" > "$0"', fifo], { stdio: 'ignore' });
    try {
      const parser = await startParserThread(fifo, { batchSize: 10 });
      expect(parser.totalBytes).toBeUndefined();
      expect((await drain(parser)).rows.map((r) => r.title)).toEqual(['A', 'C']);
    } finally {
      writer.kill();
    }
    await expect(startParserThread('/dev/null', { batchSize: 10 })).rejects.toThrow('nothing to import: /dev/null is empty');
    await expect(startParserThread(work, { batchSize: 10 })).rejects.toThrow(/is a directory/);
  });

  test('a problem found later in the file (text after a JSON array) comes after the batches before it, as a UsageError', async () => {
    const path = join(work, 'junk.json');
    const objects = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ title: `Song ${i}`, artist: `Artist ${i % 10}`, note: 'x'.repeat(100) }));
    writeFileSync(path, `[${objects.join(',\n')}] trailing`);
    const parser = await startParserThread(path, { batchSize: 100 });
    let rows = 0;
    const failure = await (async () => {
      try {
        for (let chunk = await next(parser); chunk; chunk = await next(parser)) rows += chunk.rows.length;
      } catch (error) {
        return error;
      } finally {
        await parser.close();
      }
    })();
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as Error).message).toMatch(/expected nothing after the JSON array/);
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(3000);
  });

  test('stdin is piped into the thread: every row of a long input in small chunks arrives, in order', async () => {
    const text = `${EXPORTER_HEADER}\n${Array.from({ length: 20_000 }, (_, i) => exporterRow(i)).join('\n')}\n`;
    const bytes = Buffer.from(text);
    const chunks = Array.from({ length: Math.ceil(bytes.length / 4096) }, (_, i) => bytes.subarray(i * 4096, (i + 1) * 4096));
    const parser = await startParserThread('-', { batchSize: 1000, stdin: Readable.from(chunks) });
    expect(parser).toMatchObject({ name: 'stdin', format: 'exportify', totalBytes: undefined });
    const { rows, rejects } = await drain(parser);
    expect(rejects).toEqual([]);
    expect(rows).toHaveLength(20_000);
    expect(rows.map((r) => r.line)).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 2));
  });

  test('a worker that fails, or stops without finishing, is an error, never a hang', async () => {
    const throwing = join(work, 'throwing-worker.mjs');
    writeFileSync(throwing, "throw new Error('parser exploded');\n");
    await expect(startParserThread(join(FIXTURES, 'exportify.csv'), { batchSize: 10, workerPath: throwing })).rejects.toThrow(/parser exploded/);

    const quitting = join(work, 'quitting-worker.mjs');
    writeFileSync(
      quitting,
      "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage({ type: 'ready', format: 'csv', name: 'x' });\nsetTimeout(() => process.exit(3), 50);\n",
    );
    const parser = await startParserThread(join(FIXTURES, 'exportify.csv'), { batchSize: 10, workerPath: quitting });
    await expect(next(parser)).rejects.toThrow(/stopped unexpectedly \(exit code 3\)/);
    await parser.close();
  });

  test('a missing build says so', async () => {
    await expect(startParserThread(join(FIXTURES, 'exportify.csv'), { batchSize: 10, workerPath: join(work, 'nope.js') })).rejects.toThrow(
      /parser thread .*nope\.js is missing; run npm run build/,
    );
  });
});
