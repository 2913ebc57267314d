import { writeFileSync } from 'node:fs';
import pg from 'pg';
import { createEmptyDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { addMigration, copyMigrations } from '../helpers/migrations-dir.js';
import { readMigrations } from '../../src/migrate/migrations.js';
import { openRawConnection } from '../../src/db/raw.js';
import { sqliteFilePath } from '../../src/database-url.js';

// Every option of `migrate` and its subcommands, end to end through the built CLI, on a folder of
// the packaged migrations and two small ones, so that --to and --steps have a choice.

const EXTRA_ONE = '20990101000000_extra_one';
const EXTRA_TWO = '20990102000000_extra_two';

describe.each(providers)('every option of soulspot migrate reaches its action, on %s', (provider) => {
  const dbs: TestDatabase[] = [];
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
  });
  const dir = copyMigrations(provider);
  addMigration(dir, EXTRA_ONE, 'CREATE TABLE extra_one (id INTEGER PRIMARY KEY);\n', 'DROP TABLE extra_one;\n');
  addMigration(dir, EXTRA_TWO, 'CREATE TABLE extra_two (id INTEGER PRIMARY KEY);\n', 'DROP TABLE extra_two;\n');
  const packaged = readMigrations(provider).migrations.map((m) => m.name);
  /** The newest packaged migration. */
  const newest = packaged.at(-1)!;
  const all = [...packaged, EXTRA_ONE, EXTRA_TWO];
  const packagedApplied = Object.fromEntries(packaged.map((n) => [n, 'applied']));

  const fresh = async () => {
    const db = await createEmptyDatabase(provider);
    dbs.push(db);
    // An empty file is an empty SQLite database (a missing one is refused: see missing-database.test.ts).
    if (provider === 'sqlite') writeFileSync(sqliteFilePath(db.url), '');
    const env = { DATABASE_URL: db.url, SOULSPOT_MIGRATIONS_DIR: dir };
    const cli = (...args: string[]) => runCli(args, { env });
    /** The state of each migration, as `migrate status --json` reports it. */
    const states = async () => {
      const run = await cli('migrate', 'status', '--json');
      return Object.fromEntries(JSON.parse(run.stdout).migrations.map((m: { name: string; state: string }) => [m.name, m.state]));
    };
    const tables = async () => {
      const conn = await openRawConnection(db.config);
      try {
        const sql =
          provider === 'sqlite'
            ? `SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('tracks', 'extra_one', 'extra_two') ORDER BY name`
            : `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('tracks', 'extra_one', 'extra_two') ORDER BY 1`;
        return (await conn.query<{ name: string }>(sql)).map((r) => r.name);
      } finally {
        await conn.close();
      }
    };
    return { db, env, cli, states, tables };
  };
  const allApplied = Object.fromEntries(all.map((n) => [n, 'applied']));

  test('migrate --dry-run changes nothing; --to applies up to a migration (short name too); up is the default', async () => {
    const { cli, states } = await fresh();
    const dry = await cli('migrate', '--dry-run', '--json');
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, applied: [] });
    expect(JSON.parse(dry.stdout).pending.map((m: { name: string }) => m.name)).toEqual(all);
    expect(await states()).toEqual(Object.fromEntries(all.map((n) => [n, 'pending'])));

    const to = await cli('migrate', '--to', 'extra_one', '--json');
    expect(to.code).toBe(0);
    expect(JSON.parse(to.stdout)).toMatchObject({ dryRun: false, applied: [...packaged, EXTRA_ONE] });
    expect(await states()).toEqual({ ...packagedApplied, [EXTRA_ONE]: 'applied', [EXTRA_TWO]: 'pending' });

    const up = await cli('migrate', 'up', '--dry-run');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`-- Migration ${EXTRA_TWO} (dry run: not applied)`);
    expect((await cli('migrate', 'up', '--to', EXTRA_TWO)).stdout).toContain(`Applied ${EXTRA_TWO}`);
    expect(await states()).toEqual(allApplied);
  });

  test('down --dry-run with --all, --steps or --to prints the reverse SQL and rolls nothing back', async () => {
    const { cli, states, tables } = await fresh();
    expect((await cli('migrate')).code).toBe(0);

    const everything = await cli('migrate', 'down', '--all', '--dry-run', '--json');
    expect(everything.code).toBe(0);
    const json = JSON.parse(everything.stdout);
    expect(json).toMatchObject({ dryRun: true, rolledBack: [...all].reverse() });
    expect(json.sql).toEqual(['DROP TABLE extra_two;\n', 'DROP TABLE extra_one;\n', ...packaged.slice(1).map(() => expect.any(String)), expect.stringContaining('DROP TABLE "tracks"')]);

    const steps = await cli('migrate', 'down', '--steps', '2', '--dry-run', '--json');
    expect(JSON.parse(steps.stdout)).toMatchObject({ dryRun: true, rolledBack: [EXTRA_TWO, EXTRA_ONE] });

    const to = await cli('migrate', 'down', '--to', newest, '--dry-run');
    expect(to.code).toBe(0);
    expect(to.stdout).toContain(`-- Reverse of ${EXTRA_TWO} (dry run: not run)\nDROP TABLE extra_two;`);
    expect(to.stdout).toContain(`-- Reverse of ${EXTRA_ONE} (dry run: not run)`);
    expect(to.stdout).not.toContain(newest);
    expect(to.stdout).not.toContain('Rolled back');

    expect(await states()).toEqual(allApplied);
    expect(await tables()).toEqual(['extra_one', 'extra_two', 'tracks']);
  });

  test('down rolls back the newest; --steps N the N newest; --to everything after it; --all everything', async () => {
    const { cli, states, tables } = await fresh();
    expect((await cli('migrate')).code).toBe(0);

    const to = await cli('migrate', 'down', '--to', newest, '--json');
    expect(to.code).toBe(0);
    expect(JSON.parse(to.stdout)).toEqual({ dryRun: false, rolledBack: [EXTRA_TWO, EXTRA_ONE] });
    expect(await states()).toEqual({ ...packagedApplied, [EXTRA_ONE]: 'pending', [EXTRA_TWO]: 'pending' });
    expect(await tables()).toEqual(['tracks']);

    expect((await cli('migrate')).code).toBe(0);
    expect(JSON.parse((await cli('migrate', 'down', '--steps', '2', '--json')).stdout).rolledBack).toEqual([EXTRA_TWO, EXTRA_ONE]);
    expect((await cli('migrate')).code).toBe(0);
    const latest = await cli('migrate', 'down');
    expect(latest.stdout).toBe(`Rolled back ${EXTRA_TWO}\n`);
    expect(await states()).toEqual({ ...packagedApplied, [EXTRA_ONE]: 'applied', [EXTRA_TWO]: 'pending' });

    const everything = await cli('migrate', 'down', '--all');
    expect(everything.code).toBe(0);
    expect(everything.stdout).toBe([EXTRA_ONE, ...[...packaged].reverse()].map((n) => `Rolled back ${n}\n`).join(''));
    expect(await tables()).toEqual([]);
  });

  test('conflicting or misplaced options are usage errors (exit 2) and change nothing', async () => {
    const { cli, states } = await fresh();
    expect((await cli('migrate')).code).toBe(0);
    for (const args of [
      ['migrate', 'down', '--steps', '1', '--to', newest],
      ['migrate', 'down', '--all', '--to', newest],
      ['migrate', 'down', '--steps', '1', '--all'],
      ['migrate', 'down', '--steps', '0'],
      ['migrate', '--dry-run', 'down', '--all'], // --dry-run of migrate (up) must never make down run for real
      ['migrate', 'status', '--to', newest],
      ['migrate', '--lock-timeout', 'soon'],
      ['migrate', 'resolve', '--applied', newest, '--rolled-back', newest],
      ['migrate', 'resolve'],
    ]) {
      const run = await cli(...args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stdout).toBe('');
    }
    expect(await states()).toEqual(allApplied);
  });

  test('resolve --rolled-back lets a failed migration run again; resolve --applied marks it done', async () => {
    const broken = copyMigrations(provider);
    addMigration(broken, '20990201000000_broken', 'CREATE TABLE broken (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);\n');
    const db = await createEmptyDatabase(provider);
    dbs.push(db);
    const env = { DATABASE_URL: db.url, SOULSPOT_MIGRATIONS_DIR: broken };
    const state = async () => JSON.parse((await runCli(['migrate', 'status', '--json'], { env })).stdout).migrations.at(-1).state;

    expect((await runCli(['migrate'], { env })).code).toBe(4);
    expect(await state()).toBe('failed');
    const rolledBack = await runCli(['migrate', 'resolve', '--rolled-back', 'broken'], { env });
    expect(rolledBack).toMatchObject({ code: 0, stdout: 'Marked 20990201000000_broken as rolled-back.\n' });
    expect(await state()).toBe('pending');

    expect((await runCli(['migrate'], { env })).code).toBe(4);
    const applied = await runCli(['migrate', 'resolve', '--applied', '20990201000000_broken', '--json'], { env });
    expect(applied.code).toBe(0);
    expect(JSON.parse(applied.stdout)).toEqual({ migration: '20990201000000_broken', markedAs: 'applied' });
    expect(await state()).toBe('applied');
  });

  test('--lock-timeout bounds the wait for another migrator: it says that it waits, then gives up with exit 4', async () => {
    const { db, cli, states } = await fresh();
    // Another migrator, alive, holding the lock the way a migrate does.
    let release: () => Promise<void>;
    if (provider === 'sqlite') {
      const lockfile = await import('proper-lockfile');
      const path = sqliteFilePath(db.url);
      const unlock = await lockfile.lock(path, { realpath: false, lockfilePath: `${path}.migrate-lock`, update: 1000 });
      release = unlock;
    } else {
      const holder = new pg.Client({ connectionString: db.url });
      await holder.connect();
      await holder.query('SELECT pg_advisory_lock(72707369)');
      release = () => holder.end();
    }
    try {
      const run = await cli('migrate', '--lock-timeout', '1');
      expect(run.code).toBe(4);
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(/^warn: waiting for another (soulspot migrate|migrator).*waiting up to 1 s/);
      expect(lines[1]).toMatch(/^soulspot: another (soulspot migrate|migrator) held .* for 1 s; wait for it to finish, or raise --lock-timeout$/);
    } finally {
      await release();
    }
    expect(Object.values(await states())).toEqual(all.map(() => 'pending'));
    expect((await cli('migrate', '--lock-timeout', '1')).code).toBe(0);
  });
});
