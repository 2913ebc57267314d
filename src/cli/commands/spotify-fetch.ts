import type { Command } from 'commander';
import { ExitCode, InterruptedError } from '../../errors.js';
import { maskSecretsInText } from '../../database-url.js';
import { action } from '../context.js';

interface SpotifyFetchOptions {
  file?: string;
  missing?: boolean;
  market?: string;
}

export function registerSpotifyFetch(program: Command): void {
  program
    .command('spotify-fetch [ids...]')
    .description('fill in track metadata (title, artists, album, duration, numbers, ISRC, release year) from the Spotify Web API, 50 ids per request')
    .option('-f, --file <path>', 'read ids, spotify:track: URIs or open.spotify.com links from a file, one per line (- for stdin)')
    .option('--missing', "also fetch the library's tracks that have a spotify_uri but no duration, ISRC or album")
    .option('--market <code>', 'two-letter country code for track relinking (e.g. DE)')
    .addHelpText(
      'after',
      `
Needs SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET (environment or .env).

Examples:
  $ soulspot spotify-fetch --missing
  $ soulspot spotify-fetch 4uLU6hMCjMI75M1A2tKUQC spotify:track:7ouMYWpwJ422jRcDASZB7P
  $ soulspot spotify-fetch --file ids.txt --market DE --json

Ctrl-C stops starting requests and aborts those in flight; what was fetched is saved and
summarized (exit 130; run the same command again to fetch the rest). Ctrl-C again stops at once.

Exit codes: 0 all fetched, 2 malformed ids, 3 configuration, 4 database,
5 quota exceeded / credentials refused / API unreachable, 8 some ids not found or failed,
130 interrupted.`,
    )
    .action(
      action(async (ctx, ids: string[], options: SpotifyFetchOptions) => {
        const [{ runSpotifyFetch }, { renderKeyValue, renderTable, writeJson, outputWidth }, { startProgress }, { withInterrupt }] = await Promise.all([
          import('../../spotify/fetch-service.js'),
          import('../render.js'),
          import('../progress.js'),
          import('../interrupt.js'),
        ]);
        const progress = await startProgress(ctx, 'Fetching from Spotify…');
        const summary = await withInterrupt(ctx, { stopping: 'saving what was fetched', progress }, (signal) =>
          runSpotifyFetch(
            { ids, file: options.file, missing: options.missing, market: options.market },
            {
              config: ctx.config,
              logger: ctx.logger,
              signal,
              onProgress: (done, total) => progress.update(`Fetching from Spotify… ${done}/${total} ids`),
            },
          ),
        ).finally(() => progress.stop());
        if (ctx.options.json) writeJson(ctx.stdout, summary);
        else {
          const width = outputWidth(ctx.stdout);
          const failedReasons = new Map<string, number>();
          for (const f of summary.failed) failedReasons.set(f.reason, (failedReasons.get(f.reason) ?? 0) + 1);
          ctx.stdout.write(
            renderKeyValue(
              [
                ['ids requested', summary.requested],
                ...(summary.fromLibrary ? [['from the library (--missing)', summary.fromLibrary] as [string, number]] : []),
                ['fetched', summary.fetched],
                ['not found', summary.notFound.length],
                ['failed', summary.failed.length],
                ['answered from cache', summary.fromCache],
                ['requests made', `${summary.requests}${summary.perTrackFallback ? ' (one per track: 403 on batches)' : ''}`],
                ['retries', summary.retries],
                ['waited on rate limits', `${summary.rateLimitWaitSeconds} s`],
                ...(summary.budget
                  ? [['waited on the request budget', `${summary.budget.waitSeconds} s${summary.budget.shared ? ' (shared through RATE_LIMIT_URL)' : ''}`] as [string, string]]
                  : []),
                ['tracks inserted / updated / unchanged', `${summary.library.inserted} / ${summary.library.updated} / ${summary.library.unchanged}`],
                ['time', `${summary.elapsedSeconds} s`],
              ],
              { title: `spotify-fetch${summary.interrupted ? ' — interrupted, saved so far' : ''}`, width },
            ),
          );
          if (summary.notFound.length > 0) {
            ctx.stdout.write(renderTable(['not found (id)'], summary.notFound.slice(0, 20).map((id) => [id]), { title: 'Not found', width }));
            if (summary.notFound.length > 20) ctx.stdout.write(`… and ${summary.notFound.length - 20} more (use --json for all)\n`);
          }
          if (summary.failed.length > 0) {
            const rows = [...failedReasons].map(([reason, count]) => {
              const example = summary.failed.find((f) => f.reason === reason)!;
              return [count, example.kind, example.id, reason];
            });
            ctx.stdout.write(renderTable(['ids', 'kind', 'first id', 'reason'], rows, { title: 'Failed', width }));
          }
        }
        // After the summary, the one line that says why the run ended early.
        if (summary.interrupted) throw new InterruptedError(summary.error ?? 'interrupted');
        if (summary.error) ctx.stderr.write(`soulspot: ${maskSecretsInText(summary.error)}\n`);
        return summary.exitCode ?? ExitCode.OK;
      }),
    );
}
