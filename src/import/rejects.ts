import { createWriteStream, statSync, type WriteStream } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { basename, dirname, join, resolve } from 'node:path';
import { ExitCode, SoulspotError, UsageError, describeError } from '../errors.js';

/** One rejected row: where it was, why, and its text as read. */
export interface Reject {
  line: number;
  reason: string;
  original: string;
  /** A Spotify account export: the playlist the row was an entry of (for its counts). */
  playlist?: number;
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

/** The rejects file could not be written: the import stops (exit 4) rather than lose rejected rows unrecorded. */
export class RejectsWriteError extends SoulspotError {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot write the rejects file ${path}: ${describeError(cause)}`, ExitCode.DATABASE, { cause });
  }
}

/**
 * Writes rejects as CSV (`line,reason,original`). The file is created on the first reject only,
 * so a clean import leaves no empty rejects file behind; `check` tells beforehand whether it can
 * be. Writes are buffered: `flush` waits until they reached the file, and throws
 * RejectsWriteError if one failed (as does every call after a failure).
 */
export class RejectsWriter {
  private stream: WriteStream | undefined;
  private failed: RejectsWriteError | undefined;
  private closed = false;
  count = 0;

  constructor(readonly path: string) {}

  /**
   * Throws UsageError when the file could not be created or written, without creating it. An
   * existing file is opened for writing (not truncated); otherwise a probe file of this process's
   * own is created beside it and removed: never the path itself, which another import of the same
   * file may be probing or writing at the same moment.
   */
  async check(): Promise<void> {
    try {
      try {
        await (await open(this.path, 'r+')).close();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EISDIR') throw new Error('it is a directory', { cause: error });
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      const probe = `${this.path}.${process.pid}-${randomBytes(4).toString('hex')}.probe`;
      await (await open(probe, 'wx')).close();
      await unlink(probe);
    } catch (error) {
      throw new UsageError(`cannot create the rejects file ${this.path}: ${describeError(error)}; pass --rejects with a path you can write to`, { cause: error });
    }
  }

  private fail(error: unknown): void {
    this.failed ??= new RejectsWriteError(this.path, error);
  }

  async write(reject: Reject): Promise<void> {
    if (this.failed) throw this.failed;
    if (!this.stream) {
      this.stream = createWriteStream(this.path, { flags: 'w' });
      this.stream.on('error', (error) => this.fail(error));
      this.stream.write('line,reason,original\n');
    }
    this.count += 1;
    const s = this.stream;
    if (!s.write(`${reject.line},${csvField(reject.reason)},${csvField(reject.original)}\n`) && !s.destroyed) {
      await once(s, 'drain').catch((error) => this.fail(error));
    }
    // eslint-disable-next-line @typescript-eslint/only-throw-error -- set by an 'error' event during the await (TypeScript assumes it still undefined)
    if (this.failed) throw this.failed;
  }

  /** Waits until every reject written so far reached the file. */
  async flush(): Promise<void> {
    const s = this.stream;
    if (s && !this.failed) {
      // A failed fs stream is destroyed at once but emits 'error' only once its file is closed:
      // in between, `errored` is the only sign, and a commit must not slip through that window.
      if (s.errored) this.fail(s.errored);
      else if (s.destroyed) this.fail(new Error('the file was closed'));
      else {
        // An empty write's callback runs once the writes before it are done.
        await new Promise<void>((resolve) =>
          s.write('', (error) => {
            if (error) this.fail(s.errored ?? error);
            resolve();
          }),
        );
      }
    }
    if (this.failed) throw this.failed;
  }

  /** True when at least one reject was written. */
  get created(): boolean {
    return this.stream !== undefined;
  }

  /** Flushes and closes the file (once; later calls do nothing). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const s = this.stream;
    if (!s) return;
    if (!this.failed && !s.destroyed) {
      await new Promise<void>((resolve) =>
        s.end((error?: Error | null) => {
          if (error) this.fail(error);
          resolve();
        }),
      );
    }
    s.destroy();
    if (this.failed) throw this.failed;
  }
}
