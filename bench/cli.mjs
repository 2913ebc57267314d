#!/usr/bin/env node
// Issue 2 targets, measured side by side in one run (whole-process wall time, median of N):
//   soulspot --help           ≤ 1.5 × node -e 0
//   soulspot migrate (fresh SQLite file) ≤ 1.5 s;  no-op migrate ≤ half of that.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'soulspot.js');
const runs = Number(process.env.BENCH_RUNS ?? 15);

function once(args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

function summary(samples) {
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], min: samples[0], max: samples.at(-1) };
}

const dir = mkdtempSync(join(tmpdir(), 'soulspot-bench-cli-'));
const db = join(dir, 'bench.db');
const fresh = () => {
  for (const f of [db, `${db}-wal`, `${db}-shm`]) rmSync(f, { force: true });
};

// Interleaved: each round runs every command once, so drift in the machine's load hits all alike.
const samples = { node: [], help: [], fresh: [], noop: [] };
for (let i = 0; i < runs; i++) {
  samples.node.push(once(['-e', '0']));
  samples.help.push(once([bin, '--help']));
  fresh();
  samples.fresh.push(once([bin, '--database-url', `file:${db}`, 'migrate']));
  samples.noop.push(once([bin, '--database-url', `file:${db}`, 'migrate']));
}
rmSync(dir, { recursive: true, force: true });
const nodeBaseline = summary(samples.node);
const help = summary(samples.help);
const migrateFresh = summary(samples.fresh);
const migrateNoop = summary(samples.noop);

const f = (x) => `${x.median.toFixed(0)} ms (min ${x.min.toFixed(0)}, max ${x.max.toFixed(0)})`;
const rows = [
  ['node -e 0 (baseline)', f(nodeBaseline), ''],
  ['soulspot --help', f(help), `${(help.median / nodeBaseline.median).toFixed(2)}× baseline (target ≤ 1.5×)`],
  ['soulspot migrate, fresh SQLite', f(migrateFresh), `target ≤ 1500 ms`],
  ['soulspot migrate, up to date', f(migrateNoop), `${(migrateNoop.median / migrateFresh.median).toFixed(2)}× fresh (target ≤ 0.5×)`],
];
console.log(`CLI start-up and migrate, ${runs} interleaved rounds, median wall time (node ${process.version})`);
for (const [name, value, note] of rows) console.log(`${name.padEnd(34)} ${value.padEnd(32)} ${note}`);
