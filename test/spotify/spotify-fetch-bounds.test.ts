import { spawn } from 'node:child_process';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { packageRoot } from '../../src/paths.js';
import type { FakeSpotify } from '../../src/bench/fake-spotify/server.js';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { makeIds, useFakeSpotify } from './helpers.js';

/**
 * The CLI against servers that never answer, trickle or keep answering 429: the process must end
 * on its own within the bound the settings give, with the documented line and exit code.
 */

let fake: FakeSpotify;
useFakeSpotify((f) => (fake = f));

// Full garbage collections every 20 ms in the CLI's process: a timeout that something could
// collect before it fires (nodejs/node#57736) is collected, so the test sees the hang every time.
const FORCE_GC = '--expose-gc --import=data:text/javascript,setInterval(globalThis.gc,20).unref()';

/** Settings that make the bound short: each request ≤ 400 ms, 2 attempts, near-zero backoff. */
const FAST = { SPOTIFY_TIMEOUT_MS: '400', SPOTIFY_MAX_RETRIES: '1', SPOTIFY_RETRY_BASE_MS: '10', SPOTIFY_CONCURRENCY: '5' };

interface BoundedRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The process was still running at the limit and was killed. */
  killed: boolean;
}

/** Runs the built CLI with forced GC; kills it if it is still running after `limitMs`. */
function runCliWithin(args: string[], env: Record<string, string>, limitMs: number): Promise<BoundedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(packageRoot, 'bin', 'soulspot.js'), ...args], {
      cwd: packageRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_OPTIONS: FORCE_GC, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, killed });
    });
  });
}

/** An HTTP server on 127.0.0.1 that accepts every request and never answers. */
async function startSilentServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  const open = new Set<ServerResponse>();
  let requests = 0;
  const server: Server = createServer((_req, res) => {
    requests++;
    open.add(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.each(providers)('spotify-fetch ends within its bound on %s', (provider) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase(provider);
  });
  afterAll(async () => {
    await db.drop();
  });

  test('an API that never answers: every request times out, the run ends with exit 5', async () => {
    fake.options.faultFor = () => ({ type: 'hang' });
    // 600 ids = 12 batches, 5 at a time, 2 attempts each: bound ≈ ⌈12/5⌉ × 2 × 400 ms + backoff ≈ 2.5 s.
    const run = await runCliWithin(['spotify-fetch', ...makeIds(600, 'g')], { ...fake.env(FAST), DATABASE_URL: db.url }, 30_000);
    expect(run.killed).toBe(false);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(
      /^soulspot: Spotify API unreachable for the whole run \(unavailable after 2 attempts: no answer within 400 ms \(SPOTIFY_TIMEOUT_MS\)\); check SPOTIFY_API_URL/m,
    );
    expect(fake.stats.batchRequests).toBe(12 * 2);
  });
});

describe('spotify-fetch ends within its bound (SQLite)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase('sqlite');
  });
  afterAll(async () => {
    await db.drop();
  });

  test('a server that never answers, not even the token request: exit 5 naming SPOTIFY_ACCOUNTS_URL', async () => {
    const silent = await startSilentServer();
    try {
      const env = { ...fake.env(FAST), SPOTIFY_ACCOUNTS_URL: silent.url, SPOTIFY_API_URL: silent.url, DATABASE_URL: db.url };
      const run = await runCliWithin(['spotify-fetch', ...makeIds(120, 's')], env, 30_000);
      expect(run.killed).toBe(false);
      expect(run.code).toBe(5);
      expect(run.stderr).toMatch(/soulspot: Spotify accounts service unreachable at .* after 2 attempts: no answer within 400 ms \(SPOTIFY_TIMEOUT_MS\); check SPOTIFY_ACCOUNTS_URL/);
      expect(silent.requests()).toBe(2);
    } finally {
      await silent.close();
    }
  });

  test('an API body that trickles in one byte a second is cut at the timeout, body included', async () => {
    fake.options.faultFor = () => ({ type: 'trickle', intervalMs: 1000 });
    // 2.5 s per attempt: two or three bytes arrive, the whole body (13 bytes) would take 13 s.
    const env = { ...fake.env({ ...FAST, SPOTIFY_TIMEOUT_MS: '2500' }), DATABASE_URL: db.url };
    const run = await runCliWithin(['spotify-fetch', ...makeIds(3, 'b')], env, 30_000);
    expect(run.killed).toBe(false);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/soulspot: Spotify API unreachable for the whole run \(unavailable after 2 attempts: no answer within 2500 ms \(SPOTIFY_TIMEOUT_MS\)\)/);
    expect(fake.stats.batchRequests).toBe(2);
  });

  test('a token answer that trickles in is cut at the timeout too', async () => {
    fake.queueTokenFaults({ type: 'trickle', intervalMs: 1000 }, { type: 'trickle', intervalMs: 1000 });
    const env = { ...fake.env({ ...FAST, SPOTIFY_TIMEOUT_MS: '1500' }), DATABASE_URL: db.url };
    const run = await runCliWithin(['spotify-fetch', ...makeIds(3, 'k')], env, 30_000);
    expect(run.killed).toBe(false);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/soulspot: Spotify accounts service unreachable at .* after 2 attempts: no answer within 1500 ms/);
    expect(fake.stats.tokenRequests).toBe(2);
    expect(fake.stats.apiRequests).toBe(0);
  });
});

describe('spotify-fetch against endless 429s (SQLite)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase('sqlite');
  });
  afterAll(async () => {
    await db.drop();
  });

  test('429 with Retry-After 0 forever: requests spaced by the growing floor, exit 5 after SPOTIFY_MAX_RATE_LIMITS in a row', async () => {
    fake.options.faultFor = () => ({ type: 'rate-limit', retryAfter: 0 });
    const env = { ...fake.env({ SPOTIFY_MAX_RATE_LIMITS: '3' }), DATABASE_URL: db.url };
    const run = await runCliWithin(['spotify-fetch', ...makeIds(3, 'q')], env, 30_000);
    expect(run.killed).toBe(false);
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(
      /^soulspot: Spotify rate limit: HTTP 429 3 times in a row \(3 in all\) although the run paused longer after each; the run stopped; rerun later, lower SPOTIFY_CONCURRENCY, or raise SPOTIFY_MAX_RATE_LIMITS$/m,
    );
    expect(run.stderr.split('\n').filter((line) => /429 3 times/.test(line))).toHaveLength(1);
    expect(fake.stats.apiRequests).toBe(3);
    // Server-side arrival times: paused 1 s, then 2 s (the floor, doubled), less a generous margin.
    const gaps = fake.log.slice(1).map((r, i) => r.at - fake.log[i].at);
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1800);
  });
});
