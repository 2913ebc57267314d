#!/usr/bin/env node
// Issue 17 target, measured side by side in one run: three concurrent `soulspot spotify-fetch`
// processes (the built CLI, each with its own SQLite database) against the fake Spotify API with
// a budget of R requests/s (SPOTIFY_REQUESTS_PER_SECOND) must
//   1. stay at or under R in every one-second window, as the API sees the arrivals, and
//   2. finish within 1.3 × R's ideal time (all their requests / R).
// Shared: the three share the budget through Redis (RATE_LIMIT_URL). Beside it, the baseline the
// issue describes: the same three with the same setting but no Redis, each counting alone.
// The fake runs on a worker thread of this process (its own event loop stamps the arrivals).
// Windows: every one-second window that starts at an arrival (the strictest reading), and the
// whole seconds counted from the first arrival. Time: from starting the three to the last exit
// (process start-up included), and from the first arrival to the last.
// Run `npm run build` first. Knobs: BENCH_BUDGET_RPS (10), BENCH_BUDGET_IDS per process (2500,
// 50 per request), BENCH_BUDGET_LATENCY_MS (50), BENCH_REDIS_URL (redis://127.0.0.1:6379);
// BENCH_BUDGET_DEBUG=1 prints the processes' warnings and every arrival (ms from the first).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeSpotifyWorker } from '../dist/bench/fake-spotify/worker.js';

const R = Number(process.env.BENCH_BUDGET_RPS ?? 10);
const idsEach = Number(process.env.BENCH_BUDGET_IDS ?? 2500);
const latencyMs = Number(process.env.BENCH_BUDGET_LATENCY_MS ?? 50);
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const PROCESSES = 3;
const bin = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'soulspot.js');
const dir = mkdtempSync(join(tmpdir(), 'soulspot-budget-bench-'));
const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
const databases = Array.from({ length: PROCESSES }, (_, i) => `file:${join(dir, `p${i}.db`)}`);
for (const url of databases) {
  const run = spawnSync(process.execPath, [bin, 'migrate', '--quiet'], { env: { ...baseEnv, DATABASE_URL: url }, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`migrate failed: ${run.stderr}`);
}

const makeIds = (n, prefix) => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(22 - prefix.length, '0')}`);

function runFetch(env, ids, database) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'spotify-fetch', '--file', '-', '--json'], { env: { ...baseEnv, ...env, DATABASE_URL: database }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(ids.join('\n'));
  });
}

/** The most arrivals in any window of `ms` starting at an arrival. */
function slidingMax(times, ms) {
  let max = 0;
  for (let start = 0, end = 0; start < times.length; start++) {
    while (end < times.length && times[end] < times[start] + ms) end++;
    max = Math.max(max, end - start);
  }
  return max;
}

/** The most arrivals in one whole second counted from the first arrival. */
function bucketMax(times) {
  const counts = new Map();
  for (const t of times) {
    const b = Math.floor((t - times[0]) / 1000);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return Math.max(...counts.values());
}

async function scenario(label, shared) {
  const fake = await FakeSpotifyWorker.start({ latencyMs, clientId: `budget-bench-${randomBytes(6).toString('hex')}` });
  try {
    const env = fake.env({ LOG_LEVEL: process.env.BENCH_BUDGET_DEBUG ? 'warn' : 'error', SPOTIFY_REQUESTS_PER_SECOND: String(R), ...(shared ? { RATE_LIMIT_URL: redisUrl } : {}) });
    const t0 = performance.now();
    const runs = await Promise.all(databases.map((db, i) => runFetch(env, makeIds(idsEach, `${label[0]}${i}x`), db)));
    const wallMs = performance.now() - t0;
    for (const run of runs) {
      if (run.code !== 0) throw new Error(`spotify-fetch exited ${run.code}: ${run.stderr.trim()}`);
    }
    const summaries = runs.map((r) => JSON.parse(r.stdout));
    const times = (await fake.arrivals()).sort((a, b) => a - b);
    if (process.env.BENCH_BUDGET_DEBUG) {
      console.log(runs.map((r) => r.stderr.trim()).join('\n'));
      console.log(times.map((t) => Math.round(t - times[0])).join(' '));
    }
    const requests = times.length;
    return {
      label,
      requests,
      fetched: summaries.reduce((sum, s) => sum + s.fetched, 0),
      sliding: slidingMax(times, 1000),
      buckets: bucketMax(times),
      wallMs,
      spanMs: times[times.length - 1] - times[0],
      idealMs: (requests / R) * 1000,
      shared: summaries.every((s) => s.budget?.shared),
    };
  } finally {
    await fake.close();
  }
}

const cores = cpus().length;
console.log(`${PROCESSES} spotify-fetch processes x ${idsEach} ids (${idsEach / 50} requests each), budget R = ${R} requests/s, API latency ${latencyMs} ms`);
console.log(`machine: ${cores} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}, ${new Date().toISOString()}`);
const results = [];
try {
  results.push(await scenario('shared budget (RATE_LIMIT_URL)', true));
  results.push(await scenario('baseline: each process alone', false));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
console.log('');
console.log(`${'run'.padEnd(31)} ${'requests'.padStart(8)} ${'max/any 1 s'.padStart(11)} ${'max/whole s'.padStart(11)} ${'wall'.padStart(8)} ${'first→last'.padStart(10)} ${'ideal N/R'.padStart(9)} ${'wall/ideal'.padStart(10)}`);
for (const r of results) {
  console.log(
    `${r.label.padEnd(31)} ${String(r.requests).padStart(8)} ${String(r.sliding).padStart(11)} ${String(r.buckets).padStart(11)} ${s(r.wallMs).padStart(8)} ${s(r.spanMs).padStart(10)} ${s(r.idealMs).padStart(9)} ${(r.wallMs / r.idealMs).toFixed(2).padStart(10)}`,
  );
}
const [shared] = results;
const withinRate = shared.sliding <= R && shared.buckets <= R;
const withinTime = shared.wallMs <= 1.3 * shared.idealMs;
const complete = shared.fetched === PROCESSES * idsEach && shared.shared;
console.log('');
console.log(`target 1, at most R = ${R} in every one-second window: ${withinRate ? 'met' : 'MISSED'} (most in any 1 s: ${shared.sliding}; in a whole second: ${shared.buckets})`);
console.log(`target 2, within 1.3 × ideal (${s(1.3 * shared.idealMs)}): ${withinTime ? 'met' : 'MISSED'} (${s(shared.wallMs)}, ${(shared.wallMs / shared.idealMs).toFixed(2)} ×)`);
if (!complete) console.log(`the shared run did not fetch every id through a shared budget (fetched ${shared.fetched}, shared: ${shared.shared})`);
process.exitCode = withinRate && withinTime && complete ? 0 : 1;
