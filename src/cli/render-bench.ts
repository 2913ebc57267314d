import type { BenchReport, Timing } from '../bench/guide-bench.js';
import { renderTable } from './render.js';

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

/** The guide's table with measured figures beside the claimed ones. */
export function renderBenchReport(report: BenchReport): string {
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
      ['benchmark', 'before (median, min–max, per op)', 'after (median, min–max, per op)', 'measured', "guide's claim"],
      rows,
      `soulspot bench — ${report.provider}, scale ${report.scale}, in ${report.workspace}\n` +
        `machine: ${m.cpus} × ${m.cpuModel}, node ${m.node}, ${m.platform}`,
    ) + 'Counts are per operation: SQL statements seen by the query log, or requests seen by the fake Spotify API.\n'
  );
}
