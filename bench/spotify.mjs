#!/usr/bin/env node
// Issue 5 targets, measured side by side in one run against the fake Spotify API (a real HTTP
// server on 127.0.0.1 started by this script), through the real client (fetch, token,
// BatchProcessor):
//   1. N unique ids cost exactly ceil(N/50) track requests when nothing fails.
//   2. 10,000 ids at 100 ms latency per request: wall time ≤ 1.3 × ceil(N/50) × 100 ms / concurrency;
//      the same ids fetched one request per id (same client, same concurrency) ≥ 40× slower.
// The fake runs on a worker thread of this process (its own event loop, like a remote server whose
// latency does not wait for the client's JSON parsing); the batched run is also shown with the fake
// on the client's own thread, where each request's 100 ms only starts once the client yields.
// Run `npm run build` first. Knobs: BENCH_SPOTIFY_IDS (10000), BENCH_SPOTIFY_LATENCY_MS (100),
// BENCH_SPOTIFY_CONCURRENCY (10), BENCH_RUNS (3 batched runs; the baseline runs once, in full).
// Database writes are not part of these figures (they are the repositories' benchmarks).
import { cpus, loadavg } from 'node:os';
import { FakeSpotify } from '../dist/bench/fake-spotify/server.js';
import { FakeSpotifyWorker } from '../dist/bench/fake-spotify/worker.js';
import { SpotifyFetcher } from '../dist/spotify/fetcher.js';
import { loadSpotifyConfig } from '../dist/spotify/config.js';

const N = Number(process.env.BENCH_SPOTIFY_IDS ?? 10_000);
const latencyMs = Number(process.env.BENCH_SPOTIFY_LATENCY_MS ?? 100);
const concurrency = Number(process.env.BENCH_SPOTIFY_CONCURRENCY ?? 10);
const runs = Number(process.env.BENCH_RUNS ?? 3);

const makeIds = (n, prefix = 'b') => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(21, '0')}`);
const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
let failures = 0;

const worker = await FakeSpotifyWorker.start();
const sameThread = await FakeSpotify.start();
const configFor = (fake) => loadSpotifyConfig(fake.env({ SPOTIFY_CONCURRENCY: String(concurrency), SPOTIFY_TIMEOUT_MS: '30000' }));

// 1. Request count (no latency).
console.log('1. Track requests for N unique ids (the physical limit is ceil(N/50))');
console.log(`${'N'.padStart(7)}  ${'requests'.padStart(8)}  ${'ceil(N/50)'.padStart(10)}  ${'max ids/request'.padStart(15)}  result`);
for (const n of [1, 49, 50, 51, 999, 1000, 1001, N]) {
  await worker.resetStats();
  const report = await new SpotifyFetcher(configFor(worker)).fetchTracks(makeIds(n, 'c'));
  const st = await worker.stats();
  const ok = st.batchRequests === Math.ceil(n / 50) && report.tracks.length === n && st.maxIdsPerRequest <= 50;
  if (!ok) failures++;
  console.log(`${String(n).padStart(7)}  ${String(st.batchRequests).padStart(8)}  ${String(Math.ceil(n / 50)).padStart(10)}  ${String(st.maxIdsPerRequest).padStart(15)}  ${ok ? 'exact' : 'MISMATCH'}`);
}

// 2. Wall time at latency.
await worker.set({ latencyMs });
sameThread.options.latencyMs = latencyMs;
const ids = makeIds(N, 'w');
const ideal = (Math.ceil(N / 50) * latencyMs) / concurrency;
const bound = 1.3 * ideal;

async function measure(fake, stats, perTrack) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await new SpotifyFetcher(configFor(fake)).fetchTracks(ids, { perTrack });
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const st = await stats();
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, requests: st.apiRequests, maxInFlight: st.maxInFlight, fetched: report.tracks.length };
}
async function batchedRuns(fake, reset, stats) {
  const all = [];
  for (let i = 0; i < runs; i++) {
    await reset();
    all.push(await measure(fake, stats, false));
  }
  all.sort((a, b) => a.ms - b.ms);
  return { median: all[Math.floor(all.length / 2)], all };
}

const load = loadavg()[0];
const own = await batchedRuns(worker, () => worker.resetStats(), () => worker.stats());
const shared = await batchedRuns(sameThread, () => sameThread.resetStats(), async () => sameThread.stats);
await worker.resetStats();
const baseline = await measure(worker, () => worker.stats(), true);

const ratio = baseline.ms / own.median.ms;
if (own.median.ms > bound) failures++;
if (ratio < 40) failures++;
for (const r of [...own.all, ...shared.all, baseline]) if (r.fetched !== N) failures++;

console.log(`\n2. ${N} ids, ${latencyMs} ms latency per request, concurrency ${concurrency} (node ${process.version}, ${cpus().length} cores, load average ${load.toFixed(1)} when part 2 started)`);
console.log(`${'mode'.padEnd(44)} ${'wall time'.padStart(9)}  ${'requests'.padStart(8)}  ${'in flight'.padStart(9)}  ${'CPU'.padStart(7)}  note`);
const row = (name, r, note) =>
  console.log(`${name.padEnd(44)} ${s(r.ms).padStart(9)}  ${String(r.requests).padStart(8)}  ${String(r.maxInFlight).padStart(9)}  ${s(r.cpuMs).padStart(7)}  ${note}`);
row(`batched, 50 ids/request (median of ${runs})`, own.median, `${(own.median.ms / ideal).toFixed(2)}× ideal; runs ${own.all.map((b) => s(b.ms)).join(', ')}`);
console.log(`${'  ideal ceil(N/50) × latency / concurrency'.padEnd(44)} ${s(ideal).padStart(9)}`);
console.log(`${'  bound 1.3 × ideal'.padEnd(44)} ${s(bound).padStart(9)}  ${''.padStart(8)}  ${''.padStart(9)}  ${''.padStart(7)}  ${own.median.ms <= bound ? 'met' : 'MISSED'}`);
row('one request per id (baseline, all ids)', baseline, `${ratio.toFixed(1)}× slower than batched (target ≥ 40×: ${ratio >= 40 ? 'met' : 'MISSED'})`);
row(`batched, fake on the client's thread (median)`, shared.median, `${(shared.median.ms / ideal).toFixed(2)}× ideal; runs ${shared.all.map((b) => s(b.ms)).join(', ')} (for comparison)`);
console.log('(CPU = this process, client and fake together; "in flight" = most API requests the fake saw at once)');

await worker.close();
await sameThread.close();
process.exitCode = failures ? 1 : 0;
