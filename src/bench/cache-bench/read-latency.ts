import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { LRUCache } from '../../cache/lru-cache.js';
import type { Config } from '../../config.js';
import { throwIfInterrupted, withTempDatabase } from '../temp-database.js';
import { mulberry32 } from './traces.js';

/** One row of the read-latency comparison: a cache hit against the same read from the database. */
export interface ReadLatencyResult {
  implementation: string;
  workload: 'read-latency';
  provider: 'sqlite' | 'postgresql';
  samples: number;
  /** Mean latency in µs (cache: a timer-free loop of `samples × 100` gets; database: per read). */
  mean_us: number;
  /** Percentiles of individually timed operations; they include the timer's own cost (`timer_overhead_us`). */
  p50_us: number;
  p99_us: number;
  /** Median cost of one pair of `process.hrtime.bigint()` calls on this machine, in µs. */
  timer_overhead_us: number;
  ops_per_sec: number;
  hit_rate: number | null;
  evictions: number;
  expirations: number;
  bytes_per_entry: null;
}

function percentile(sortedMicros: Float64Array, p: number): number {
  const i = Math.min(sortedMicros.length - 1, Math.floor((p / 100) * sortedMicros.length));
  return Math.round(sortedMicros[i]! * 1000) / 1000;
}

export interface ReadLatencyOptions {
  samples: number;
  rows: number;
  seed: number;
}

/**
 * Latency of a track read by id from the cache (a hit) and from the database (Prisma `findUnique`,
 * which the cached reader saves). The database is a throwaway one made for the run, never the
 * user's data: a temp SQLite file, or for a PostgreSQL `config` a temp schema in that database,
 * migrated, filled with `rows` tracks, and dropped at the end (also on error).
 */
export async function measureReadLatency(config: Config, options: ReadLatencyOptions, signal?: AbortSignal): Promise<ReadLatencyResult[]> {
  return withTempDatabase(config, 'cache-bench', async (db) => {
    const artist = await db.prisma.artist.create({ data: { name: 'cache-bench artist' } });
    const ids: string[] = [];
    for (let i = 0; i < options.rows; i++) ids.push(randomUUID());
    for (let i = 0; i < ids.length; i += 500) {
      throwIfInterrupted(signal, 'cache-bench');
      await db.prisma.track.createMany({
        data: ids.slice(i, i + 500).map((id, k) => ({ id, title: `cache-bench track ${i + k}`, artistId: artist.id, durationMs: 200_000 + k, trackNumber: k + 1 })),
      });
    }
    const random = mulberry32(options.seed);
    const sample = Array.from({ length: options.samples }, () => ids[Math.floor(random() * ids.length)]!);

    // Database: warm up connections and statement caches, then time each read.
    for (let i = 0; i < Math.min(100, sample.length); i++) await db.prisma.track.findUnique({ where: { id: sample[i]! } });
    const dbTimes = new Float64Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      if ((i & 63) === 0) throwIfInterrupted(signal, 'cache-bench');
      const t0 = process.hrtime.bigint();
      const row = await db.prisma.track.findUnique({ where: { id: sample[i]! } });
      dbTimes[i] = Number(process.hrtime.bigint() - t0) / 1000;
      if (row === null) throw new Error(`cache-bench: track ${sample[i]} vanished from its own temp database`);
    }

    const cache = new LRUCache<string, unknown>({ maxSize: ids.length });
    for (const row of await db.prisma.track.findMany()) cache.set(row.id, row);
    const hitTimes = new Float64Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const t0 = process.hrtime.bigint();
      const row = cache.get(sample[i]!);
      hitTimes[i] = Number(process.hrtime.bigint() - t0) / 1000;
      if (row === undefined) throw new Error('cache-bench: a preloaded track was not in the cache');
    }
    const loops = 100;
    const start = performance.now();
    let found = 0;
    for (let r = 0; r < loops; r++) for (let i = 0; i < sample.length; i++) if (cache.get(sample[i]!) !== undefined) found++;
    const hitMean = ((performance.now() - start) * 1000) / (loops * sample.length);
    if (found !== loops * sample.length) throw new Error('cache-bench: a preloaded track was not in the cache');

    const overhead = new Float64Array(sample.length);
    for (let i = 0; i < sample.length; i++) {
      const t0 = process.hrtime.bigint();
      overhead[i] = Number(process.hrtime.bigint() - t0) / 1000;
    }
    overhead.sort();
    const timerOverhead = percentile(overhead, 50);
    dbTimes.sort();
    hitTimes.sort();
    const dbMean = dbTimes.reduce((s, t) => s + t, 0) / dbTimes.length;
    const round = (us: number) => Math.round(us * 1000) / 1000;
    return [
      {
        implementation: 'soulspot-lru (hit)',
        workload: 'read-latency',
        provider: db.provider,
        samples: sample.length,
        mean_us: round(hitMean),
        p50_us: percentile(hitTimes, 50),
        p99_us: percentile(hitTimes, 99),
        timer_overhead_us: timerOverhead,
        ops_per_sec: Math.round(1e6 / hitMean),
        hit_rate: 100,
        evictions: 0,
        expirations: 0,
        bytes_per_entry: null,
      },
      {
        implementation: `${db.provider} (prisma findUnique)`,
        workload: 'read-latency',
        provider: db.provider,
        samples: sample.length,
        mean_us: round(dbMean),
        p50_us: percentile(dbTimes, 50),
        p99_us: percentile(dbTimes, 99),
        timer_overhead_us: timerOverhead,
        ops_per_sec: Math.round(1e6 / dbMean),
        hit_rate: null,
        evictions: 0,
        expirations: 0,
        bytes_per_entry: null,
      },
    ];
  });
}
