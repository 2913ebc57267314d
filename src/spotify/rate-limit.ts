import { RateLimitBudgetError, RateLimitStreakError } from './errors.js';

/** Time source of the Spotify client, so tests can run Retry-After waits fast. */
export interface SpotifyClock {
  now(): number;
  /** Resolves after `ms` (rejects with the signal's reason when it aborts first). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function sleepReal(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const realClock: SpotifyClock = { now: () => performance.now(), sleep: sleepReal };

/**
 * A clock running `factor` times faster than real time (now() and sleep() agree), for tests that
 * want real Retry-After semantics without waiting seconds.
 */
export function acceleratedClock(factor: number): SpotifyClock {
  return { now: () => performance.now() * factor, sleep: (ms, signal) => sleepReal(ms / factor, signal) };
}

/** Seconds of a Retry-After header (delta-seconds or an HTTP date); 1 when absent or unreadable. */
export function parseRetryAfter(header: string | null, nowMs = Date.now()): number {
  if (header === null) return 1;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.max(0, Number(text));
  const date = Date.parse(text);
  if (!Number.isNaN(date)) return Math.max(0, (date - nowMs) / 1000);
  return 1;
}

/** The shortest pause after a 429, whatever Retry-After says (0, negative, missing, unreadable). */
const RATE_LIMIT_FLOOR_SECONDS = 1;
/** The longest pause the backoff alone imposes (a longer Retry-After is still honoured). */
const RATE_LIMIT_BACKOFF_CAP_SECONDS = 30;

/** How much longer than the pause in force a shared pause must be to count as a new one (ms). */
const SHARED_PAUSE_TOLERANCE_MS = 20;

export interface RateLimitPolicy {
  /** Total seconds the run may spend paused (SPOTIFY_MAX_RATE_LIMIT_WAIT). */
  budgetSeconds: number;
  /** 429s in a row after which the run stops (SPOTIFY_MAX_RATE_LIMITS). */
  maxInARow: number;
}

/**
 * The run-wide pause that a 429 imposes: Spotify's limit is per app, so when one request is told
 * to wait, every request waits. A 429 to a request sent since the latest pause began is a new one:
 * the run pauses for Retry-After but at least the floor, doubled for each 429 in a row (capped);
 * at `maxInARow` in a row the run stops. A 429 to a request sent before the latest pause (one of
 * several in flight together) belongs to that pause: it only lengthens it if its Retry-After asks
 * for more. Counts the wall time paused and refuses a pause that would take it past the budget.
 */
export class RateLimitGate {
  private resumeAt = 0;
  private waitedMs = 0;
  private pauses = 0;
  private total429 = 0;
  private inARow = 0;
  /** Bumped by each new 429; a request's ticket is the epoch it was sent in. */
  private epoch = 0;

  constructor(
    private readonly policy: RateLimitPolicy,
    private readonly clock: SpotifyClock = realClock,
  ) {}

  /** Total time the run has been paused by rate limits (ms). */
  get totalWaitMs(): number {
    return this.waitedMs;
  }

  get pauseCount(): number {
    return this.pauses;
  }

  /** Take it just before sending a request; hand it back with the answer. */
  get ticket(): number {
    return this.epoch;
  }

  /** An answer other than 429 to a request sent since the latest pause: the limit has lifted. */
  answered(ticket: number): void {
    if (ticket === this.epoch) this.inARow = 0;
  }

  /**
   * Records a 429 to the request sent with `ticket`; returns the seconds of pause it added
   * (0: the pause in force already covers it). Throws RateLimitStreakError at the limit of 429s
   * in a row, RateLimitBudgetError when the pause would exceed the budget.
   */
  rateLimited(ticket: number, retryAfterSeconds: number): number {
    this.total429++;
    let seconds = retryAfterSeconds;
    if (ticket === this.epoch) {
      this.epoch++;
      this.inARow++;
      if (this.inARow >= this.policy.maxInARow) throw new RateLimitStreakError(this.inARow, this.total429);
      const backoff = Math.min(RATE_LIMIT_BACKOFF_CAP_SECONDS, RATE_LIMIT_FLOOR_SECONDS * 2 ** (this.inARow - 1));
      seconds = Math.max(retryAfterSeconds, backoff);
    }
    const now = this.clock.now();
    const until = now + seconds * 1000;
    if (until <= this.resumeAt) return 0; // already paused at least that long
    const added = until - Math.max(now, this.resumeAt);
    if (this.waitedMs + added > this.policy.budgetSeconds * 1000) {
      throw new RateLimitBudgetError(seconds, this.waitedMs / 1000, this.policy.budgetSeconds);
    }
    this.waitedMs += added;
    this.resumeAt = until;
    this.pauses++;
    return seconds;
  }

  /**
   * A pause that another process sharing the budget imposed (a 429 it received): waited out like
   * one of ours, counted in the wait total and refused past the budget (RateLimitBudgetError).
   * Requests in flight when it began belong to it, as for our own. Seen again by each request
   * that meets it, it only counts the time it adds. True when it was news (not already in force).
   */
  sharedPause(ms: number): boolean {
    const now = this.clock.now();
    const until = now + ms;
    // A few ms of tolerance: our own pause, published and read back, is not a new one.
    if (until <= this.resumeAt + SHARED_PAUSE_TOLERANCE_MS) return false;
    const added = until - Math.max(now, this.resumeAt);
    if (this.waitedMs + added > this.policy.budgetSeconds * 1000) {
      throw new RateLimitBudgetError(ms / 1000, this.waitedMs / 1000, this.policy.budgetSeconds);
    }
    if (this.resumeAt <= now) {
      this.epoch++;
      this.pauses++;
    }
    this.waitedMs += added;
    this.resumeAt = until;
    return true;
  }

  /** Resolves when no pause is in force. */
  async wait(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const remaining = this.resumeAt - this.clock.now();
      if (remaining <= 0) return;
      await this.clock.sleep(remaining, signal);
    }
  }
}
