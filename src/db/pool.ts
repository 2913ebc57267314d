import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { PoolSettings } from '../config.js';
import { DatabaseError, describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { PoolStatsRecorder, type PoolStats } from './pool-stats.js';

/** The schema named by a `?schema=` URL parameter (Prisma's convention), default `public`. */
export function getPgSchema(url: string): string {
  try {
    return new URL(url).searchParams.get('schema') || 'public';
  } catch {
    return 'public';
  }
}

/**
 * `?pgbouncer=true` (Prisma's convention): the server is reached through PgBouncer in transaction
 * mode, where a statement prepared on one server connection is unknown on the next; then no
 * statement is prepared by name (src/db/direct.ts).
 */
export function usesPgBouncer(url: string): boolean {
  try {
    return new URL(url).searchParams.get('pgbouncer') === 'true';
  } catch {
    return false;
  }
}

/** The connection string without Prisma-only parameters that node-postgres does not know. */
export function pgConnectionString(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.delete('schema');
  parsed.searchParams.delete('pgbouncer');
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
  /**
   * The version of the pg-pool behind pg.Pool (default: read from its package.json). The fast
   * paths run only on FAST_PATH_PG_POOL_VERSION; tests pass another to get plain pg-pool.
   */
  pgPoolVersion?: string;
  /** Where the pool says, once a process, that it runs without its fast paths (debug level). */
  logger?: Logger;
}

const DEFAULT_OVERFLOW_IDLE_MS = 10_000;
const DEFAULT_PRE_PING_BYPASS_MS = 500;

/** The pg-pool release whose private fields the fast paths read and write (pinned in package.json). */
export const FAST_PATH_PG_POOL_VERSION = '3.14.0';

let installedVersion: string | null | undefined;

/**
 * The version of the pg-pool that pg.Pool is, resolved as pg resolves it; undefined if unreadable.
 * Read from the package.json beside its main file: the package's `exports` do not include it.
 */
export function installedPgPoolVersion(): string | undefined {
  if (installedVersion === undefined) {
    try {
      const fromPg = createRequire(createRequire(import.meta.url).resolve('pg'));
      const manifest = JSON.parse(readFileSync(join(dirname(fromPg.resolve('pg-pool')), 'package.json'), 'utf8')) as { version?: unknown };
      installedVersion = typeof manifest.version === 'string' ? manifest.version : null;
    } catch {
      installedVersion = null;
    }
  }
  return installedVersion ?? undefined;
}

let plainPathLogged = false;

/** An idle connection in pg-pool 3.14's idle list. */
interface IdleItem {
  client: pg.PoolClient & { ref?: () => void };
  idleListener: unknown;
  timeoutId: ReturnType<typeof setTimeout> | undefined;
}

/** The parts of pg-pool 3.14 (shipped with pg 8.23) the fast paths use; each use checks they exist. */
interface PgPoolInternals {
  _idle?: IdleItem[];
  _clients?: pg.PoolClient[];
  _pendingQueue?: unknown[];
  _expired?: WeakSet<object>;
  _acquireClient?: (client: pg.PoolClient, pending: { callback: unknown; timedOut?: boolean }, idleListener: unknown, isNew: boolean) => void;
  _release?: (client: pg.PoolClient, idleListener: unknown, err: Error | undefined) => void;
}

type QueryWithCallback = (query: unknown, values: unknown, callback: (err: Error | undefined, res: unknown) => void) => void;

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
  /**
   * The installed pg-pool is the one whose internals the fast paths were written against; else
   * every connection goes through pg-pool's own checkout and release.
   */
  readonly fastPath: boolean;
  private checkedOut = 0;
  /** Connections not yet handed out since they were opened: no need to ping them. */
  private readonly fresh = new WeakSet<pg.PoolClient>();
  /** When each connection last went back to the pool (performance.now()). */
  private readonly releasedAt = new WeakMap<pg.PoolClient, number>();
  /**
   * pg-pool's release counts uses (maxUses) and unrefs idle sockets (allowExitOnIdle); with either
   * set the fast path hands every connection back through it. createPgPool sets neither.
   */
  private readonly releaseAlwaysDoesMore: boolean;

  constructor(config: pg.PoolConfig, settings: PoolSettings, tuning: PoolTuning = {}) {
    super(config);
    this.settings = settings;
    this.stats = new PoolStatsRecorder(settings);
    this.prePingBypassMs = tuning.prePingBypassMs ?? DEFAULT_PRE_PING_BYPASS_MS;
    const version = tuning.pgPoolVersion ?? installedPgPoolVersion();
    this.fastPath = version === FAST_PATH_PG_POOL_VERSION;
    if (!this.fastPath && tuning.logger && !plainPathLogged) {
      plainPathLogged = true;
      tuning.logger.debug(
        `pg-pool ${version ?? '(version unreadable)'} is not ${FAST_PATH_PG_POOL_VERSION}, whose internals the pool's fast path was written for: using plain pg-pool checkout and release`,
      );
    }
    const options = this.options as pg.PoolConfig;
    this.releaseAlwaysDoesMore = Boolean(options.allowExitOnIdle) || (options.maxUses ?? Infinity) < Infinity;
    this.on('connect', (client) => {
      this.stats.connectionsCreated += 1;
      this.fresh.add(client);
      // node-postgres emits 'error' on a client whose connection breaks (the server terminated it,
      // the network dropped), checked out or not, and pg-pool listens only while it is idle: without
      // a listener of its own that ends the process. The statement in flight, or the next one, fails
      // with the reason and takes the normal error path; the connection is closed when released.
      client.on('error', noop);
    });
    this.on('acquire', () => (this.checkedOut += 1));
    this.on('release', (_err: unknown, client: pg.PoolClient) => {
      this.checkedOut -= 1;
      this.releasedAt.set(client, performance.now());
      // pg-pool marks a connection past maxLifetimeSeconds in `_expired` and closes it on release
      // (a private field: on another pg-pool version recycled connections are not counted).
      if (this.fastPath && (this as unknown as { _expired?: WeakSet<object> })._expired?.has(client)) this.stats.recycled += 1;
    });
    this.on('remove', () => (this.stats.connectionsClosed += 1));
    // pg-pool emits 'error' when a connection breaks outside a checkout (it has already removed
    // it); with no listener that would end the process. openDatabase adds one that logs it.
    this.on('error', noop);
    // An own property rather than an override: pg's typings declare many overloads of `query`.
    this.query = this.leanQuery.bind(this) as pg.Pool['query'];
  }

  /** The statistics now: gauges read from the pool, counters since creation. */
  snapshot(): PoolStats {
    return this.stats.snapshot({ checkedOut: this.checkedOut, idle: this.idleCount, waiting: this.waitingCount, total: this.totalCount });
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    if (callback) {
      // pg.Pool's contract: the callback never runs before connect() returns (the fast path below
      // can have a connection at once; pg-pool itself calls back synchronously once ended).
      let returned = false;
      this.acquire(
        (error, client, done) => (returned ? callback(error, client, done) : process.nextTick(callback, error, client, done)),
        performance.now(),
        0,
      );
      returned = true;
      return;
    }
    return new Promise((resolve, reject) => this.acquire((error, client) => (error ? reject(error) : resolve(client!)), performance.now(), 0));
  }

  /**
   * One statement on a pooled connection: the path Prisma's adapter takes for every statement
   * outside a transaction. Same contract as pg-pool's `query` (promise form), with fewer promise
   * layers; a statement that failed on the server (a constraint violation, say) keeps its
   * connection, one that broke the connection closes it.
   */
  private leanQuery(text: unknown, values?: unknown, callback?: unknown): unknown {
    if (typeof text === 'function' || typeof values === 'function' || callback !== undefined) {
      return (pg.Pool.prototype.query as (...args: unknown[]) => unknown).call(this, text, values, callback);
    }
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const idle = this.readyIdle();
      if (idle) return this.runOnIdle(idle, text, values, started, resolve, reject);
      this.acquire(
        (error, client) => {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- acquire calls back with an error or a client, never neither
          if (error || !client) return reject(error);
          let settled = false;
          const onError = (broken: Error) => {
            if (settled) return;
            settled = true;
            client.release(broken);
            reject(broken);
          };
          client.once('error', onError);
          try {
            (client.query as QueryWithCallback)(text, values, (err, res) => {
              client.removeListener('error', onError);
              if (settled) return;
              settled = true;
              client.release(err && breaksConnection(err, client) ? err : undefined);
              if (err) reject(err);
              else resolve(res);
            });
          } catch (thrown) {
            // A query node-postgres refuses outright (null text, say): as pg-pool, release and fail.
            client.removeListener('error', onError);
            settled = true;
            client.release(thrown as Error);
            reject(thrown);
          }
        },
        started,
        0,
      );
    });
  }

  /**
   * The fast path, for single statements (what Prisma sends outside a transaction): the idle
   * connection pg-pool would hand out next, if it needs no pre-ping (used within the bypass
   * window, or never handed out), is not past its age nor known dead, and nobody is queued.
   * Undefined otherwise, or if pg-pool's internals are not the ones this was written against
   * (`fastPath`): then the normal path (`acquire`) runs.
   */
  private readyIdle(): IdleItem | undefined {
    if (!this.fastPath) return undefined;
    const internals = this as unknown as PgPoolInternals;
    const idle = internals._idle;
    if (this.ending || !Array.isArray(idle) || idle.length === 0 || !Array.isArray(internals._pendingQueue) || internals._pendingQueue.length > 0) return undefined;
    if (typeof internals._release !== 'function' || !(internals._expired instanceof WeakSet) || !Array.isArray(internals._clients)) return undefined;
    const item = idle[idle.length - 1];
    const client = item.client;
    if (this.knownDead(client) || internals._expired.has(client)) return undefined;
    if (this.settings.prePing && !this.fresh.has(client) && this.idleLongerThanBypass(client)) return undefined;
    return item;
  }

  /**
   * Runs one statement on an idle connection without pg-pool's checkout and release (their events,
   * closures and listener changes cost 3–5 µs a statement here, 4–6% of a `SELECT 1` round trip).
   * pg-pool's idle listener stays on the connection meanwhile: if the connection breaks, it
   * removes it from the pool as it does for an idle one, and the statement fails with the error.
   * Afterwards the connection goes straight back to the idle list when pg-pool's release would
   * do nothing more; otherwise (broken, past its age, an overflow connection that needs its idle
   * timer, someone queued, the pool ending) through pg-pool's own release.
   */
  private runOnIdle(item: IdleItem, text: unknown, values: unknown, started: number, resolve: (res: unknown) => void, reject: (err: unknown) => void): void {
    const internals = this as unknown as Required<PgPoolInternals>;
    const client = item.client;
    internals._idle.pop();
    clearTimeout(item.timeoutId);
    client.ref?.();
    this.fresh.delete(client);
    // pg.Pool's events, as its checkout and release emit them: every 'acquire' has its 'release'.
    this.emit('acquire', client);
    this.stats.recordAcquire(performance.now() - started);
    const checkIn = (broken: Error | undefined) => {
      const options = this.options as pg.PoolConfig;
      const needsIdleTimer = Boolean(options.idleTimeoutMillis) && internals._clients.length > (options.min ?? 0);
      if (!broken && !this.ending && internals._pendingQueue.length === 0 && !internals._expired.has(client) && !needsIdleTimer && !this.releaseAlwaysDoesMore) {
        this.emit('release', undefined, client);
        internals._idle.push(item);
      } else if (!internals._clients.includes(client)) {
        // The idle listener already removed the broken connection (and said so with 'error').
        this.emit('release', broken ?? new Error('connection lost during the statement'), client);
      } else {
        client.removeListener('error', item.idleListener as (err: Error) => void);
        internals._release.call(this, client, item.idleListener, broken); // emits 'release'
      }
    };
    try {
      (client.query as QueryWithCallback)(text, values, (err, res) => {
        checkIn(err && breaksConnection(err, client) ? err : undefined);
        if (err) reject(err);
        else resolve(res);
      });
    } catch (thrown) {
      checkIn(thrown as Error);
      reject(thrown);
    }
  }

  /** pool_size + max_overflow: the most connections this pool opens. */
  get maxConnections(): number {
    return (this.options as pg.PoolConfig).max!;
  }

  /**
   * Callbacks rather than promises: this runs for every statement Prisma sends, and each promise
   * layer costs microseconds on a round trip of well under a millisecond.
   */
  private acquire(callback: ConnectCallback, started: number, attempt: number): void {
    const got = (error: Error | undefined, client: pg.PoolClient | undefined) => {
      if (error || !client) {
        callback(this.toAcquireError(error) as Error, undefined, noop);
        return;
      }
      // Each failed pre-ping removes a connection, so this ends with a live or a fresh one; the
      // bound only guards against a server that accepts connections and kills them at once.
      const mustPing = this.settings.prePing && !this.fresh.delete(client) && attempt <= this.settings.size + this.settings.maxOverflow;
      const dead = mustPing ? this.knownDead(client) : undefined;
      if (dead) {
        this.replace(client, dead, callback, started, attempt);
      } else if (mustPing && this.idleLongerThanBypass(client)) {
        client.query('SELECT 1').then(
          () => this.handOut(client, callback, started),
          (problem: Error) => this.replace(client, problem, callback, started, attempt),
        );
      } else {
        this.fresh.delete(client);
        this.handOut(client, callback, started);
      }
    };
    if (this.takeIdle(got)) return;
    super.connect(got as ConnectCallback);
    // pg-pool serves its queue in order: a request beyond the idle connections plus the room left
    // for new ones has to wait for a release.
    if (attempt === 0 && this.waitingCount > this.idleCount + Math.max(0, this.maxConnections - this.totalCount)) this.stats.queued += 1;
  }

  /**
   * Fast path: with an idle connection and nobody queued, hand it out now instead of on pg-pool's
   * next tick (the same steps as pg-pool's `_pulseQueue`, minus the deferral). Falls back to
   * pg-pool's own path if its internals are not the ones this was written against (`fastPath`).
   */
  private takeIdle(got: (error: Error | undefined, client: pg.PoolClient | undefined) => void): boolean {
    if (!this.fastPath) return false;
    const internals = this as unknown as PgPoolInternals;
    if (this.ending || !Array.isArray(internals._idle) || !Array.isArray(internals._pendingQueue) || typeof internals._acquireClient !== 'function') return false;
    if (internals._idle.length === 0 || internals._pendingQueue.length > 0) return false;
    const item = internals._idle.pop()!;
    clearTimeout(item.timeoutId);
    item.client.ref?.();
    internals._acquireClient.call(this, item.client, { callback: got }, item.idleListener, false);
    return true;
  }

  private handOut(client: pg.PoolClient, callback: ConnectCallback, started: number): void {
    this.stats.recordAcquire(performance.now() - started);
    // eslint-disable-next-line @typescript-eslint/unbound-method -- pg-pool gives each client its own release closure and hands it out the same way
    callback(undefined, client, client.release);
  }

  private replace(client: pg.PoolClient, problem: Error, callback: ConnectCallback, started: number, attempt: number): void {
    this.stats.prePingFailures += 1;
    client.release(problem); // an error closes it instead of returning it to the pool
    this.acquire(callback, started, attempt + 1);
  }

  /** Why the connection is unusable, when node-postgres already knows it is. */
  private knownDead(client: pg.PoolClient): Error | undefined {
    const internals = client as unknown as { _ending?: boolean; _queryable?: boolean };
    return internals._ending || internals._queryable === false ? new Error('connection already closed') : undefined;
  }

  /** Pre-ping skips a connection that finished a statement within the bypass window. */
  private idleLongerThanBypass(client: pg.PoolClient): boolean {
    const last = this.releasedAt.get(client);
    return last === undefined || performance.now() - last >= this.prePingBypassMs;
  }

  private toAcquireError(error: unknown): unknown {
    if (error === undefined) return new DatabaseError('the pool handed out no connection and no error; this is a bug');
    const message = describeError(error);
    const { size, maxOverflow, timeoutSeconds } = this.settings;
    if (message === QUEUE_TIMEOUT) {
      this.stats.timeouts += 1;
      return new DatabaseError(
        `pool timeout: timed out after ${timeoutSeconds} s (DATABASE_POOL_TIMEOUT) waiting for a PostgreSQL connection: all ${this.maxConnections} ` +
          `connection(s) (DATABASE_POOL_SIZE=${size} + DATABASE_MAX_OVERFLOW=${maxOverflow}) stayed in use; raise DATABASE_POOL_SIZE or DATABASE_MAX_OVERFLOW, or lower the concurrency`,
        { cause: error },
      );
    }
    if (message === CONNECT_TIMEOUT) {
      this.stats.timeouts += 1;
      return new DatabaseError(
        `connect timeout: PostgreSQL did not accept a connection within ${timeoutSeconds} s (DATABASE_POOL_TIMEOUT); check that the server runs and is not overloaded`,
        { cause: error },
      );
    }
    return error;
  }
}

/**
 * A server error (severity below FATAL) that left the session idle, outside any transaction,
 * leaves the connection usable; anything else closes it, as pg-pool does for every error.
 */
function breaksConnection(error: Error, client: pg.PoolClient): boolean {
  const severity = (error as { severity?: unknown }).severity;
  const internals = client as unknown as { _ending?: boolean; _queryable?: boolean; getTransactionStatus?: () => string | null };
  if (internals._ending || internals._queryable === false) return true;
  if (internals.getTransactionStatus?.() !== 'I') return true;
  return typeof severity !== 'string' || severity === 'FATAL' || severity === 'PANIC';
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
      // PgBouncer before 1.20 refuses a client that sends `options` (and later ones pass it on only
      // when configured to): behind it (`?pgbouncer=true`) the public schema is the server's default.
      ...(schema === 'public' && usesPgBouncer(url) ? {} : { options: `-c search_path="${schema.replace(/"/g, '""')}"` }),
    },
    settings,
    tuning,
  );
}
