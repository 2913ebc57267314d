import type { Logger } from '../logger.js';

/** One executed SQL statement as Prisma reports it (`duration` in milliseconds). */
export interface QueryEvent {
  query: string;
  params?: string;
  duration: number;
}

export interface QueryLogOptions {
  /** DATABASE_ECHO: log every statement (info level) with its duration. */
  echo: boolean;
  /** SLOW_QUERY_MS: statements at least this slow are logged as warnings even without echo; 0 turns that off. */
  slowQueryMs: number;
  /** Longest SQL / parameter text put in one log line (a 30,000-row INSERT would flood the terminal). */
  maxLength?: number;
}

/** Counters at one moment; subtract two to measure a stretch of work. */
export interface QueryLogSnapshot {
  statements: number;
  slow: number;
  totalDurationMs: number;
}

/**
 * Counts every SQL statement Prisma executes (raw SQL included) and logs it: each one with
 * DATABASE_ECHO=true (`query duration_ms=… sql=… params=…`), and those slower than SLOW_QUERY_MS
 * always, as warnings. The logger decides the format: text lines, or one JSON object per line with
 * LOG_FORMAT=json. Tests and `bench` read `count` / `snapshot()` or `countDuring(fn)`.
 *
 * Prisma reports a statement when it has finished, and reports the COMMIT of its own implicit
 * transactions but not their BEGIN; the counter counts what Prisma reports.
 */
export class QueryLog {
  count = 0;
  slowCount = 0;
  totalDurationMs = 0;
  private readonly listeners = new Set<(event: QueryEvent) => void>();
  private readonly maxLength: number;

  constructor(
    private readonly logger: Logger,
    private readonly options: QueryLogOptions,
  ) {
    this.maxLength = options.maxLength ?? 2000;
  }

  record(event: QueryEvent): void {
    this.count += 1;
    const durationMs = Math.round(Number(event.duration) * 100) / 100;
    this.totalDurationMs += Number.isFinite(durationMs) ? durationMs : 0;
    const slow = this.options.slowQueryMs > 0 && durationMs >= this.options.slowQueryMs;
    if (slow) this.slowCount += 1;
    if (slow || this.options.echo) {
      const fields: Record<string, unknown> = { duration_ms: durationMs, sql: this.clip(event.query) };
      if (event.params && event.params !== '[]') fields.params = this.clip(event.params);
      if (slow) this.logger.warn(`slow query (${durationMs} ms, SLOW_QUERY_MS=${this.options.slowQueryMs})`, fields);
      else this.logger.info('query', fields);
    }
    for (const listener of this.listeners) listener(event);
  }

  /**
   * Whether a statement that took `durationMs` will be printed or handed to a listener: callers
   * that build the parameter text themselves (direct.ts) skip it otherwise.
   */
  wantsParams(durationMs: number): boolean {
    return this.options.echo || this.listeners.size > 0 || (this.options.slowQueryMs > 0 && durationMs >= this.options.slowQueryMs);
  }

  private clip(text: string): string {
    const oneLine = text.replace(/\s+/g, ' ').trim();
    return oneLine.length <= this.maxLength ? oneLine : `${oneLine.slice(0, this.maxLength)}… (${oneLine.length} chars)`;
  }

  snapshot(): QueryLogSnapshot {
    return { statements: this.count, slow: this.slowCount, totalDurationMs: this.totalDurationMs };
  }

  /**
   * Counts the statements `fn` executes. Statements other work runs at the same time count too:
   * measure on a database nobody else uses.
   */
  async countDuring<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }> {
    const before = this.count;
    const result = await fn();
    return { result, statements: this.count - before };
  }

  /** Calls `listener` for every statement until the returned function is called. */
  subscribe(listener: (event: QueryEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
