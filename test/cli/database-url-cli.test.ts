import { FakeSpotify } from '../../src/bench/fake-spotify/server.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { createEmptyDatabase, createMigratedDatabase, type TestDatabase } from '../helpers/db.js';
import { closedPort } from '../spotify/helpers.js';

// End-to-end tests run the built CLI: `npm run build` first.

/** Every trace of the password `Pa55:w@rd!` (as written in the URL, decoded, or the part after its @). */
const PASSWORD_TRACES = ['Pa55', 'w@rd', 'rd%21', 'rd!', 'w%40rd'];

function expectNoPassword(run: CliResult, traces = PASSWORD_TRACES): void {
  for (const trace of traces) {
    expect(run.stdout).not.toContain(trace);
    expect(run.stderr).not.toContain(trace);
  }
}

describe('a malformed PostgreSQL URL is a configuration error (exit 3) naming where it came from', () => {
  test.each([
    ['a port above 65535', 'postgresql://user:s3cret@127.0.0.1:99999/soulspot'],
    ['a port that is not a number', 'postgresql://user:s3cret@127.0.0.1:abc/soulspot'],
    ['an unclosed IPv6 bracket', 'postgresql://[zz/x'],
  ])('%s', async (_what, url) => {
    for (const [args, source] of [
      [['health'], 'DATABASE_URL'],
      [['migrate'], 'DATABASE_URL'],
      [['--database-url', url, 'pool-stats'], '--database-url'],
    ] as const) {
      const run = await runCli([...args], { env: { DATABASE_URL: url } });
      expect(run.code).toBe(3);
      expect(run.stdout).toBe('');
      const lines = run.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^soulspot: ${source}: expected postgresql://`));
      expect(run.stderr).not.toContain('internal error');
      expect(run.stderr).not.toContain('s3cret');
    }
    // A monitor parsing `health --json` still gets a document with a status.
    const json = await runCli(['health', '--json'], { env: { DATABASE_URL: url } });
    expect(json.code).toBe(3);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ status: 'unhealthy', error: { exit_code: 3 } });
    expect(report.error.message).toMatch(/^DATABASE_URL: expected postgresql:\/\//);
    expect(json.stdout).not.toContain('s3cret');
    expect(json.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('the password of a URL is never printed', () => {
  test('a database password holding ":" and "@" (Pa55:w@rd!) is hidden by every command when the server cannot be reached', async () => {
    const url = `postgresql://user:Pa55:w@rd%21@127.0.0.1:${await closedPort()}/soulspot`;
    for (const args of [['health'], ['health', '--json'], ['pool-stats'], ['pool-stats', '--json'], ['migrate'], ['migrate', 'status'], ['--debug', 'migrate']]) {
      const run = await runCli(args, { env: { DATABASE_URL: url } });
      expect([4, 7]).toContain(run.code);
      expectNoPassword(run);
      expect(`${run.stdout}${run.stderr}`).toContain('user:****@127.0.0.1');
    }
  });

  describe('on a server that lets the user in (trust: any password)', () => {
    let db: TestDatabase;
    let url: string;
    beforeAll(async () => {
      db = await createEmptyDatabase('postgresql');
      const parsed = new URL(db.url);
      url = `postgresql://${parsed.username || 'postgres'}:Pa55:w@rd%21@${parsed.host}${parsed.pathname}`;
    });
    afterAll(async () => {
      await db.drop();
    });

    test('migrate, health and pool-stats show the URL with the password masked', async () => {
      const migrate = await runCli(['migrate'], { env: { DATABASE_URL: url } });
      expect(migrate.code).toBe(0);
      expect(migrate.stdout).toMatch(/applied to postgresql:\/\/postgres:\*\*\*\*@127\.0\.0\.1/);
      expectNoPassword(migrate);
      const health = await runCli(['health', '--json'], { env: { DATABASE_URL: url } });
      expect(health.code).toBe(0);
      expect(JSON.parse(health.stdout).database).toMatch(/^postgresql:\/\/postgres:\*\*\*\*@127\.0\.0\.1:\d+\/soulspot_test_/);
      expectNoPassword(health);
      const stats = await runCli(['pool-stats'], { env: { DATABASE_URL: url, DATABASE_ECHO: 'true' } });
      expect(stats.code).toBe(0);
      expectNoPassword(stats);
    });
  });

  describe('spotify-fetch with an accounts URL that carries user:password', () => {
    let fake: FakeSpotify;
    let db: TestDatabase;
    beforeAll(async () => {
      fake = await FakeSpotify.start();
      db = await createMigratedDatabase('sqlite');
    });
    afterAll(async () => {
      await fake.close();
      await db.drop();
    });

    test.each([[[]], [['--json']]])('the final error hides the password (%j)', async (extra) => {
      const accounts = fake.url.replace('http://', 'http://user:pw-S3cret@');
      const env = { ...fake.env({ SPOTIFY_ACCOUNTS_URL: accounts, SPOTIFY_MAX_RETRIES: '0', SPOTIFY_RETRY_BASE_MS: '1' }), DATABASE_URL: db.url, LOG_LEVEL: 'debug' };
      const run = await runCli(['spotify-fetch', '4uLU6hMCjMI75M1A2tKUQC', ...extra], { env });
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/Spotify accounts service unreachable at http:\/\/user:\*\*\*\*@127\.0\.0\.1:\d+\/api\/token/);
      expectNoPassword(run, ['S3cret']);
    });

    test('a malformed accounts URL is refused without echoing its password', async () => {
      const env = { ...fake.env({ SPOTIFY_ACCOUNTS_URL: 'http://user:pw-S3cret@127.0.0.1:99999' }), DATABASE_URL: db.url };
      const run = await runCli(['spotify-fetch', '4uLU6hMCjMI75M1A2tKUQC'], { env });
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(/^soulspot: SPOTIFY_ACCOUNTS_URL: expected an http\(s\) URL/);
      expectNoPassword(run, ['S3cret']);
    });
  });
});
