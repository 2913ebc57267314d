import { ExternalServiceError } from '../errors.js';

/** Why an id was not fetched (stable strings for --json and scripts). */
export type FailureKind =
  | 'http'
  | 'unavailable'
  | 'quota'
  | 'auth'
  | 'rate_limit'
  | 'stopped'
  | 'invalid_response'
  | 'database'
  | 'invalid_uri'
  /** Not fetched: Ctrl-C stopped the run first. */
  | 'interrupted'
  /** An unexpected error (a bug): the reason says which. */
  | 'internal';

/**
 * A failure of the Spotify API. `fatal` errors stop the whole run (quota used up, credentials
 * refused, rate-limit wait budget spent, accounts service unreachable); the others fail only the
 * ids of their request.
 */
export class SpotifyError extends ExternalServiceError {
  readonly kind: FailureKind;
  readonly fatal: boolean;
  constructor(message: string, kind: FailureKind, fatal: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.fatal = fatal;
  }
}

/** A 4xx answer other than 401/429 (403 on the several-tracks endpoint triggers the per-track fallback). */
export class SpotifyHttpError extends SpotifyError {
  readonly status: number;
  constructor(status: number, detail: string) {
    super(`Spotify answered HTTP ${status}${detail ? `: ${detail}` : ''}`, 'http', false);
    this.status = status;
  }
}

/** 5xx, timeouts and dropped connections that outlasted the retries. */
export class SpotifyUnavailableError extends SpotifyError {
  constructor(message: string, fatal = false, options?: { cause?: unknown }) {
    super(message, 'unavailable', fatal, options);
  }
}

export class QuotaExceededError extends SpotifyError {
  constructor() {
    super(
      'Spotify quota exceeded (HTTP 429 QUOTA_EXCEEDED): the app has used up its quota, so the run stopped instead of retrying; rerun after the quota resets, or use another app',
      'quota',
      true,
    );
  }
}

export class SpotifyAuthError extends SpotifyError {
  constructor(detail: string) {
    super(`Spotify refused the credentials (${detail}); check SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET`, 'auth', true);
  }
}

export class RateLimitBudgetError extends SpotifyError {
  constructor(retryAfterSeconds: number, waitedSeconds: number, budgetSeconds: number) {
    super(
      `Spotify rate limit: asked to wait ${retryAfterSeconds} s (Retry-After) after ${waitedSeconds.toFixed(1)} s already waited, more than SPOTIFY_MAX_RATE_LIMIT_WAIT=${budgetSeconds} s allows; the run stopped; rerun later or raise SPOTIFY_MAX_RATE_LIMIT_WAIT`,
      'rate_limit',
      true,
    );
  }
}

export class RateLimitStreakError extends SpotifyError {
  constructor(inARow: number, total: number) {
    super(
      `Spotify rate limit: HTTP 429 ${inARow} times in a row (${total} in all) although the run paused longer after each; the run stopped; rerun later, lower SPOTIFY_CONCURRENCY, or raise SPOTIFY_MAX_RATE_LIMITS`,
      'rate_limit',
      true,
    );
  }
}

/** Ids that were never sent because a fatal error stopped the run first. */
export class RunStoppedError extends SpotifyError {
  constructor(reason: SpotifyError) {
    super(`not fetched: the run stopped (${reason.kind}) before this id was sent`, 'stopped', false, { cause: reason });
  }
}

/** Ids not fetched because Ctrl-C stopped the run: not sent yet, or their request was cut short. */
export class RunInterruptedError extends SpotifyError {
  constructor() {
    super('not fetched: interrupted (Ctrl-C) before its answer came; run again to fetch it', 'interrupted', false);
  }
}
