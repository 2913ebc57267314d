import { createHash, randomBytes } from 'node:crypto';
import type { Result } from 'ioredis';
import { SharedRedis } from '../cache/redis-connection.js';
import { silentLogger, type Logger } from '../logger.js';
import { realClock, type SpotifyClock } from './rate-limit.js';

/**
 * The window the request budget counts in: R requests in any window this long. 50 ms more than a
 * second, so that the jitter between a grant and the request's arrival at Spotify (event loop, GC,
 * the network) never puts R + 1 requests into one second as Spotify sees them.
 */
export const BUDGET_WINDOW_MS = 1050;
/** A grant may come this early on its paced slot (timer rounding), in µs. */
const PACING_SLACK_US = 2000;
/** A shared grant whose reply took longer than this to handle is handed back and taken again. */
const STALE_GRANT_MS = 25;
/** How many times in a row a stale grant is taken again before it is used anyway. */
const MAX_STALE_RETAKES = 3;

/**
 * One atomic step of the shared budget (Redis runs a script alone, so no two processes interleave):
 * a shared pause in force wins (answer 1, its remaining µs). Else, with a budget, grants are paced
 * one interval (window / R) apart on Redis's own clock in µs (the hosts' clocks never matter), and
 * the grants of the last window, kept in a sorted set, must number fewer than R: then this
 * request is granted and recorded (answer 0); otherwise the answer is 2 and the µs to wait.
 * Pacing keeps the requests evenly spread: a delay between a grant and its request's arrival
 * then shifts one request, not a burst of R, into the next second.
 */
const TAKE_SCRIPT = `
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return {1, pause * 1000} end
local limit = tonumber(ARGV[1])
if limit == 0 then return {0, 0} end
local window = tonumber(ARGV[2])
local interval = window / limit
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nextAt = tonumber(redis.call('GET', KEYS[3]) or '0')
if now < nextAt - ${PACING_SLACK_US} then return {2, nextAt - ${PACING_SLACK_US} - now} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  redis.call('SET', KEYS[3], math.max(nextAt, now) + interval, 'PX', math.ceil(window / 1000) + 1000)
  return {0, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {2, tonumber(oldest[2]) + window - now}
`;

