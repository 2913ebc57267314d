import { providers, useMigratedDatabase } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { ExitCode } from '../../src/errors.js';

// End-to-end: the built CLI (`npx tsc -p tsconfig.json` first).

describe.each(providers)('soulspot doctor on %s', (provider) => {
  const database = useMigratedDatabase(provider);

  test('prints one row per check with status, what was found and the fix; exit 0 when all is well', async () => {
    const db = database();
    const run = await runCli(['doctor'], { env: { DATABASE_URL: db.url, COLUMNS: '200' } });
    expect(run.code).toBe(ExitCode.OK);
    expect(run.stdout).toMatch(new RegExp(`^Doctor of \\S+${provider === 'postgresql' ? ', 1 worker\\(s\\)' : ''}: ok \\(\\d+ ok, \\d+ skipped; [\\d.]+ s\\)`));
    expect(run.stdout).toMatch(/│ check\s+│ status\s+│ found\s+│ fix\s+│/);
    expect(run.stdout).toMatch(/│ index ix_tracks_file_path \(file-path lookup\)\s+│ ok\s+│ present, valid, used by its query/);
    expect(run.stderr).toBe('');
  });

  test('--json: the report, and exit 6 on a warning, 7 on a problem', async () => {
    const db = database();
    const ok = await runCli(['doctor', '--json'], { env: { DATABASE_URL: db.url } });
    expect(ok.code).toBe(ExitCode.OK);
    const report = JSON.parse(ok.stdout);
    expect(report).toMatchObject({ status: 'ok', provider, workers: 1 });
    expect(report.checks.map((c: { id: string }) => c.id)).toEqual(expect.arrayContaining(['database', 'migrations', 'statistics', 'pool-capacity', 'echo']));

    const warning = await runCli(['doctor', '--json'], { env: { DATABASE_URL: db.url, DATABASE_ECHO: 'true' } });
    expect(warning.code).toBe(ExitCode.ATTENTION);
    expect(JSON.parse(warning.stdout).status).toBe('warning');

    const missing = await runCli(['doctor', '--json'], { env: { DATABASE_URL: provider === 'sqlite' ? 'file:/nonexistent/folder/x.db' : `${db.url}_missing` } });
    expect(missing.code).toBe(ExitCode.UNHEALTHY);
    expect(JSON.parse(missing.stdout)).toMatchObject({ status: 'problem', checks: [{ id: 'database', status: 'problem' }] });
  });

  test('--workers sizes the pool check (PostgreSQL) and is refused when not a whole number', async () => {
    const db = database();
    const many = await runCli(['doctor', '--json', '--workers', '50'], { env: { DATABASE_URL: db.url } });
    const report = JSON.parse(many.stdout);
    expect(report.workers).toBe(50);
    const capacity = report.checks.find((c: { id: string }) => c.id === 'pool-capacity');
    if (provider === 'sqlite') {
      expect(capacity.status).toBe('skipped');
      expect(many.code).toBe(ExitCode.OK);
    } else {
      // 50 workers × (5 + 10) = 750 connections: more than this server's max_connections.
      expect(capacity).toMatchObject({ status: 'problem', found: expect.stringMatching(/^50 workers × \(DATABASE_POOL_SIZE 5 \+ DATABASE_MAX_OVERFLOW 10\) = 750 connections at most/) });
      expect(many.code).toBe(ExitCode.UNHEALTHY);
    }
    const bad = await runCli(['doctor', '--workers', '0'], { env: { DATABASE_URL: db.url } });
    expect(bad.code).toBe(ExitCode.USAGE);
    expect(bad.stderr.trim()).toBe('soulspot: --workers: expected a whole number from 1 to 1000, got "0" (run soulspot doctor --help for usage)');
  });
});
