import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { PoolSettings } from '../config.js';
import { DatabaseError, describeError } from '../errors.js';
import { PoolStatsRecorder, type PoolStats } from './pool-stats.js';

/** The schema named by a `?schema=` URL parameter (Prisma's convention), default `public`. */
export function getPgSchema(url: string): string {
  try {
    return new URL(url).searchParams.get('schema') || 'public';
  } catch {
    return 'public';
  }
}

/** The connection string without Prisma-only parameters that node-postgres does not know. */
export function pgConnectionString(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.delete('schema');
  return parsed.toString();
}

/** Tuning that is not an environment variable (tests shorten it). */
export interface PoolTuning {
  /** How long an overflow connection stays open once idle (ms; default 10 000). */
  overflowIdleMs?: number;
  /**
   * Pre-ping skips connections that finished a statement less than this long ago (ms; default
   * 500, HikariCP's "alive bypass window"): a connection used a moment ago is known alive, and
   * pinging it would double the round-trip of every short query.
   */
  prePingBypassMs?: number;
  /** application_name reported to the server (default `soulspot`). */
  applicationName?: string;
}

export const DEFAULT_OVERFLOW_IDLE_MS = 10_000;
export const DEFAULT_PRE_PING_BYPASS_MS = 500;

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: boolean | Error) => void) => void;

const noop = () => {};

/** pg-pool's messages for its two timeouts (pg-pool 3.14, shipped with pg 8.23). */
const QUEUE_TIMEOUT = 'timeout exceeded when trying to connect';
const CONNECT_TIMEOUT = 'Connection terminated due to connection timeout';

/**
 * A node-postgres pool with the original's QueuePool semantics and statistics. It is a real
 * `pg.Pool`, so `PrismaPg(pool)` accepts it, and every connection Prisma takes — single queries
 * go through `pool.query()`, transactions through `pool.connect()` — passes through {@link connect}:
 * pre-ping, timeout errors and the acquire-wait histogram apply to Prisma's queries too.
 */
export class SoulspotPgPool extends pg.Pool {
  readonly settings: PoolSettings;
  readonly stats: PoolStatsRecorder;
  readonly prePingBypassMs: number;
  private checkedOut = 0;
  /** Connections not yet handed out since they were opened: no need to ping them. */
  private readonly fresh = new WeakSet<pg.PoolClient>();
  /** When each connection last went back to the pool (performance.now()). */
  private readonly releasedAt = new WeakMap<pg.PoolClient, number>();

  constructor(config: pg.PoolConfig, settings: PoolSettings, tuning: PoolTuning = {}) {
    super(config);
    this.settings = settings;
    this.stats = new PoolStatsRecorder(settings);
    this.prePingBypassMs = tuning.prePingBypassMs ?? DEFAULT_PRE_PING_BYPASS_MS;
    this.on('connect', (client) => {
      this.stats.connectionsCreated += 1;
      this.fresh.add(client as pg.PoolClient);
    });
    this.on('acquire', () => (this.checkedOut += 1));
    this.on('release', (_err: unknown, client: pg.PoolClient) => {
      this.checkedOut -= 1;
      this.releasedAt.set(client, performance.now());
      // pg-pool marks a connection past maxLifetimeSeconds in `_expired` and closes it on release.
      if ((this as unknown as { _expired?: WeakSet<object> })._expired?.has(client)) this.stats.recycled += 1;
    });
    this.on('remove', () => (this.stats.connectionsClosed += 1));
  }

  /** The statistics now: gauges read from the pool, counters since creation. */
  snapshot(): PoolStats {
    return this.stats.snapshot({ checkedOut: this.checkedOut, idle: this.idleCount, waiting: this.waitingCount, total: this.totalCount });
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const acquired = this.acquire();
    if (!callback) return acquired;
    acquired.then(
      (client) => callback(undefined, client, client.release),
      (error: Error) => callback(error, undefined, noop),
    );
  }

  /** pool_size + max_overflow: the most connections this pool opens. */
  get maxConnections(): number {
    return (this.options as pg.PoolConfig).max!;
  }

