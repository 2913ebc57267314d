import { createHash, randomBytes } from 'node:crypto';
import { deserialize, serialize } from 'node:v8';
import type { Result } from 'ioredis';
import { getProvider, sqliteFilePath } from '../database-url.js';
import { silentLogger, type Logger } from '../logger.js';
import { hitRate } from './stats.js';
import { SharedRedis, describeRedisError } from './redis-connection.js';

/**
 * Stores the values of a batch, each only if its key's generation is still the one read before the
 * value was loaded: an invalidation in between (a write elsewhere) bumped it, and the value, read
 * from the database before that write committed, may be stale. KEYS: value, generation, … per key;
 * ARGV: the TTL in ms, then the generation read and the value per key.
 */
const FILL_SCRIPT = `
local stored = 0
for i = 1, #KEYS, 2 do
  local generation = redis.call('GET', KEYS[i + 1]) or ''
  if generation == ARGV[i + 1] then
    redis.call('SET', KEYS[i], ARGV[i + 2], 'PX', ARGV[1])
    stored = stored + 1
  end
end
return stored
`;

/**
 * Drops the values and bumps the generations of a batch of keys, then tells every process: all in
 * one script, so no reader can see the message before the tier has forgotten the values. KEYS:
 * value, generation, … per key; ARGV: the generations' TTL in ms, the channel, the message.
 */
