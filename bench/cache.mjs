#!/usr/bin/env node
// Issue 7 targets, measured side by side in one run by `soulspot cache-bench` itself (same seeded
// key trace through every implementation), with the README's parameters:
//   ops/s of soulspot-lru (metrics on) ≥ lru-cache on zipf; identical hit rate on every workload;
//   W-TinyLFU ≥ LRU + 5 hit-rate points on Zipf 1.0 with a cache of 1 % of the keys.
// Extra arguments go to cache-bench (e.g. `node bench/cache.mjs --repeat 7`).
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = ['cache-bench', '--cache-size', '1000', '--keys', '100000', '--ops', '1000000', '--skew', '1.0', '--ttl', '1000', '--seed', '42', '--repeat', '5', ...process.argv.slice(2)];
console.log(`$ soulspot ${args.join(' ')}`);
const table = spawnSync(process.execPath, [join(root, 'bin', 'soulspot.js'), ...args, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
if (table.status !== 0) {
  console.error(`cache-bench exited ${table.status}`);
  process.exit(1);
}
const rows = JSON.parse(table.stdout);
const fmt = (n) => (n === null || n === undefined ? 'n/a' : Number(n).toLocaleString('en-US'));
console.log('\nworkload  implementation             ops/s       hit %   evictions  expirations  bytes/entry');
for (const r of rows.filter((r) => r.workload !== 'read-latency')) {
  console.log(
    `${r.workload.padEnd(9)} ${r.implementation.padEnd(24)} ${fmt(r.ops_per_sec).padStart(11)} ${r.hit_rate.toFixed(2).padStart(7)} ${fmt(r.evictions).padStart(11)} ${fmt(r.expirations).padStart(12)} ${fmt(r.bytes_per_entry).padStart(12)}`,
  );
}
const latency = rows.filter((r) => r.workload === 'read-latency');
if (latency.length > 0) {
  console.log('\nread by id                     mean µs     p50 µs     p99 µs');
  for (const r of latency) console.log(`${r.implementation.padEnd(28)} ${r.mean_us.toFixed(3).padStart(10)} ${r.p50_us.toFixed(3).padStart(10)} ${r.p99_us.toFixed(3).padStart(10)}`);
}

const get = (impl, workload) => rows.find((r) => r.implementation === impl && r.workload === workload);
const verdicts = [];
const zipfOurs = get('soulspot-lru', 'zipf');
const zipfTheirs = get('lru-cache', 'zipf');
if (zipfOurs && zipfTheirs) {
  const ratio = zipfOurs.ops_per_sec / zipfTheirs.ops_per_sec;
  verdicts.push(`zipf ops/s: soulspot-lru ${fmt(zipfOurs.ops_per_sec)} vs lru-cache ${fmt(zipfTheirs.ops_per_sec)} = ${ratio.toFixed(2)}x (target ≥ 1.00): ${ratio >= 1 ? 'met' : 'NOT met'}`);
}
const same = [...new Set(rows.filter((r) => r.workload !== 'read-latency').map((r) => r.workload))].map((w) => [w, get('soulspot-lru', w)?.hits === get('lru-cache', w)?.hits]);
verdicts.push(`identical hits to lru-cache: ${same.map(([w, ok]) => `${w} ${ok ? 'yes' : 'NO'}`).join(', ')}`);
const metricsOff = get('soulspot-lru-no-metrics', 'zipf');
if (metricsOff && zipfOurs) verdicts.push(`cost of metrics on zipf: ${(100 * (1 - zipfOurs.ops_per_sec / metricsOff.ops_per_sec)).toFixed(1)} % of ops/s (negative = within noise)`);
const tiny = get('soulspot-w-tinylfu', 'zipf');
if (tiny && zipfOurs) {
  const gain = tiny.hit_rate - zipfOurs.hit_rate;
  verdicts.push(`W-TinyLFU vs LRU hit rate on zipf: ${tiny.hit_rate.toFixed(2)} % vs ${zipfOurs.hit_rate.toFixed(2)} % = +${gain.toFixed(2)} points (target ≥ 5): ${gain >= 5 ? 'met' : 'NOT met'}`);
}
console.log(`\n${verdicts.join('\n')}`);
