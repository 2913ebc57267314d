import type { BenchReport, Timing } from '../bench/guide-bench.js';
import type { CacheBenchReport } from '../bench/cache-bench/index.js';
import { renderTable, wrapText } from './render.js';

function ms(t: Timing): string {
  // Sub-10 µs figures (cache hits) read better in microseconds.
  const [scale, unit] = t.median_ms < 0.01 ? [1000, 'µs'] : [1, 'ms'];
  const f = (ms: number) => {
    const x = ms * scale;
    return x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(1) : x.toFixed(3);
  };
  return `${f(t.median_ms)} ${unit} (${f(t.min_ms)}–${f(t.max_ms)})`;
}

function count(n: number, unit: string): string {
  if (Number.isNaN(n)) return 'raw driver (not in query log)';
  return `${Number.isInteger(n) ? n : n.toFixed(2)} ${n === 1 ? unit.replace(/s$/, '') : unit}`;
}

/** The guide's table with measured figures beside the claimed ones, fitted to `width` columns. */
export function renderBenchReport(report: BenchReport, width: number): string {
  const rows: Array<Array<string | number>> = [];
  for (const r of report.rows) {
    rows.push([
      r.label,
      `${r.before.method}\n${ms(r.before.timing)}\n${count(r.before.count, r.unit)}`,
      `${r.after.method}\n${ms(r.after.timing)}\n${count(r.after.count, r.unit)}`,
      `${r.factor}×`,
      `${r.claimed.before} → ${r.claimed.after}\n${r.claimed.factor}×`,
    ]);
    for (const alt of r.alternatives ?? []) {
      rows.push(['', '', `${alt.method}\n${ms(alt.timing)}\n${count(alt.count, r.unit)}`, `${alt.factor}×`, '']);
    }
  }
  const m = report.machine;
  return (
    renderTable(
      ['benchmark', 'before', 'after', 'measured', "guide's claim"],
      rows,
      {
        title: `soulspot bench — ${report.provider}, scale ${report.scale}, in ${report.workspace}\n` + `machine: ${m.cpus} × ${m.cpuModel}, node ${m.node}, ${m.platform}`,
        width,
      },
    ) +
    `${wrapText('Times are the median (min–max) of the repetitions, per operation. Counts are per operation: SQL statements seen by the query log, or requests seen by the fake Spotify API.', width)}\n`
  );
}

/** cache-bench's tables (workloads, then read latency), fitted to `width` columns. */
export function renderCacheBenchReport(report: CacheBenchReport, settings: { skew: number; ttlMs: number }, width: number): string {
  const fmt = (n: number | null) => (n === null ? 'n/a' : n.toLocaleString('en-US'));
  let text = '';
  const first = report.workloads[0];
  if (first) {
    text += renderTable(
      ['workload', 'cache', 'ops/s', 'hit rate %', 'evictions', 'expirations', 'bytes/entry'],
      report.workloads.map((r) => [r.workload, r.implementation, fmt(r.ops_per_sec), r.hit_rate.toFixed(2), fmt(r.evictions), fmt(r.expirations), fmt(r.bytes_per_entry)]),
      {
        title: `Cache workloads: cache ${fmt(first.cache_size)} entries, ${fmt(first.keys)} keys, ${fmt(first.ops)} ops, skew ${settings.skew}, TTL ${settings.ttlMs} ms (mixed), seed ${first.seed}`,
        width,
      },
    );
  }
  const pair = report.twoProcess;
  if (pair) {
    const row = pair.rows[0];
    text += renderTable(
      ['run', 'proc', 'ops/s', 'hit %', 'L1 hits', 'L2 hits', 'L2 errors', 'loads'],
      pair.rows.map((r) => [r.implementation, r.process, fmt(r.ops_per_sec), r.hit_rate.toFixed(2), fmt(r.l1_hits), fmt(r.l2_hits), fmt(r.l2_errors), fmt(r.source_loads)]),
      {
        title: `Two processes on one Zipf trace (skew ${settings.skew}, ${fmt(row?.keys ?? 0)} keys, L1 ${fmt(row?.cache_size ?? 0)} entries each, ${fmt((row?.ops ?? 0))} reads per process): in-process caches alone vs with the shared tier (CACHE_URL); hit % = reads served by L1 or L2; loads = misses of both, each a 1 ms timer${pair.sharedUnreachable ? '. CACHE_URL unreachable: only L1 alone was measured' : ''}`,
        width,
      },
    );
  }
  const read = report.latency[0];
  if (read) {
    text += renderTable(
      ['read', 'mean µs', 'p50 µs', 'p99 µs', 'reads/s'],
      report.latency.map((r) => [r.implementation, r.mean_us.toFixed(3), r.p50_us.toFixed(3), r.p99_us.toFixed(3), fmt(r.ops_per_sec)]),
      {
        title: `Track read by id: cache hit vs database (${read.provider}, throwaway database, ${fmt(read.samples)} samples; p50/p99 include ${read.timer_overhead_us.toFixed(3)} µs of timer overhead, the mean does not for the cache)`,
        width,
      },
    );
  }
  return text;
}
