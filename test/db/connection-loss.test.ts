import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPgPool, type SoulspotPgPool } from '../../src/db/pool.js';
import { describeError } from '../../src/errors.js';
import { addMigration, copyMigrations } from '../helpers/migrations-dir.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { PG_ADMIN_URL, createEmptyDatabase, createMigratedDatabase, type TestDatabase } from '../helpers/db.js';

// A server connection terminated under the process (pg_terminate_backend, a server restart, a
// dropped network) is a database error like any other: one line, exit 4, committed work kept.
// End-to-end tests run the built CLI: `npm run build` first.

const LOST = /the connection to the database was lost/;

let admin: pg.Client;
beforeAll(async () => {
  admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
});
afterAll(async () => {
  await admin.end();
});

function databaseName(db: TestDatabase): string {
  return new URL(db.url).pathname.slice(1);
}

/** Terminates every connection to the database but the admin's own; returns how many. */
async function terminateAll(db: TestDatabase): Promise<number> {
  const { rows } = await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [databaseName(db)]);
  return rows.length;
}

/** Polls `probe` every 50 ms until it returns true (the test's own timeout bounds the wait). */
async function until(probe: () => Promise<boolean>): Promise<void> {
  while (!(await probe())) await new Promise((resolve) => setTimeout(resolve, 50));
}

function expectOneLineWithoutStack(run: CliResult): string {
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(run.stderr).not.toMatch(/Unhandled 'error' event|^\s+at /m);
  return lines[0];
}

describe('the pool survives a terminated connection', () => {
  let db: TestDatabase;
  let pool: SoulspotPgPool;
  beforeAll(async () => {
    db = await createEmptyDatabase('postgresql');
  });
  afterEach(async () => {
    await pool?.end();
  });
  afterAll(async () => {
    await db.drop();
  });

  test('a checked-out connection terminated between statements: the next statement fails with a database error, the process lives on', async () => {
    pool = createPgPool(db.url, db.config.pool);
    const client = await pool.connect();
    const ended = new Promise((resolve) => client.once('end', resolve));
    expect(await terminateAll(db)).toBe(1);
    await ended; // node-postgres has emitted 'error' on the client by now
    const failure = await client.query('SELECT 1').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(describeError(failure)).toMatch(LOST);
    client.release(failure as Error);
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  test('a checked-out connection terminated under a statement: that statement fails, the process lives on', async () => {
    pool = createPgPool(db.url, db.config.pool);
    const client = await pool.connect();
    const sleeping = client.query('SELECT pg_sleep(30)').then(
      () => undefined,
      (error: unknown) => error,
    );
    await until(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active'", [databaseName(db)])).rowCount === 1);
    const ended = new Promise((resolve) => client.once('end', resolve));
    await terminateAll(db);
    expect(describeError(await sleeping)).toMatch(LOST);
    await ended;
    client.release(true);
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  test('an idle pooled connection terminated: dropped from the pool, the next statement gets a new one', async () => {
    pool = createPgPool(db.url, { ...db.config.pool, size: 1, maxOverflow: 0 });
    await pool.query('SELECT 1');
    const removed = new Promise((resolve) => pool.once('remove', resolve));
    expect(await terminateAll(db)).toBe(1);
    await removed;
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});

describe('a connection terminated during a command (end to end)', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'soulspot-lost-'));
  });
  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  test('import-tracks: one line naming the lost connection and the batches kept, exit 4; a rerun completes', async () => {
    const db = await createMigratedDatabase('postgresql');
    try {
      const rows = 60_000;
      const lines = ['Track URI,Track Name,Artist Name(s),Track Duration (ms)'];
      for (let i = 0; i < rows; i++) lines.push(`spotify:track:${String(i).padStart(22, 'x')},Title ${i},Artist ${i % 500},${200_000 + i}`);
      const file = join(work, 'big.csv');
      writeFileSync(file, `${lines.join('\n')}\n`);
      const env = { DATABASE_URL: db.url };
      const running = runCli(['import-tracks', file, '--batch-size', '2000'], { env, cwd: work });
      // Mid-run: the import's connections are open and at least one batch is committed.
      const probe = new pg.Client({ connectionString: db.url });
      await probe.connect();
      let committed = 0;
      try {
        await until(async () => (committed = Number((await probe.query('SELECT count(*) AS n FROM tracks')).rows[0].n)) > 0);
      } finally {
        await probe.end();
      }
      expect(await terminateAll(db)).toBeGreaterThan(0);
      const run = await running;

      expect(run.code).toBe(4);
      const line = expectOneLineWithoutStack(run);
      expect(line).toMatch(LOST);
      expect(line).toMatch(/\d+ earlier batch\(es\) committed; rerun to resume/);
      const check = new pg.Client({ connectionString: db.url });
      await check.connect();
      try {
        const kept = Number((await check.query('SELECT count(*) AS n FROM tracks')).rows[0].n);
        expect(kept).toBeGreaterThanOrEqual(committed);
        expect(kept).toBeLessThan(rows);

        const rerun = await runCli(['--json', 'import-tracks', file, '--batch-size', '20000'], { env, cwd: work });
        expect(rerun.code).toBe(0);
        const summary = JSON.parse(rerun.stdout);
        expect(summary.read).toBe(rows);
        expect(summary.inserted + summary.unchanged).toBe(rows);
        expect(summary.unchanged).toBe(kept);
        expect(Number((await check.query('SELECT count(*) AS n FROM tracks')).rows[0].n)).toBe(rows);
      } finally {
        await check.end();
      }
    } finally {
      await db.drop();
    }
  });

  test('migrate: a connection terminated during a slow migration gives one line naming it, exit 4; the migrations before it stay applied', async () => {
    const db = await createEmptyDatabase('postgresql');
    try {
      const dir = copyMigrations('postgresql');
      addMigration(dir, '20990101000000_slow', 'SELECT pg_sleep(5);\n');
      const env = { DATABASE_URL: db.url, SOULSPOT_MIGRATIONS_DIR: dir };
      const running = runCli(['migrate'], { env });
      await until(async () => (await admin.query("SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'SELECT pg_sleep%' AND state = 'active'", [databaseName(db)])).rowCount! > 0);
      expect(await terminateAll(db)).toBeGreaterThan(0);
      const run = await running;

      expect(run.code).toBe(4);
      const line = expectOneLineWithoutStack(run);
      expect(line).toMatch(/migration 20990101000000_slow failed: the connection to the database was lost/);
      const status = await runCli(['migrate', 'status', '--json'], { env });
      const states = Object.fromEntries(JSON.parse(status.stdout).migrations.map((m: { name: string; state: string }) => [m.name, m.state]));
      expect(states['20990101000000_slow']).not.toBe('applied');
      expect(Object.entries(states).filter(([name]) => name !== '20990101000000_slow').every(([, state]) => state === 'applied')).toBe(true);
    } finally {
      await db.drop();
    }
  });
});
