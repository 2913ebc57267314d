import { newId } from '../src/ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newId', () => {
  test('gives UUID version 7 strings that start with the time, all different, in the order they were made', () => {
    const before = Date.now();
    const ids = Array.from({ length: 100_000 }, () => newId());
    const after = Date.now();
    for (const id of ids) expect(id).toMatch(UUID_V7);
    expect(new Set(ids).size).toBe(ids.length);
    // Made in order, they sort in order (what keeps a primary key's inserts on its last pages).
    for (let i = 1; i < ids.length; i++) if (!(ids[i - 1] < ids[i])) throw new Error(`id ${i} (${ids[i]}) does not sort after ${ids[i - 1]}`);
    // The first 48 bits are the Unix time in milliseconds.
    const ms = (id: string) => parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
    expect(ms(ids[0])).toBeGreaterThanOrEqual(before);
    expect(ms(ids[ids.length - 1])).toBeLessThanOrEqual(after + 1);
  });
});
