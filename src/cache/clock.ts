/** The narrow time source the cache depends on, so tests and benchmarks can fake time. */
export interface Clock {
  /** Milliseconds; only differences matter. */
  now(): number;
}

/** Wall-clock milliseconds (Date.now). */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to: for tests and for simulated time in benchmarks. */
export class ManualClock implements Clock {
  constructor(private time = 1) {}

  now(): number {
    return this.time;
  }

  /** Moves time forward by `ms` and returns the new time. */
  advance(ms: number): number {
    this.time += ms;
    return this.time;
  }

  set(time: number): void {
    this.time = time;
  }
}
