import { buildTrace, mulberry32, zipfTrace } from '../../../src/bench/cache-bench/traces.js';

const small = { keys: 2000, ops: 20_000, skew: 1.0, seed: 11, ttlMs: 50, writeRatio: 0.2 };

describe('key traces', () => {
  test('the same seed gives the same trace; another seed another one', () => {
    const a = buildTrace('mixed', small);
    const b = buildTrace('mixed', small);
    const c = buildTrace('mixed', { ...small, seed: 12 });
    expect(Buffer.from(a.keys.buffer).equals(Buffer.from(b.keys.buffer))).toBe(true);
    expect(Buffer.from(a.writes!.buffer).equals(Buffer.from(b.writes!.buffer))).toBe(true);
    expect(Buffer.from(a.keys.buffer).equals(Buffer.from(c.keys.buffer))).toBe(false);
  });

  test('zipf is skewed, uniform is not, scan is sequential; mixed has the asked share of writes', () => {
    const counts = (keys: Int32Array) => {
      const n = new Map<number, number>();
      for (const k of keys) n.set(k, (n.get(k) ?? 0) + 1);
      return [...n.values()].sort((x, y) => y - x);
    };
    const zipf = counts(zipfTrace(1000, 100_000, 1.0, mulberry32(1)));
    // P(rank 1) under Zipf(1.0) with 1000 keys is 1/H(1000) ≈ 13.4 %.
    expect(zipf[0] / 100_000).toBeGreaterThan(0.12);
    expect(zipf[0] / 100_000).toBeLessThan(0.15);
    const uniform = counts(buildTrace('uniform', { ...small, keys: 1000, ops: 100_000 }).keys);
    expect(uniform[0] / 100_000).toBeLessThan(0.002);
    expect([...buildTrace('scan', { ...small, keys: 3, ops: 7 }).keys]).toEqual([0, 1, 2, 0, 1, 2, 0]);
    const writes = buildTrace('mixed', small).writes!.reduce((n, w) => n + w, 0);
    expect(writes / small.ops).toBeGreaterThan(0.18);
    expect(writes / small.ops).toBeLessThan(0.22);
  });
});
