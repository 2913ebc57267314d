import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { UsageError } from '../../errors.js';
import { CsvTokenizer, type CsvRecord } from './csv.js';
import { JsonArraySplitter, NdjsonSplitter, type JsonRecord } from './json.js';
import { RowError, headerProblem, mapHeader, normaliseRow, valuesFromObject, type Field, type RawValues, type TrackRow } from './normalize.js';
import type { Reject } from '../rejects.js';
import { accountExportKind } from './account-kind.js';
import { FORMATS, type ImportFormat, type RecordSource, type SourceRecord } from './records.js';

export { FORMATS, type ImportFormat, type RecordSource, type SourceRecord };

const LF = 0x0a;
const CR = 0x0d;



/** A record as the importer takes it: its normalised row, or the reject that says why not. */
export function rowOrReject(record: SourceRecord): { row: TrackRow } | { reject: Reject } {
  // A JSON array's rows are named by their place too: its elements may all be on line 1.
  const where = record.where ?? (record.record === undefined ? '' : `record ${record.record}: `);
  const reject = (reason: string) => ({ reject: { line: record.line, original: record.original, reason: where + reason, playlist: record.playlist } });
  if (!record.values) return reject(record.error ?? 'unreadable row');
  try {
    const row = normaliseRow(record.values, record.line, record.original);
    if (record.playlist !== undefined) row.playlist = record.playlist;
    return { row };
  } catch (error) {
    if (!(error instanceof RowError)) throw error;
    return reject(error.message);
  }
}


const EXTENSIONS: Record<string, ImportFormat> = {
  '.csv': 'csv',
  '.tsv': 'tsv',
  '.tab': 'tsv',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
  '.ldjson': 'ndjson',
};

/** The format of an input from its extension, else from its first bytes. */
function detectFormat(name: string, head: Buffer): ImportFormat {
  const byExtension = EXTENSIONS[extname(name).toLowerCase()];
  if (byExtension) return byExtension;
  let text = head.subarray(0, 4096);
  if (text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf) text = text.subarray(3);
  if (text.includes(0)) throw new UsageError(`cannot read ${name}: it looks binary, not CSV, TSV, JSON or NDJSON; export it as CSV, or name the format with --format`);
  const s = text.toString('utf8').trimStart();
  if (s.startsWith('[')) return 'json';
  if (s.startsWith('{')) return 'ndjson';
  const firstLine = s.split(/\r\n?|\n/, 1)[0];
  const tabs = firstLine.split('\t').length - 1;
  const commas = firstLine.split(',').length - 1;
  if (tabs > 0 && tabs >= commas) return 'tsv';
  if (commas > 0) return 'csv';
  throw new UsageError(`cannot tell the format of ${name} (no comma, tab, "[" or "{" in its first line); name it with --format ${FORMATS.join('|')}`);
}

/**
 * UTF-16LE or UTF-16BE when the input starts like UTF-16 text (a BOM, or ASCII with a zero byte
 * beside each character): read as UTF-8 it would be NULs and invalid bytes, row after row.
 */
function utf16Of(head: Buffer): 'UTF-16LE' | 'UTF-16BE' | undefined {
  if (head[0] === 0xff && head[1] === 0xfe) return 'UTF-16LE';
  if (head[0] === 0xfe && head[1] === 0xff) return 'UTF-16BE';
  const sample = head.subarray(0, Math.min(head.length, 64) & ~1);
  if (sample.length < 4) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < sample.length; i += 2) {
    if (sample[i] === 0) evenZeros += 1;
    if (sample[i + 1] === 0) oddZeros += 1;
  }
  const pairs = sample.length / 2;
  if (oddZeros === pairs && evenZeros === 0) return 'UTF-16LE';
  if (evenZeros === pairs && oddZeros === 0) return 'UTF-16BE';
  return undefined;
}

/** True when a CSV header is a Spotify playlist exporter's (Exportify and alike). */
function isExporterHeader(header: string[]): boolean {
  const names = new Set(header.map((h) => h.trim().toLowerCase()));
  return names.has('track uri') && names.has('track name') && (names.has('artist name(s)') || names.has('artist names'));
}

