import { ValidationError } from '../../src/repositories/errors.js';
import { Checker, show } from '../../src/repositories/validation.js';

describe('show (the "got …" of a validation message)', () => {
  test('objects and arrays appear as JSON, never as [object Object]', () => {
    expect(show({ name: 'Björk', ids: [1, 2] })).toBe('{"name":"Björk","ids":[1,2]}');
    expect(show([])).toBe('[]');
    expect(show({ size: 5n })).toBe('{"size":"5n"}');
    expect(show(Object.create(null))).toBe('{}');
  });

  test('long JSON is clipped to 80 characters; a cycle is named by its kind', () => {
    const long = show({ text: 'x'.repeat(200) });
    expect(long).toHaveLength(80);
    expect(long.endsWith('...')).toBe(true);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(show(cyclic)).toBe('an object (Object)');
    const list: unknown[] = [];
    list.push(list);
    expect(show(list)).toBe('an array');
  });

  test('the other kinds keep their form', () => {
    expect([undefined, 'a', 3, true, null, 7n, new Date('2026-01-01T00:00:00Z'), new Date('x'), () => 1].map(show)).toEqual([
      'nothing',
      '"a"',
      '3',
      'true',
      'null',
      '7n',
      '2026-01-01T00:00:00.000Z',
      'an invalid date',
      'a function',
    ]);
  });

  test('a Checker message names the object it got', () => {
    expect(() => new Checker('artist #1').text('name', { first: 'Björk' }, 255)).toThrow(
      new ValidationError('artist #1: name must be a non-empty text, got {"first":"Björk"}; fix the input and retry (nothing was written)'),
    );
  });
});
