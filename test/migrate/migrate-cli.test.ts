import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmptyDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { openRawConnection } from '../../src/db/raw.js';
import { readMigrations } from '../../src/migrate/migrations.js';

describe.each(providers)('soulspot migrate on %s (end to end)', (provider) => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
  });
  const fresh = async () => {
    const db = await createEmptyDatabase(provider);
    dbs.push(db);
    return db;
  };
  const names = readMigrations(provider).migrations.map((m) => m.name);

  test('status exits 6 while migrations are pending, migrate applies them, a second run says nothing to do', async () => {
    const db = await fresh();
    const env = { DATABASE_URL: db.url };
    // An empty file is an empty SQLite database; status refuses a missing one (missing-database.test.ts).
    if (provider === 'sqlite') writeFileSync(db.url.slice('file:'.length), '');
    const pending = await runCli(['migrate', 'status', '--json'], { env });
    expect(pending.code).toBe(6);
    expect(JSON.parse(pending.stdout).migrations.map((m: { state: string }) => m.state)).toEqual(names.map(() => 'pending'));

    const first = await runCli(['migrate'], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Applied ${names[0]}`);
    const second = await runCli(['migrate'], { env });
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Nothing to apply/);

    const status = await runCli(['migrate', 'status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/applied/);
    expect(status.stdout).toContain(names[0]);
  });

  test('several migrate processes at once apply each migration exactly once', async () => {
    const db = await fresh();
    const runs = await Promise.all([1, 2, 3, 4].map(() => runCli(['migrate', '--json'], { env: { DATABASE_URL: db.url } })));
    for (const run of runs) expect(run).toMatchObject({ code: 0 });
    const applied = runs.map((r) => JSON.parse(r.stdout).applied as string[]);
    expect(applied.filter((a) => a.length > 0)).toEqual([names]);
    const conn = await openRawConnection(db.config);
    const rows = await conn.query<{ migration_name: string }>('SELECT migration_name FROM _prisma_migrations');
    await conn.close();
    expect(rows.map((r) => r.migration_name).sort()).toEqual([...names].sort());
  });

  test('--dry-run prints the SQL and leaves the database untouched', async () => {
    const db = await fresh();
    const run = await runCli(['migrate', '--dry-run'], { env: { DATABASE_URL: db.url } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('CREATE TABLE "tracks"');
    if (provider === 'sqlite') {
      expect(existsSync(db.url.slice('file:'.length))).toBe(false); // not even created
    } else {
      const status = await runCli(['migrate', 'status', '--json'], { env: { DATABASE_URL: db.url } });
      expect(JSON.parse(status.stdout).upToDate).toBe(false);
    }
  });

  test('down --all empties the database; an unknown migration name is a usage error', async () => {
    const db = await fresh();
    const env = { DATABASE_URL: db.url };
    expect((await runCli(['migrate'], { env })).code).toBe(0);
    const down = await runCli(['migrate', 'down', '--all'], { env });
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`Rolled back ${names[0]}`);
    const bad = await runCli(['migrate', '--to', 'nope'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/expected a migration of this folder.*got "nope"/);
  });
});

describe('configuration and usage errors', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'soulspot-cli-'));

  test.each([
    [{ DATABASE_POOL_SIZE: 'abc' }, /DATABASE_POOL_SIZE: expected a whole number.*got "abc"/],
    [{ DATABASE_POOL_PRE_PING: 'maybe' }, /DATABASE_POOL_PRE_PING: expected true or false, got "maybe"/],
    [{ LOG_FORMAT: 'xml' }, /LOG_FORMAT: expected text or json, got "xml"/],
    [{ DATABASE_URL: 'mysql://admin:hunter2@db/soulspot' }, /DATABASE_URL: expected a file:… \(SQLite\) or postgresql:\/\/… URL, got "mysql:\/\/admin:\*\*\*\*@db\/soulspot"/],
  ])('%j is refused with one line and exit 3', async (env, message) => {
    const run = await runCli(['migrate', 'status'], { env, cwd });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr + run.stdout).not.toContain('hunter2');
  });

  test('.env in the working directory is read, the environment wins over it, flags win over both', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'soulspot-env-'));
    writeFileSync(join(dir, '.env'), 'DATABASE_POOL_SIZE=abc\n');
    expect((await runCli(['migrate', 'status'], { cwd: dir })).code).toBe(3);
    const envWins = await runCli(['migrate', 'status', '--json'], { cwd: dir, env: { DATABASE_POOL_SIZE: '3' } });
    expect(envWins.code).toBe(4); // valid config; the default SQLite file in that folder does not exist
    expect(envWins.stderr).toMatch(/no SQLite database at .*soulspot\.db; run soulspot migrate/);
    writeFileSync(join(dir, '.env'), 'DATABASE_URL=mysql://nope\n');
    writeFileSync(join(dir, 'x.db'), '');
    const flagWins = await runCli(['--database-url', `file:${join(dir, 'x.db')}`, 'migrate', 'status', '--json'], { cwd: dir });
    expect(flagWins.code).toBe(6);
  });

  test('an unreachable PostgreSQL is one line, exit 4, password masked', async () => {
    const run = await runCli(['migrate'], { env: { DATABASE_URL: 'postgresql://postgres:s3cret@127.0.0.1:1/soulspot', DATABASE_POOL_TIMEOUT: '2' }, cwd });
    expect(run.code).toBe(4);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/cannot connect to PostgreSQL at postgresql:\/\/postgres:\*\*\*\*@127\.0\.0\.1:1/);
    expect(run.stderr).not.toContain('s3cret');
  });

  test('--help shows an example for every command; --version prints the version; unknown options exit 2', async () => {
    const help = await runCli(['--help'], { cwd });
    expect(help.code).toBe(0);
    for (const command of ['migrate', 'import-tracks', 'spotify-fetch', 'pool-stats', 'cache-bench', 'health', 'bench']) {
      expect(help.stdout).toContain(command);
      const sub = await runCli([command, '--help'], { cwd });
      expect(sub.code).toBe(0);
      expect(sub.stdout).toMatch(/Examples?:\n\s+\$ soulspot /);
    }
    const version = await runCli(['--version'], { cwd });
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const bad = await runCli(['migrate', '--no-such-option'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--no-such-option'/);
  });
});
