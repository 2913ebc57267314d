import { RateLimitBudgetError } from './errors.js';

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

/**
 * The run-wide pause that a 429 imposes: Spotify's limit is per app, so when one request is told
 * to wait, every request waits. Counts the wall time paused and refuses (RateLimitBudgetError)
 * a pause that would take the total past the budget.
 */
export class RateLimitGate {
  private resumeAt = 0;
  private waitedMs = 0;
  private pauses = 0;

  constructor(
    private readonly budgetSeconds: number,
    private readonly clock: SpotifyClock = realClock,
  ) {}

  /** Total time the run has been paused by rate limits (ms). */
  get totalWaitMs(): number {
    return this.waitedMs;
  }

  get pauseCount(): number {
    return this.pauses;
  }

  /** Records a 429 with `retryAfterSeconds`; throws when the budget does not allow it. */
  pause(retryAfterSeconds: number): void {
    const now = this.clock.now();
    const until = now + retryAfterSeconds * 1000;
    if (until <= this.resumeAt) return; // already paused at least that long
    const added = until - Math.max(now, this.resumeAt);
    if (this.waitedMs + added > this.budgetSeconds * 1000) {
      throw new RateLimitBudgetError(retryAfterSeconds, this.waitedMs / 1000, this.budgetSeconds);
    }
    this.waitedMs += added;
    this.resumeAt = until;
    this.pauses++;
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
