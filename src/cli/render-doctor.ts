import type { DoctorReport } from '../diagnostics/doctor.js';
import { renderTable } from './render.js';

/** The doctor's report as one table: check, status, what was found, the fix. */
export function renderDoctorReport(report: DoctorReport, width: number): string {
  const counts = (['problem', 'warning', 'ok', 'skipped'] as const)
    .map((s) => [s, report.checks.filter((c) => c.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`)
    .join(', ');
  const workers = report.provider === 'postgresql' ? `, ${report.workers} worker(s)` : '';
  return renderTable(
    ['check', 'status', 'found', 'fix'],
    report.checks.map((c) => [c.check, c.status, c.found, c.fix ?? '']),
    { title: `Doctor of ${report.database}${workers}: ${report.status} (${counts}; ${(report.elapsed_ms / 1000).toFixed(2)} s)`, width },
  );
}
