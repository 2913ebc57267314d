#!/usr/bin/env node
// Issue 18 target: `soulspot doctor` on a 1M-track database finishes in under 5 s on both
// providers, printed beside a plain `soulspot health` on the same database in the same run.
//
//   npm run build && node bench/doctor.mjs [--rows 1000000] [--rounds 3] [--skip-pg] [--skip-sqlite]
//
// Builds the database the way a user does: an exporter CSV of N tracks (the sample-data
// generator) imported by `soulspot import-tracks` into a freshly migrated SQLite file and a fresh
// PostgreSQL database (127.0.0.1:5432, or TEST_PG_URL), left as the import leaves it (no ANALYZE).
// BENCH_DOCTOR_SQLITE=file:… / BENCH_DOCTOR_PG=postgresql://… reuse a database built before
// (nothing is dropped then). Each round runs health then doctor as separate CLI processes, so the
// times are what an operator waits for, process start included; the median of the rounds is shown.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runMeasuredCli } from './lib/measured-cli.mjs';
import pg from 'pg';
import { writeExporterCsv } from '../dist/bench/sample-data.js';

const { values: opts } = parseArgs({
  options: { rows: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' }, 'skip-pg': { type: 'boolean' }, 'skip-sqlite': { type: 'boolean' } },
});
const ROWS = Number(opts.rows);
const ROUNDS = Number(opts.rounds);
const TARGET_S = 5;
const PG_ADMIN = process.env.TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const work = mkdtempSync(join(tmpdir(), 'soulspot-bench-doctor-'));
const middle = (xs) => [...xs].sort((x, y) => x - y)[(xs.length - 1) >> 1];

/** One statement on the server's maintenance database (CREATE / DROP DATABASE). */
async function onServer(sql) {
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  await admin.query(sql).finally(() => admin.end());
}

/**
 * One CLI process: its wall time and CPU time (user + system), in seconds. Unlike the wall time,
 * the CPU time does not grow with the load other processes put on the machine.
 */
async function cli(argv, env) {
  const r = await runMeasuredCli(argv, env);
  return { ...r, seconds: r.wallMs / 1000, cpu: r.cpuMs / 1000 };
}

async function build(url, csv) {
  const env = { DATABASE_URL: url, LOG_LEVEL: 'error' };
  const migrated = await cli(['migrate'], env);
  if (migrated.code !== 0) throw new Error(`migrate failed: ${migrated.err}`);
  const imported = await cli(['import-tracks', csv, '--quiet'], env);
  if (imported.code !== 0) throw new Error(`import failed (${imported.code}): ${imported.err}`);
  return imported.seconds;
}

async function measure(provider, url) {
  const env = { DATABASE_URL: url, LOG_LEVEL: 'error' };
  const health = [];
  const doctor = [];
  const healthCpu = [];
  const doctorCpu = [];
  let report;
  for (let round = 0; round < ROUNDS; round++) {
    const h = await cli(['health', '--json'], env);
    if (h.code !== 0) throw new Error(`health exited ${h.code}: ${h.err}`);
    health.push(h.seconds);
    healthCpu.push(h.cpu);
    const d = await cli(['doctor', '--json'], env);
    if (![0, 6, 7].includes(d.code)) throw new Error(`doctor exited ${d.code}: ${d.err}`);
    doctor.push(d.seconds);
    doctorCpu.push(d.cpu);
    report = JSON.parse(d.out);
  }
  const notOk = report.checks.filter((c) => c.status === 'warning' || c.status === 'problem').map((c) => `${c.id} (${c.status})`);
  return { provider, health: middle(health), doctor: middle(doctor), healthCpu: middle(healthCpu), doctorCpu: middle(doctorCpu), doctorMax: Math.max(...doctor), inside: report.elapsed_ms / 1000, status: report.status, notOk };
}

const results = [];
let failures = 0;
try {
  let csv;
  const needCsv = (!opts['skip-sqlite'] && !process.env.BENCH_DOCTOR_SQLITE) || (!opts['skip-pg'] && !process.env.BENCH_DOCTOR_PG);
  if (needCsv) {
    csv = join(work, 'tracks.csv');
    console.log(`writing ${ROWS.toLocaleString('en')} exporter rows…`);
    await writeExporterCsv(csv, ROWS);
  }
  if (!opts['skip-sqlite']) {
    let url = process.env.BENCH_DOCTOR_SQLITE;
    if (!url) {
      url = `file:${join(work, 'bench.db')}`;
      console.log(`SQLite: imported in ${(await build(url, csv)).toFixed(1)} s`);
    }
    results.push(await measure('sqlite', url));
  }
  if (!opts['skip-pg']) {
    let url = process.env.BENCH_DOCTOR_PG;
    let drop;
    if (!url) {
      const name = `soulspot_bench_doctor_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      await onServer(`CREATE DATABASE ${name}`);
      url = Object.assign(new URL(PG_ADMIN), { pathname: `/${name}` }).toString();
      drop = () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
    try {
      if (drop) console.log(`PostgreSQL: imported in ${(await build(url, csv)).toFixed(1)} s`);
      results.push(await measure('postgresql', url));
    } finally {
      await drop?.();
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

console.log(`\nsoulspot doctor vs health on ${ROWS.toLocaleString('en')} tracks — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model.trim()}, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`median of ${ROUNDS} rounds (the lower middle for an even count), each a CLI process (start included)\n`);
console.log('provider    | health: wall, CPU | doctor: wall (slowest), CPU | doctor inside | target   | status of the database');
for (const r of results) {
  const pass = r.doctorMax < TARGET_S;
  if (!pass) failures++;
  console.log(
    `${r.provider.padEnd(11)} | ${r.health.toFixed(2)} s, ${r.healthCpu.toFixed(2)} s | ${r.doctor.toFixed(2)} s (${r.doctorMax.toFixed(2)} s), ${r.doctorCpu.toFixed(2)} s | ${r.inside.toFixed(2).padStart(11)} s | < ${TARGET_S} s ${pass ? 'ok ' : 'MISSED'} | ${r.status}${r.notOk.length ? `: ${r.notOk.join(', ')}` : ''}`,
  );
}
process.exitCode = failures ? 1 : 0;
