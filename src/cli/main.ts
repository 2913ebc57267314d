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
    .option('-q, --quiet', 'log errors only and show no spinners')
    .showHelpAfterError('(run soulspot --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
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
    registerBench,
  ]) {
    register(program);
  }
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI with `argv` (as process.argv) and returns the exit code; never calls process.exit. */
export async function main(argv: string[]): Promise<ExitCodeValue> {
  const program = buildProgram();
  outcome.exitCode = ExitCode.OK;
  try {
    await program.parseAsync(argv);
    return outcome.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
        return ExitCode.OK;
      }
      return ExitCode.USAGE; // commander already printed its one-line message
    }
    return reportError(error, argv.includes('--debug'));
  }
}
