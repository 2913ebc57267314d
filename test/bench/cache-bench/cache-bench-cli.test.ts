import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { spawn } from 'node:child_process';
import { createEmptyDatabase, createMigratedDatabase, providers } from '../../helpers/db.js';
import { packageRoot } from '../../../src/paths.js';
import { runCli } from '../../helpers/cli.js';

describe.each(providers)('soulspot cache-bench end to end (%s)', (provider) => {
  test('--json prints one result per implementation and workload plus the read latency, and leaves no database behind', async () => {
    const db = await createMigratedDatabase(provider);
    const dir = mkdtempSync(join(tmpdir(), 'soulspot-cache-bench-test-'));
    try {
      // On SQLite, point DATABASE_URL at a file that does not exist: the bench must not create it.
      const url = provider === 'sqlite' ? `file:${join(dir, 'users.db')}` : db.url;
      // The memory probe (4 × 100,000 entries) is checked once, on SQLite.
      const args = ['cache-bench', '--json', '--ops', '5000', '--keys', '1000', '--cache-size', '50', '--repeat', '1', '--db-samples', '20', '--db-rows', '30'];
      if (provider === 'postgresql') args.push('--no-memory');
      const result = await runCli(args, { env: { DATABASE_URL: url } });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const rows = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
      expect(Array.isArray(rows)).toBe(true);
      const workloadRows = rows.filter((r) => r.workload !== 'read-latency');
      expect(workloadRows).toHaveLength(4 * 4);
      for (const r of workloadRows) {
        expect(Object.keys(r)).toEqual(expect.arrayContaining(['implementation', 'workload', 'ops_per_sec', 'hit_rate', 'evictions', 'expirations', 'bytes_per_entry']));
        expect(r.ops_per_sec).toBeGreaterThan(0);
        expect(r.hit_rate).toBeGreaterThanOrEqual(0);
        expect(r.hit_rate).toBeLessThanOrEqual(100);
        if (r.implementation !== 'soulspot-lru-no-metrics') expect(typeof r.evictions).toBe('number');
        if (provider === 'sqlite') expect(r.bytes_per_entry).toBeGreaterThan(20); // GC could be forced
        else expect(r.bytes_per_entry).toBeNull();
      }
      const latency = rows.filter((r) => r.workload === 'read-latency');
      expect(latency.map((r) => r.implementation)).toEqual(['soulspot-lru (hit)', `${provider} (prisma findUnique)`]);
      expect(latency[1].mean_us as number).toBeGreaterThan(latency[0].mean_us as number);
      for (const r of latency) expect(Object.keys(r)).toEqual(expect.arrayContaining(['samples', 'mean_us', 'p50_us', 'p99_us', 'timer_overhead_us', 'ops_per_sec']));
      expect(latency[0].samples).toBe(20);
      if (provider === 'sqlite') expect(existsSync(join(dir, 'users.db'))).toBe(false);
      else {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        const left = await client.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'soulspot_cache_bench_%'");
        const tracks = await client.query('SELECT count(*)::int AS n FROM tracks');
        await client.end();
        expect(left.rows).toEqual([]);
        expect(tracks.rows[0].n).toBe(0); // the user's (here: the test's) tables were not touched
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await db.drop();
    }
  });
});

describe('soulspot cache-bench options', () => {
  test('prints tables by default', async () => {
    const result = await runCli(['cache-bench', '--ops', '2000', '--keys', '500', '--cache-size', '20', '--repeat', '1', '--workload', 'zipf', '--policy', 'lru', '--no-db', '--no-memory'], {
      env: { COLUMNS: '160' }, // wide enough that no cell wraps (tables fit the width: see test/cli/table-width.test.ts)
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Cache workloads: cache 20 entries, 500 keys, 2,000 ops/);
    expect(result.stdout).toMatch(/zipf\s+│ soulspot-lru\s+│/);
    expect(result.stdout).toMatch(/zipf\s+│ lru-cache\s+│/);
    expect(result.stdout).not.toMatch(/w-tinylfu/);
  });

  test.each([
    [['--cache-size', '0'], /--cache-size: expected a whole number of at least 1, got "0"/],
    [['--workload', 'random'], /--workload: expected one of zipf, uniform, scan, mixed, got "random"/],
    [['--skew', 'high'], /--skew: expected a number from 0 to 10, got "high"/],
    [['--policy', 'lfu'], /--policy: expected all or lru, got "lfu"/],
  ])('bad option %j: one line, exit 2', async (args, message) => {
    const result = await runCli(['cache-bench', ...args]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
  });
});

test('Ctrl-C during the database part exits 130 and still drops the temp schema (postgresql)', async () => {
  const db = await createEmptyDatabase('postgresql');
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    const schemas = async () =>
      (await admin.query("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'soulspot_cache_bench_%'")).rows.map((r: { nspname: string }) => r.nspname);
    const child = spawn(
      process.execPath,
      [join(packageRoot, 'bin', 'soulspot.js'), 'cache-bench', '--workload', 'zipf', '--ops', '1000', '--keys', '1000', '--cache-size', '10', '--repeat', '1', '--no-memory', '--db-samples', '1000000'],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: db.url }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 45_000;
    while ((await schemas()).length === 0) {
      if (Date.now() > deadline) throw new Error(`the temp schema never appeared; stderr: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Let it reach the timed reads (the schema exists from the start of migration).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/cache-bench interrupted/);
    expect(stdout).toBe('');
    expect(await schemas()).toEqual([]);
  } finally {
    await admin.end();
    await db.drop();
  }
});
