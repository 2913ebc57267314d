import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { basename, dirname, join, resolve } from 'node:path';

/** One rejected row: where it was, why, and its text as read. */
export interface Reject {
  line: number;
  reason: string;
  original: string;
}

/**
 * Where rejects go by default: `<input>.rejects.csv` beside the input, or in `cwd` for stdin and
 * for a pipe or device (`<(…)` is /dev/fd/63, where nothing can be created beside it).
 */
export function defaultRejectsPath(input: string, cwd = process.cwd()): string {
  if (input === '-') return join(cwd, 'stdin.rejects.csv');
  const full = resolve(cwd, input);
  let regular = true;
  try {
    regular = statSync(full).isFile();
  } catch {
    // a missing input fails later, with its own message
  }
  return join(regular ? dirname(full) : cwd, `${basename(full)}.rejects.csv`);
}

function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Writes rejects as CSV (`line,reason,original`). The file is created on the first reject only,
 * so a clean import leaves no empty rejects file behind.
 */
export class RejectsWriter {
  private stream: WriteStream | undefined;
  private failed: Error | undefined;
  count = 0;

  constructor(readonly path: string) {}

  async write(reject: Reject): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.stream) {
      this.stream = createWriteStream(this.path, { flags: 'w' });
      this.stream.on('error', (error) => (this.failed = error));
      this.stream.write('line,reason,original\n');
    }
    this.count += 1;
    const ok = this.stream.write(`${reject.line},${csvField(reject.reason)},${csvField(reject.original)}\n`);
    if (!ok) await once(this.stream, 'drain');
  }

  /** True when at least one reject was written. */
  get created(): boolean {
    return this.stream !== undefined;
  }

  async close(): Promise<void> {
    if (!this.stream) return;
    const s = this.stream;
    await new Promise<void>((res, rej) => s.end((error?: Error | null) => (error ? rej(error) : res())));
    if (this.failed) throw this.failed;
  }
}