const INVALIDATE_SCRIPT = `
for i = 1, #KEYS, 2 do
  redis.call('DEL', KEYS[i])
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], ARGV[1])
end
return redis.call('PUBLISH', ARGV[2], ARGV[3])
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    soulspotCacheFill(numberOfKeys: number, ...keysThenArgs: Array<string | Buffer | number>): Result<number, Context>;
    soulspotCacheInvalidate(numberOfKeys: number, ...keysThenArgs: Array<string | number>): Result<number, Context>;
  }
}

/** Default time a value lives in the shared tier. */
export const DEFAULT_SHARED_TTL_MS = 10 * 60_000;
/** A generation outlives any load in flight by far (a load that old is dropped as stale). */
const GENERATION_TTL_MS = 24 * 3600_000;

export interface SharedTierOptions {
  /** CACHE_URL. */
  url: string;
  /** What is cached ("tracks"): keys are `soulspot:cache:<namespace>:…`, so kinds never meet. */
  namespace: string;
  /** Time to live of a value in the tier (default 10 minutes). */
  ttlMs?: number;
  logger?: Logger;
}

/**
 * The namespace of the track cache of one database: deployments (or tests) with different
 * databases may share a Redis, never their cached tracks. SQLite paths are made absolute first.
 */
export function trackCacheNamespace(databaseUrl: string): string {
  const identity = getProvider(databaseUrl) === 'sqlite' ? `file:${sqliteFilePath(databaseUrl)}` : databaseUrl;
  return `tracks:${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

/** Counters of the shared tier (snake_case: they go to `--json`). */
export interface SharedTierStats {
  hits: number;
  misses: number;
  /** hits / (hits + misses) in percent, null before the first lookup. */
  hit_rate: number | null;
  /** Commands that failed (Redis away, timeout): each such lookup also counts as a miss. */
  errors: number;
  /** Values stored; `stale_fills` were refused because the key was invalidated while loading. */
  writes: number;
  stale_fills: number;
  invalidations_sent: number;
  invalidations_received: number;
}

/** What a lookup found: the values, and for each missed key the generation to fill it with. */
export interface SharedLookup<V> {
  found: Map<string, V>;
  generations: Map<string, string>;
}

/** What the tier asks of the first tier of each process: forget these keys (or everything). */
export type InvalidationListener = (keys: string[] | 'all') => void;

/**
 * The second cache tier, in Redis, shared by every soulspot process (CACHE_URL); the in-process
 * cache stays the first. Values are kept with v8's serializer (Dates and BigInts survive) for a
 * TTL; writes anywhere invalidate through `invalidate`, which drops the values, bumps each key's
 * generation and publishes the keys, so every process drops them from its first tier. A value
 * loaded from the database is stored only if its key's generation did not move meanwhile.
 *
 * Redis away: one warning, every lookup misses and every fill or invalidation is skipped; the
 * listeners are told to forget everything when the subscription drops and again when it is back
 * (invalidations sent meanwhile were lost), so a first tier never outlives an outage with stale values.
 */
export class SharedCacheTier<V> {
  private readonly prefix: string;
  private readonly channel: string;
  private readonly ttlMs: number;
  private readonly sender = randomBytes(6).toString('hex');
  private readonly listeners: InvalidationListener[] = [];
  private readonly counters = { hits: 0, misses: 0, errors: 0, writes: 0, stale_fills: 0, invalidations_sent: 0, invalidations_received: 0 };

  private constructor(
    options: SharedTierOptions,
    private readonly redis: SharedRedis,
    private subscriber: SharedRedis | undefined,
  ) {
    this.prefix = `soulspot:cache:${options.namespace}:`;
    this.channel = `${this.prefix}invalidate`;
    this.ttlMs = options.ttlMs ?? DEFAULT_SHARED_TTL_MS;
  }

  /** Connects (command and subscriber connections); undefined, after one warning, when Redis cannot be reached. */
  static async connect<V>(options: SharedTierOptions): Promise<SharedCacheTier<V> | undefined> {
    const logger = options.logger ?? silentLogger;
    const fallback = 'continuing with the in-process cache alone';
    // eslint-disable-next-line prefer-const -- the subscriber's callbacks may fire before the tier exists
    let tier: SharedCacheTier<V> | undefined;
    const forgetAll = () => tier?.notify('all');
    const redis = await SharedRedis.connect(options.url, { setting: 'CACHE_URL', fallback, logger });
    if (!redis) return undefined;
    redis.client.defineCommand('soulspotCacheFill', { lua: FILL_SCRIPT });
    redis.client.defineCommand('soulspotCacheInvalidate', { lua: INVALIDATE_SCRIPT });
    // The subscriber's own outages are the ones that lose invalidations; its warning is the one shown.
    const subscriber = await redis.duplicate({ onDown: forgetAll, onUp: forgetAll, logger: silentLogger }, { enableOfflineQueue: true });
    if (!subscriber) {
      redis.close();
      logger.warn(`CACHE_URL: could not subscribe to invalidations; ${fallback}`);
      return undefined;
    }
    tier = new SharedCacheTier<V>(options, redis, subscriber);
    try {
      await tier.subscribe();
    } catch (error) {
      tier.close();
      logger.warn(`CACHE_URL: could not subscribe to invalidations (${describeRedisError(error)}); ${fallback}`);
      return undefined;
    }
    return tier;
  }

  /** Registers what to drop from a first tier when a key is invalidated anywhere (or `'all'`). */
  onInvalidate(listener: InvalidationListener): void {
    this.listeners.push(listener);
  }

  /** The values of `keys` found in the tier, and the generations to fill the others with. Never throws. */
  async getMany(keys: string[]): Promise<SharedLookup<V>> {
    const found = new Map<string, V>();
    const generations = new Map<string, string>();
    if (keys.length === 0) return { found, generations };
    if (!this.redis.ready) {
      this.counters.errors++;
      this.counters.misses += keys.length;
      return { found, generations };
    }
    let replies: Array<Buffer | null>;
    try {
      replies = await this.redis.client.mgetBuffer(...keys.map((k) => this.valueKey(k)), ...keys.map((k) => this.generationKey(k)));
    } catch (error) {
      this.failed(error, keys.length);
      return { found, generations };
    }
    keys.forEach((key, i) => {
      const value = replies[i];
      if (value) {
        this.counters.hits++;
        found.set(key, deserialize(value) as V);
      } else {
        this.counters.misses++;
        generations.set(key, replies[keys.length + i]?.toString() ?? '');
      }
    });
    return { found, generations };
  }

  /** Stores loaded values whose key was not invalidated since `getMany` gave its generation. Never throws. */
  async fill(values: Iterable<[string, V]>, generations: Map<string, string>): Promise<void> {
    const keys: string[] = [];
    const args: Array<string | Buffer | number> = [this.ttlMs];
    for (const [key, value] of values) {
      const generation = generations.get(key);
      if (generation === undefined) continue;
      keys.push(this.valueKey(key), this.generationKey(key));
      args.push(generation, serialize(value));
    }
    if (keys.length === 0 || !this.redis.ready) return;
    try {
      const stored = await this.redis.client.soulspotCacheFill(keys.length, ...keys, ...args);
      this.counters.writes += stored;
      this.counters.stale_fills += keys.length / 2 - stored;
    } catch (error) {
      this.failed(error, 0);
    }
  }

  /**
   * Forgets `keys` in the tier and in every process's first tier (this one's listeners included).
   * Resolves once Redis has published it; never throws (Redis away: counted and warned once).
   */
  async invalidate(keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    this.notify(keys);
    if (!this.redis.ready) {
      this.counters.errors++;
      return;
    }
    const message = JSON.stringify({ from: this.sender, keys });
    try {
      await this.redis.client.soulspotCacheInvalidate(keys.length * 2, ...keys.flatMap((k) => [this.valueKey(k), this.generationKey(k)]), GENERATION_TTL_MS, this.channel, message);
      this.counters.invalidations_sent += keys.length;
    } catch (error) {
      this.failed(error, 0);
    }
  }

  stats(): SharedTierStats {
    const { hits, misses } = this.counters;
    return { ...this.counters, hit_rate: hitRate(hits, misses) };
  }

  /** Closes both connections (the process can exit). */
  close(): void {
    this.redis.close();
    this.subscriber?.close();
    this.subscriber = undefined;
  }

  private async subscribe(): Promise<void> {
    const subscriber = this.subscriber!;
    subscriber.client.on('message', (channel: string, text: string) => {
      if (channel !== this.channel) return;
      let message: { from?: string; keys?: unknown };
      try {
        message = JSON.parse(text) as typeof message;
      } catch {
        return;
      }
      if (message.from === this.sender || !Array.isArray(message.keys)) return;
      const keys = message.keys.filter((k): k is string => typeof k === 'string');
      this.counters.invalidations_received += keys.length;
      this.notify(keys);
    });
    await subscriber.client.subscribe(this.channel);
  }

  private notify(keys: string[] | 'all'): void {
    for (const listener of this.listeners) listener(keys);
  }

  private failed(error: unknown, missed: number): void {
    this.counters.errors++;
    this.counters.misses += missed;
    this.redis.failed(error);
  }

  private valueKey(key: string): string {
    return `${this.prefix}v:${key}`;
  }

  private generationKey(key: string): string {
    return `${this.prefix}g:${key}`;
  }
}
