#!/usr/bin/env node
// `soulspot cache-bench` of two builds side by side: does a change cost the caches ops/s?
//
//   node bench/cache-compare.mjs <old dist> <new dist> [--rounds N] [-- cache-bench options]
//
// It builds nothing. To compare against an earlier commit, build that commit's dist apart:
//   git worktree add --detach /tmp/soulspot-base <commit>
//   ln -s "$PWD/node_modules" /tmp/soulspot-base/node_modules
//   (cd /tmp/soulspot-base && npm run build)
//   npm run build && node bench/cache-compare.mjs /tmp/soulspot-base/dist dist
//   git worktree remove --force /tmp/soulspot-base
//
// Each round runs the cache-bench workloads once per build, each in a fresh process (no JIT
// state shared between builds), in alternating order (AB, BA, …) so that drift in the machine's
// load falls on both. It prints, per workload and implementation, the median ops/s of each build
// over the rounds and their ratio (new / old; > 1 = the new build is faster), and checks that
// both builds count the same hits (same behaviour).
// On a shared machine the load moves more between processes than a change moves the figures, so
// it also prints each implementation's ops/s relative to `lru-cache` in the same run (the npm
// package is the same code in both builds, and cache-bench alternates the implementations within
// a run, so the load falls on both alike): the median of that per build, and their ratio. That
// last column is the one to read. Default cache-bench options: those of bench/cache.mjs without
// the database and memory parts and with --repeat 3.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const split = argv.indexOf('--');
const own = split === -1 ? argv : argv.slice(0, split);
const passed = split === -1 ? [] : argv.slice(split + 1);
let rounds = 5;
const dists = [];
for (let i = 0; i < own.length; i++) {
  if (own[i] === '--rounds') rounds = Number(own[++i]);
  else dists.push(resolve(own[i]));
}
if (dists.length !== 2 || !Number.isInteger(rounds) || rounds < 1) {
  console.error('usage: node bench/cache-compare.mjs <old dist> <new dist> [--rounds N] [-- cache-bench options]');
  process.exit(2);
}
for (const dist of dists) {
  if (!existsSync(join(dist, 'cli', 'main.js'))) {
    console.error(`${dist}: no cli/main.js; expected the dist folder of a built soulspot (npm run build)`);
    process.exit(2);
  }
}
const options = passed.length > 0 ? passed : ['--cache-size', '1000', '--keys', '100000', '--ops', '1000000', '--skew', '1.0', '--ttl', '1000', '--seed', '42', '--repeat', '3', '--no-db', '--no-memory'];
const args = ['cache-bench', ...options, '--json'];

/** One `soulspot cache-bench --json` of `dist` in a fresh node process: its workload rows. */
function run(dist) {
  const main = pathToFileURL(join(dist, 'cli', 'main.js')).href;
  const script = `const { main } = await import(${JSON.stringify(main)}); process.exitCode = (await main(['node', 'soulspot', ...${JSON.stringify(args)}])).exitCode;`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 26,
    // A throwaway URL: with --no-db nothing is opened, and the user's database is never named.
    env: { ...process.env, DATABASE_URL: `file:${join(tmpdir(), 'soulspot-cache-compare.db')}` },
  });
  if (child.status !== 0) {
    console.error(`cache-bench of ${dist} exited ${child.status}`);
    process.exit(1);
  }
  return JSON.parse(child.stdout).filter((r) => r.workload !== 'read-latency');
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

console.log(`old: ${dists[0]}\nnew: ${dists[1]}\n$ soulspot ${args.join(' ')}\n${rounds} rounds; load average (1, 5, 15 min) at start: ${load()}`);
const samples = new Map(); // "workload implementation" → [old ops/s[], new ops/s[]]
const relative = new Map(); // same key → [old ops/s ÷ lru-cache's in that run[], new …[]]
const hits = new Map(); // same key → Set of hit counts seen in either build
const push = (map, key, side, value) => {
  if (!map.has(key)) map.set(key, [[], []]);
  map.get(key)[side].push(value);
};
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? [0, 1] : [1, 0];
  for (const side of order) {
    const rows = run(dists[side]);
    for (const row of rows) {
      const key = `${row.workload}\t${row.implementation}`;
      push(samples, key, side, row.ops_per_sec);
      const control = rows.find((c) => c.workload === row.workload && c.implementation === 'lru-cache');
      if (control) push(relative, key, side, row.ops_per_sec / control.ops_per_sec);
      if (!hits.has(key)) hits.set(key, new Set());
      hits.get(key).add(row.hits);
    }
  }
  console.error(`round ${r + 1}/${rounds} done (load average ${load()})`);
}

console.log('\nworkload  implementation             old ops/s   new ops/s  new/old   old ÷lru-cache  new ÷lru-cache  new/old   same hits');
for (const [key, [old, neu]] of samples) {
  const [workload, implementation] = key.split('\t');
  if (old.length === 0 || neu.length === 0) {
    console.log(`${workload.padEnd(9)} ${implementation.padEnd(24)} only in the ${old.length === 0 ? 'new' : 'old'} build`);
    continue;
  }
  const [relOld, relNew] = relative.get(key) ?? [[NaN], [NaN]];
  console.log(
    [
      workload.padEnd(9),
      implementation.padEnd(24),
      fmt(median(old)).padStart(10),
      fmt(median(neu)).padStart(11),
      (median(neu) / median(old)).toFixed(3).padStart(8),
      median(relOld).toFixed(3).padStart(15),
      median(relNew).toFixed(3).padStart(15),
      (median(relNew) / median(relOld)).toFixed(3).padStart(8),
      `  ${hits.get(key).size === 1 ? 'yes' : 'NO'}`,
    ].join(' '),
  );
}
console.log(`\nload average (1, 5, 15 min) at the end: ${load()}`);
