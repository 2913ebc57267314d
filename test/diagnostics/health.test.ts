import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFor, createEmptyDatabase, createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { copyMigrations } from '../helpers/migrations-dir.js';
import { readMigrations } from '../../src/migrate/migrations.js';
import { checkHealth, healthExitCode } from '../../src/diagnostics/health.js';
import { ExitCode } from '../../src/errors.js';

// End-to-end tests run the built CLI: `npx tsc -p tsconfig.json` (or npm run build) first.

describe.each(providers)('health on %s', (provider) => {
  let migrated: TestDatabase;
  let empty: TestDatabase;
  beforeAll(async () => {
    migrated = await createMigratedDatabase(provider);
    empty = await createEmptyDatabase(provider);
    // An empty SQLite database is a file without tables (a missing file is tested on its own).
    if (provider === 'sqlite') writeFileSync(empty.url.slice('file:'.length), '');
  });
  afterAll(async () => {
    await migrated?.drop();
    await empty?.drop();
  });

  test('a migrated database is healthy: exit 0, round trip measured, migrations up to date', async () => {
    const report = await checkHealth(migrated.config);
    expect(report.status).toBe('healthy');
    expect(report.checks.database).toMatchObject({ status: 'healthy', reachable: true });
    expect(report.checks.database.round_trip_ms).toBeGreaterThan(0);
    expect(report.checks.migrations).toMatchObject({ status: 'healthy', up_to_date: true, pending: [], failed: [] });
    expect(report.checks.migrations.applied).toBeGreaterThan(0);
    expect(report.checks.pool.status).toBe('healthy');
    expect(report.checks.pool.stats).toMatchObject(provider === 'sqlite' ? { pool_size: 1, max_overflow: 0, provider: 'sqlite' } : { pool_size: 5, max_overflow: 10 });

    const cli = await runCli(['health', '--json'], { env: { DATABASE_URL: migrated.url } });
    expect(cli.code).toBe(ExitCode.OK);
    const json = JSON.parse(cli.stdout);
    expect(json.status).toBe('healthy');
    expect(json.checks.database.round_trip_ms).toBeGreaterThan(0);
    expect(json.checks.migrations.up_to_date).toBe(true);

    const text = await runCli(['health'], { env: { DATABASE_URL: migrated.url } });
    expect(text.code).toBe(ExitCode.OK);
    expect(text.stdout).toMatch(/Health of \S+:\s+healthy/);
    expect(text.stdout).toMatch(/migrations\s*│\s*healthy/);
  });

  test('an unmigrated database is degraded: exit 6, migrations pending', async () => {
    const report = await checkHealth(empty.config);
    expect(report.status).toBe('degraded');
    expect(report.checks.database.status).toBe('healthy');
    expect(report.checks.migrations.status).toBe('degraded');
    expect(report.checks.migrations.pending.length).toBeGreaterThan(0);
    expect(report.checks.migrations.detail).toMatch(/not migrated/);

    const cli = await runCli(['health', '--json'], { env: { DATABASE_URL: empty.url } });
    expect(cli.code).toBe(ExitCode.ATTENTION);
    expect(JSON.parse(cli.stdout).status).toBe('degraded');
  });
});

describe.each(providers)('health on %s with an edited migration', (provider) => {
  test('names the edited migration instead of calling the database "not migrated" (exit 6)', async () => {
    const dir = copyMigrations(provider);
    const db = await createEmptyDatabase(provider, { SOULSPOT_MIGRATIONS_DIR: dir });
    try {
      const { applyMigrations } = await import('../../src/migrate/migrator.js');
      await applyMigrations(db.config);
      const all = readMigrations(provider, dir).migrations;
      const [init] = all;
      appendFileSync(join(dir, init.name, 'migration.sql'), '\n-- edited after it was applied\n');

      const report = await checkHealth(db.config);
      expect(report.status).toBe('degraded');
      // The edited one is counted apart from the others, which stay applied.
      expect(report.checks.migrations).toMatchObject({ status: 'degraded', applied: all.length - 1, pending: [], edited: [init.name] });
      expect(report.checks.migrations.detail).toBe(`edited after applying: ${init.name}; run soulspot migrate status`);

      const cli = await runCli(['health', '--json'], { env: { DATABASE_URL: db.url, SOULSPOT_MIGRATIONS_DIR: dir } });
      expect(cli.code).toBe(ExitCode.ATTENTION);
      expect(JSON.parse(cli.stdout).checks.migrations.detail).not.toMatch(/not migrated/);
    } finally {
      await db.drop();
    }
  });
});

