/**
 * A streaming reader of one JSON document that hands over only the values at the paths asked for
 * (a Spotify account export's `tracks[*]`, `playlists[*].items[*]`, a playlist's `name`…), each
 * as its raw text: only the value being cut is buffered, never the document. Containers at the
 * first two levels are announced as they open and close (a playlist starts, a playlist ends).
 */
import { MAX_RECORD_BYTES } from './csv.js';

/** A path inside the document: object keys and array indexes, from the top. */
export type JsonPath = ReadonlyArray<string | number>;

export type JsonEvent =
  | { type: 'value'; path: JsonPath; raw: Buffer; line: number; tooLong: boolean }
  | { type: 'open' | 'close'; path: JsonPath; line: number };

interface Frame {
  array: boolean;
  path: JsonPath;
  /** The key of the value being read (objects). */
  key?: string;
  /** Objects: a key comes next (after `{` or `,`). */
  expectKey: boolean;
  /** Arrays: the index of the current element. */
  index: number;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const LF = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class JsonPathScanner {
  private readonly stack: Frame[] = [];
  private line = 1;
  private inString = false;
  private escaped = false;
  private stringIsKey = false;
  private inScalar = false;
  private keyParts: Buffer[] = [];
  private keyStart = -1;
  /** The value being cut: its depth, path, first line, and its bytes so far. */
  private capture: { depth: number; path: JsonPath; line: number; parts: Buffer[]; bytes: number; start: number; tooLong: boolean } | undefined;
  private first = true;
  private topSeen = false;

  /** `wanted(path)`: cut out the value at this path (its containers are not announced inside it). */
  constructor(private readonly wanted: (path: JsonPath) => boolean) {}

  push(chunk: Buffer): JsonEvent[] {
    let buf = chunk;
    if (this.first) {
      this.first = false;
      if (buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    const out: JsonEvent[] = [];
    if (this.capture) this.capture.start = 0;
    if (this.keyStart >= 0) this.keyStart = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c === LF) this.line += 1;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === BACKSLASH) this.escaped = true;
        else if (c === QUOTE) {
          this.inString = false;
          if (this.stringIsKey) this.finishKey(buf, i);
          else this.valueEnded(buf, i + 1, out);
        }
        continue;
      }
      if (this.inScalar) {
        if (!(WS.has(c) || c === 0x2c || c === 0x7d || c === 0x5d)) continue;
        this.inScalar = false;
        this.valueEnded(buf, i, out);
      }
      if (WS.has(c)) continue;
      const top = this.stack[this.stack.length - 1];
      switch (c) {
        case QUOTE:
          if (top && !top.array && top.expectKey) {
            this.stringIsKey = true;
            this.keyStart = i + 1;
            this.keyParts = [];
          } else {
            this.stringIsKey = false;
            this.valueStarts(buf, i, out, false);
          }
          this.inString = true;
          continue;
        case 0x3a: // :
          if (top && !top.array) top.expectKey = false;
          continue;
        case 0x2c: // ,
          if (top?.array) top.index += 1;
          else if (top) top.expectKey = true;
          continue;
        case 0x7b: // {
        case 0x5b: // [
          this.valueStarts(buf, i, out, true, c === 0x5b);
          continue;
        case 0x7d: // }
        case 0x5d: {
          // ]
          const closed = this.stack.pop();
          if (!closed) throw new SyntaxError(`unexpected "${String.fromCharCode(c)}" at line ${this.line}`);
          if (!this.capture && closed.path.length <= 2) out.push({ type: 'close', path: closed.path, line: this.line });
          this.valueEnded(buf, i + 1, out);
          continue;
        }
        default:
          this.valueStarts(buf, i, out, false);
          this.inScalar = true;
      }
    }
    // Whatever is being cut goes on in the next chunk.
    if (this.capture) this.keep(buf.subarray(this.capture.start));
    if (this.inString && this.stringIsKey && this.keyStart >= 0) this.keyParts.push(Buffer.from(buf.subarray(this.keyStart)));
    return out;
  }

  /** The end of the document: anything still open is reported as unterminated. */
  end(): JsonEvent[] {
    const out: JsonEvent[] = [];
    if (this.inScalar) {
      this.inScalar = false;
      this.valueEnded(Buffer.alloc(0), 0, out);
    }
    if (this.capture) {
      const c = this.capture;
      this.capture = undefined;
      out.push({ type: 'value', path: c.path, raw: Buffer.concat(c.parts), line: c.line, tooLong: c.tooLong });
    }
    if (this.stack.length || this.inString) throw new SyntaxError(`the JSON ends before its last ${this.stack.at(-1)?.array ? '"]"' : '"}"'} (cut short?)`);
    if (!this.topSeen) throw new SyntaxError('no JSON value in it');
    return out;
  }

  private finishKey(buf: Buffer, end: number): void {
    const top = this.stack[this.stack.length - 1];
    const raw = this.keyParts.length ? Buffer.concat([...this.keyParts, buf.subarray(this.keyStart, end)]) : buf.subarray(this.keyStart, end);
    this.keyParts = [];
    this.keyStart = -1;
    let key: string;
    try {
      key = JSON.parse(`"${raw.toString('utf8')}"`) as string;
    } catch {
      key = raw.toString('utf8');
    }
    if (top) top.key = key;
  }

  private valueStarts(buf: Buffer, i: number, out: JsonEvent[], container: boolean, array = false): void {
    const parent = this.stack[this.stack.length - 1];
    if (!parent && this.topSeen) throw new SyntaxError(`more than one JSON value (line ${this.line})`);
    this.topSeen = true;
    const path: JsonPath = parent ? [...parent.path, parent.array ? parent.index : (parent.key ?? '')] : [];
    if (!this.capture && parent && this.wanted(path)) {
      this.capture = { depth: this.stack.length, path, line: this.line, parts: [], bytes: 0, start: i, tooLong: false };
    }
    if (container) {
      this.stack.push({ array, path, expectKey: !array, index: 0 });
      if (!this.capture && path.length <= 2) out.push({ type: 'open', path, line: this.line });
    }
  }

  private valueEnded(buf: Buffer, end: number, out: JsonEvent[]): void {
    const c = this.capture;
    if (!c || this.stack.length !== c.depth) return;
    this.keep(buf.subarray(c.start, end));
    this.capture = undefined;
    out.push({ type: 'value', path: c.path, raw: c.parts.length === 1 ? c.parts[0] : Buffer.concat(c.parts), line: c.line, tooLong: c.tooLong });
  }

  private keep(part: Buffer): void {
    const c = this.capture!;
    if (c.tooLong) return;
    // A copy: the chunk's buffer may be reused by the stream.
    c.parts.push(Buffer.from(part));
    c.bytes += part.length;
    if (c.bytes > MAX_RECORD_BYTES) {
      c.tooLong = true;
      c.parts = [Buffer.concat(c.parts).subarray(0, 65536)];
    }
  }
}
