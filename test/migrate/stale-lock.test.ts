import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { packageRoot } from '../../src/paths.js';
import { readMigrations } from '../../src/migrate/migrations.js';

// A migrate killed with SIGKILL while it holds its lock file leaves the file behind. The next
// migrate must say that it waits and on what, and take the lock over once it has gone stale.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'soulspot-stale-lock-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 50));
}

test('the next migrate after a killed one says it waits for the lock file, then takes it over and migrates', async () => {
  const path = join(dir, 'library.db');
  const lock = `${path}.migrate-lock`;
  const env = { DATABASE_URL: `file:${path}`, PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  writeFileSync(path, '');
  // Holding SQLite's write lock parks the first migrate inside its lock file, before it records anything.
  const blocker = new Database(path);
  blocker.pragma('journal_mode = WAL');
  blocker.exec('BEGIN IMMEDIATE');
  const first = spawn(process.execPath, [join(packageRoot, 'bin', 'soulspot.js'), 'migrate'], { env, stdio: 'ignore' });
  const exited = new Promise((resolve) => first.on('exit', resolve));
  try {
    await until(() => existsSync(lock));
    first.kill('SIGKILL');
    await exited;
  } finally {
    blocker.exec('ROLLBACK');
    blocker.close();
  }
  expect(existsSync(lock)).toBe(true);

  const next = await runCli(['migrate', '--json'], { env });
  expect(next.code).toBe(0);
  expect(next.stderr).toMatch(new RegExp(`^warn: waiting for another soulspot migrate: it holds the lock file ${lock} .*taken over once it has not been refreshed`));
  expect(JSON.parse(next.stdout).applied).toHaveLength(readMigrations('sqlite').migrations.length);
  expect(existsSync(lock)).toBe(false);
});
