import pLimit, { type LimitFunction } from 'p-limit';
import pRetry from 'p-retry';

/**
 * What the batch function says about one item: a value, or a failure. A failure marked
 * `retryable` is tried again (alone with the other retryable items of its batch) when the
 * processor has retries left; any other failure is final.
 */
export type ItemResult<R> = { ok: true; value: R } | { ok: false; error: Error | string; retryable?: boolean };

/** The outcome of one item, as reported to the caller. */
export type ItemOutcome<T, R> = { item: T; ok: true; value: R } | { item: T; ok: false; error: Error; reason: string };

/**
 * Processes one batch. Returns one result per item, in the items' order. Throwing fails every
 * item of this batch (and only this batch) with the thrown error, after any retries.
 */
export type BatchFunction<T, R> = (items: readonly T[], context: { attempt: number }) => Promise<ReadonlyArray<ItemResult<R>>>;

export interface RetryOptions {
  /** Further attempts after the first (0 = no retry). */
  retries: number;
  /** Delay before the first retry; doubles (times `factor`) on each further one. Default 200 ms. */
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  factor?: number;
  /** Jitter: each delay is multiplied by a random factor in [1, 2). Default true. */
  randomize?: boolean;
  /** Whether a thrown error is worth another attempt (default: always). */
  shouldRetry?: (error: Error) => boolean;
}

/** A timer source, so tests can drive `maxWaitMs` with a fake clock. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface BatchProcessorOptions<T, R> {
  /** Items per batch (at least 1). */
  batchSize: number;
  /**
   * With autoFlush, a partial batch is sent at most this long after it started filling, by a
   * real timer (not only when the processor is next called). Undefined: only full batches and
   * explicit flushes are sent.
   */
  maxWaitMs?: number;
  /** Send full batches (and timed-out partial ones) automatically. Default true; false: only flush() sends. */
  autoFlush?: boolean;
  /** Batches in flight at once. Default 1. */
  concurrency?: number;
  retry?: RetryOptions;
  timers?: Timers;
  /** Called after each batch settles, with that batch's result (progress reporting). If it throws, the next flush/close rejects with that error. */
  onBatch?: (result: BatchResult<T, R>) => void;
}

/** Outcomes of a set of items with their tallies. */
export interface BatchResult<T, R> {
  outcomes: Array<ItemOutcome<T, R>>;
  successCount: number;
  failureCount: number;
  /** Percent of items that succeeded; an empty set is 100 (nothing failed), never 0. */
  successRate: number;
  failures: Array<{ item: T; reason: string; error: Error }>;
}

/** Tallies a list of outcomes. */
export function summarize<T, R>(outcomes: Array<ItemOutcome<T, R>>): BatchResult<T, R> {
  const failures: BatchResult<T, R>['failures'] = [];
  for (const o of outcomes) if (!o.ok) failures.push({ item: o.item, reason: o.reason, error: o.error });
  const successCount = outcomes.length - failures.length;
  return {
    outcomes,
    successCount,
    failureCount: failures.length,
    successRate: outcomes.length === 0 ? 100 : (successCount / outcomes.length) * 100,
    failures,
  };
}

/** Internal: some items failed with a retryable error; triggers p-retry's backoff for those items only. */
class RetryableItemsError extends Error {
  constructor(count: number) {
    super(`${count} item(s) failed with a retryable error`);
  }
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

interface Pending<T, R> {
  item: T;
  resolve: (outcome: ItemOutcome<T, R>) => void;
  settled: Promise<ItemOutcome<T, R>>;
}

/**
 * Groups items into batches for a batch function (for example 50 Spotify ids per request) and
 * reports an outcome per item. Batches run with a concurrency limit; a batch that throws fails
 * only its own items; optional retries use exponential backoff with jitter.
 */
export class BatchProcessor<T, R> {
  private readonly fn: BatchFunction<T, R>;
  private readonly batchSize: number;
  private readonly maxWaitMs?: number;
  private readonly autoFlush: boolean;
  private readonly retry?: RetryOptions;
  private readonly timers: Timers;
  private readonly limit: LimitFunction;
  private readonly onBatch?: (result: BatchResult<T, R>) => void;
  private pending: Array<Pending<T, R>> = [];
  /** Batches sent and not settled yet, each resolving to its outcomes (tracked per batch, not per item: cheap for 10,000s of items). */
  private readonly inFlight = new Set<Promise<Array<ItemOutcome<T, R>>>>();
  private inFlightItems = 0;
  /** An exception thrown by onBatch, rethrown by the next flush/close (never lost, never unhandled). */
  private callbackError: unknown = undefined;
  private timer: unknown = undefined;
  private closed = false;
  private batchesSent = 0;

