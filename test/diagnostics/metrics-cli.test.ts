import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { providers, useMigratedDatabase } from '../helpers/db.js';
import { runCli } from '../helpers/cli.js';
import { packageRoot } from '../../src/paths.js';
import { ExitCode } from '../../src/errors.js';

// End-to-end: the built CLI (`npx tsc -p tsconfig.json` first). Every exposition is checked by
// Prometheus's own promtool (Debian package prometheus; .ci/run installs it when missing).

function promtool(args: string[], input?: string): { code: number | null; output: string } {
  const run = spawnSync('promtool', args, { input, encoding: 'utf8', cwd: join(packageRoot, 'deploy', 'prometheus') });
  if (run.error) throw new Error(`promtool is needed (apt-get install -y prometheus): ${run.error.message}`);
  return { code: run.status, output: `${run.stdout}${run.stderr}` };
}

/** promtool check metrics of an exposition: passes with no finding at all (lint included). */
function expectValidExposition(text: string): void {
  const check = promtool(['check', 'metrics'], text);
  expect({ code: check.code, output: check.output.trim() }).toEqual({ code: 0, output: '' });
}

/** Runs the CLI, expects `code`, and returns stdout once promtool has accepted it as an exposition. */
async function exposition(args: string[], env: Record<string, string>, code: number = ExitCode.OK): Promise<string> {
  const run = await runCli([...args, '--format', 'openmetrics'], { env });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code, stderr: '' });
  expectValidExposition(run.stdout);
  return run.stdout;
}

/** Each series named has the value given. */
function expectSamples(text: string, expected: Record<string, number>): void {
  expect(Object.fromEntries(Object.keys(expected).map((series) => [series, sample(text, series)]))).toEqual(expected);
}

