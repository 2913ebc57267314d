import { Option, type Command } from 'commander';
import { ExitCode, UsageError } from '../../errors.js';
import { action } from '../context.js';

const FORMATS = ['csv', 'tsv', 'json', 'ndjson', 'exportify'];

function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${name}: expected a whole number of at least 1, got "${value}"`);
    return Number(value);
  };
}

interface ImportFlags {
  format?: string;
  batchSize?: number;
  playlist?: string;
  rejects?: string;
  dryRun?: boolean;
}

export function registerImportTracks(program: Command): void {
  program
    .command('import-tracks <file>')
    .description('bulk-import tracks from CSV, TSV, JSON, NDJSON or a Spotify playlist export (- for stdin)')
    .addOption(new Option('--format <format>', 'input format (default: from the extension and the header)').choices(FORMATS))
    .option('--batch-size <n>', 'rows per transaction (default: 20000 on SQLite, 5000 on PostgreSQL)', positiveInt('--batch-size'))
    .option('--playlist <name>', 'also put the tracks in this playlist, in file order (created if missing; order replaced)')
    .option('--rejects <path>', 'where rejected rows go (default: <file>.rejects.csv beside the file)')
    .option('--dry-run', 'validate and count; change nothing')
    .addHelpText(
      'after',
      `
Exit codes: 0 all rows imported, 8 some rows rejected (see the rejects file), 2 bad input
(missing, unreadable or empty file, unknown format, a rejects file that cannot be created),
4 database failure or rejects file that cannot be written, 130 interrupted (Ctrl-C: the batches
already committed stay, the playlist is left as it was; run again to finish).

Examples:
  $ soulspot import-tracks examples/liked-songs.csv --playlist "Liked Songs"
  $ soulspot import-tracks library.ndjson --batch-size 5000 --json
  $ cat export.tsv | soulspot import-tracks - --format tsv --rejects bad-rows.csv
  $ soulspot import-tracks big.csv --dry-run`,
    )
    .action(
      action(async (ctx, file: string, opts: ImportFlags) => {
        const [{ withDatabase }, { importTracks }, { renderKeyValue, renderTable, writeJson }] = await Promise.all([
          import('../../db/client.js'),
          import('../../import/import-service.js'),
          import('../render.js'),
        ]);
        const controller = new AbortController();
        const onSigint = () => {
          ctx.stderr.write('\nInterrupted: finishing the current batch (Ctrl-C again to stop at once)…\n');
          controller.abort();
        };
        process.once('SIGINT', onSigint);
        const { startSpinner } = await import('../spinner.js');
        const spinner = await startSpinner(ctx, `importing ${file === '-' ? 'stdin' : file}…`);
        let summary;
        try {
          summary = await withDatabase(ctx.config, (db) =>
            importTracks(db, {
              input: file,
              format: opts.format as never,
              batchSize: opts.batchSize,
              playlist: opts.playlist,
              rejectsPath: opts.rejects,
              dryRun: opts.dryRun,
              signal: controller.signal,
              busyTimeoutMs: ctx.config.pool.timeoutSeconds * 1000,
              onProgress: spinner.shown
                ? (p) => {
                    const rate = p.elapsedMs > 0 ? (p.rows * 1000) / p.elapsedMs : 0;
                    let text = `${p.rows.toLocaleString('en')} rows, ${Math.round(rate).toLocaleString('en')} rows/s`;
                    if (p.totalBytes) {
                      const share = Math.min(1, p.bytesRead / p.totalBytes);
                      const eta = share > 0 ? ((1 - share) * p.elapsedMs) / share / 1000 : 0;
                      text += `, ${(share * 100).toFixed(1)}%, ETA ${eta < 60 ? `${Math.ceil(eta)}s` : `${Math.floor(eta / 60)}m${Math.ceil(eta % 60)}s`}`;
                    }
                    spinner.update(text);
                  }
                : undefined,
            }),
          );
        } finally {
          process.removeListener('SIGINT', onSigint);
          spinner.stop();
        }
        const exitCode = summary.stopped ? ExitCode.DATABASE : summary.interrupted ? ExitCode.INTERRUPTED : summary.rejected > 0 ? ExitCode.PARTIAL : ExitCode.OK;
        if (ctx.options.json) {
          writeJson(ctx.stdout, { ...summary, exitCode });
        } else {
          const cut = summary.stopped ? ' — stopped, committed so far' : summary.interrupted ? ' — interrupted, committed so far' : '';
          const title = `${summary.dryRun ? 'Dry run (nothing written): ' : ''}import of ${summary.input} (${summary.format})${cut}`;
          const entries: Array<[string, string | number]> = [
            ['read', summary.read],
            ['inserted', summary.inserted],
            ['updated', summary.updated],
            ['unchanged', summary.unchanged],
            ['duplicates in file', summary.duplicates],
            ['rejected', summary.rejected],
            ['artists created', summary.artistsCreated],
            ['albums created', summary.albumsCreated],
          ];
          if (summary.playlist) entries.push(['playlist', `${summary.playlist.name} (${summary.playlist.tracks !== undefined ? `${summary.playlist.tracks} tracks` : 'left as it was'})`]);
          entries.push(['time', `${(summary.elapsedMs / 1000).toFixed(2)} s (${summary.rowsPerSecond.toLocaleString('en')} rows/s)`]);
          if (summary.rejectsFile) entries.push(['rejects file', summary.rejectsFile]);
          ctx.stdout.write(renderKeyValue(entries, title));
          if (summary.firstRejects.length) {
            ctx.stdout.write(
              renderTable(
                ['line', 'reason'],
                summary.firstRejects.map((r) => [r.line, r.reason]),
                `First rejected rows${summary.rejected > summary.firstRejects.length ? ` (${summary.firstRejects.length} of ${summary.rejected})` : ''}`,
              ),
            );
          }
        }
        // After the summary: the one line that says why the import stopped.
        if (summary.stopped) ctx.stderr.write(`soulspot: ${summary.stopped}\n`);
        return exitCode;
      }),
    );
}
