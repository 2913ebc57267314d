import { Redis, type RedisOptions } from 'ioredis';
import { maskUrl } from '../database-url.js';
import { describeError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';

/** How long a connection attempt may take before Redis counts as unreachable. */
export const REDIS_TIMEOUT_MS = 1000;
/**
 * How long one command may take. Longer than the connect timeout: a process busy writing a batch
 * can leave a prompt reply unread for a few hundred ms on a loaded machine.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 3000;
/** After a failed command, Redis is left alone this long (a hung server must not cost every call a timeout). */
const COOL_DOWN_MS = 5000;
/** Longest pause between two reconnection attempts after Redis went away. */
const MAX_RECONNECT_DELAY_MS = 5000;

export interface SharedRedisOptions {
  /** The setting the URL came from, named in the warning (`CACHE_URL`, `RATE_LIMIT_URL`). */
  setting: string;
  /** What the process does without Redis, for the warning ("continuing with the in-process cache alone"). */
  fallback: string;
  logger?: Logger;
  /** Connect and command timeout (default REDIS_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Redis went away (a command failed or the connection dropped); called once per outage. */
  onDown?: () => void;
  /** Redis is back after an outage (reconnected and ready). */
  onUp?: () => void;
}

/**
 * One Redis connection for a tier shared between soulspot processes, built never to make a command
 * fail or hang because of Redis: the first connection attempt is bounded, every command fails fast
 * while Redis is away (no offline queue, a command timeout), reconnection runs quietly in the
 * background with a capped backoff, and the operator gets ONE warning per outage (and one line when
 * it is back). `close()` ends the connection and its timers, so the process exits on its own.
 */
export class SharedRedis {
  /** Ready and not failed since; false until the first connection is ready. */
  private up = false;
  private connectedOnce = false;
  private closed = false;
  private failedAt = -Infinity;
  /** The latest error the client reported (the reason behind a bare "Connection is closed."). */
  private lastError: unknown;
  private readonly logger: Logger;

  private constructor(
    readonly client: Redis,
    private readonly url: string,
    private readonly options: SharedRedisOptions,
  ) {
    this.logger = options.logger ?? silentLogger;
    client.on('error', (error: Error) => {
      this.lastError = error;
      this.markDown(error);
    });
    client.on('close', () => this.markDown(this.lastError ?? new Error('connection closed')));
    client.on('ready', () => {
      if (this.up || this.closed) return;
      this.up = true;
      if (!this.connectedOnce) {
        this.connectedOnce = true;
        return;
      }
      this.logger.info(`${options.setting}: Redis at ${maskUrl(url)} is back`);
      options.onUp?.();
    });
  }

  /** Whether to send commands now: connected, and no command failed in the last COOL_DOWN_MS. */
  get ready(): boolean {
    return this.client.status === 'ready' && performance.now() - this.failedAt >= COOL_DOWN_MS;
  }

  /**
   * Connects to `url` within the timeout; undefined (after one warning) when Redis cannot be reached,
   * and the caller carries on without it.
   */
  static async connect(url: string, options: SharedRedisOptions, extra: RedisOptions = {}): Promise<SharedRedis | undefined> {
    const client = SharedRedis.createClient(url, options, extra);
    const shared = new SharedRedis(client, url, options);
    try {
      await client.connect();
      return shared;
    } catch (error) {
      shared.closed = true;
      client.disconnect();
      const reason = describeRedisError(shared.lastError ?? error);
      (options.logger ?? silentLogger).warn(`${options.setting}: Redis at ${maskUrl(url)} unreachable (${reason}); ${options.fallback}`);
      return undefined;
    }
  }

  /** A second connection to the same server with the same behaviour (pub/sub needs its own). */
  async duplicate(options: Partial<SharedRedisOptions> = {}, extra: RedisOptions = {}): Promise<SharedRedis | undefined> {
    return SharedRedis.connect(this.url, { ...this.options, ...options }, extra);
  }

  /** Records a failed command: the first failure of an outage warns, the next ones are silent. */
  failed(error: unknown): void {
    this.failedAt = performance.now();
    this.markDown(error);
  }

  /** Ends the connection (pending commands fail) and stops reconnecting. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.disconnect();
  }

  private markDown(error: unknown): void {
    if (!this.up || this.closed) return;
    this.up = false;
    this.logger.warn(`${this.options.setting}: Redis at ${maskUrl(this.url)} failed (${describeRedisError(error)}); ${this.options.fallback} until it is back`);
    this.options.onDown?.();
  }

  private static createClient(url: string, options: SharedRedisOptions, extra: RedisOptions): Redis {
    const timeout = options.timeoutMs ?? REDIS_TIMEOUT_MS;
    return new Redis(url, {
      lazyConnect: true,
      connectTimeout: timeout,
      commandTimeout: Math.max(timeout, REDIS_COMMAND_TIMEOUT_MS),
      // Commands fail at once while Redis is away instead of queueing until it is back.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 10), MAX_RECONNECT_DELAY_MS),
      // The first connect() fails instead of retrying (the caller falls back at once).
      reconnectOnError: () => false,
      ...extra,
    });
  }
}

/** A short reason: the error code when there is one (ECONNREFUSED, ETIMEDOUT), else the message. */
export function describeRedisError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (typeof e?.code === 'string') return e.code;
  return describeError(error);
}
