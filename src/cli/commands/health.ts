import type { Command } from 'commander';
import { action, jsonStatusOnError } from '../context.js';
import { formatOption, outputFormat, type OutputFormat } from '../format.js';

export function registerHealth(program: Command): void {
  program
    .command('health')
    .description('check that the database is reachable, migrated and its pool healthy (for monitoring)')
    .addOption(formatOption())
    .addHelpText(
      'after',
      `
Checks: database reachable (round-trip of SELECT 1), migrations up to date, pool settings and
server connections. Never creates a missing SQLite file.
Exit codes: 0 healthy, 6 degraded (pending/failed/edited migrations, pool or server near its limit),
7 unhealthy (database unreachable or unusable), 3 bad settings.

Examples:
  $ soulspot health
  $ soulspot health --json
  $ soulspot health --format openmetrics
  HEALTHCHECK CMD soulspot health --quiet || exit 1     (Dockerfile)`,
    )
    .action(
      action(async (ctx, opts: { format?: OutputFormat }) => {
        const format = outputFormat(ctx, opts.format, 'health');
        const { checkHealth, healthExitCode } = await import('../../diagnostics/health.js');
        const report = await checkHealth(ctx.config);
        const { writeJson, renderTable, outputWidth } = await import('../render.js');
        if (format === 'openmetrics') {
          const { healthMetrics } = await import('../../diagnostics/metrics.js');
          ctx.stdout.write(await healthMetrics(report).metrics());
        } else if (format === 'json') {
          writeJson(ctx.stdout, report);
        } else {
          const { database, migrations, pool } = report.checks;
          const reach = database.round_trip_ms === null ? database.detail : `round trip ${database.round_trip_ms} ms (connect ${database.connect_ms} ms); ${database.detail}`;
          ctx.stdout.write(
            renderTable(
              ['check', 'status', 'detail'],
              [
                ['database', database.status, reach],
                ['migrations', migrations.status, migrations.detail],
                ['pool', pool.status, pool.detail],
              ],
              { title: `Health of ${report.database}: ${report.status}`, width: outputWidth(ctx.stdout) },
            ),
          );
        }
        return healthExitCode(report.status);
      }, jsonStatusOnError('unhealthy')),
    );
}
