import { BatchProcessor, summarize, type ItemResult, type Timers } from '../../src/spotify/batch-processor.js';

/** A manual clock for maxWaitMs: timers fire only when the test advances time. */
class FakeTimers implements Timers {
  now = 0;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; callback: () => void }>();
  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.now + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get active(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    this.now += ms;
    for (const [id, t] of [...this.timers].sort((a, b) => a[1].at - b[1].at)) {
      if (t.at <= this.now) {
        this.timers.delete(id);
        t.callback();
      }
    }
  }
}

const ok = <R>(value: R): ItemResult<R> => ({ ok: true, value });
const tick = () => new Promise((r) => setImmediate(r));

describe('BatchProcessor', () => {
  test('groups items into batches of batchSize and reports one outcome per item', async () => {
    const sizes: number[] = [];
    const p = new BatchProcessor<number, number>(async (items) => {
      sizes.push(items.length);
      return items.map((n) => ok(n * 2));
    }, { batchSize: 50 });
    const outcomes = p.addMany(Array.from({ length: 120 }, (_, i) => i));
    const result = await p.close();
    expect(sizes).toEqual([50, 50, 20]);
    expect(p.batchCount).toBe(3);
    expect(result.successCount).toBe(120);
    expect(result.failureCount).toBe(0);
    expect(result.successRate).toBe(100);
    const all = await outcomes;
    expect(all.map((o) => (o.ok ? o.value : -1))).toEqual(Array.from({ length: 120 }, (_, i) => i * 2));
  });

  test('the batch function may fail some items and not others', async () => {
    const p = new BatchProcessor<number, string>(
      async (items) => items.map((n) => (n % 4 === 0 ? { ok: false, error: `multiple of four: ${n}` } : ok(`#${n}`))),
      { batchSize: 10 },
    );
    void p.addMany(Array.from({ length: 20 }, (_, i) => i));
    const result = await p.close();
    expect(result.failureCount).toBe(5);
    expect(result.successCount).toBe(15);
    expect(result.successRate).toBe(75);
    expect(result.failures.map((f) => [f.item, f.reason])).toEqual([0, 4, 8, 12, 16].map((n) => [n, `multiple of four: ${n}`]));
  });

  test('a batch that throws fails only its own items, with the error', async () => {
    const p = new BatchProcessor<string, string>(async (items) => {
      if (items.includes('bad')) throw new Error('upstream exploded');
      return items.map((s) => ok(s.toUpperCase()));
    }, { batchSize: 2, concurrency: 2 });
    void p.addMany(['a', 'b', 'bad', 'c', 'd', 'e']);
    const result = await p.close();
    expect(result.failures.map((f) => [f.item, f.reason])).toEqual([
      ['bad', 'upstream exploded'],
      ['c', 'upstream exploded'],
    ]);
    expect(result.outcomes.filter((o) => o.ok).map((o) => o.item)).toEqual(['a', 'b', 'd', 'e']);
  });

  test('an empty batch is a 100% success rate, not a 0% failure', async () => {
    const p = new BatchProcessor<number, number>(async (items) => items.map(ok), { batchSize: 5 });
    const result = await p.flush();
    expect(result).toMatchObject({ successCount: 0, failureCount: 0, successRate: 100 });
    expect(summarize([]).successRate).toBe(100);
    expect(summarize([{ item: 1, ok: false, error: new Error('x'), reason: 'x' }]).successRate).toBe(0);
  });

  test('maxWaitMs flushes a partial batch by itself when its timer expires (fake clock)', async () => {
    const timers = new FakeTimers();
    const calls: number[][] = [];
    const p = new BatchProcessor<number, number>(async (items) => {
      calls.push([...items]);
      return items.map(ok);
    }, { batchSize: 10, maxWaitMs: 1000, timers });
    const first = p.add(1);
    void p.add(2);
    timers.advance(600);
    void p.add(3); // the timer runs from when the batch started filling, not from the last add
    await tick();
    expect(calls).toEqual([]);
    timers.advance(399);
    await tick();
    expect(calls).toEqual([]);
    timers.advance(1);
    expect(await first).toMatchObject({ ok: true, value: 1 });
    expect(calls).toEqual([[1, 2, 3]]);
    expect(timers.active).toBe(0);
    // A full batch goes at once and cancels the timer.
    void p.addMany([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    await tick();
    expect(calls).toHaveLength(2);
    expect(timers.active).toBe(0);
  });

  test('maxWaitMs uses a real timer: an added item settles with nobody calling flush', async () => {
    const p = new BatchProcessor<string, number>(async (items) => items.map((s) => ok(s.length)), { batchSize: 50, maxWaitMs: 20 });
    const outcome = await p.add('hello');
    expect(outcome).toEqual({ item: 'hello', ok: true, value: 5 });
  });

  test('autoFlush false sends nothing until flush', async () => {
    let calls = 0;
    const p = new BatchProcessor<number, number>(async (items) => {
      calls++;
      return items.map(ok);
    }, { batchSize: 2, autoFlush: false, maxWaitMs: 1 });
    void p.addMany([1, 2, 3, 4, 5]);
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(0);
    expect(p.pendingCount).toBe(5);
    const result = await p.flush();
    expect(calls).toBe(3);
    expect(result.successCount).toBe(5);
  });

  test('the concurrency limit caps batches in flight', async () => {
    let active = 0;
    let peak = 0;
    const p = new BatchProcessor<number, number>(async (items) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 15));
      active--;
      return items.map(ok);
    }, { batchSize: 1, concurrency: 3 });
    void p.addMany(Array.from({ length: 12 }, (_, i) => i));
    expect(p.inFlightCount).toBe(12);
    const result = await p.close();
    expect(result.successCount).toBe(12);
    expect(peak).toBe(3);
  });

  test('retries a throwing batch with exponential backoff and jitter, then succeeds', async () => {
    const attempts: number[] = [];
    const p = new BatchProcessor<number, number>(async (items, { attempt }) => {
      attempts.push(attempt);
      if (attempt < 3) throw new Error(`flaky ${attempt}`);
      return items.map(ok);
    }, { batchSize: 5, retry: { retries: 3, minTimeoutMs: 40, factor: 2 } });
    const started = performance.now();
    void p.addMany([1, 2, 3]);
    const result = await p.close();
    const elapsed = performance.now() - started;
    expect(attempts).toEqual([1, 2, 3]);
    expect(result.successCount).toBe(3);
    // Delays are 40 ms then 80 ms, each times a jitter factor in [1, 2).
    expect(elapsed).toBeGreaterThanOrEqual(115);
  });

  test('gives up after the retries and fails the batch with the last error', async () => {
    let calls = 0;
    const p = new BatchProcessor<number, number>(async () => {
      calls++;
      throw new Error(`still down (${calls})`);
    }, { batchSize: 5, retry: { retries: 2, minTimeoutMs: 1 } });
    void p.addMany([1, 2]);
    const result = await p.close();
    expect(calls).toBe(3);
    expect(result.failures.map((f) => f.reason)).toEqual(['still down (3)', 'still down (3)']);
  });

  test('shouldRetry false fails at once', async () => {
    let calls = 0;
    const p = new BatchProcessor<number, number>(async () => {
      calls++;
      throw new Error('permanent');
    }, { batchSize: 5, retry: { retries: 5, minTimeoutMs: 1, shouldRetry: (e) => e.message !== 'permanent' } });
    void p.add(1);
    const result = await p.close();
    expect(calls).toBe(1);
    expect(result.failureCount).toBe(1);
  });

  test('only the items marked retryable are tried again', async () => {
    const seen: number[][] = [];
    const p = new BatchProcessor<number, number>(async (items, { attempt }) => {
      seen.push([...items]);
      return items.map((n) => (n === 2 && attempt === 1 ? { ok: false, error: 'busy', retryable: true } : n === 3 ? { ok: false, error: 'no such item' } : ok(n)));
    }, { batchSize: 5, retry: { retries: 2, minTimeoutMs: 1 } });
    void p.addMany([1, 2, 3]);
    const result = await p.close();
    expect(seen).toEqual([[1, 2, 3], [2]]);
    expect(result.successCount).toBe(2);
    expect(result.failures.map((f) => [f.item, f.reason])).toEqual([[3, 'no such item']]);
  });

  test('a batch function returning the wrong number of results fails its items instead of dropping them', async () => {
    const p = new BatchProcessor<number, number>(async (items) => items.slice(1).map(ok), { batchSize: 3 });
    void p.addMany([1, 2, 3]);
    const result = await p.close();
    expect(result.failureCount).toBe(3);
    expect(result.failures[0].reason).toMatch(/returned 2 results for 3 items/);
  });

  test('onBatch sees each batch; an exception in it surfaces at flush instead of being lost', async () => {
    const seen: number[] = [];
    const p = new BatchProcessor<number, number>(async (items) => items.map(ok), {
      batchSize: 2,
      onBatch: (r) => {
        seen.push(r.successCount);
        if (r.outcomes.some((o) => o.item === 3)) throw new Error('progress display broke');
      },
    });
    void p.addMany([1, 2, 3, 4, 5]);
    await expect(p.flush()).rejects.toThrow('progress display broke');
    expect(seen.sort()).toEqual([1, 2, 2]);
    expect(p.inFlightCount).toBe(0);
    await expect(p.flush()).resolves.toMatchObject({ successCount: 0 });
  });

  test('add after close is refused; bad options are refused', async () => {
    const p = new BatchProcessor<number, number>(async (items) => items.map(ok), { batchSize: 3 });
    await p.close();
    await expect(p.add(1)).rejects.toThrow(/closed/);
    expect(() => new BatchProcessor(async () => [], { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => new BatchProcessor(async () => [], { batchSize: 1, concurrency: 0 })).toThrow(/concurrency/);
  });
});
