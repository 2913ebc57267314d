import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { action } from '../context.js';

function repetitions(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100) {
    throw new UsageError(`--repetitions: expected a whole number from 1 to 100, got "${value}"`);
  }
  return Number(value);
}

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description("measure the original guide's expected-improvements table on this machine, in a throwaway database")
    .addOption(new Option('--scale <scale>', 'data size and repetitions').choices(['small', 'medium', 'large']).default('medium'))
    .option('--only <rows>', 'comma-separated rows: playlists, bulk-insert, album-query, cache-hit, spotify-batch')
    .option('--repetitions <n>', 'timed repetitions per side (default: by scale)', repetitions)
    .addHelpText(
      'after',
      `
Examples:
  $ soulspot bench                          the whole table on a temporary SQLite file
  $ soulspot bench --scale small --only playlists,cache-hit --json
  $ DATABASE_URL=postgresql://postgres@127.0.0.1/soulspot soulspot bench   (a temporary schema, dropped afterwards)`,
    )
    .action(
      action(async (ctx, opts: { scale: 'small' | 'medium' | 'large'; only?: string; repetitions?: number }) => {
        const { runGuideBench, parseRows } = await import('../../bench/guide-bench.js');
        const only = opts.only ? parseRows(opts.only) : undefined;
        const { startSpinner } = await import('../spinner.js');
        const spinner = await startSpinner(ctx, 'bench');
        // Ctrl-C stops at the next repetition, still removing the throwaway database.
        const controller = new AbortController();
        const onSigint = () => {
          ctx.stderr.write('\nInterrupted: stopping and removing the throwaway database…\n');
          controller.abort();
        };
        process.once('SIGINT', onSigint);
        let report;
        try {
          report = await runGuideBench(ctx.config, {
            signal: controller.signal,
            scale: opts.scale,
            only,
            repetitions: opts.repetitions,
            logger: ctx.logger,
            onRowStart: (_id, label) => spinner.update(`${label}…`),
            onRowDone: (row) => spinner.succeed(`${row.label}: ${row.factor}× faster (guide: ${row.claimed.factor}×)`),
          });
        } finally {
          process.removeListener('SIGINT', onSigint);
          spinner.stop();
        }
        if (ctx.options.json) {
          const { writeJson } = await import('../render.js');
          writeJson(ctx.stdout, report);
        } else {
          const { renderBenchReport } = await import('../render-bench.js');
          ctx.stdout.write(renderBenchReport(report));
        }
      }),
    );
}