  private async acquire(): Promise<pg.PoolClient> {
    const started = performance.now();
    // Each failed pre-ping removes a connection, so this ends with a live or a fresh one; the bound
    // only guards against a server that accepts connections and kills them at once.
    for (let attempt = 0; ; attempt += 1) {
      let client: pg.PoolClient;
      try {
        const pending = super.connect();
        // pg-pool serves its queue in order: a request beyond the idle connections plus the room
        // left for new ones has to wait for a release.
        if (attempt === 0 && this.waitingCount > this.idleCount + Math.max(0, this.maxConnections - this.totalCount)) this.stats.queued += 1;
        client = await pending;
      } catch (error) {
        throw this.toAcquireError(error);
      }
      if (this.settings.prePing && !this.fresh.delete(client) && attempt <= this.settings.size + this.settings.maxOverflow) {
        const problem = await this.ping(client);
        if (problem) {
          this.stats.prePingFailures += 1;
          client.release(problem); // an error closes it instead of returning it to the pool
          continue;
        }
      }
      this.fresh.delete(client);
      this.stats.recordAcquire(performance.now() - started);
      return client;
    }
  }

  /** undefined when the connection answers, else why it is dead. */
  private async ping(client: pg.PoolClient): Promise<Error | undefined> {
    const internals = client as unknown as { _ending?: boolean; _queryable?: boolean };
    if (internals._ending || internals._queryable === false) return new Error('connection already closed');
    const last = this.releasedAt.get(client);
    if (last !== undefined && performance.now() - last < this.prePingBypassMs) return undefined;
    try {
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  private toAcquireError(error: unknown): unknown {
    const message = describeError(error);
    const { size, maxOverflow, timeoutSeconds } = this.settings;
    if (message === QUEUE_TIMEOUT) {
      this.stats.timeouts += 1;
      return new DatabaseError(
        `timed out after ${timeoutSeconds} s (DATABASE_POOL_TIMEOUT) waiting for a PostgreSQL connection: all ${size + maxOverflow} ` +
          `(DATABASE_POOL_SIZE=${size} + DATABASE_MAX_OVERFLOW=${maxOverflow}) stayed in use; raise DATABASE_POOL_SIZE or DATABASE_MAX_OVERFLOW, or lower the concurrency`,
        { cause: error },
      );
    }
    if (message === CONNECT_TIMEOUT) {
      this.stats.timeouts += 1;
      return new DatabaseError(
        `PostgreSQL did not accept a connection within ${timeoutSeconds} s (DATABASE_POOL_TIMEOUT); check that the server runs and is not overloaded`,
        { cause: error },
      );
    }
    return error;
  }
}

/**
 * A node-postgres pool with soulspot's pool settings and the original's semantics:
 * `size` connections kept once opened (pg `min`), up to `maxOverflow` more under load (pg `max`),
 * closed again after `overflowIdleMs` idle (pg-pool's idle timeout only applies above `min`);
 * `timeoutSeconds` to wait for a connection, then a DatabaseError naming the settings;
 * `recycleSeconds` maximum connection age (pg `maxLifetimeSeconds`; 0 = never);
 * `prePing` checks a connection with `SELECT 1` before handing it out and replaces a dead one.
 * Every connection runs in the URL's `?schema=` and identifies as application_name=soulspot.
 */
export function createPgPool(url: string, settings: PoolSettings, tuning: PoolTuning = {}): SoulspotPgPool {
  const schema = getPgSchema(url);
  return new SoulspotPgPool(
    {
      connectionString: pgConnectionString(url),
      min: settings.size,
      // pg-pool treats max 0 as "default 10"; a pool always has at least one connection.
      max: Math.max(1, settings.size + settings.maxOverflow),
      connectionTimeoutMillis: settings.timeoutSeconds * 1000,
      idleTimeoutMillis: tuning.overflowIdleMs ?? DEFAULT_OVERFLOW_IDLE_MS,
      maxLifetimeSeconds: settings.recycleSeconds,
      application_name: tuning.applicationName ?? 'soulspot',
      options: `-c search_path="${schema.replace(/"/g, '""')}"`,
    },
    settings,
    tuning,
  );
}

/** The instrumented pool behind `pool`, if it is one of ours. */
export function getSoulspotPool(pool: pg.Pool | undefined): SoulspotPgPool | undefined {
  return pool instanceof SoulspotPgPool ? pool : undefined;
}
