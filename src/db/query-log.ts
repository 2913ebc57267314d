import type { Logger } from '../logger.js';

/** One executed SQL statement as Prisma reports it. */
export interface QueryEvent {
  query: string;
  params?: string;
  duration: number;
}

/**
 * Counts every SQL statement Prisma executes and logs it: all of them with DATABASE_ECHO=true,
 * and those slower than SLOW_QUERY_MS always, as warnings. Tests and `bench` read `count`.
 */
export class QueryLog {
  count = 0;
  private readonly listeners = new Set<(event: QueryEvent) => void>();

  constructor(
    private readonly logger: Logger,
    private readonly options: { echo: boolean; slowQueryMs: number },
  ) {}

  record(event: QueryEvent): void {
    this.count += 1;
    const durationMs = Math.round(Number(event.duration) * 100) / 100;
    if (durationMs >= this.options.slowQueryMs && this.options.slowQueryMs > 0) {
      this.logger.warn(`slow query (${durationMs} ms): ${event.query}`, { duration_ms: durationMs, sql: event.query });
    } else if (this.options.echo) {
      this.logger.info(`sql (${durationMs} ms): ${event.query}`, { duration_ms: durationMs, sql: event.query });
    }
    for (const listener of this.listeners) listener(event);
  }

  /** Counts the statements `fn` executes (others running at the same time count too). */
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
