import pg from 'pg';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFor, createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { withDatabase } from '../../src/db/client.js';
import { getPoolOverview, runPoolProbe, sizingAdvice, type ProbeReport } from '../../src/diagnostics/pool-probe.js';
import { DatabaseError } from '../../src/errors.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function seed(test: TestDatabase): Promise<void> {
  await withDatabase(test.config, async ({ prisma }) => {
    for (let a = 0; a < 3; a += 1) {
      const artist = await prisma.artist.create({ data: { name: `Artist ${a}` } });
      const album = await prisma.album.create({ data: { title: `Album ${a}`, artistId: artist.id } });
      await prisma.track.createMany({
        data: Array.from({ length: 20 }, (_, i) => ({ title: `Track ${a}-${i}`, artistId: artist.id, albumId: album.id, trackNumber: i + 1 })),
      });
    }
  });
}

async function counts(test: TestDatabase) {
  return withDatabase(test.config, async ({ prisma }) => ({
    artists: await prisma.artist.count(),
    albums: await prisma.album.count(),
    tracks: await prisma.track.count(),
  }));
}

/**
 * Every operation draws two numbers (its kind, then one detail), synchronously: this source makes
 * the kinds take turns, so a short probe on a busy machine still runs each of them.
 */
function roundRobin(): () => number {
  const kinds = [0.1, 0.5, 0.75, 0.95];
  let call = 0;
  return () => {
    call += 1;
    return call % 2 === 1 ? kinds[((call - 1) / 2) % kinds.length] : 0.42;
  };
}

