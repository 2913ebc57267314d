import type { Command } from 'commander';
import { action, jsonStatusOnError } from '../context.js';
import { formatOption, outputFormat, type OutputFormat } from '../format.js';
import { wholeNumber } from '../options.js';

interface DoctorOptions {
  workers: number;
  format?: OutputFormat;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description("run the performance guide's tuning checklist against the database: one row per check with the fix")
    .option('--workers <n>', 'processes that each run a soulspot pool against this database (sizes the pool check)', wholeNumber({ min: 1, max: 1000 }), 1)
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Checks: migrations applied (none failed or edited), each of the 11 performance indexes present,
valid and used by its query (EXPLAIN), planner statistics fresh, pool size against the server's
max_connections, pre-ping, a bounded timeout, slow-query logging on, DATABASE_ECHO off; on
PostgreSQL indexes never scanned, tables read mostly by sequential scans and the slowest statements
(pg_stat_statements); on SQLite WAL, synchronous, PRAGMA quick_check and free pages. Read-only.
Exit codes: 0 all ok, 6 a warning, 7 a problem (or the database unreachable), 3 bad settings.

Examples:
  $ soulspot doctor
  $ soulspot doctor --workers 4 --json
  $ soulspot doctor --format openmetrics > soulspot_doctor.prom    (for a textfile collector)`,
    )
    .action(
      action(async (ctx, opts: DoctorOptions) => {
        const format = outputFormat(ctx, opts.format, 'doctor');
        const { runDoctor, doctorExitCode } = await import('../../diagnostics/doctor.js');
        const report = await runDoctor(ctx.config, { workers: opts.workers });
        if (format === 'openmetrics') {
          const { doctorMetrics } = await import('../../diagnostics/metrics.js');
          ctx.stdout.write(await doctorMetrics(report).metrics());
        } else if (format === 'json') {
          const { writeJson } = await import('../render.js');
          writeJson(ctx.stdout, report);
        } else {
          const [{ renderDoctorReport }, { outputWidth }] = await Promise.all([import('../render-doctor.js'), import('../render.js')]);
          ctx.stdout.write(renderDoctorReport(report, outputWidth(ctx.stdout)));
        }
        return doctorExitCode(report.status);
      }, jsonStatusOnError('problem')),
    );
}