  constructor(fn: BatchFunction<T, R>, options: BatchProcessorOptions<T, R>) {
    if (!Number.isInteger(options.batchSize) || options.batchSize < 1) throw new RangeError(`batchSize: expected a whole number ≥ 1, got ${options.batchSize}`);
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency: expected a whole number ≥ 1, got ${concurrency}`);
    if (options.maxWaitMs !== undefined && !(options.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs: expected ≥ 0, got ${options.maxWaitMs}`);
    this.fn = fn;
    this.batchSize = options.batchSize;
    this.maxWaitMs = options.maxWaitMs;
    this.autoFlush = options.autoFlush ?? true;
    this.retry = options.retry;
    this.timers = options.timers ?? { setTimeout: (cb, ms) => setTimeout(cb, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
    this.limit = pLimit(concurrency);
    this.onBatch = options.onBatch;
  }

  /** Items waiting for a batch. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Items in batches that were sent and have not settled yet. */
  get inFlightCount(): number {
    return this.inFlightItems;
  }

  /** Batches handed to the batch function so far (retries not counted). */
  get batchCount(): number {
    return this.batchesSent;
  }

  /** Adds one item; the promise settles (never rejects) with its outcome once its batch is done. */
  add(item: T): Promise<ItemOutcome<T, R>> {
    if (this.closed) return Promise.reject(new Error('BatchProcessor is closed; create a new one'));
    const entry = this.enqueue(item);
    this.afterAdd();
    return entry.settled;
  }

  /** Adds many items at once (same as `add` for each, with one dispatch at the end). */
  addMany(items: Iterable<T>): Promise<Array<ItemOutcome<T, R>>> {
    if (this.closed) return Promise.reject(new Error('BatchProcessor is closed; create a new one'));
    const settled: Array<Promise<ItemOutcome<T, R>>> = [];
    for (const item of items) settled.push(this.enqueue(item).settled);
    this.afterAdd();
    return Promise.all(settled);
  }

  /**
   * Sends everything pending (in batches of `batchSize`) and waits for every batch in flight.
   * Returns the outcomes of the items that were pending or in flight when it was called.
   */
  async flush(): Promise<BatchResult<T, R>> {
    const waiting = [...this.inFlight];
    this.clearTimer();
    while (this.pending.length > 0) waiting.push(this.dispatch(this.pending.splice(0, this.batchSize)));
    const outcomes = (await Promise.all(waiting)).flat();
    if (this.callbackError !== undefined) {
      const error: unknown = this.callbackError;
      this.callbackError = undefined;
      throw error;
    }
    return summarize(outcomes);
  }

  /** Flushes, then refuses further items. */
  async close(): Promise<BatchResult<T, R>> {
    this.closed = true;
    return this.flush();
  }

  private enqueue(item: T): Pending<T, R> {
    let resolve!: (o: ItemOutcome<T, R>) => void;
    const settled = new Promise<ItemOutcome<T, R>>((r) => (resolve = r));
    const entry = { item, resolve, settled };
    this.pending.push(entry);
    return entry;
  }

  private afterAdd(): void {
    if (!this.autoFlush) return;
    let sent = false;
    while (this.pending.length >= this.batchSize) {
      void this.dispatch(this.pending.splice(0, this.batchSize));
      sent = true;
    }
    if (sent) this.clearTimer();
    if (this.pending.length > 0 && this.timer === undefined && this.maxWaitMs !== undefined) {
      this.timer = this.timers.setTimeout(() => {
        this.timer = undefined;
        if (this.pending.length > 0) void this.dispatch(this.pending.splice(0, this.batchSize));
      }, this.maxWaitMs);
    }
  }

  private clearTimer(): void {
    if (this.timer !== undefined) {
      this.timers.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private dispatch(batch: Array<Pending<T, R>>): Promise<Array<ItemOutcome<T, R>>> {
    this.batchesSent++;
    this.inFlightItems += batch.length;
    const settled: Promise<Array<ItemOutcome<T, R>>> = this.limit(() => this.run(batch.map((p) => p.item))).then((outcomes) => {
      this.inFlight.delete(settled);
      this.inFlightItems -= batch.length;
      outcomes.forEach((o, i) => batch[i].resolve(o));
      try {
        this.onBatch?.(summarize(outcomes));
      } catch (error) {
        this.callbackError ??= error;
      }
      return outcomes;
    });
    this.inFlight.add(settled);
    return settled;
  }

  /** Runs one batch with retries; always resolves with one outcome per item. */
  private async run(items: T[]): Promise<Array<ItemOutcome<T, R>>> {
    const outcomes: Array<ItemOutcome<T, R> | undefined> = new Array<ItemOutcome<T, R> | undefined>(items.length);
    let remaining = items.map((_, i) => i);
    const retry = this.retry;
    try {
      await pRetry(
        async (attempt) => {
          const subset = remaining.map((i) => items[i]);
          const results = await this.fn(subset, { attempt });
          if (!Array.isArray(results) || results.length !== subset.length) {
            throw new Error(`the batch function returned ${Array.isArray(results) ? results.length : typeof results} results for ${subset.length} items`);
          }
          const again: number[] = [];
          results.forEach((r: ItemResult<R>, k) => {
            const i = remaining[k];
            if (r.ok) outcomes[i] = { item: items[i], ok: true, value: r.value };
            else {
              const error = toError(r.error);
              outcomes[i] = { item: items[i], ok: false, error, reason: error.message };
              if (r.retryable) again.push(i);
            }
          });
          remaining = again;
          if (again.length > 0) throw new RetryableItemsError(again.length);
        },
        {
          retries: retry?.retries ?? 0,
          minTimeout: retry?.minTimeoutMs ?? 200,
          maxTimeout: retry?.maxTimeoutMs ?? 30_000,
          factor: retry?.factor ?? 2,
          randomize: retry?.randomize ?? true,
          shouldRetry: ({ error }) => error instanceof RetryableItemsError || (retry?.shouldRetry?.(error) ?? true),
        },
      );
    } catch (thrown) {
      if (!(thrown instanceof RetryableItemsError)) {
        const error = toError(thrown);
        for (const i of remaining) outcomes[i] = { item: items[i], ok: false, error, reason: error.message };
      }
    }
    return outcomes as Array<ItemOutcome<T, R>>;
  }
}
