import { isUtf8 } from 'node:buffer';
import { UsageError } from '../../errors.js';
import { MAX_RECORD_BYTES } from './csv.js';

/** One JSON value cut from the input, not yet parsed. */
export interface JsonRecord {
  line: number;
  /** JSON arrays: the element's place in the array, from 1. */
  record?: number;
  original: string;
  value?: unknown;
  error?: string;
}

const LF = 0x0a;

function parseElement(raw: Buffer, line: number): JsonRecord {
  const original = raw.toString('utf8');
  if (!isUtf8(raw)) return { line, original, error: 'invalid UTF-8' };
  try {
    return { line, original, value: JSON.parse(original) };
  } catch (error) {
    return { line, original, error: `invalid JSON: ${(error as Error).message}` };
  }
}

/** Newline-delimited JSON: one value a line, blank lines skipped, LF or CRLF. */
export class NdjsonSplitter {
  private pending: Buffer | null = null;
  private line = 1;
  private first = true;

  push(chunk: Buffer): JsonRecord[] {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    if (this.first && buf.length >= 3) {
      this.first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    const out: JsonRecord[] = [];
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(LF, start);
      if (nl < 0) break;
      this.emit(buf, start, nl, out);
      start = nl + 1;
    }
    this.pending = start < buf.length ? buf.subarray(start) : null;
    if (this.pending && this.pending.length > MAX_RECORD_BYTES) {
      out.push({ line: this.line, original: this.pending.toString('utf8', 0, 65536), error: `line longer than ${MAX_RECORD_BYTES} bytes` });
      this.skipping = true;
      this.pending = null;
    }
    return out;
  }

  private skipping = false;

  private emit(buf: Buffer, start: number, end: number, out: JsonRecord[]): void {
    const line = this.line;
    this.line += 1;
    if (this.skipping) {
      this.skipping = false; // the rest of an over-long line, already rejected
      return;
    }
    let e = end;
    if (e > start && buf[e - 1] === 0x0d) e -= 1;
    const raw = buf.subarray(start, e);
    if (raw.toString('latin1').trim() === '') return;
    out.push(parseElement(raw, line));
  }

  end(): JsonRecord[] {
    const out: JsonRecord[] = [];
    if (this.pending) {
      let buf = this.pending;
      if (this.first && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
      this.emit(buf, 0, buf.length, out);
    }
    this.pending = null;
    return out;
  }
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/**
 * A JSON array read element by element: only the current element is buffered. Each element is
 * parsed on its own, so one broken element is rejected and the rest still imports.
 */
export class JsonArraySplitter {
  private state: 'before' | 'between' | 'element' | 'after' = 'before';
  private line = 1;
  private elementLine = 1;
  private elements = 0;
  private parts: Buffer[] = [];
  private partsLength = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private tooLong = false;
  private first = true;

  push(chunk: Buffer): JsonRecord[] {
    let buf = chunk;
    if (this.first) {
      this.first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    const out: JsonRecord[] = [];
    let elementStart = this.state === 'element' ? 0 : -1;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c === LF) this.line += 1;
      switch (this.state) {
        case 'before':
          if (WS.has(c) || (this.line === 1 && i < 3 && (c === 0xef || c === 0xbb || c === 0xbf))) continue; // whitespace, a BOM split across chunks
          if (c !== 0x5b) throw new UsageError(`expected a JSON array (a file starting with "["), got "${String.fromCharCode(c)}" at line ${this.line}; use --format ndjson for one object a line`);
          this.state = 'between';
          continue;
        case 'between':
          if (WS.has(c) || c === 0x2c) continue;
          if (c === 0x5d) {
            this.state = 'after';
            continue;
          }
          this.state = 'element';
          this.elementLine = this.line;
          elementStart = i;
          this.depth = 0;
          this.inString = false;
          this.escaped = false;
          this.scan(c, buf, i, elementStart, out);
          if (this.state !== 'element') elementStart = -1;
          continue;
        case 'element':
          this.scan(c, buf, i, elementStart, out);
          if (this.state !== 'element') elementStart = -1;
          continue;
        case 'after':
          if (WS.has(c)) continue;
          throw new UsageError(`expected nothing after the JSON array's closing "]", got "${String.fromCharCode(c)}" at line ${this.line}`);
      }
    }
    if (this.state === 'element' && elementStart >= 0) this.keep(buf.subarray(elementStart));
    return out;
  }

  /** One byte inside an element: strings, nesting, and the comma or bracket that ends it. */
  private scan(c: number, buf: Buffer, i: number, elementStart: number, out: JsonRecord[]): void {
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (c === 0x5c) this.escaped = true;
      else if (c === 0x22) this.inString = false;
      return;
    }
    if (c === 0x22) this.inString = true;
    else if (c === 0x7b || c === 0x5b) this.depth += 1;
    else if (c === 0x7d || c === 0x5d) {
      if (this.depth === 0) {
        // the array's own closing bracket ends a scalar element
        this.finishElement(buf, elementStart, i, out);
        this.state = 'after';
        return;
      }
      this.depth -= 1;
      if (this.depth === 0) {
        this.finishElement(buf, elementStart, i + 1, out);
        this.state = 'between';
      }
    } else if (c === 0x2c && this.depth === 0) {
      this.finishElement(buf, elementStart, i, out);
      this.state = 'between';
    }
  }

  private keep(part: Buffer): void {
    if (this.tooLong) return;
    this.parts.push(part);
    this.partsLength += part.length;
    if (this.partsLength > MAX_RECORD_BYTES) {
      this.tooLong = true;
      this.parts = [Buffer.concat(this.parts).subarray(0, 65536)];
    }
  }

  private finishElement(buf: Buffer, start: number, end: number, out: JsonRecord[]): void {
    if (start >= 0) this.keep(buf.subarray(start, end));
    const raw = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
    this.elements += 1;
    if (this.tooLong) out.push({ line: this.elementLine, record: this.elements, original: raw.toString('utf8'), error: `JSON element longer than ${MAX_RECORD_BYTES} bytes` });
    else out.push({ ...parseElement(Buffer.from(raw.toString('latin1').trimEnd(), 'latin1'), this.elementLine), record: this.elements });
    this.parts = [];
    this.partsLength = 0;
    this.tooLong = false;
  }

  end(): JsonRecord[] {
    const out: JsonRecord[] = [];
    if (this.state === 'before') return out; // empty input: the caller reports it
    if (this.state === 'element') {
      const raw = Buffer.concat(this.parts);
      out.push({ line: this.elementLine, record: this.elements + 1, original: raw.toString('utf8').slice(0, 65536), error: 'unterminated JSON element at the end of the file (missing "]"?)' });
    }
    // A missing final "]" after a complete element loses nothing: accepted.
    this.parts = [];
    return out;
  }
}