/**
 * True when the input's lines end in a lone CR (classic Mac OS): its first line break is a CR
 * that no LF follows. Such an input is read with each CR as an LF.
 */
function endsLinesWithCr(head: Buffer): boolean {
  const lf = head.indexOf(LF);
  const cr = head.indexOf(CR);
  return cr >= 0 && (lf < 0 || cr < lf) && cr + 1 < head.length && head[cr + 1] !== LF;
}

/** Replaces every CR byte with LF, in place (a CR byte is never part of a UTF-8 sequence). */
function crToLf(buf: Buffer): Buffer {
  for (let i = buf.indexOf(CR); i >= 0; i = buf.indexOf(CR, i + 1)) buf[i] = LF;
  return buf;
}

async function* chunksOf(stream: Readable, counter: { bytes: number }, head: Buffer | null, crLines: boolean): AsyncGenerator<Buffer> {
  if (head) yield crLines ? crToLf(head) : head;
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    counter.bytes += buf.length;
    yield crLines ? crToLf(buf) : buf;
  }
}

/**
 * Opens `input` (a path, or "-" for `stdin`), works out its format, reads the header, and
 * returns its data rows as a stream. Throws UsageError, before anything is written, for a missing,
 * unreadable or empty input, an unknown format, or a header without title and artist columns.
 */
export async function openRecordSource(input: string, options: { format?: ImportFormat; stdin?: Readable } = {}): Promise<RecordSource> {
  const isStdin = input === '-';
  const name = isStdin ? 'stdin' : input;
  if (options.format === 'spotify-account' && isStdin) {
    throw new UsageError('--format spotify-account reads a zip, a folder or a JSON file of the export, not stdin; name the file');
  }
  // A Spotify account export: a zip, a folder, YourLibrary.json or PlaylistN.json.
  const account = isStdin ? undefined : await accountExportKind(input, options.format);
  // Its reader is loaded only now (see account-kind.ts).
  if (account) return (await import('./account-export.js')).openAccountExport(input, account);
  let totalBytes: number | undefined;
  let stream: Readable;
  if (isStdin) {
    stream = options.stdin ?? process.stdin;
  } else {
    let info;
    try {
      info = await stat(input);
    } catch {
      throw new UsageError(`cannot read ${input}: no such file; check the path (use - to read stdin)`);
    }
    if (info.isDirectory()) throw new UsageError(`cannot read ${input}: it is a directory, not a file; name the file to import`);
    // A pipe (mkfifo, <(…), /dev/stdin) or a character device (/dev/null) streams like a file, without a size.
    if (!info.isFile() && !info.isFIFO() && !info.isCharacterDevice()) {
      throw new UsageError(`cannot read ${input}: it is not a file, a pipe or a character device; name the file to import`);
    }
    try {
      await access(input, constants.R_OK);
    } catch {
      throw new UsageError(`cannot read ${input}: permission denied; check the file's permissions`);
    }
    if (info.isFile()) totalBytes = info.size;
    stream = createReadStream(input, { highWaterMark: 256 * 1024 });
  }
  const counter = { bytes: 0 };
  // The first chunk decides the format and shows an empty input before anything is written.
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let head: Buffer = Buffer.alloc(0);
  try {
    while (head.length < 4096) {
      const next = await iterator.next();
      if (next.done) break;
      const b = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      head = head.length ? Buffer.concat([head, b]) : b;
    }
  } catch (error) {
    stream.destroy();
    throw new UsageError(`cannot read ${name}: ${(error as Error).message}`);
  }
  counter.bytes = head.length;
  const stripped = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? head.subarray(3) : head;
  if (stripped.toString('utf8').trim() === '') {
    stream.destroy();
    throw new UsageError(`nothing to import: ${name} is empty; expected a header and at least one track row`);
  }
  const utf16 = utf16Of(head);
  if (utf16) {
    stream.destroy();
    throw new UsageError(`cannot read ${name}: it is ${utf16} text, expected UTF-8; save it as UTF-8 (e.g. iconv -f ${utf16} -t UTF-8) and import again`);
  }
  let format: ImportFormat;
  try {
    format = options.format ?? detectFormat(name, head);
  } catch (error) {
    stream.destroy();
    throw error;
  }
  const rest: Readable = {
    [Symbol.asyncIterator]: () => iterator,
  } as unknown as Readable;
  const chunks = chunksOf(rest, counter, head, endsLinesWithCr(head));
  const close = () => stream.destroy();

  let records: AsyncGenerator<SourceRecord[]>;
  let resolvedFormat = format;
  try {
    if (format === 'json' || format === 'ndjson') {
      records = jsonRecords(chunks, format === 'json' ? new JsonArraySplitter() : new NdjsonSplitter());
    } else {
      const tokenizer = new CsvTokenizer(format === 'tsv' ? '\t' : ',');
      const csv = csvRecords(chunks, tokenizer);
      // The header: the first record of the first group that holds one (the rest of it are rows).
      let group: CsvRecord[] = [];
      while (!group.length) {
        const next = await csv.next();
        if (next.done) throw new UsageError(`nothing to import: ${name} is empty; expected a header and at least one track row`);
        group = next.value;
      }
      const headerRecord = group[0];
      if (!headerRecord.fields) {
        const hint = headerRecord.error === 'invalid UTF-8' ? 'save the file as UTF-8 text' : 'fix the header line';
        throw new UsageError(`cannot read the header of ${name} (line ${headerRecord.line}): ${headerRecord.error}; ${hint}`);
      }
      const header = headerRecord.fields;
      const exporter = isExporterHeader(header);
      if (format === 'exportify' && !exporter) {
        throw new UsageError(`--format exportify: expected the exporter header ("Track URI,Track Name,Artist URI(s),Artist Name(s),…"), got "${headerRecord.original.slice(0, 120)}"`);
      }
      if (format === 'csv' && exporter) resolvedFormat = 'exportify';
      const map = mapHeader(header);
      const problem = headerProblem(map);
      if (problem) {
        throw new UsageError(`cannot import ${name}: its header (line ${headerRecord.line}: "${headerRecord.original.slice(0, 120)}") has no ${problem}; rename the columns or use --format`);
      }
      records = csvRows(csv, group.slice(1), map, header.length);
    }
  } catch (error) {
    close();
    throw error;
  }
  return { format: resolvedFormat, name, totalBytes, bytesRead: () => counter.bytes, records, close };
}

