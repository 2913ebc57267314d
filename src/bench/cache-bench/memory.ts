import { getGc } from '../../gc.js';
import { createBenchCache, VALUE, type ImplementationName } from './implementations.js';
import { SimulatedClock } from './traces.js';

function heapBytes(): number {
  const usage = process.memoryUsage();
  // Typed-array storage lives outside the JS heap; both caches use typed arrays.
  return usage.heapUsed + usage.arrayBuffers;
}

const measured = new Map<string, number | null>();

/**
 * Bytes per entry: heap + array-buffer growth after forced GCs, for a cache of `count` entries
 * filled with keys that existed before the baseline and one shared value, so it measures what the
 * cache itself adds (index, list, slots), not the keys or values. Null when GC cannot be forced.
 * Measured once per implementation and size in a process.
 */
export function measureBytesPerEntry(implementation: ImplementationName, count: number): number | null {
  const memoKey = `${implementation}:${count}`;
  if (measured.has(memoKey)) return measured.get(memoKey)!;
  const result = probeBytesPerEntry(implementation, count);
  measured.set(memoKey, result);
  return result;
}

function probeBytesPerEntry(implementation: ImplementationName, count: number): number | null {
  const gc = getGc();
  if (gc === null) return null;
  const pool = Array.from({ length: count }, (_, i) => `track-${i}`);
  gc();
  gc();
  const before = heapBytes();
  const cache = createBenchCache(implementation, count, 0, new SimulatedClock());
  for (let i = 0; i < count; i++) cache.set(pool[i]!, VALUE);
  gc();
  gc();
  const after = heapBytes();
  // Keep the cache alive until after the measurement.
  if (cache.get(pool[0]!) === undefined && implementation !== 'soulspot-w-tinylfu') throw new Error('memory probe lost its first entry');
  return Math.round(((after - before) / count) * 10) / 10;
}
