/**
 * A Bloom filter of texts: `has` is false only for a text never added (true may be a false
 * positive, at about 1% with the size given to the constructor). The import keeps one per batch
 * that loads into an empty tracks table: every key that batch has written goes in, and a row none
 * of whose keys is in it cannot match any track, so its lookups are skipped. Its size is fixed
 * (about 1.2 bytes a key): memory stays flat however many rows go in.
 * (No npm package for this is installed here; it is a few lines of arithmetic.)
 */
export class KeyFilter {
  private readonly bits: Uint32Array;
  private readonly mask: number;

  /** Sized for about `keys` texts (a power of two of bits, at least 10 a key). */
  constructor(keys: number) {
    let size = 1024;
    while (size < keys * 10) size *= 2;
    this.bits = new Uint32Array(size / 32);
    this.mask = size - 1;
  }

  /**
   * Adds the key made of `kind` (a small number telling keys of different kinds apart) and the
   * texts. Returns what `has` would have said before: false when the key was surely not in yet.
   */
  add(kind: number, text: string, more?: string): boolean {
    hash(kind, text, more);
    return this.addHashed();
  }

  /**
   * add(kind, text, more) with (kind, text) hashed beforehand by `prefix`: the same key, for many
   * keys sharing their first part (the rows of one artist) without hashing it again each time.
   */
  addAfter(prefix: number, more: string): boolean {
    hashMore(prefix, more);
    return this.addHashed();
  }

  /** False when that key was never added; true when it was (or, about 1% of the time, was not). */
  has(kind: number, text: string, more?: string): boolean {
    hash(kind, text, more);
    return this.hasHashed();
  }

  /** add, for the key hashed last (h1, h2). */
  private addHashed(): boolean {
    const { mask, bits } = this;
    let held = true;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) & mask;
      const word = bits[bit >>> 5];
      const flag = 1 << (bit & 31);
      if ((word & flag) === 0) {
        held = false;
        bits[bit >>> 5] = word | flag;
      }
    }
    return held;
  }

  /** has, for the key hashed last (h1, h2): for GrowingKeyFilter, which hashes a key once for all its filters. */
  hasHashed(): boolean {
    const { mask, bits } = this;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) & mask;
      if ((bits[bit >>> 5] & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * A KeyFilter for a number of keys not known in advance (the tracks an import of any length has
 * matched): a chain of filters, each twice the size of the one before, a new one started when the
 * last is full. About 2.4 bytes a key at most, and a false positive rate of a few percent at
 * most (about 1% a filter).
 */
export class GrowingKeyFilter {
  private readonly filters: KeyFilter[] = [];
  private capacity = 0;
  private count = 0;

  constructor(private readonly firstKeys = 65_536) {}

  add(kind: number, text: string, more?: string): void {
    if (this.count >= this.capacity) {
      const keys = this.capacity ? this.capacity : this.firstKeys;
      this.filters.push(new KeyFilter(keys));
      this.capacity += keys;
    }
    this.count += 1;
    this.filters[this.filters.length - 1].add(kind, text, more);
  }

  /** False when that key was never added; true when it was (or, rarely, was not). The key is hashed once for all the filters. */
  has(kind: number, text: string, more?: string): boolean {
    hash(kind, text, more);
    for (const f of this.filters) if (f.hasHashed()) return true;
    return false;
  }
}

/** Bits set per key: near the best for 10 bits a key (about 1% false positives). */
const PROBES = 7;

/** The last key's two hashes (module state, so hashing allocates nothing), as int32: small integers to V8, never heap numbers. */
let h1 = 0;
let h2 = 0;

/**
 * A 32-bit FNV-1a-style hash of the key (kind, text, more), and a second one mixed from it
 * (murmur3's finaliser), made odd so the probes h1 + i * h2 cover the table: one multiplication a
 * character (the import hashes several keys a row). No string is built for the key.
 */
function hash(kind: number, text: string, more: string | undefined): void {
  if (more === undefined) spread(prefix(kind, text));
  else hashMore(prefix(kind, text), more);
}

/** The hash state after (kind, text) of a key (kind, text, more): for KeyFilter.addAfter. */
export function prefix(kind: number, text: string): number {
  let a = Math.imul(0x811c9dc5 ^ kind, 0x01000193);
  for (let i = 0; i < text.length; i++) a = Math.imul(a ^ text.charCodeAt(i), 0x01000193);
  return a;
}

function hashMore(prefixed: number, more: string): void {
  // A separator the texts cannot make: (ab, c) and (a, bc) differ.
  let a = Math.imul(prefixed ^ 0x10000, 0x01000193);
  for (let i = 0; i < more.length; i++) a = Math.imul(a ^ more.charCodeAt(i), 0x01000193);
  spread(a);
}

/** h1 and h2 from a key's 32-bit hash. */
function spread(a: number): void {
  let b = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  h1 = a | 0;
  h2 = (b ^ (b >>> 16)) | 1;
}