/** The value of one sample line `name{labels} value`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`no sample ${series} in:\n${text}`);
  return Number(line.slice(series.length + 1));
}

describe('alert rules', () => {
  test('promtool check rules accepts the rules file', () => {
    const check = promtool(['check', 'rules', 'soulspot-rules.yml']);
    expect(check.output).toContain('SUCCESS: 6 rules found');
    expect(check.code).toBe(0);
  });

  test('promtool test rules: each threshold of the guide fires at its level and not below', () => {
    const test = promtool(['test', 'rules', 'soulspot-rules.test.yml']);
    expect(test.output).toContain('SUCCESS');
    expect(test.code).toBe(0);
  });
});

describe.each(providers)('--format openmetrics on %s', (provider) => {
  const database = useMigratedDatabase(provider);

  test('health: soulspot_up, status by check, migrations, pool', async () => {
    const db = database();
    const text = await exposition(['health'], { DATABASE_URL: db.url });
    const poolSize = provider === 'sqlite' ? 1 : 5;
    expectSamples(text, { soulspot_up: 1, 'soulspot_health_status{check="overall"}': 0, 'soulspot_migrations{state="pending"}': 0, soulspot_pool_size_connections: poolSize });
  });

  test('doctor: one series per check and counts by outcome; the exit code still says the outcome', async () => {
    const db = database();
    const text = await exposition(['doctor'], { DATABASE_URL: db.url });
    expectSamples(text, { 'soulspot_doctor_check_status{check="index:ix_tracks_file_path"}': 0, 'soulspot_doctor_checks{status="problem"}': 0 });
    expect(sample(text, 'soulspot_doctor_checks{status="ok"}')).toBeGreaterThan(15);

    const slow = await exposition(['doctor'], { DATABASE_URL: db.url, SLOW_QUERY_MS: '0' }, ExitCode.ATTENTION);
    expect(sample(slow, 'soulspot_doctor_check_status{check="slow-query-log"}')).toBe(1);
  });

  test('pool-stats: connections by state, counters, and (PostgreSQL) the acquire-wait histogram', async () => {
    const db = database();
    const text = await exposition(['pool-stats'], { DATABASE_URL: db.url });
    expectSamples(text, { 'soulspot_pool_connections{state="checked_out"}': 0, 'soulspot_pool_connections{state="checked_in"}': 1 });
    expect(sample(text, 'soulspot_pool_acquire_wait_seconds_count')).toBe(provider === 'sqlite' ? 0 : sample(text, 'soulspot_pool_acquisitions_total'));
  });

  test('pool-stats --probe: the probe operations as soulspot_batch_items_total', async () => {
    const db = database();
    const text = await exposition(['pool-stats', '--probe', '--duration', '1', '--concurrency', '2'], { DATABASE_URL: db.url });
    expect(sample(text, 'soulspot_batch_items_total{batch="pool-probe",outcome="succeeded"}')).toBeGreaterThan(0);
    expect(sample(text, 'soulspot_batch_items_total{batch="pool-probe",outcome="failed"}')).toBe(0);
    if (provider === 'postgresql') expect(sample(text, 'soulspot_pool_acquire_wait_seconds_count')).toBeGreaterThan(0);
  });

  test('--json with another --format is one clear usage error', async () => {
    const db = database();
    const run = await runCli(['doctor', '--json', '--format', 'openmetrics'], { env: { DATABASE_URL: db.url } });
    expect(run.code).toBe(ExitCode.USAGE);
    expect(run.stderr.trim()).toBe('soulspot: doctor: --json asks for JSON but --format asks for openmetrics; give one of them');
    // --json callers parse stdout: they get the error as JSON.
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'problem', error: { exit_code: ExitCode.USAGE } });
    const bad = await runCli(['health', '--format', 'prometheus'], { env: { DATABASE_URL: db.url } });
    expect(bad.code).toBe(ExitCode.USAGE);
    expect(bad.stderr).toMatch(/^soulspot: --format: expected one of table, json, openmetrics, got "prometheus"/);
  });
});

describe('cache-bench --format openmetrics', () => {
  test('requests by result, evictions, throughput and read latency', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'soulspot-metrics-'));
    try {
      const args = ['cache-bench', '--format', 'openmetrics', '--workload', 'zipf', '--ops', '20000', '--repeat', '1', '--keys', '5000', '--db-samples', '50', '--db-rows', '50'];
      const run = await runCli(args, { env: { DATABASE_URL: `file:${join(dir, 'x.db')}` } });
      expect(run.code).toBe(ExitCode.OK);
      expectValidExposition(run.stdout);
      const hits = sample(run.stdout, 'soulspot_cache_requests_total{implementation="soulspot-lru",workload="zipf",result="hit"}');
      const misses = sample(run.stdout, 'soulspot_cache_requests_total{implementation="soulspot-lru",workload="zipf",result="miss"}');
      expect(hits + misses).toBe(20000);
      expect(hits).toBeGreaterThan(0);
      expect(run.stdout).toMatch(/^soulspot_cache_read_latency_seconds\{implementation="[^"]+",provider="sqlite",stat="p99"\} [\d.e-]+$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pool-stats --probe --listen', () => {
  const database = useMigratedDatabase('postgresql');

  test('serves /metrics over HTTP while the probe runs, and stops with it', async () => {
    const db = database();
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'soulspot.js'), 'pool-stats', '--probe', '--duration', '6', '--concurrency', '4', '--listen', '127.0.0.1:0', '--json'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        stderr += d;
        const match = /serving the pool metrics on (http:\/\/\S+\/metrics)/.exec(stderr);
        if (match) resolve(match[1]);
      });
      child.on('close', () => reject(new Error(`exited before serving: ${stderr}`)));
    });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));

    // Scrape until the probe's pool shows up with acquisitions (bounded by the probe's run).
    let text = '';
    for (let i = 0; i < 50; i++) {
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      text = await response.text();
      if (/^soulspot_pool_acquire_wait_seconds_count [1-9]/m.test(text)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expectValidExposition(text);
    expect(sample(text, 'soulspot_pool_acquisitions_total')).toBeGreaterThan(0);
    expect(sample(text, 'soulspot_pool_size_connections')).toBe(5);
    expect(text).toMatch(/^soulspot_pool_connections\{state="checked_out"\} \d+$/m);
    expect(text).toMatch(/^soulspot_batch_items_total\{batch="pool-probe",outcome="succeeded"\} \d+$/m);
    expect((await fetch(url.replace('/metrics', '/other'))).status).toBe(404);

    expect(await closed).toBe(ExitCode.OK);
    expect(JSON.parse(stdout).operations.ok).toBeGreaterThan(0);
    await expect(fetch(url)).rejects.toThrow();
  }, 120_000);

  test('--listen needs --probe; a bad or busy address is one clear line', async () => {
    const db = database();
    const env = { DATABASE_URL: db.url };
    const alone = await runCli(['pool-stats', '--listen', '127.0.0.1:0'], { env });
    expect(alone.code).toBe(ExitCode.USAGE);
    expect(alone.stderr).toMatch(/--listen go with --probe; add --probe/);
    const bad = await runCli(['pool-stats', '--probe', '--listen', 'localhost'], { env });
    expect(bad.code).toBe(ExitCode.USAGE);
    expect(bad.stderr.trim()).toBe('soulspot: --listen: expected HOST:PORT such as 127.0.0.1:9464 (port 0 to 65535), got "localhost" (run soulspot pool-stats --help for usage)');
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const taken = await runCli(['pool-stats', '--probe', '--duration', '1', '--listen', `127.0.0.1:${port}`], { env });
      expect(taken.code).toBe(ExitCode.USAGE);
      expect(taken.stderr.trim()).toBe(`soulspot: --listen: cannot listen on 127.0.0.1:${port} (the port is in use); choose another HOST:PORT`);
    } finally {
      busy.close();
    }
  });
});
