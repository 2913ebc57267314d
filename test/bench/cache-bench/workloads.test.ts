import { runCacheWorkloads, type WorkloadResult } from '../../../src/bench/cache-bench/workloads.js';
import { WORKLOADS } from '../../../src/bench/cache-bench/traces.js';

const small = { keys: 2000, ops: 20_000, skew: 1.0, seed: 11, ttlMs: 50, writeRatio: 0.2 };

describe('workload runs', () => {
  let results: WorkloadResult[];
  beforeAll(() => {
    results = runCacheWorkloads({ ...small, cacheSize: 100, workloads: [...WORKLOADS], repeat: 1, memory: false });
  });
  const row = (implementation: string, workload: string) => results.find((r) => r.implementation === implementation && r.workload === workload)!;

  test.each(WORKLOADS)('%s: this LRU and lru-cache give identical hits, evictions and expirations on one trace', (workload) => {
    const ours = row('soulspot-lru', workload);
    const theirs = row('lru-cache', workload);
    expect(ours.hits).toBe(theirs.hits);
    expect(ours.hit_rate).toBe(theirs.hit_rate);
    expect(ours.evictions).toBe(theirs.evictions);
    expect(ours.expirations).toBe(theirs.expirations);
    expect(row('soulspot-lru-no-metrics', workload).hits).toBe(ours.hits);
    expect(ours.reads + ours.writes).toBe(small.ops);
  });

  test('the mixed workload expires entries; the read-only ones do not', () => {
    expect(row('soulspot-lru', 'mixed').expirations).toBeGreaterThan(0);
    expect(row('soulspot-lru', 'zipf').expirations).toBe(0);
    expect(row('soulspot-lru', 'scan').hit_rate).toBe(0); // a scan over 20× the cache never hits in LRU
  });
});
