#!/usr/bin/env node
// Issue 6 targets, measured side by side in one run against the PostgreSQL at 127.0.0.1:5432:
//   1. Round trip of `SELECT 1` through an idle pooled connection (pool.query, the path Prisma's
//      adapter takes) ≤ 1.10 × the same statement on one dedicated pg.Client. Variants run in
//      alternating rounds, the order rotating, so that load from other processes hits them alike.
//      Also shown, not targets: a plain pg.Pool, and our pool with the pre-ping forced on every
//      checkout (no 500 ms bypass window) to show what the ping itself costs, and a second
//      dedicated client as a control: the spread between two identical connections.
//   2. A probe (the `pool-stats --probe` mix through Prisma) at concurrency 4 × DATABASE_POOL_SIZE:
//      no errors, and the longest acquire wait within DATABASE_POOL_TIMEOUT.
// Run `npm run build` first. Knobs: BENCH_PG_URL (postgresql://postgres@127.0.0.1:5432/postgres),
// BENCH_POOL_ITERATIONS (20000 per variant), BENCH_POOL_PROBE_S (15), BENCH_POOL_SIZE (5),
// BENCH_POOL_TRACKS (2000 seeded tracks).
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { loadConfig } from '../dist/config.js';
import { createPgPool, pgConnectionString } from '../dist/db/pool.js';
import { applyMigrations } from '../dist/migrate/migrator.js';
import { withDatabase } from '../dist/db/client.js';
import { runPoolProbe } from '../dist/diagnostics/pool-probe.js';

const adminUrl = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const iterations = Number(process.env.BENCH_POOL_ITERATIONS ?? 20_000);
const probeSeconds = Number(process.env.BENCH_POOL_PROBE_S ?? 15);
const poolSize = Number(process.env.BENCH_POOL_SIZE ?? 5);
const trackCount = Number(process.env.BENCH_POOL_TRACKS ?? 2000);