describe('health on SQLite files that are not databases', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'soulspot-health-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('a missing file is unhealthy (exit 7) and is not created', async () => {
    const path = join(dir, 'missing.db');
    const report = await checkHealth(configFor(`file:${path}`));
    expect(report.status).toBe('unhealthy');
    expect(report.checks.database.detail).toMatch(/no SQLite database at .*missing\.db; run soulspot migrate/);
    expect(report.checks.migrations.status).toBe('skipped');
    expect(existsSync(path)).toBe(false);

    const cli = await runCli(['health'], { env: { DATABASE_URL: `file:${path}` } });
    expect(cli.code).toBe(ExitCode.UNHEALTHY);
    expect(cli.stdout).toMatch(/unhealthy/);
    expect(existsSync(path)).toBe(false);
  });

  test('a file that is not SQLite is unhealthy (exit 7)', async () => {
    const path = join(dir, 'junk.db');
    writeFileSync(path, 'this is not a database, just some text long enough to have a header'.repeat(20));
    const report = await checkHealth(configFor(`file:${path}`));
    expect(report.status).toBe('unhealthy');
    expect(report.checks.database.detail).toMatch(/junk\.db: the file is not a SQLite database/);
    expect((await runCli(['health', '--json'], { env: { DATABASE_URL: `file:${path}` } })).code).toBe(ExitCode.UNHEALTHY);
  });
});

describe('health on PostgreSQL: unreachable server and oversized pool', () => {
  test('an unreachable server is unhealthy (exit 7) with one reason', async () => {
    const url = 'postgresql://postgres@127.0.0.1:1/soulspot';
    const report = await checkHealth(configFor(url));
    expect(report.status).toBe('unhealthy');
    expect(report.checks.database.reachable).toBe(false);
    expect(report.checks.database.detail).toMatch(/cannot reach PostgreSQL: .*ECONNREFUSED/);
    expect(report.checks.pool.status).toBe('skipped');
    const cli = await runCli(['health', '--json'], { env: { DATABASE_URL: url } });
    expect(cli.code).toBe(ExitCode.UNHEALTHY);
    expect(JSON.parse(cli.stdout).checks.database.reachable).toBe(false);
  });

  test('a database that does not exist is unhealthy, and a password never shows', async () => {
    const url = 'postgresql://postgres:s3cret@127.0.0.1:5432/soulspot_no_such_database';
    const cli = await runCli(['health', '--json'], { env: { DATABASE_URL: url } });
    expect(cli.code).toBe(ExitCode.UNHEALTHY);
    expect(cli.stdout).toMatch(/does not exist/);
    expect(cli.stdout + cli.stderr).not.toContain('s3cret');
  });

  test('a pool larger than the server allows is degraded (exit 6)', async () => {
    const db = await createMigratedDatabase('postgresql');
    try {
      const report = await checkHealth(configFor(db.url, { DATABASE_POOL_SIZE: '400', DATABASE_MAX_OVERFLOW: '400' }));
      expect(report.status).toBe('degraded');
      expect(report.checks.pool.detail).toMatch(/may open 800 connections .* but the server allows \d+/);
      expect(healthExitCode(report.status)).toBe(ExitCode.ATTENTION);
      const cli = await runCli(['health'], { env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '400', DATABASE_MAX_OVERFLOW: '400' } });
      expect(cli.code).toBe(ExitCode.ATTENTION);
    } finally {
      await db.drop();
    }
  });
});

describe('bad settings and options are rejected with one line', () => {
  test.each([
    ['DATABASE_POOL_SIZE', 'abc'],
    ['DATABASE_POOL_SIZE', '0'],
    ['DATABASE_MAX_OVERFLOW', '-1'],
    ['DATABASE_POOL_TIMEOUT', '1.5'],
    ['DATABASE_POOL_RECYCLE', 'soon'],
    ['DATABASE_POOL_PRE_PING', 'maybe'],
  ])('%s=%s gives exit 3', async (name, value) => {
    for (const command of ['health', 'pool-stats']) {
      const cli = await runCli([command], { env: { DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/postgres', [name]: value } });
      expect(cli.code).toBe(ExitCode.CONFIG);
      expect(cli.stdout).toBe('');
      const lines = cli.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(name);
      expect(lines[0]).toContain(`"${value}"`);
    }
  });

  test.each([
    [['pool-stats', '--concurrency', '4'], /--concurrency, --duration, --watch and --listen go with --probe/],
    [['pool-stats', '--probe', '--concurrency', 'many'], /--concurrency: expected a whole number from 1 to 1000, got "many"/],
    [['pool-stats', '--probe', '--duration', '0'], /--duration: expected a whole number from 1 to 3600, got "0"/],
  ])('pool-stats %j gives exit 2', async (args, message) => {
    const cli = await runCli(args, { env: { DATABASE_URL: 'file:./never-created.db' } });
    expect(cli.code).toBe(ExitCode.USAGE);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    expect(cli.stderr).toMatch(message);
  });
});
