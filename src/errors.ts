/**
 * Exit codes of the soulspot CLI. Documented in the README; scripts depend on them, so never renumber.
 */
export const ExitCode = {
  OK: 0,
  /** An unexpected internal error (a bug): rerun with --debug for the stack. */
  INTERNAL: 1,
  /** Bad command-line usage or bad input (file, ids, options). */
  USAGE: 2,
  /** Bad configuration (environment, .env, flags). */
  CONFIG: 3,
  /** The database could not be reached, or a migration failed. */
  DATABASE: 4,
  /** An external service (the Spotify API) failed for the whole run. */
  EXTERNAL: 5,
  /** Needs attention: migrations pending/failed/edited, or health degraded. */
  ATTENTION: 6,
  /** Unhealthy: health check found the database unreachable or unusable. */
  UNHEALTHY: 7,
  /** Partial success: some rows were rejected or some ids failed; the rest was done. */
  PARTIAL: 8,
  /** Interrupted by Ctrl-C (SIGINT); work already committed is kept. */
  INTERRUPTED: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Base of the expected errors: printed as one line (no stack unless --debug). */
export class SoulspotError extends Error {
  readonly exitCode: ExitCodeValue;
  constructor(message: string, exitCode: ExitCodeValue, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.exitCode = exitCode;
  }
}

/** A base for the errors of one kind: each always exits with `exitCode`. */
function withExitCode(exitCode: ExitCodeValue) {
  return class extends SoulspotError {
    constructor(message: string, options?: { cause?: unknown }) {
      super(message, exitCode, options);
    }
  };
}

/** The user called a command wrongly or handed it bad input. */
export class UsageError extends withExitCode(ExitCode.USAGE) {}

/** A configuration value (environment, .env, flag) is invalid. */
export class ConfigError extends withExitCode(ExitCode.CONFIG) {}

/** The database refused or could not be reached. */
export class DatabaseError extends withExitCode(ExitCode.DATABASE) {}

/** An external service (Spotify) failed. */
export class ExternalServiceError extends withExitCode(ExitCode.EXTERNAL) {}

/**
 * Stopped by Ctrl-C (exit 130). `abandoned` when a second Ctrl-C left work in flight (a query, a
 * worker thread) that would keep the process alive: the entry point then ends the process.
 */
export class InterruptedError extends SoulspotError {
  readonly abandoned: boolean;
  constructor(message: string, options?: { abandoned?: boolean; cause?: unknown }) {
    super(message, ExitCode.INTERRUPTED, options);
    this.abandoned = options?.abandoned ?? false;
  }
}

/**
 * SQLSTATEs and socket errors of a connection that broke under a statement (the server terminated
 * the backend or shut down, the network dropped it), as opposed to a statement the server refused:
 * admin_shutdown, crash_shutdown, connection_does_not_exist, connection_failure.
 */
const LOST_CONNECTION_CODES = new Set(['57P01', '57P02', '08003', '08006', 'ECONNRESET', 'EPIPE']);

function isLostConnection(error: Error): boolean {
  if (LOST_CONNECTION_CODES.has((error as { code?: string }).code ?? '')) return true;
  // node-postgres's own messages for a statement on a connection that broke before or under it.
  return /^(Connection terminated unexpectedly|Client has encountered a connection error and is not queryable)/.test(error.message);
}

/** Text of any thrown value, for one-line messages; a broken database connection says so. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return isLostConnection(error) ? `the connection to the database was lost (${error.message})` : error.message;
  return String(error);
}
