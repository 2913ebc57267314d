import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { ExitCode } from '../../src/errors.js';

// End-to-end: runs the built CLI (`npx tsc -p tsconfig.json` first).

const FIELDS = [
  'pool_size', 'max_overflow', 'checked_out', 'checked_in', 'overflow', 'waiting', 'utilization', 'status',
  'acquired', 'timeouts', 'connections_created', 'recycled', 'pre_ping_failures', 'acquire_wait_ms',
];

describe.each(providers)('soulspot pool-stats on %s', (provider) => {
  let db: TestDatabase;
  const env = () => ({ DATABASE_URL: db.url, DATABASE_POOL_SIZE: '2', DATABASE_MAX_OVERFLOW: '3' });
  beforeAll(async () => {
    db = await createMigratedDatabase(provider);
  });
  afterAll(async () => db?.drop());

  test('--json prints the settings and every statistic under the original names', async () => {
    const cli = await runCli(['pool-stats', '--json'], { env: env() });
    expect(cli.code).toBe(ExitCode.OK);
    const json = JSON.parse(cli.stdout);
    for (const field of FIELDS) expect(json.stats).toHaveProperty(field);
    if (provider === 'postgresql') {
      expect(json.stats).toMatchObject({ pool_size: 2, max_overflow: 3, checked_out: 0, status: 'healthy' });
      expect(json.stats.acquire_wait_ms).toEqual({ p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number), max: expect.any(Number) });
      expect(json.server.connections).toEqual(expect.arrayContaining([expect.objectContaining({ application_name: 'soulspot' })]));
    } else {
      expect(json.stats).toMatchObject({ provider: 'sqlite', pool_size: 1, max_overflow: 0, overflow: 0, acquire_wait_ms: null });
      expect(json.note).toMatch(/SQLite: one connection per process/);
      expect(json.server).toBeNull();
    }
  });

  test('the table names the fields; the probe reports throughput and advice', async () => {
    const table = await runCli(['pool-stats'], { env: env() });
    expect(table.code).toBe(ExitCode.OK);
    for (const field of ['pool_size', 'checked_out', 'utilization', 'pre_ping_failures']) expect(table.stdout).toContain(field);

    const probe = await runCli(['pool-stats', '--probe', '--concurrency', '4', '--duration', '2', '--json'], { env: env() });
    expect(probe.code).toBe(ExitCode.OK);
    const report = JSON.parse(probe.stdout);
    expect(report.operations.failed).toBe(0);
    expect(report.operations.ok).toBeGreaterThan(0);
    expect(report.throughput_ops_s).toBeGreaterThan(0);
    expect(report.tracks_after).toBe(report.tracks_before);
    expect(typeof report.advice).toBe('string');
    // The pool's capacity bounds it (one operation can use two connections: Prisma loads relations in parallel).
    expect(report.peak.checked_out).toBeLessThanOrEqual(provider === 'sqlite' ? 1 : 5);

    const text = await runCli(['pool-stats', '--probe', '--duration', '1', '--watch'], { env: env() });
    expect(text.code).toBe(ExitCode.OK);
    expect(text.stdout).toMatch(/Sizing: /);
    expect(text.stderr).toMatch(/--watch redraws on a terminal only/);
  });
});

test('pool-stats on a missing SQLite file fails with exit 4 and creates nothing', async () => {
  const cli = await runCli(['pool-stats', '--database-url', 'file:./no-such-soulspot.db'], { cwd: '/tmp' });
  expect(cli.code).toBe(ExitCode.DATABASE);
  expect(cli.stderr.trim().split('\n')).toHaveLength(1);
  expect(cli.stderr).toMatch(/no SQLite database at .*run soulspot migrate/);
  expect(existsSync(join('/tmp', 'no-such-soulspot.db'))).toBe(false);
});

test('Ctrl-C stops a probe early, still prints the report, and exits 130', async () => {
  const { spawn } = await import('node:child_process');
  const { packageRoot } = await import('../../src/paths.js');
  const db = await createMigratedDatabase('postgresql');
  try {
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'soulspot.js'), 'pool-stats', '--probe', '--duration', '60', '--json'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const started = Date.now();
    setTimeout(() => child.kill('SIGINT'), 3000);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(ExitCode.INTERRUPTED);
    expect(Date.now() - started).toBeLessThan(30_000);
    const report = JSON.parse(stdout);
    expect(report.duration_s).toBeLessThan(30);
    expect(report.tracks_after).toBe(report.tracks_before);
  } finally {
    await db.drop();
  }
});
