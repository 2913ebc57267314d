import type { Command } from 'commander';
import type { Config } from '../config.js';
import { ExitCode, InterruptedError, SoulspotError, describeError, type ExitCodeValue } from '../errors.js';
import type { Logger } from '../logger.js';
import { maskSecretsInText } from '../database-url.js';

/** The global options every command accepts. */
export interface GlobalOptions {
  databaseUrl?: string;
  json?: boolean;
  debug?: boolean;
  quiet?: boolean;
}

/** What an action gets: validated configuration, a logger (stderr) and the output streams. */
export interface CommandContext {
  config: Config;
  logger: Logger;
  options: GlobalOptions;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * Where the result of the last action is kept for `main` to return: its exit code, and whether a
 * second Ctrl-C abandoned work still in flight (the entry point then ends the process).
 */
export const outcome: { exitCode: ExitCodeValue; abandoned: boolean } = { exitCode: ExitCode.OK, abandoned: false };

/** Writes an error as one line (a stack only with --debug) and returns its exit code. */
export function reportError(error: unknown, debug: boolean, stderr: NodeJS.WritableStream = process.stderr): ExitCodeValue {
  if (error instanceof SoulspotError) {
    stderr.write(`soulspot: ${maskSecretsInText(error.message)}\n`);
    if (debug && error.stack) stderr.write(`${maskSecretsInText(error.stack)}\n`);
    return error.exitCode;
  }
  stderr.write(`soulspot: internal error: ${maskSecretsInText(describeError(error))} (rerun with --debug for the stack)\n`);
  if (debug && error instanceof Error && error.stack) stderr.write(`${maskSecretsInText(error.stack)}\n`);
  return ExitCode.INTERNAL;
}

export interface ActionOptions {
  /**
   * With --json, the document to print on stdout when the action fails with an expected error
   * (bad settings, say) before printing its own: for commands whose callers always parse stdout.
   */
  jsonOnError?: (error: SoulspotError) => unknown;
}

/** For commands whose `--json` callers always parse stdout: `{ status, error }` when the settings are bad (exit 3). */
export function jsonStatusOnError(status: string): ActionOptions {
  return { jsonOnError: (error) => ({ status, error: { exit_code: error.exitCode, message: maskSecretsInText(error.message) } }) };
}

/**
 * Wraps a command action: loads the configuration, runs the action, and turns its result or
 * error into the process exit code. The action returns its exit code (OK when it returns nothing).
 */
export function action<A extends unknown[]>(
  run: (ctx: CommandContext, ...args: A) => Promise<ExitCodeValue | void>,
  actionOptions: ActionOptions = {},
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const options = command.optsWithGlobals<GlobalOptions>();
    try {
      // Loaded here, not at the top: zod, dotenv and pino are not needed for --help.
      const [{ loadConfig }, { createLogger }] = await Promise.all([import('../config.js'), import('../logger.js')]);
      const config = loadConfig({ databaseUrl: options.databaseUrl, debug: options.debug, quiet: options.quiet });
      const logger = createLogger(config);
      const ctx: CommandContext = { config, logger, options, stdout: process.stdout, stderr: process.stderr };
      outcome.exitCode = (await run(ctx, ...(args.slice(0, -1) as A))) ?? ExitCode.OK;
    } catch (error) {
      if (options.json && actionOptions.jsonOnError && error instanceof SoulspotError) {
        const { writeJson } = await import('./render.js');
        writeJson(process.stdout, actionOptions.jsonOnError(error));
      }
      outcome.exitCode = reportError(error, Boolean(options.debug));
      outcome.abandoned = error instanceof InterruptedError && error.abandoned;
    }
  };
}