describe.each(providers)('pool probe on %s', (provider) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createMigratedDatabase(provider, { DATABASE_POOL_SIZE: '2', DATABASE_MAX_OVERFLOW: '2', DATABASE_POOL_TIMEOUT: '10' });
    await seed(db);
  });
  afterAll(async () => db?.drop());

  test('runs the mix, its statistics add up, and leaves the data unchanged', async () => {
    const before = await counts(db);
    const samples: number[] = [];
    const report = await runPoolProbe(db.config, {
      // Four times the pool's 4 connections: each request queues behind several others, so the
      // p95 wait stays well above sizingAdvice's 5 ms on a fast machine too (at 8, twice the pool,
      // it came out at 4.6-5.0 ms on a 2-vCPU AMD EPYC guest, and the advice said the pool kept up
      // in 2 of 5 runs).
      concurrency: 32,
      durationSeconds: 3,
      sampleIntervalMs: 50,
      random: roundRobin(),
      onSample: (s) => samples.push(s.checked_out),
    });
    expect(await counts(db)).toEqual(before);
    expect(report.tracks_before).toBe(before.tracks);
    expect(report.tracks_after).toBe(before.tracks);

    expect(report.errors).toEqual([]);
    expect(report.operations.failed).toBe(0);
    expect(report.operations.ok).toBeGreaterThan(10);
    const kinds = report.operations.by_kind;
    expect(kinds.read_tracks + kinds.read_track + kinds.count + kinds.write_tx).toBe(report.operations.ok);
    for (const n of Object.values(kinds)) expect(n).toBeGreaterThan(0);
    // duration_s is rounded to 10 ms, throughput computed from the unrounded time: agree within 1%.
    const fromReport = report.operations.ok / report.duration_s;
    expect(Math.abs(report.throughput_ops_s - fromReport)).toBeLessThanOrEqual(fromReport * 0.01);
    expect(report.operation_ms.p50).toBeGreaterThan(0);
    expect(report.operation_ms.p50).toBeLessThanOrEqual(report.operation_ms.p95);
    expect(report.operation_ms.p95).toBeLessThanOrEqual(report.operation_ms.max);
    // At least one sample during the run and the final one (SQLite blocks the event loop while it
    // works, so on a busy machine samples are sparse there).
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(report.samples.length).toBe(samples.length);

    const s = report.stats;
    expect(s.checked_out).toBe(0);
    expect(s.waiting).toBe(0);
    expect(s.timeouts).toBe(0);
    if (provider === 'postgresql') {
      expect(s).toMatchObject({ provider: 'postgresql', pool_size: 2, max_overflow: 2 });
      // Every Prisma operation takes at least one connection; a write transaction takes one too.
      expect(s.acquired).toBeGreaterThanOrEqual(report.operations.ok);
      expect(s.checked_in).toBe(s.connections);
      expect(s.connections).toBeLessThanOrEqual(4);
      expect(s.overflow).toBe(Math.max(0, s.connections - 2));
      expect(report.peak.checked_out).toBe(4);
      expect(report.peak.utilization).toBe(1);
      expect(report.peak.waiting).toBeGreaterThan(0);
      expect(s.queued).toBeGreaterThan(0);
      expect(s.queued).toBeLessThanOrEqual(s.acquired);
      const w = s.acquire_wait_ms!;
      expect(w.p50).toBeLessThanOrEqual(w.p95);
      expect(w.p95).toBeLessThanOrEqual(w.p99);
      expect(w.p99).toBeLessThanOrEqual(w.max);
      expect(w.max).toBeLessThan(10_000);
      for (const sample of report.samples) {
        expect(sample.checked_out).toBeLessThanOrEqual(4);
        expect(sample.overflow).toBeLessThanOrEqual(2);
        expect(sample.utilization).toBeCloseTo(sample.checked_out / 4, 3);
      }
      // The server saw this probe's connections under application_name=soulspot.
      expect(report.server).not.toBeNull();
      const ours = report.server!.connections.filter((c) => c.application_name === 'soulspot').reduce((n, c) => n + c.count, 0);
      expect(ours).toBeGreaterThanOrEqual(2);
      expect(ours).toBeLessThanOrEqual(4);
      expect(report.advice).toMatch(/^Too small for concurrency 32/);
    } else {
      expect(s).toMatchObject({ provider: 'sqlite', pool_size: 1, max_overflow: 0, connections: 1, checked_in: 1, overflow: 0, acquire_wait_ms: null });
      expect(s.acquired).toBe(report.operations.total);
      expect(report.peak.checked_out).toBeLessThanOrEqual(1);
      expect(report.server).toBeNull();
      expect(report.advice).toMatch(/SQLite runs one statement at a time/);
    }
  });

  test('the overview reports the settings and one round trip', async () => {
    const overview = await getPoolOverview(db.config);
    expect(overview.round_trip_ms).toBeGreaterThan(0);
    expect(overview.stats.checked_out).toBe(0);
    if (provider === 'postgresql') {
      expect(overview.settings).toEqual({ pool_size: 2, max_overflow: 2, timeout_s: 10, recycle_s: 3600, pre_ping: true });
      expect(overview.stats.acquired).toBeGreaterThanOrEqual(2);
      expect(overview.server!.connections.some((c) => c.application_name === 'soulspot')).toBe(true);
      expect(overview.server!.max_connections).toBeGreaterThan(0);
    } else {
      expect(overview.settings).toMatchObject({ pool_size: 1, max_overflow: 0 });
      expect(overview.stats).toMatchObject({ pool_size: 1, max_overflow: 0, connections: 1, utilization: 0, status: 'healthy' });
      expect(overview.note).toMatch(/SQLite/);
    }
  });
});

test('a probe whose pool is too small times out, reports it and advises a bigger pool', async () => {
  const db = await createMigratedDatabase('postgresql', { DATABASE_POOL_SIZE: '1', DATABASE_MAX_OVERFLOW: '0', DATABASE_POOL_TIMEOUT: '1' });
  try {
    await seed(db);
    // Another session locks the tracks table for 2 s: the probe's one connection blocks on it,
    // and the other workers give up after DATABASE_POOL_TIMEOUT (1 s).
    const locker = new pg.Client({ connectionString: db.url });
    await locker.connect();
    const lock = (async () => {
      await sleep(400);
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE tracks IN ACCESS EXCLUSIVE MODE');
      await sleep(2000);
      await locker.query('COMMIT');
    })();
    let report: ProbeReport;
    try {
      report = await runPoolProbe(db.config, { concurrency: 3, durationSeconds: 3, sampleIntervalMs: 50 });
    } finally {
      await lock;
      await locker.end();
    }
    expect(report.stats.timeouts).toBeGreaterThan(0);
    // One operation can time out twice (Prisma loads an include's relations in parallel queries).
    expect(report.operations.failed).toBeGreaterThan(0);
    expect(report.operations.failed).toBeLessThanOrEqual(report.stats.timeouts);
    for (const e of report.errors) expect(e.message).toMatch(/DATABASE_POOL_TIMEOUT/);
    expect(report.advice).toMatch(/^Too small: \d+ request\(s\) timed out after 1 s/);
    expect(report.advice).toMatch(/DATABASE_MAX_OVERFLOW to [1-9]/);
    expect(report.tracks_after).toBe(report.tracks_before);
  } finally {
    await db.drop();
  }
});