const name = `soulspot_bench_pool_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const admin = new pg.Client({ connectionString: adminUrl });
await admin.connect();
await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(adminUrl);
url.pathname = `/${name}`;
const config = loadConfig({ databaseUrl: url.toString() }, { DATABASE_POOL_SIZE: String(poolSize), DATABASE_MAX_OVERFLOW: '10', DATABASE_POOL_TIMEOUT: '30' });
let failures = 0;

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const us = (ms) => `${(ms * 1000).toFixed(1)} µs`;

try {
  // 1. SELECT 1 round trip.
  const client = new pg.Client({ connectionString: pgConnectionString(config.databaseUrl), application_name: 'soulspot-bench' });
  await client.connect();
  // A second client, same code as the first: how far two identical connections differ in one run
  // (which CPU each server process runs on matters on a VM) — the noise floor of the comparison.
  const control = new pg.Client({ connectionString: pgConnectionString(config.databaseUrl), application_name: 'soulspot-bench' });
  await control.connect();
  const pool = createPgPool(config.databaseUrl, config.pool); // pre-ping on, default bypass window
  const pinging = createPgPool(config.databaseUrl, config.pool, { prePingBypassMs: 0 });
  const plain = new pg.Pool({ connectionString: pgConnectionString(config.databaseUrl), max: 15 });
  const variants = [
    ['dedicated pg.Client', () => client.query('SELECT 1')],
    ['soulspot pool (pre-ping on)', () => pool.query('SELECT 1')],
    ['plain pg.Pool (reference)', () => plain.query('SELECT 1')],
    ['soulspot pool, ping every time', () => pinging.query('SELECT 1')],
    ['2nd dedicated pg.Client (control)', () => control.query('SELECT 1')],
  ];
  const samples = variants.map(() => []);
  for (const [, run] of variants) for (let i = 0; i < 500; i += 1) await run(); // warm-up: connections open, JIT warm
  const round = 1000;
  for (let done = 0, r = 0; done < iterations; done += round, r += 1) {
    // The order rotates every round, so no variant always runs first (or right after another).
    for (let k = 0; k < variants.length; k += 1) {
      const v = (k + r) % variants.length;
      const run = variants[v][1];
      const out = samples[v];
      for (let i = 0; i < round; i += 1) {
        const t0 = performance.now();
        await run();
        out.push(performance.now() - t0);
      }
    }
  }
  const stats = samples.map((s) => {
    const sorted = [...s].sort((a, b) => a - b);
    return { median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
  });
  const base = stats[0];
  console.log(`1. SELECT 1 round trip, ${iterations} iterations per variant in alternating rounds of ${round} (node ${process.version})`);
  console.log(`${'variant'.padEnd(32)} ${'median'.padStart(10)} ${'p95'.padStart(10)}  vs dedicated client`);
  variants.forEach(([label], v) => {
    const ratio = stats[v].median / base.median;
    const target = v === 1 ? (ratio <= 1.1 ? '  OK (target ≤ 1.10×)' : '  FAIL (target ≤ 1.10×)') : '';
    if (v === 1 && ratio > 1.1) failures += 1;
    console.log(`${label.padEnd(32)} ${us(stats[v].median).padStart(10)} ${us(stats[v].p95).padStart(10)}  ${v === 0 ? 'baseline' : `${ratio.toFixed(3)}× median, ${(stats[v].p95 / base.p95).toFixed(3)}× p95`}${target}`);
  });
  const s1 = pool.snapshot();
  console.log(`   pool after the run: acquired ${s1.acquired}, connections_created ${s1.connections_created}, pre_ping_failures ${s1.pre_ping_failures}, acquire wait p50 ${s1.acquire_wait_ms.p50} ms`);
  await client.end();
  await control.end();
  await pool.end();
  await pinging.end();
  await plain.end();

  // 2. Probe at concurrency 4 × pool size.
  await applyMigrations(config);
  await withDatabase(config, async ({ prisma }) => {
    const artists = 50;
    for (let a = 0; a < artists; a += 1) {
      const artist = await prisma.artist.create({ data: { name: `Bench artist ${a}` } });
      const album = await prisma.album.create({ data: { title: `Bench album ${a}`, artistId: artist.id } });
      await prisma.track.createMany({
        data: Array.from({ length: Math.ceil(trackCount / artists) }, (_, i) => ({ title: `Bench track ${a}-${i}`, artistId: artist.id, albumId: album.id, trackNumber: i + 1 })),
      });
    }
  });
  const concurrency = 4 * config.pool.size;
  const report = await runPoolProbe(config, { concurrency, durationSeconds: probeSeconds });
  const w = report.stats.acquire_wait_ms;
  const ok = report.operations.failed === 0 && w.max <= config.pool.timeoutSeconds * 1000 && report.stats.timeouts === 0;
  if (!ok) failures += 1;
  console.log('');
  console.log(`2. Probe: ${report.tracks_before} tracks, DATABASE_POOL_SIZE=${config.pool.size} DATABASE_MAX_OVERFLOW=${config.pool.maxOverflow}, concurrency ${concurrency} (4× pool size), ${report.duration_s} s`);
  console.log(`   operations ${report.operations.ok} ok / ${report.operations.failed} failed, ${report.throughput_ops_s} ops/s, operation p50 ${report.operation_ms.p50} ms p95 ${report.operation_ms.p95} ms`);
  console.log(`   peak utilization ${(report.peak.utilization * 100).toFixed(0)}%, peak checked_out ${report.peak.checked_out}, peak waiting ${report.peak.waiting}, timeouts ${report.stats.timeouts}`);
  console.log(`   acquire wait p50 ${w.p50} ms, p95 ${w.p95} ms, p99 ${w.p99} ms, max ${w.max} ms (DATABASE_POOL_TIMEOUT ${config.pool.timeoutSeconds * 1000} ms) ${ok ? 'OK' : 'FAIL'} (target: no errors, max wait ≤ timeout)`);
  console.log(`   data unchanged: tracks ${report.tracks_before} → ${report.tracks_after}`);
  console.log(`   sizing advice: ${report.advice}`);
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
process.exitCode = failures ? 1 : 0;
