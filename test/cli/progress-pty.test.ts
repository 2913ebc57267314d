import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';

// A terminal that reports 0 columns (a pty whose size was never set, as in some CI runners and
// containers) once made ora's redraw loop forever: the quick-start import never ended and wrote
// megabytes of cursor escapes a second. Run under a real pty (util-linux `script`).
// End-to-end tests run the built CLI: `npm run build` first.

const LIMIT_MS = 20_000;

interface PtyRun {
  code: number | null;
  timedOut: boolean;
  output: string;
}

/**
 * Runs the CLI under a pseudo-terminal of `columns` columns; SIGKILLs it after LIMIT_MS. (A CLI
 * stuck in a synchronous loop heeds no other signal: ora's exit hooks catch SIGHUP and SIGTERM in
 * JavaScript that never runs; and it lives in the pty's own session, so it is killed by its pid,
 * which the shell prints before it `exec`s the CLI.)
 */
function runInPty(args: string[], columns: number, env: Record<string, string>, cwd: string): Promise<PtyRun> {
  const cli = [process.execPath, join(packageRoot, 'bin', 'soulspot.js'), ...args].map((a) => `'${a}'`).join(' ');
  const command = `echo "cli pid $$"; stty cols ${columns} rows 0 && exec ${cli}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, to kill script with whatever it started
    });
    let output = '';
    let timedOut = false;
    const collect = (chunk: Buffer) => {
      // Only a bounded prefix is kept: the point is whether output stays small.
      if (output.length < 1_000_000) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const timer = setTimeout(() => {
      timedOut = true;
      const pid = /cli pid (\d+)/.exec(output)?.[1];
      for (const target of [Number(pid), -child.pid!]) {
        try {
          if (target) process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }, LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut, output });
    });
  });
}

describe.each(providers)('progress on a terminal of 0 columns (%s)', (provider) => {
  let db: TestDatabase;
  let work: string;
  beforeAll(async () => {
    db = await createMigratedDatabase(provider);
    work = mkdtempSync(join(tmpdir(), 'soulspot-pty-'));
    copyFileSync(join(packageRoot, 'examples', 'liked-songs.csv'), join(work, 'liked-songs.csv'));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the quick-start import ends with exit 0 and a bounded output', async () => {
    const run = await runInPty(['import-tracks', 'liked-songs.csv'], 0, { DATABASE_URL: db.url }, work);
    expect(run.timedOut).toBe(false);
    expect(run.code).toBe(0);
    expect(run.output.length).toBeLessThan(20_000);
    expect(run.output).toMatch(/inserted\s*│\s*50\b/);
  }, LIMIT_MS + 10_000);

  test('with a usable width the spinner still draws', async () => {
    const run = await runInPty(['import-tracks', 'liked-songs.csv'], 80, { DATABASE_URL: db.url }, work);
    expect(run.code).toBe(0);
    expect(run.output).toContain('importing liked-songs.csv');
  }, LIMIT_MS + 10_000);
});
