import { GrowingKeyFilter, KeyFilter, prefix } from '../../src/import/key-filter.js';

describe('KeyFilter', () => {
  test('never forgets a key; answers about 1% false positives at the size it was made for; kinds and parts keep keys apart', () => {
    const f = new KeyFilter(40_000);
    for (let i = 0; i < 40_000; i++) f.add(1, `spotify:track:${i}`);
    for (let i = 0; i < 40_000; i++) expect(f.has(1, `spotify:track:${i}`)).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < 20_000; i++) if (f.has(1, `spotify:track:x${i}`)) falsePositives++;
    expect(falsePositives / 20_000).toBeLessThan(0.03);
    let otherKind = 0;
    for (let i = 0; i < 20_000; i++) if (f.has(2, `spotify:track:${i}`)) otherKind++;
    expect(otherKind / 20_000).toBeLessThan(0.03);
    const g = new KeyFilter(10);
    g.add(4, 'ab', 'c');
    expect(g.has(4, 'ab', 'c')).toBe(true);
    expect([g.has(4, 'a', 'bc'), g.has(4, 'abc'), g.has(3, 'ab', 'c')]).toEqual([false, false, false]);
  });

  test('add says what has would have said just before: false for a key surely not in yet, true once it is', () => {
    const f = new KeyFilter(20_000);
    let wasIn = 0;
    for (let i = 0; i < 20_000; i++) {
      const before = f.has(1, `isrc${i}`);
      const said = f.add(1, `isrc${i}`);
      expect(said).toBe(before);
      if (said) wasIn++;
      expect(f.add(1, `isrc${i}`)).toBe(true);
    }
    // Only false positives said "in" for a new key.
    expect(wasIn / 20_000).toBeLessThan(0.03);
  });
});

describe('KeyFilter.addAfter', () => {
  test('puts in the very key add puts in, its first part hashed beforehand', () => {
    const f = new KeyFilter(10_000);
    for (let i = 0; i < 5_000; i++) f.addAfter(prefix(4, `artist-${i % 40}`), `Song ${i}`);
    for (let i = 0; i < 5_000; i++) expect([f.has(4, `artist-${i % 40}`, `Song ${i}`), f.add(4, `artist-${i % 40}`, `Song ${i}`)]).toEqual([true, true]);
    const g = new KeyFilter(10_000);
    for (let i = 0; i < 5_000; i++) g.add(4, `artist-${i % 40}`, `Song ${i}`);
    for (let i = 0; i < 5_000; i++) expect(g.addAfter(prefix(4, `artist-${i % 40}`), `Song ${i}`)).toBe(true);
  });
});

describe('GrowingKeyFilter', () => {
  test('grows past its first size without forgetting a key, false positives stay a few percent', () => {
    const f = new GrowingKeyFilter(1_000);
    expect(f.has(9, 'anything')).toBe(false);
    // 1,000 + 1,000 + 2,000 + 4,000 + 8,000 + 16,000: six filters for 20,000 keys.
    for (let i = 0; i < 20_000; i++) f.add(9, `id-${i}`);
    for (let i = 0; i < 20_000; i++) expect(f.has(9, `id-${i}`)).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < 20_000; i++) if (f.has(9, `other-${i}`)) falsePositives++;
    expect(falsePositives / 20_000).toBeLessThan(0.06);
  });
});