/** The CSV records of each block of input, as the tokenizer cuts them (a group may be empty). */
async function* csvRecords(chunks: AsyncGenerator<Buffer>, tokenizer: CsvTokenizer): AsyncGenerator<CsvRecord[]> {
  for await (const chunk of chunks) yield tokenizer.push(chunk);
  yield tokenizer.end();
}

/** The data rows of `groups` (after `first`, the rest of the header's group), a group at a time. */
async function* csvRows(groups: AsyncGenerator<CsvRecord[]>, first: CsvRecord[], map: Map<Field, number>, width: number): AsyncGenerator<SourceRecord[]> {
  const pairs = [...map.entries()];
  const row = (r: CsvRecord): SourceRecord => {
    if (!r.fields) return { line: r.line, original: r.original, error: r.error };
    if (r.fields.length !== width) return { line: r.line, original: r.original, error: `wrong column count: expected ${width} fields, got ${r.fields.length}` };
    const values: RawValues = {};
    for (const [field, index] of pairs) values[field] = r.fields[index];
    return { line: r.line, original: r.original, values };
  };
  if (first.length) yield first.map(row);
  for await (const group of groups) if (group.length) yield group.map(row);
}

async function* jsonRecords(chunks: AsyncGenerator<Buffer>, splitter: JsonArraySplitter | NdjsonSplitter): AsyncGenerator<SourceRecord[]> {
  const convert = ({ line, record, original, value: v, error }: JsonRecord): SourceRecord => {
    if (error) return { line, record, original, error };
    if (!v || typeof v !== 'object' || Array.isArray(v)) {
      return { line, record, original, error: `expected a JSON object, got ${Array.isArray(v) ? 'an array' : v === null ? 'null' : typeof v}` };
    }
    return { line, record, original, values: valuesFromObject(v as Record<string, unknown>) };
  };
  for await (const chunk of chunks) {
    const group = splitter.push(chunk);
    if (group.length) yield group.map(convert);
  }
  const last = splitter.end();
  if (last.length) yield last.map(convert);
}
