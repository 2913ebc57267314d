import { runCli } from '../../helpers/cli.js';
import { SHARED_REDIS_URL, freePort } from '../../helpers/redis.js';

/** `cache-bench --two-process`: two real processes, with and without the shared tier (real Redis). */

const TIMEOUT = 120_000;
const SMALL = ['--workload', 'zipf', '--policy', 'lru', '--repeat', '1', '--no-db', '--no-memory', '--ops', '1500', '--keys', '1000', '--cache-size', '50'];

test(
  '--two-process: per-tier counters for both runs; the shared tier serves misses of one process that the other loaded',
  async () => {
    const run = await runCli(['cache-bench', ...SMALL, '--two-process', '--json'], { env: { CACHE_URL: SHARED_REDIS_URL } });
    expect(run.code).toBe(0);
    const rows = (JSON.parse(run.stdout) as Array<Record<string, unknown>>).filter((r) => r.workload === 'two-process');
    expect(rows.map((r) => `${r.implementation}/${r.process}`)).toEqual(['l1-only/1', 'l1-only/2', 'l1-only/both', 'l1+shared-tier/1', 'l1+shared-tier/2', 'l1+shared-tier/both']);
    const both = (mode: string) => rows.find((r) => r.implementation === mode && r.process === 'both') as Record<string, number>;
    const alone = both('l1-only');
    const shared = both('l1+shared-tier');
    for (const r of [alone, shared]) {
      expect(r.ops).toBe(3000);
      expect(r.l1_hits + r.l1_misses).toBe(3000);
      expect(r.ops_per_sec).toBeGreaterThan(0);
    }
    // Alone: every L1 miss goes to the source. Shared: an L1 miss is an L2 hit or a load.
    expect(alone).toMatchObject({ l2_hits: 0, l2_misses: 0, source_loads: alone.l1_misses });
    expect(shared.l2_hits + shared.l2_misses).toBe(shared.l1_misses);
    expect(shared.source_loads).toBe(shared.l2_misses);
    expect(shared.l2_errors).toBe(0);
    // The same trace: the same L1 hits; the shared tier turns loads into L2 hits.
    expect(shared.l1_hits).toBe(alone.l1_hits);
    expect(shared.l2_hits).toBeGreaterThan(0);
    expect(shared.hit_rate).toBeGreaterThan(alone.hit_rate);
    const table = await runCli(['cache-bench', ...SMALL, '--two-process'], { env: { CACHE_URL: SHARED_REDIS_URL, COLUMNS: '160' } });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/Two processes on one Zipf trace/);
    expect(table.stdout).toMatch(/l1\+shared-tier\s*│\s*both/);
  },
  TIMEOUT,
);

test('--two-process without CACHE_URL: one line saying what it needs, exit 3', async () => {
  const run = await runCli(['cache-bench', ...SMALL, '--two-process']);
  expect(run.code).toBe(3);
  expect(run.stderr).toBe('soulspot: --two-process: expected CACHE_URL=redis://host:port (the shared tier to compare with), got none; set CACHE_URL or drop --two-process\n');
  expect(run.stdout).toBe('');
});

test(
  '--two-process with CACHE_URL unreachable: one warning, the in-process run alone is measured, exit 0',
  async () => {
    const run = await runCli(['cache-bench', ...SMALL, '--two-process', '--json'], { env: { CACHE_URL: `redis://127.0.0.1:${await freePort()}` } });
    expect(run.code).toBe(0);
    expect(run.stderr.match(/CACHE_URL/g)).toHaveLength(1);
    const rows = (JSON.parse(run.stdout) as Array<Record<string, unknown>>).filter((r) => r.workload === 'two-process');
    expect(rows.map((r) => r.implementation)).toEqual(['l1-only', 'l1-only', 'l1-only']);
  },
  TIMEOUT,
);

test('a bad CACHE_URL never shows its password', async () => {
  const run = await runCli(['cache-bench', ...SMALL], { env: { CACHE_URL: 'memcached://cache:hunter2@127.0.0.1:11211' } });
  expect(run.code).toBe(3);
  expect(run.stderr).toMatch(/^soulspot: CACHE_URL: expected a redis:\/\/host:port\[\/db\] \(or rediss:\/\/\) URL, got "memcached:\/\/cache:\*\*\*\*@127\.0\.0\.1:11211"/);
  expect(run.stderr).not.toContain('hunter2');
});

test.each([
  ['CACHE_URL', 'http://127.0.0.1:6379'],
  ['RATE_LIMIT_URL', 'redis://'],
])('%s=%s: one line naming the setting and what it expects, exit 3', async (name, value) => {
  const run = await runCli(['cache-bench', ...SMALL], { env: { [name]: value } });
  expect(run.code).toBe(3);
  expect(run.stderr).toBe(`soulspot: ${name}: expected a redis://host:port[/db] (or rediss://) URL, got "${value}"; fix it in the environment or .env, or unset it\n`);
});
