/**
 * A count-min sketch of access frequencies with aging, as TinyLFU uses: 4 rows of saturating
 * 4-bit-range counters (0–15, stored in bytes); when the number of increments reaches the sample
 * size (10 × the cache size), every counter is halved, so old popularity fades.
 */
export class FrequencySketch {
  private readonly table: Uint8Array;
  private readonly mask: number;
  private readonly width: number;
  private readonly sampleSize: number;
  private additions = 0;

  constructor(maxSize: number) {
    let width = 16;
    while (width < maxSize * 2) width *= 2;
    this.width = width;
    this.mask = width - 1;
    this.table = new Uint8Array(width * 4);
    this.sampleSize = Math.max(10 * maxSize, 16);
  }

  /** The estimated frequency of a key hash (the minimum of its 4 counters). */
  frequency(hash: number): number {
    const w = this.width;
    const t = this.table;
    let min = t[index(hash, 0x97cb3127) & this.mask]!;
    const b = t[w + (index(hash, 0x0f4a7c15) & this.mask)]!;
    if (b < min) min = b;
    const c = t[2 * w + (index(hash, 0x5a2e9d43) & this.mask)]!;
    if (c < min) min = c;
    const d = t[3 * w + (index(hash, 0xc2b2ae35) & this.mask)]!;
    if (d < min) min = d;
    return min;
  }

  increment(hash: number): void {
    const w = this.width;
    const t = this.table;
    const i0 = index(hash, 0x97cb3127) & this.mask;
    const i1 = w + (index(hash, 0x0f4a7c15) & this.mask);
    const i2 = 2 * w + (index(hash, 0x5a2e9d43) & this.mask);
    const i3 = 3 * w + (index(hash, 0xc2b2ae35) & this.mask);
    if (t[i0]! < 15) t[i0]!++;
    if (t[i1]! < 15) t[i1]!++;
    if (t[i2]! < 15) t[i2]!++;
    if (t[i3]! < 15) t[i3]!++;
    if (++this.additions >= this.sampleSize) this.age();
  }

  clear(): void {
    this.table.fill(0);
    this.additions = 0;
  }

  /** Halves every counter (aging). */
  private age(): void {
    const t = this.table;
    for (let i = 0; i < t.length; i++) t[i] = t[i]! >>> 1;
    this.additions = this.additions >>> 1;
  }
}

function index(hash: number, seed: number): number {
  let x = Math.imul(hash ^ seed, 0x9e3779b1);
  x ^= x >>> 15;
  x = Math.imul(x, 0x85ebca6b);
  return x ^ (x >>> 13);
}

/** A 32-bit hash of a key: numbers mixed directly, everything else by FNV-1a over `String(key)`. */
export function hashKey(key: unknown): number {
  if (typeof key === 'number' && Number.isInteger(key)) {
    let x = key | 0;
    x = Math.imul(x ^ (x >>> 16), 0x45d9f3b);
    return x ^ (x >>> 16);
  }
  const s = typeof key === 'string' ? key : String(key);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}
