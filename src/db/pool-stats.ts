import * as hdr from 'hdr-histogram-js';
import type { PoolSettings } from '../config.js';

/** Utilization from which a pool counts as `degraded` (the original's threshold: 70%). */
const DEGRADED_UTILIZATION = 0.7;

/** Acquire-wait percentiles in milliseconds (microsecond resolution). */
export interface WaitPercentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Pool statistics with the original's field names (SQLAlchemy QueuePool's vocabulary), plus the
 * counters an operator needs to size a pool. All gauges are read at the moment of the snapshot.
 */
export interface PoolStats {
  provider: 'postgresql' | 'sqlite';
  /** Connections kept open once created (DATABASE_POOL_SIZE; 1 on SQLite). */
  pool_size: number;
  /** Extra connections allowed under load (DATABASE_MAX_OVERFLOW; 0 on SQLite). */
  max_overflow: number;
  /** Connections handed out right now. */
  checked_out: number;
  /** Open connections idle in the pool right now. */
  checked_in: number;
  /** Open connections beyond pool_size (never negative); they close again once idle. */
  overflow: number;
  /** Requests queued for a connection right now. */
  waiting: number;
  /** checked_out / (pool_size + max_overflow), 0..1. */
  utilization: number;
  /** `healthy` below 70% utilization, else `degraded`. */
  status: 'healthy' | 'degraded';
  /** Open connections (checked out, idle, or being opened). */
  connections: number;
  /** Successful acquisitions since the pool was created. */
  acquired: number;
  /** Acquisitions that gave up after DATABASE_POOL_TIMEOUT. */
  timeouts: number;
  /** Acquisitions that had to queue because every connection was in use. */
  queued: number;
  connections_created: number;
  connections_closed: number;
  /** Connections closed because they reached DATABASE_POOL_RECYCLE seconds of age. */
  recycled: number;
  /** Connections that failed the pre-ping (`SELECT 1`) and were replaced. */
  pre_ping_failures: number;
  /** Time from asking for a connection to getting a usable one; null where nothing is measured (SQLite). */
  acquire_wait_ms: WaitPercentiles | null;
}

/** Gauges read from the pool at snapshot time. */
export interface PoolGauges {
  checkedOut: number;
  idle: number;
  waiting: number;
  total: number;
}

/** A histogram of durations in microseconds, 1 µs .. 1 hour, 3 significant digits. */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
}

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * p50/p95/p99/max in ms of a microsecond histogram (zeros when empty). HdrHistogram reports a
 * percentile as the top of its bucket, which can lie above the exact maximum: capped at it.
 */
export function percentilesMs(histogram: hdr.Histogram): WaitPercentiles {
  if (histogram.totalCount === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  const max = histogram.maxValue;
  const at = (p: number) => round(Math.min(histogram.getValueAtPercentile(p), max) / 1000);
  return { p50: at(50), p95: at(95), p99: at(99), max: round(max / 1000) };
}

export function utilizationStatus(utilization: number): 'healthy' | 'degraded' {
  return utilization < DEGRADED_UTILIZATION ? 'healthy' : 'degraded';
}

/**
 * Counters and the acquire-wait histogram of one pool. The pool (src/db/pool.ts) feeds it; it
 * never touches the database itself, so unit tests can drive it directly.
 */
export class PoolStatsRecorder {
  acquired = 0;
  timeouts = 0;
  queued = 0;
  connectionsCreated = 0;
  connectionsClosed = 0;
  recycled = 0;
  prePingFailures = 0;
  private waits = newHistogram();
  private readonly acquireListeners = new Set<(waitMs: number) => void>();

  constructor(readonly settings: Pick<PoolSettings, 'size' | 'maxOverflow'>) {}

  recordAcquire(waitMs: number): void {
    this.acquired += 1;
    this.waits.recordValue(Math.max(1, Math.round(waitMs * 1000)));
    for (const listener of this.acquireListeners) listener(waitMs);
  }

  /** Calls `listener` with the wait (ms) of every acquisition from now on (metrics); returns the unsubscribe. */
  onAcquire(listener: (waitMs: number) => void): () => void {
    this.acquireListeners.add(listener);
    return () => this.acquireListeners.delete(listener);
  }

  /** Percentiles of the successful acquisitions so far (zeros before the first). */
  waitPercentiles(): WaitPercentiles {
    return percentilesMs(this.waits);
  }

  /** Forgets counters and waits (gauges are live and unaffected). */
  reset(): void {
    this.acquired = this.timeouts = this.queued = 0;
    this.connectionsCreated = this.connectionsClosed = this.recycled = this.prePingFailures = 0;
    this.waits = newHistogram();
  }

  snapshot(gauges: PoolGauges): PoolStats {
    const { size, maxOverflow } = this.settings;
    const capacity = Math.max(1, size + maxOverflow);
    const utilization = round(Math.min(1, gauges.checkedOut / capacity), 4);
    return {
      provider: 'postgresql',
      pool_size: size,
      max_overflow: maxOverflow,
      checked_out: gauges.checkedOut,
      checked_in: gauges.idle,
      overflow: Math.max(0, gauges.total - size),
      waiting: gauges.waiting,
      utilization,
      status: utilizationStatus(utilization),
      connections: gauges.total,
      acquired: this.acquired,
      timeouts: this.timeouts,
      queued: this.queued,
      connections_created: this.connectionsCreated,
      connections_closed: this.connectionsClosed,
      recycled: this.recycled,
      pre_ping_failures: this.prePingFailures,
      acquire_wait_ms: this.waitPercentiles(),
    };
  }
}

/**
 * SQLite has no pool: one connection per process, opened with the database, and every statement
 * runs on it in turn (better-sqlite3 is synchronous). This reports that connection honestly.
 * `inFlight` is the number of operations started and not yet finished (the probe counts them):
 * one of them holds the connection, the others wait for it.
 */
export function sqliteStats(open: boolean, inFlight = 0, operations = 0): PoolStats {
  const checkedOut = open && inFlight > 0 ? 1 : 0;
  return {
    provider: 'sqlite',
    pool_size: 1,
    max_overflow: 0,
    checked_out: checkedOut,
    checked_in: open ? 1 - checkedOut : 0,
    overflow: 0,
    waiting: Math.max(0, inFlight - checkedOut),
    utilization: checkedOut,
    status: utilizationStatus(checkedOut),
    connections: open ? 1 : 0,
    acquired: operations,
    timeouts: 0,
    queued: 0,
    connections_created: open ? 1 : 0,
    connections_closed: 0,
    recycled: 0,
    pre_ping_failures: 0,
    acquire_wait_ms: null,
  };
}
