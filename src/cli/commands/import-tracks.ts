import { Option, type Command } from 'commander';
import { ExitCode } from '../../errors.js';
import { action } from '../context.js';
import { countOrPercent, oneOf, wholeNumber, type CountOrPercent } from '../options.js';

const FORMATS = ['csv', 'tsv', 'json', 'ndjson', 'exportify', 'spotify-account'] as const;

interface ImportFlags {
  format?: (typeof FORMATS)[number];
  batchSize?: number;
  playlist?: string;
  rejects?: string;
  dryRun?: boolean;
  maxRejects?: CountOrPercent;
}

export function registerImportTracks(program: Command): void {
  program
    .command('import-tracks <file>')
    .description('bulk-import tracks from CSV, TSV, JSON, NDJSON, a Spotify playlist export or Spotify\'s account data export (zip, folder or its JSON files; - for stdin)')
    .addOption(new Option('--format <format>', 'input format (default: from the extension and the header)').choices(FORMATS).argParser(oneOf(FORMATS)))
    .option('--batch-size <n>', 'rows per transaction (default: 20000 on SQLite, 5000 on PostgreSQL, and up to 100000 in the first batch of a load into fewer than 100000 tracks)', wholeNumber({ min: 1 }))
    .option('--playlist <name>', 'also put the tracks in this playlist, in file order (created if missing; order replaced)')
    .option('--rejects <path>', 'where rejected rows go (default: <file>.rejects.csv beside the file)')
    .option('--dry-run', 'validate and count; change nothing')
    .option(
      '--max-rejects <n|p%>',
      'stop once more than n rows (or p% of the rows read) are rejected, exit 8: committed batches and the rejects file so far are kept, playlists left as they were (default: no limit)',
      countOrPercent({ min: 0 }),
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 all rows imported, 8 some rows rejected (see the rejects file; or more than
--max-rejects: stopped), 2 bad input
(missing, unreadable or empty file, unknown format, a rejects file that cannot be created),
4 database failure or rejects file that cannot be written, 130 interrupted (Ctrl-C: the batches
already committed stay, the playlist is left as it was; run again to finish).

Examples:
  $ soulspot import-tracks examples/liked-songs.csv --playlist "Liked Songs"
  $ soulspot import-tracks examples/my_spotify_data.zip
  $ soulspot import-tracks library.ndjson --batch-size 5000 --json
  $ cat export.tsv | soulspot import-tracks - --format tsv --rejects bad-rows.csv
  $ soulspot import-tracks big.csv --dry-run
  $ soulspot import-tracks big.csv --max-rejects 1%`,
    )
    .action(
      action(async (ctx, file: string, opts: ImportFlags) => {
        const [{ withDatabase }, { importTracks }, { fieldEntries, renderKeyValue, renderTable, writeJson, outputWidth }, { startProgress }, { withInterrupt }] = await Promise.all([
          import('../../db/client.js'),
          import('../../import/import-service.js'),
          import('../render.js'),
          import('../progress.js'),
          import('../interrupt.js'),
        ]);
        const progress = await startProgress(ctx, `importing ${file === '-' ? 'stdin' : file}…`);
        const summary = await withInterrupt(ctx, { stopping: 'finishing the current batch', progress }, (signal) =>
          withDatabase(ctx.config, (db) =>
            importTracks(db, {
              input: file,
              format: opts.format,
              batchSize: opts.batchSize,
              playlist: opts.playlist,
              rejectsPath: opts.rejects,
              dryRun: opts.dryRun,
              maxRejects: opts.maxRejects?.count !== undefined ? { count: opts.maxRejects.count } : opts.maxRejects && { percent: opts.maxRejects.percent },
              signal,
              busyTimeoutMs: ctx.config.pool.timeoutSeconds * 1000,
              sharedCache: ctx.config.cacheUrl ? { url: ctx.config.cacheUrl, databaseUrl: ctx.config.databaseUrl, logger: ctx.logger } : undefined,
              onProgress: progress.shown
                ? (p) => {
                    const rate = p.elapsedMs > 0 ? (p.rows * 1000) / p.elapsedMs : 0;
                    let text = `${p.rows.toLocaleString('en')} rows, ${Math.round(rate).toLocaleString('en')} rows/s`;
                    if (p.totalBytes) {
                      const share = Math.min(1, p.bytesRead / p.totalBytes);
                      const eta = share > 0 ? ((1 - share) * p.elapsedMs) / share / 1000 : 0;
                      text += `, ${(share * 100).toFixed(1)}%, ETA ${eta < 60 ? `${Math.ceil(eta)}s` : `${Math.floor(eta / 60)}m${Math.ceil(eta % 60)}s`}`;
                    }
                    progress.update(text);
                  }
                : undefined,
            }),
          ),
        ).finally(() => progress.stop());
        const exitCode = summary.stopped ? ExitCode.DATABASE : summary.interrupted ? ExitCode.INTERRUPTED : summary.rejected > 0 ? ExitCode.PARTIAL : ExitCode.OK;
        if (ctx.options.json) {
          writeJson(ctx.stdout, { ...summary, exitCode });
        } else {
          const cut = summary.stopped || summary.tooManyRejects ? ' — stopped, committed so far' : summary.interrupted ? ' — interrupted, committed so far' : '';
          const title = `${summary.dryRun ? 'Dry run (nothing written): ' : ''}import of ${summary.input} (${summary.format})${cut}`;
          const labels = { read: 'read', inserted: 'inserted', updated: 'updated', unchanged: 'unchanged', 'duplicates in file': 'duplicates', rejected: 'rejected' } as const;
          const entries = fieldEntries(summary, { ...labels, 'artists created': 'artistsCreated', 'albums created': 'albumsCreated' });
          if (summary.playlist) entries.push(['playlist', `${summary.playlist.name} (${summary.playlist.tracks !== undefined ? `${summary.playlist.tracks} tracks` : 'left as it was'})`]);
          if (summary.files) entries.push(['files read', summary.files.join(', ')]);
          entries.push(['time', `${(summary.elapsedMs / 1000).toFixed(2)} s (${summary.rowsPerSecond.toLocaleString('en')} rows/s)`]);
          if (summary.rejectsFile) entries.push(['rejects file', summary.rejectsFile]);
          const width = outputWidth(ctx.stdout);
          ctx.stdout.write(renderKeyValue(entries, { title, width }));
          if (summary.playlists) {
            const written = !summary.interrupted && !summary.stopped && !summary.tooManyRejects;
            ctx.stdout.write(
              renderTable(
                ['playlist', 'entries', 'tracks created', 'matched', 'skipped', 'rejected'],
                summary.playlists.map((p) => [p.name, p.entries, p.created, p.matched, p.skipped, p.rejected]),
                { title: `Playlists${written ? '' : ' (left as they were)'}; skipped: podcast episodes and audiobooks`, width },
              ),
            );
          }
          if (summary.firstRejects.length) {
            ctx.stdout.write(
              renderTable(
                ['line', 'reason'],
                summary.firstRejects.map((r) => [r.line, r.reason]),
                { title: `First rejected rows${summary.rejected > summary.firstRejects.length ? ` (${summary.firstRejects.length} of ${summary.rejected})` : ''}`, width },
              ),
            );
          }
        }
        // After the summary: the one line that says why the import stopped.
        if (summary.stopped) ctx.stderr.write(`soulspot: ${summary.stopped}\n`);
        else if (summary.tooManyRejects) ctx.stderr.write(`soulspot: ${summary.tooManyRejects}\n`);
        return exitCode;
      }),
    );
}