/** Sets the shared pause to `ms` unless a longer one is already in force; answers the pause in force. */
const PAUSE_SCRIPT = `
local current = redis.call('PTTL', KEYS[1])
local ms = tonumber(ARGV[1])
if current < ms then
  redis.call('SET', KEYS[1], '1', 'PX', ms)
  return ms
end
return current
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    soulspotBudgetTake(windowKey: string, pauseKey: string, nextKey: string, limit: number, windowUs: number, member: string): Result<[number, number], Context>;
    soulspotBudgetPause(pauseKey: string, ms: number): Result<number, Context>;
  }
}

export interface RequestBudgetOptions {
  /** Requests per second for all processes together (SPOTIFY_REQUESTS_PER_SECOND); 0 = no budget, only shared pauses. */
  requestsPerSecond: number;
  /** Redis (RATE_LIMIT_URL or CACHE_URL): absent = this process alone. */
  url?: string;
  /** The Spotify app's client id: the budget is per app, as Spotify's limit is. */
  clientId: string;
  logger?: Logger;
  /** Sleeps while waiting (real time: the shared windows are counted on Redis's clock). */
  clock?: SpotifyClock;
}

export interface RequestBudgetStats {
  /** Requests that had to wait for the budget. */
  budgetWaits: number;
  budgetWaitMs: number;
  /** Pauses another process set (a 429 it received) that this process waited out. */
  sharedPauses: number;
  /** Shared grants handed back because their reply came too late (see takeShared). */
  staleGrants: number;
  /** Whether the budget was shared through Redis (connected when the run began). */
  shared: boolean;
}

/**
 * The request budget of `spotify-fetch`: at most R requests in any window of BUDGET_WINDOW_MS,
 * and, with Redis, one budget and one 429 pause for every process of the same Spotify app. Without
 * Redis (or while it is away: one warning, then this process counts alone) the same sliding window
 * is kept in memory. The client takes a grant right before each request; `pause` shares a 429.
 */
export class RequestBudget {
  private readonly grants: number[] = [];
  /** The earliest time (clock ms) of this process's next grant when it counts alone. */
  private nextLocal = 0;
  private readonly clock: SpotifyClock;
  private readonly member = randomBytes(6).toString('hex');
  private sequence = 0;
  private readonly counters = { budgetWaits: 0, budgetWaitMs: 0, sharedPauses: 0, staleGrants: 0 };
  private readonly windowKey: string;
  private readonly pauseKey: string;
  private readonly nextKey: string;

  private constructor(
    private readonly options: RequestBudgetOptions,
    private readonly redis: SharedRedis | undefined,
  ) {
    this.clock = options.clock ?? realClock;
    const app = createHash('sha256').update(options.clientId).digest('hex').slice(0, 16);
    this.windowKey = `soulspot:spotify-budget:${app}:window`;
    this.pauseKey = `soulspot:spotify-budget:${app}:pause`;
    this.nextKey = `soulspot:spotify-budget:${app}:next`;
  }

  /**
   * The budget of a run, or undefined when there is nothing to enforce (no budget, no Redis).
   * An unreachable Redis is one warning and a budget of this process alone.
   */
  static async open(options: RequestBudgetOptions): Promise<RequestBudget | undefined> {
    if (options.requestsPerSecond === 0 && !options.url) return undefined;
    let redis: SharedRedis | undefined;
    if (options.url) {
      redis = await SharedRedis.connect(options.url, {
        setting: 'RATE_LIMIT_URL',
        fallback: 'this process keeps its own Spotify request budget and 429 pauses',
        logger: options.logger ?? silentLogger,
      });
      redis?.client.defineCommand('soulspotBudgetTake', { numberOfKeys: 3, lua: TAKE_SCRIPT });
      redis?.client.defineCommand('soulspotBudgetPause', { numberOfKeys: 1, lua: PAUSE_SCRIPT });
    }
    return new RequestBudget(options, redis);
  }

  get stats(): RequestBudgetStats {
    return { ...this.counters, shared: this.redis !== undefined };
  }

  /**
   * Resolves when a request may be sent: no shared pause in force and the budget has room (the
   * grant is recorded). A shared pause is first reported through `onSharedPause(ms)` (true when
   * it is news to this process, not its own or one already seen; it may throw to stop the run),
   * then waited out. Rejects with the signal's reason when it aborts.
   */
  async take(signal: AbortSignal | undefined, onSharedPause: (ms: number) => boolean): Promise<void> {
    for (;;) {
      const shared = await this.takeShared();
      const answer = shared ?? this.takeLocal();
      if (answer.kind === 'granted') {
        if (shared) this.recordLocal();
        return;
      }
      if (answer.kind === 'paused') {
        if (onSharedPause(answer.ms)) this.counters.sharedPauses++;
      } else {
        this.counters.budgetWaits++;
        this.counters.budgetWaitMs += answer.ms;
      }
      await this.clock.sleep(answer.ms, signal);
    }
  }

  /** Shares the pause a 429 imposed on this process with every other one (a longer pause in force is kept). */
  async pause(ms: number): Promise<void> {
    const redis = this.redis;
    if (!redis?.ready) return;
    try {
      await redis.client.soulspotBudgetPause(this.pauseKey, Math.max(1, Math.ceil(ms)));
    } catch (error) {
      redis.failed(error);
    }
  }

  close(): void {
    this.redis?.close();
  }

  /**
   * The shared answer, or undefined when Redis is away (the caller counts locally). A grant is
   * stamped when Redis runs the script; the request goes out when this process handles the reply.
   * If that took long (the event loop was busy writing the previous batch, say), the stamp is
   * too early and the request would land later than the window assumes: such a grant is handed
   * back and taken again, so a stamp is never more than STALE_GRANT_MS older than its request.
   */
  private async takeShared(): Promise<{ kind: 'granted' } | { kind: 'paused' | 'wait'; ms: number } | undefined> {
    const redis = this.redis;
    for (let attempt = 0; ; attempt++) {
      if (!redis?.ready) return undefined;
      const member = `${this.member}:${this.sequence++}`;
      const sent = performance.now();
      try {
        const [kind, us] = await redis.client.soulspotBudgetTake(this.windowKey, this.pauseKey, this.nextKey, this.options.requestsPerSecond, BUDGET_WINDOW_MS * 1000, member);
        if (kind === 0) {
          if (performance.now() - sent <= STALE_GRANT_MS || attempt >= MAX_STALE_RETAKES || this.options.requestsPerSecond === 0) return { kind: 'granted' };
          this.counters.staleGrants++;
          await redis.client.zrem(this.windowKey, member);
          continue;
        }
        // +1 ms: the oldest grant has left the window when the sleep ends, not a hair before.
        return { kind: kind === 1 ? 'paused' : 'wait', ms: Math.ceil(us / 1000) + 1 };
      } catch (error) {
        redis.failed(error);
        return undefined;
      }
    }
  }

  /** The same pacing and sliding window, in this process's memory. */
  private takeLocal(): { kind: 'granted' } | { kind: 'wait'; ms: number } {
    const limit = this.options.requestsPerSecond;
    if (limit === 0) return { kind: 'granted' };
    const now = this.clock.now();
    const slackMs = PACING_SLACK_US / 1000;
    if (now < this.nextLocal - slackMs) return { kind: 'wait', ms: Math.ceil(this.nextLocal - slackMs - now) };
    while (this.grants.length > 0 && this.grants[0] <= now - BUDGET_WINDOW_MS) this.grants.shift();
    if (this.grants.length < limit) {
      this.grants.push(now);
      this.nextLocal = Math.max(this.nextLocal, now) + BUDGET_WINDOW_MS / limit;
      return { kind: 'granted' };
    }
    return { kind: 'wait', ms: Math.ceil(this.grants[0] + BUDGET_WINDOW_MS - now) + 1 };
  }

  /** A shared grant also counts here, so an outage of Redis starts from this process's real recent rate. */
  private recordLocal(): void {
    if (this.options.requestsPerSecond === 0) return;
    const now = this.clock.now();
    while (this.grants.length > 0 && this.grants[0] <= now - BUDGET_WINDOW_MS) this.grants.shift();
    this.grants.push(now);
    this.nextLocal = Math.max(this.nextLocal, now) + BUDGET_WINDOW_MS / this.options.requestsPerSecond;
  }
}