test('on SQLite the probe and the overview refuse a missing file and do not create it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'soulspot-pool-'));
  try {
    const config = configFor(`file:${join(dir, 'missing.db')}`);
    await expect(getPoolOverview(config)).rejects.toThrow(DatabaseError);
    await expect(runPoolProbe(config, { concurrency: 1, durationSeconds: 1 })).rejects.toThrow(/run soulspot migrate/);
    expect(existsSync(join(dir, 'missing.db'))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('sizingAdvice', () => {
  const base = (over: Partial<ProbeReport['stats']>, peak: Partial<ProbeReport['peak']> = {}): Parameters<typeof sizingAdvice>[0] => ({
    provider: 'postgresql',
    settings: { pool_size: 5, max_overflow: 10, timeout_s: 30, recycle_s: 3600, pre_ping: true },
    concurrency: 60,
    peak: { utilization: 0.5, checked_out: 8, waiting: 0, overflow: 3, connections: 8, ...peak },
    server: { connections: [], total: 8, max_connections: 100, server_total: 9 },
    stats: {
      provider: 'postgresql', pool_size: 5, max_overflow: 10, checked_out: 0, checked_in: 8, overflow: 3, waiting: 0, utilization: 0,
      status: 'healthy', connections: 8, acquired: 1000, timeouts: 0, queued: 0, connections_created: 8, connections_closed: 0,
      recycled: 0, pre_ping_failures: 0, acquire_wait_ms: { p50: 0.02, p95: 0.1, p99: 0.3, max: 2 }, ...over,
    },
  });

  test('no change when nothing waited', () => {
    expect(sizingAdvice(base({}))).toMatch(/^The pool kept up: peak utilization 50%/);
  });
  test('timeouts call for a bigger pool, sized by the peak demand', () => {
    const advice = sizingAdvice(base({ timeouts: 3, queued: 400 }, { checked_out: 15, waiting: 40, utilization: 1 }));
    expect(advice).toMatch(/^Too small: 3 request\(s\) timed out after 30 s with all 15 connections in use/);
    expect(advice).toContain('DATABASE_MAX_OVERFLOW to 50');
    expect(advice).toContain('100 connections');
  });
  test('frequent, long waits call for a bigger pool; short ones do not', () => {
    const slow = { queued: 300, acquire_wait_ms: { p50: 3, p95: 40, p99: 80, max: 120 } };
    expect(sizingAdvice(base(slow, { checked_out: 15, waiting: 10 }))).toMatch(/^Too small for concurrency 60: 30% of requests waited .*DATABASE_MAX_OVERFLOW to 20/);
    const brief = { queued: 300, acquire_wait_ms: { p50: 0.1, p95: 1, p99: 2, max: 3 } };
    expect(sizingAdvice(base(brief, { checked_out: 15, waiting: 10 }))).toMatch(/^The pool kept up/);
  });
  test('SQLite gets its own line', () => {
    expect(sizingAdvice({ ...base({}), provider: 'sqlite', peak: { utilization: 1, checked_out: 1, waiting: 3, overflow: 0, connections: 1 } })).toMatch(/up to 3 operation\(s\) queued/);
  });
});

test.each(providers)('a probe of an unmigrated %s database fails with one line that says to migrate', async (provider) => {
  const { createEmptyDatabase } = await import('../helpers/db.js');
  const db = await createEmptyDatabase(provider);
  try {
    if (provider === 'sqlite') (await import('node:fs')).writeFileSync(db.url.slice('file:'.length), '');
    const error = await runPoolProbe(db.config, { concurrency: 1, durationSeconds: 1 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error!.message).not.toContain('\n');
    expect(error!.message).toMatch(/cannot read the tracks of .*tracks.*; run soulspot migrate/);
  } finally {
    await db.drop();
  }
});
