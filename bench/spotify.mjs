#!/usr/bin/env node
// Issue 5 targets, measured side by side in one run against the fake Spotify API (a real HTTP
// server on 127.0.0.1, in this process), through the real client (fetch, token, BatchProcessor):
//   1. N unique ids cost exactly ceil(N/50) track requests when nothing fails.
//   2. 10,000 ids at 100 ms latency per request: wall time ≤ 1.3 × ceil(N/50) × 100 ms / concurrency;
//      the same ids fetched one request per id (same client, same concurrency) ≥ 40× slower.
// Run `npm run build` first. Knobs: BENCH_SPOTIFY_IDS (10000), BENCH_SPOTIFY_LATENCY_MS (100),
// BENCH_SPOTIFY_CONCURRENCY (10), BENCH_RUNS (3, batched runs; the baseline runs once, in full).
// Database writes are not part of these figures (they are the repositories' benchmarks).
import { FakeSpotify } from '../dist/services/spotify/fake-server.js';
import { SpotifyFetcher } from '../dist/services/spotify/fetcher.js';
import { loadSpotifyConfig } from '../dist/services/spotify/config.js';
import { cpus, loadavg } from 'node:os';

const N = Number(process.env.BENCH_SPOTIFY_IDS ?? 10_000);
const latencyMs = Number(process.env.BENCH_SPOTIFY_LATENCY_MS ?? 100);
const concurrency = Number(process.env.BENCH_SPOTIFY_CONCURRENCY ?? 10);
const runs = Number(process.env.BENCH_RUNS ?? 3);

const makeIds = (n, prefix = 'b') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(21, '0')}`);

const fake = await FakeSpotify.start();
const config = (extra = {}) => loadSpotifyConfig(fake.env({ SPOTIFY_CONCURRENCY: String(concurrency), SPOTIFY_TIMEOUT_MS: '30000', ...extra }));
let failures = 0;

// 1. Request count (no latency).
console.log('1. Track requests for N unique ids (the physical limit is ceil(N/50))');
console.log(`${'N'.padStart(7)}  ${'requests'.padStart(8)}  ${'ceil(N/50)'.padStart(10)}  ${'max ids/request'.padStart(15)}  result`);
for (const n of [1, 49, 50, 51, 999, 1000, 1001, N]) {
  fake.resetStats();
  const report = await new SpotifyFetcher(config()).fetchTracks(makeIds(n, 'c'));
  const maxIds = Math.max(...fake.log.map((r) => r.ids.length));
  const ok = fake.stats.batchRequests === Math.ceil(n / 50) && report.tracks.length === n;
  if (!ok) failures++;
  console.log(
    `${String(n).padStart(7)}  ${String(fake.stats.batchRequests).padStart(8)}  ${String(Math.ceil(n / 50)).padStart(10)}  ${String(maxIds).padStart(15)}  ${ok ? 'exact' : 'MISMATCH'}`,
  );
}

// 2. Wall time at latency.
fake.options.latencyMs = latencyMs;
const ids = makeIds(N, 'w');
const batchedRequests = Math.ceil(N / 50);
const ideal = (batchedRequests * latencyMs) / concurrency;
const bound = 1.3 * ideal;

const batched = [];
for (let i = 0; i < runs; i++) {
  fake.resetStats();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await new SpotifyFetcher(config()).fetchTracks(ids);
  const cpu = process.cpuUsage(cpu0);
  batched.push({ ms: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000, requests: fake.stats.apiRequests, maxInFlight: fake.stats.maxInFlight, fetched: report.tracks.length });
}
batched.sort((a, b) => a.ms - b.ms);
const median = batched[Math.floor(batched.length / 2)];

fake.resetStats();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const baselineReport = await new SpotifyFetcher(config()).fetchTracks(ids, { perTrack: true });
const cpuBaseline = process.cpuUsage(cpu0);
const baseline = { ms: performance.now() - t0, cpuMs: (cpuBaseline.user + cpuBaseline.system) / 1000, requests: fake.stats.apiRequests, maxInFlight: fake.stats.maxInFlight, fetched: baselineReport.tracks.length };

const ratio = baseline.ms / median.ms;
if (median.ms > bound) failures++;
if (ratio < 40) failures++;
if (median.fetched !== N || baseline.fetched !== N) failures++;
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
console.log(
  `\n2. ${N} ids, ${latencyMs} ms latency per request, concurrency ${concurrency} (node ${process.version}, ${cpus().length} cores, load average ${loadavg()[0].toFixed(1)} at start of part 2)`,
);
console.log(`${'mode'.padEnd(36)} ${'wall time'.padStart(10)}  ${'requests'.padStart(8)}  ${'max in flight'.padStart(13)}  ${'CPU (client+fake)'.padStart(17)}  note`);
console.log(
  `${`batched, 50 ids/request (median of ${runs})`.padEnd(36)} ${s(median.ms).padStart(10)}  ${String(median.requests).padStart(8)}  ${String(median.maxInFlight).padStart(13)}  ${s(median.cpuMs).padStart(17)}  runs: ${batched.map((b) => s(b.ms)).join(', ')}`,
);
const blank = `${''.padStart(8)}  ${''.padStart(13)}  ${''.padStart(17)}`;
console.log(`${'  ideal ceil(N/50)×latency/concurrency'.padEnd(36)} ${s(ideal).padStart(10)}`);
console.log(`${'  bound 1.3 × ideal'.padEnd(36)} ${s(bound).padStart(10)}  ${blank}  ${median.ms <= bound ? 'met' : 'MISSED'} (median ${(median.ms / ideal).toFixed(2)}× ideal, best ${(batched[0].ms / ideal).toFixed(2)}×)`);
console.log(
  `${'one request per id (baseline, full)'.padEnd(36)} ${s(baseline.ms).padStart(10)}  ${String(baseline.requests).padStart(8)}  ${String(baseline.maxInFlight).padStart(13)}  ${s(baseline.cpuMs).padStart(17)}  ${ratio.toFixed(1)}× slower than batched (target ≥ 40×: ${ratio >= 40 ? 'met' : 'MISSED'})`,
);

await fake.close();
process.exitCode = failures ? 1 : 0;
