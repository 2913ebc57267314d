import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

// What the commands do with a SQLite file that is missing or cannot be used: read-only commands
// never create a database (only `migrate` does), and every failure is one line naming the path.

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'soulspot-sqlite-file-'));
  chmodSync(root, 0o755); // readable by the other user of the read-only test
});
afterAll(() => {
  chmodSync(root, 0o755);
  for (const entry of readdirSync(root)) chmodSync(join(root, entry), 0o755);
  rmSync(root, { recursive: true, force: true });
});

describe('a missing SQLite file', () => {
  test.each([
    [['migrate', 'status'], 4],
    [['migrate', 'status', '--json'], 4],
    [['migrate', 'down'], 4],
    [['migrate', 'down', '--all', '--dry-run'], 4],
    [['migrate', 'resolve', '--rolled-back', 'init'], 4],
    [['pool-stats'], 4],
    [['pool-stats', '--probe', '--duration', '1'], 4],
  ])('%j says in one line that it does not exist and to run soulspot migrate; creates nothing', async (args, code) => {
    const dir = mkdtempSync(join(root, 'missing-'));
    const path = join(dir, 'library.db');
    const run = await runCli(args, { env: { DATABASE_URL: `file:${path}` } });
    expect(run.code).toBe(code);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`soulspot: no SQLite database at ${path}; run soulspot migrate to create it (nothing was created)\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('health reports it as unhealthy (exit 7) with the same words, JSON still printed; creates nothing', async () => {
    const dir = mkdtempSync(join(root, 'missing-'));
    const path = join(dir, 'library.db');
    const run = await runCli(['health', '--json'], { env: { DATABASE_URL: `file:${path}` } });
    expect(run.code).toBe(7);
    expect(JSON.parse(run.stdout).checks.database.detail).toBe(`no SQLite database at ${path}; run soulspot migrate to create it (nothing was created)`);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('migrate --dry-run prints every migration without creating it; migrate creates it', async () => {
    const dir = mkdtempSync(join(root, 'missing-'));
    const path = join(dir, 'library.db');
    const dry = await runCli(['migrate', '--dry-run'], { env: { DATABASE_URL: `file:${path}` } });
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('CREATE TABLE "tracks"');
    expect(readdirSync(dir)).toEqual([]);
    expect((await runCli(['migrate'], { env: { DATABASE_URL: `file:${path}` } })).code).toBe(0);
    expect(existsSync(path)).toBe(true);
  });
});

describe('a SQLite file that cannot be used', () => {
  test.each(['migrate', 'migrate status', 'pool-stats', 'migrate down'])(
    'soulspot %s under a path whose "folder" is a regular file: exit 4, one line naming the folder',
    async (command) => {
      const args = command.split(' ');
      const file = join(root, 'plain-file');
      writeFileSync(file, 'not a folder');
      const run = await runCli(args, { env: { DATABASE_URL: `file:${join(file, 'library.db')}` } });
      expect(run.code).toBe(4);
      expect(run.stderr).toMatch(new RegExp(`^soulspot: (cannot use the SQLite database|no SQLite database at) ${file}/library\\.db`));
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      if (args[0] === 'migrate' && args.length === 1) expect(run.stderr).toContain(`its folder ${file} does not exist or is not a folder`);
    },
  );

  // Root writes anywhere, so the CLI runs as "nobody" when the tests run as root; SQLite must
  // create its -wal and -shm files beside a WAL database even to read it.
  const otherUser = process.getuid?.() === 0 ? { uid: 65534 } : {};
  test.each(['migrate', 'migrate status', 'pool-stats', 'pool-stats --probe --duration 1', 'migrate down --dry-run'])(
    'soulspot %s on a database in a folder the user cannot write: exit 4, one line saying so',
    async (command) => {
      const args = command.split(' ');
      const dir = join(root, `read-only-${args.join('-')}`);
      mkdirSync(dir);
      const path = join(dir, 'library.db');
      expect((await runCli(['migrate'], { env: { DATABASE_URL: `file:${path}` } })).code).toBe(0);
      chmodSync(dir, 0o555);
      const run = await runCli(args, { env: { DATABASE_URL: `file:${path}`, HOME: root }, ...otherUser });
      expect(run.code).toBe(4);
      expect(run.stderr).toBe(
        `soulspot: cannot use the SQLite database ${path}: its folder ${dir} is not writable (SQLite writes its journal beside the file); ` +
          'make the folder writable for this user, or move the database\n',
      );
    },
  );
});
