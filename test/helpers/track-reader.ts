import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../src/paths.js';

/** One answer line of the reader process (see track-reader-process.mjs). */
export type ReaderAnswer = Record<string, unknown> & {
  title?: string | null;
  l1?: { hits: number; misses: number };
  l2?: { hits: number; misses: number; errors: number; invalidations_received: number };
};

/**
 * A separate soulspot process reading tracks through the two cache tiers, driven line by line
 * (needs `npm run build`: it runs dist/, as the CLI does).
 */
export class TrackReaderProcess {
  private readonly lines: string[] = [];
  private waiter: ((line: string) => void) | undefined;
  stderr = '';
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(line);
      } else this.lines.push(line);
    });
    child.stderr.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  static async start(env: Record<string, string>): Promise<{ reader: TrackReaderProcess; ready: ReaderAnswer }> {
    const child = spawn(process.execPath, [join(packageRoot, 'test', 'helpers', 'track-reader-process.mjs')], {
      cwd: packageRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const reader = new TrackReaderProcess(child);
    return { reader, ready: await reader.next() };
  }

  /** Sends one command line and returns its answer. */
  async send(line: string): Promise<ReaderAnswer> {
    this.child.stdin.write(`${line}\n`);
    return this.next();
  }

  /** Asks it to quit; resolves with its exit code once it has exited on its own. */
  async quit(): Promise<number | null> {
    this.child.stdin.end('quit\n');
    return this.exited;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private next(): Promise<ReaderAnswer> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(JSON.parse(line) as ReaderAnswer);
    return new Promise((resolve, reject) => {
      this.waiter = (l) => resolve(JSON.parse(l) as ReaderAnswer);
      void this.exited.then((code) => reject(new Error(`reader process exited (${code}) before answering: ${this.stderr}`)));
    });
  }
}
