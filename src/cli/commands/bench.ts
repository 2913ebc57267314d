import { Option, type Command } from 'commander';
import { action } from '../context.js';
import { oneOf, wholeNumber } from '../options.js';

const SCALES = ['small', 'medium', 'large'] as const;

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description("measure the original guide's expected-improvements table on this machine, in a throwaway database")
    .addOption(new Option('--scale <scale>', 'data size and repetitions').choices(SCALES).argParser(oneOf(SCALES)).default('medium'))
    .option('--only <rows>', 'comma-separated rows: playlists, bulk-insert, album-query, cache-hit, spotify-batch')
    .option('--repetitions <n>', 'timed repetitions per side (default: by scale)', wholeNumber({ min: 1, max: 100 }))
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
        const { startProgress } = await import('../progress.js');
        const { withInterrupt } = await import('../interrupt.js');
        const progress = await startProgress(ctx, 'bench');
        // Ctrl-C stops at the next repetition, still removing the throwaway database.
        const report = await withInterrupt(ctx, { stopping: 'stopping and removing the throwaway database', progress }, (signal) =>
          runGuideBench(ctx.config, {
            signal,
            scale: opts.scale,
            only,
            repetitions: opts.repetitions,
            logger: ctx.logger,
            onRowStart: (_id, label) => progress.update(`${label}…`),
            onRowDone: (row) => progress.succeed(`${row.label}: ${row.factor}× faster (guide: ${row.claimed.factor}×)`),
          }),
        ).finally(() => progress.stop());
        if (ctx.options.json) {
          const { writeJson } = await import('../render.js');
          writeJson(ctx.stdout, report);
        } else {
          const [{ renderBenchReport }, { outputWidth }] = await Promise.all([import('../render-bench.js'), import('../render.js')]);
          ctx.stdout.write(renderBenchReport(report, outputWidth(ctx.stdout)));
        }
      }),
    );
}
