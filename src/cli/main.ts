import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import { outcome, reportError } from './context.js';
import { registerMigrate } from './commands/migrate.js';
import { registerImportTracks } from './commands/import-tracks.js';
import { registerSpotifyFetch } from './commands/spotify-fetch.js';
import { registerPoolStats } from './commands/pool-stats.js';
import { registerCacheBench } from './commands/cache-bench.js';
import { registerHealth } from './commands/health.js';
import { registerDoctor } from './commands/doctor.js';
import { registerBench } from './commands/bench.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The commander program. Command modules register options and help only; heavy code loads inside actions. */
export function buildProgram(): Command {
  const program = new Command('soulspot')
    .description('Command-line companion for the database of a SoulSpot music library (SQLite or PostgreSQL).')
    .version(packageJson.version, '-V, --version')
    .addOption(new Option('--database-url <url>', 'database URL (overrides DATABASE_URL; default file:./soulspot.db)'))
    .option('--json', 'print results as JSON on stdout')
    .option('--debug', 'log debug output and print stacks of errors')
    .option('-q, --quiet', 'log errors only and show no spinners');
  program.addHelpText(
    'after',
    `
Examples:
  $ soulspot migrate                                   create or upgrade ./soulspot.db
  $ DATABASE_URL=postgresql://postgres@127.0.0.1/soulspot soulspot migrate status
  $ soulspot import-tracks examples/liked-songs.csv --playlist "Liked Songs"
  $ soulspot <command> --help                          options and examples of one command`,
  );
  for (const register of [
    registerMigrate,
    registerImportTracks,
    registerSpotifyFetch,
    registerPoolStats,
    registerCacheBench,
    registerHealth,
    registerDoctor,
    registerBench,
  ]) {
    register(program);
  }
  configureErrors(program, 'soulspot');
  return program;
}

/** Every command throws instead of exiting, and prints commander's usage errors as one line. */
function configureErrors(command: Command, path: string): void {
  const hint = `run ${path} --help for usage`;
  command.exitOverride().configureOutput({ outputError: (text, write) => write(`${formatUsageError(text, hint)}\n`) });
  for (const sub of command.commands) configureErrors(sub, `${path} ${sub.name()}`);
}

/**
 * commander's error text (`error: option '--ops <n>' argument 'x' is invalid. expected …`, or
 * `error: unknown option '--x'\n(Did you mean --y?)`) as one line in the form of every other
 * soulspot error: `soulspot: --ops: expected …, got "x" (run soulspot cache-bench --help for usage)`.
 */
export function formatUsageError(text: string, hint: string): string {
  const message = text.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
  const badValue = /^option '(?:-\w, )?(--?[\w-]+)[^']*' argument '.*' is invalid\. (expected .*)$/s.exec(message);
  return `soulspot: ${badValue ? `${badValue[1]}: ${badValue[2]}` : message} (${hint})`;
}

/**
 * Runs the CLI with `argv` (as process.argv); never calls process.exit. Returns the exit code, and
 * `abandoned` when a second Ctrl-C left work in flight that would keep the process alive.
 */
export async function main(argv: string[]): Promise<{ exitCode: ExitCodeValue; abandoned: boolean }> {
  const program = buildProgram();
  outcome.exitCode = ExitCode.OK;
  outcome.abandoned = false;
  try {
    await program.parseAsync(argv);
    return { ...outcome };
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return { exitCode: ExitCode.OK, abandoned: false };
      }
      return { exitCode: ExitCode.USAGE, abandoned: false }; // commander already printed its one-line message
    }
    return { exitCode: reportError(error, argv.includes('--debug')), abandoned: false };
  }
}
