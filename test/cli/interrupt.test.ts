import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMigratedDatabase, type TestDatabase } from '../helpers/db.js';
import { TableLock, until } from '../helpers/table-lock.js';
import { packageRoot } from '../../src/paths.js';

// Ctrl-C end to end (the built CLI: `npm run build` first). The first Ctrl-C asks the run to stop
// at its next safe point; a second one stops at once, exit 130. To have a run that cannot reach a
// safe point, the test holds a lock on the tracks table, so the import waits on PostgreSQL.
// (SQLite has no such case: better-sqlite3 waits for a lock inside a synchronous call, during
// which no signal handler can run, so neither Ctrl-C is seen before that wait ends.)

describe('Ctrl-C twice (postgresql)', () => {
  let db: TestDatabase;
  let work: string;
  let tables: TableLock;
  beforeAll(async () => {
    db = await createMigratedDatabase('postgresql');
    work = mkdtempSync(join(tmpdir(), 'soulspot-interrupt-'));
    copyFileSync(join(packageRoot, 'examples', 'liked-songs.csv'), join(work, 'liked-songs.csv'));
    tables = await TableLock.open(db.url);
  });
  afterAll(async () => {
    await tables.close();
    await db.drop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the first Ctrl-C asks the import to finish its batch; the second stops it at once with exit 130', async () => {
    await tables.lock('tracks');
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'soulspot.js'), 'import-tracks', 'liked-songs.csv'], {
      cwd: work,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    try {
      // The import is waiting for the lock: its interrupt handler is in place.
      await until(() => tables.someoneWaits(), 'the import waits for the lock');

      child.kill('SIGINT');
      await until(async () => /Interrupted: finishing the current batch \(Ctrl-C again to stop at once\)/.test(stderr), 'the first Ctrl-C is acknowledged');
      // Still waiting for the lock: the first Ctrl-C cannot end this run.
      expect(child.exitCode).toBeNull();
      expect(await tables.someoneWaits()).toBe(true);

      child.kill('SIGINT');
      const { code, signal } = await exited;
      expect({ code, signal }).toEqual({ code: 130, signal: null });
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^soulspot: interrupted twice: stopped at once instead of finishing the current batch$/m);
    } finally {
      child.kill('SIGKILL');
      await tables.release();
    }
    // Nothing of the abandoned batch was committed.
    expect(await tables.count('tracks')).toBe(0);
  });
});
