import { parse } from 'csv-parse/sync';
import { CsvTokenizer, type CsvRecord } from '../../src/import/parse/csv.js';
import { JsonArraySplitter, NdjsonSplitter } from '../../src/import/parse/json.js';

/** Feeds `input` in chunks of `size` bytes (splitting multi-byte characters and CRLFs on purpose). */
function tokenize(input: Buffer, size: number, delimiter: ',' | '\t' = ','): CsvRecord[] {
  const t = new CsvTokenizer(delimiter);
  const out: CsvRecord[] = [];
  for (let i = 0; i < input.length; i += size) out.push(...t.push(input.subarray(i, i + size)));
  out.push(...t.end());
  return out;
}

describe('CsvTokenizer', () => {
  test('quoted commas, doubled quotes, line breaks inside quotes, CRLF, BOM, blank lines, Unicode', () => {
    const text = '\ufefftitle,artist\r\n"a, b","say ""hi"""\r\n\r\n"two\r\nlines",Björk 坂本龍一\r\nlast,no newline';
    for (const size of [1, 2, 3, 7, 1024]) {
      const records = tokenize(Buffer.from(text), size);
      expect(records.map((r) => r.fields)).toEqual([
        ['title', 'artist'],
        ['a, b', 'say "hi"'],
        ['two\r\nlines', 'Björk 坂本龍一'],
        ['last', 'no newline'],
      ]);
      expect(records.map((r) => r.line)).toEqual([1, 2, 4, 6]);
      expect(records[2].original).toBe('"two\r\nlines",Björk 坂本龍一');
    }
  });

  test('agrees with csv-parse on random input, whatever the chunk size', () => {
    let seed = 42;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pieces = ['a', 'Ö', '語', ' ', ',', '"', '\n', 'x y', '🎵'];
    for (let round = 0; round < 200; round++) {
      const rows: string[][] = [];
      for (let r = 0; r < 1 + rand(6); r++) {
        const row: string[] = [];
        for (let c = 0; c < 3; c++) {
          let v = '';
          for (let k = 0; k < rand(6); k++) v += pieces[rand(pieces.length)];
          row.push(v);
        }
        rows.push(row);
      }
      const eol = rand(2) ? '\r\n' : '\n';
      const csv = rows.map((row) => row.map((v) => (/[",\n\r]/.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v)).join(',')).join(eol) + eol;
      const expected = parse(csv, { relax_column_count: true });
      const got = tokenize(Buffer.from(csv), 1 + rand(17));
      expect(got.map((r) => r.fields)).toEqual(expected);
    }
  });

  test('invalid UTF-8 rejects exactly that record; TSV uses tabs', () => {
    const input = Buffer.concat([Buffer.from('a\tb\nok\tfine\nbad \xff'.replace('\xff', '')), Buffer.from([0xff, 0xfe]), Buffer.from('\tx\nafter\tit\n')]);
    const records = tokenize(input, 5, '\t');
    expect(records.map((r) => r.fields ?? r.error)).toEqual([['a', 'b'], ['ok', 'fine'], 'invalid UTF-8', ['after', 'it']]);
    expect(records[2].line).toBe(3);
  });

  test('an unterminated quote rejects its first line and reading goes on', () => {
    const records = tokenize(Buffer.from('a,b\n"open,x\nc,d\n'), 4);
    expect(records.map((r) => r.fields ?? `${r.line}: ${r.error}`)).toEqual([['a', 'b'], '2: unterminated quoted field', ['c', 'd']]);
  });

  test('text after a closing quote is reported, not guessed', () => {
    const records = tokenize(Buffer.from('"a"b,c\nd,e\n'), 100);
    expect(records[0].error).toMatch(/malformed quoted field/);
    expect(records[1].fields).toEqual(['d', 'e']);
  });
});

describe('JSON splitters', () => {
  const feed = (s: { push(b: Buffer): unknown[]; end(): unknown[] }, text: string, size: number) => {
    const b = Buffer.from(text);
    const out: unknown[] = [];
    for (let i = 0; i < b.length; i += size) out.push(...s.push(b.subarray(i, i + size)));
    out.push(...s.end());
    return out as Array<{ line: number; value?: unknown; error?: string }>;
  };

  test('a JSON array element by element, with strings holding brackets and escaped quotes', () => {
    const text = '\ufeff[\n {"t": "a ] } \\" ,"},\n {"t": "Ö"}, 3,\n {"t": \n "x"}\n]\n';
    for (const size of [1, 5, 1000]) {
      const got = feed(new JsonArraySplitter(), text, size);
      expect(got.map((r) => r.value)).toEqual([{ t: 'a ] } " ,' }, { t: 'Ö' }, 3, { t: 'x' }]);
      expect(got.map((r) => r.line)).toEqual([2, 3, 3, 4]);
    }
  });

  test('a broken element is rejected alone; a non-array is a usage error', () => {
    const got = feed(new JsonArraySplitter(), '[{"a": 1}, {"b": nope}, {"c": 3}]', 7);
    expect(got.map((r) => r.value ?? 'error')).toEqual([{ a: 1 }, 'error', { c: 3 }]);
    expect(() => feed(new JsonArraySplitter(), '{"a": 1}', 10)).toThrow(/expected a JSON array/);
  });

  test('NDJSON: blank lines skipped, CRLF, bad lines rejected with their line number', () => {
    const got = feed(new NdjsonSplitter(), '{"a":1}\r\n\r\n{bad\n{"b":"ü"}', 3);
    expect(got.map((r) => [r.line, r.value ?? r.error?.slice(0, 12)])).toEqual([
      [1, { a: 1 }],
      [3, 'invalid JSON'],
      [4, { b: 'ü' }],
    ]);
  });
});
