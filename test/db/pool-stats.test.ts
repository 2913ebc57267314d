import * as hdr from 'hdr-histogram-js';
import { PoolStatsRecorder, percentilesMs, sqliteStats, utilizationStatus } from '../../src/db/pool-stats.js';

describe('PoolStatsRecorder.snapshot', () => {
  const recorder = () => new PoolStatsRecorder({ size: 5, maxOverflow: 5 });

  test('utilization is checked_out over pool_size + max_overflow; 70% and above is degraded', () => {
    expect(recorder().snapshot({ checkedOut: 6, idle: 0, waiting: 0, total: 6 })).toMatchObject({ utilization: 0.6, status: 'healthy' });
    expect(recorder().snapshot({ checkedOut: 7, idle: 0, waiting: 2, total: 7 })).toMatchObject({ utilization: 0.7, status: 'degraded', waiting: 2 });
    expect(utilizationStatus(0.6999)).toBe('healthy');
    expect(utilizationStatus(1)).toBe('degraded');
  });

  test('overflow counts open connections beyond pool_size and is never negative', () => {
    expect(recorder().snapshot({ checkedOut: 0, idle: 2, waiting: 0, total: 2 }).overflow).toBe(0);
    expect(recorder().snapshot({ checkedOut: 8, idle: 0, waiting: 0, total: 8 })).toMatchObject({ overflow: 3, checked_out: 8, checked_in: 0, connections: 8 });
  });

  test('acquire waits give percentiles in ms; reset forgets counters and waits', () => {
    const r = recorder();
    for (let i = 1; i <= 100; i += 1) r.recordAcquire(i); // 1..100 ms
    r.timeouts = 2;
    const s = r.snapshot({ checkedOut: 0, idle: 5, waiting: 0, total: 5 });
    expect(s.acquired).toBe(100);
    expect(s.acquire_wait_ms!.p50).toBeCloseTo(50, 0);
    expect(s.acquire_wait_ms!.p95).toBeCloseTo(95, 0);
    expect(s.acquire_wait_ms!.p99).toBeCloseTo(99, 0);
    expect(s.acquire_wait_ms!.max).toBeCloseTo(100, 0);
    r.reset();
    expect(r.snapshot({ checkedOut: 0, idle: 5, waiting: 0, total: 5 })).toMatchObject({ acquired: 0, timeouts: 0, acquire_wait_ms: { p50: 0, p95: 0, p99: 0, max: 0 } });
  });
});

test('percentiles never exceed the exact maximum', () => {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, autoResize: true });
  h.recordValue(2_307_712);
  const p = percentilesMs(h);
  expect(p.p95).toBeLessThanOrEqual(p.max);
  expect(p.max).toBeCloseTo(2307.712, 0);
});

test('SQLite: one connection, busy while an operation runs, the rest wait for it', () => {
  expect(sqliteStats(true)).toMatchObject({ pool_size: 1, max_overflow: 0, checked_out: 0, checked_in: 1, waiting: 0, utilization: 0, status: 'healthy', acquire_wait_ms: null });
  expect(sqliteStats(true, 4, 10)).toMatchObject({ checked_out: 1, checked_in: 0, waiting: 3, utilization: 1, status: 'degraded', acquired: 10 });
  expect(sqliteStats(false)).toMatchObject({ connections: 0, checked_in: 0 });
});
