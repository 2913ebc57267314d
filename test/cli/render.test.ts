import { displayWidth, fitColumns, outputWidth, renderKeyValue, renderTable, wrapText } from '../../src/cli/render.js';

const widestLine = (text: string) => Math.max(...text.split('\n').map(displayWidth));
/** The cells' text without borders and wrapping, to check nothing was cut. */
const content = (table: string) => table.replace(/[┌┐└┘├┤┬┴┼─│\s]/g, '');

describe('outputWidth', () => {
  test("a terminal's width, else COLUMNS, else 80", () => {
    const terminal = { isTTY: true, columns: 132 } as unknown as NodeJS.WritableStream;
    const pipe = {} as NodeJS.WritableStream;
    expect(outputWidth(terminal, { COLUMNS: '60' })).toBe(132);
    expect(outputWidth(pipe, { COLUMNS: '60' })).toBe(60);
    expect(outputWidth(pipe, {})).toBe(80);
    expect(outputWidth(pipe, { COLUMNS: 'wide' })).toBe(80);
    // A pty whose size was never set reports 0 columns.
    expect(outputWidth({ isTTY: true, columns: 0 } as unknown as NodeJS.WritableStream, {})).toBe(80);
  });
});

describe('wrapText', () => {
  test('breaks at spaces, after - / . inside names, and inside words only when it must', () => {
    expect(wrapText('round trip 0.5 ms (connect 9 ms)', 12)).toBe('round trip\n0.5 ms\n(connect 9\nms)');
    expect(wrapText('soulspot-lru-no-metrics', 13)).toBe('soulspot-lru-\nno-metrics');
    expect(wrapText('TrackRepository.addBatch', 17)).toBe('TrackRepository.\naddBatch');
    expect(wrapText('3,549,221 -5 2.5', 3)).toBe('3,5\n49,\n221\n-5\n2.5');
    expect(wrapText('abcdefghij', 4)).toBe('abcd\nefgh\nij');
    expect(wrapText('two\nparagraphs stay apart', 10)).toBe('two\nparagraphs\nstay apart');
  });

  test('counts wide characters as two columns', () => {
    const title = '日本語のタイトル'.repeat(5); // 40 characters, 80 columns
    const wrapped = wrapText(title, 20);
    expect(wrapped.split('\n').map(displayWidth)).toEqual([20, 20, 20, 20]);
    expect(wrapped.replace(/\n/g, '')).toBe(title);
  });
});

describe('fitColumns', () => {
  test('natural widths when they fit; else narrow columns keep theirs and the wide ones share the rest', () => {
    expect(fitColumns([10, 20], [[1, 1]], 40)).toEqual([10, 20]);
    expect(fitColumns([10, 60, 40], [[1, 1, 1]], 60)).toEqual([10, 25, 25]);
    expect(fitColumns([8, 60], [[8, 30]], 30)).toEqual([8, 22]);
  });

  test('the first floor that fits is kept: a column never narrower than its widest word while that fits', () => {
    expect(fitColumns([14, 30, 30], [[14, 20, 20], [14, 10, 10]], 40)).toEqual([14, 13, 13]);
    expect(fitColumns([14, 30, 30], [[14, 20, 20], [4, 10, 10]], 48)).toEqual([14, 17, 17]);
  });
});

describe('renderTable', () => {
  const rows = [
    ['database', 'healthy', 'round trip 0.4 ms (connect 12.5 ms); PostgreSQL 16.4 at postgresql://postgres:****@127.0.0.1:5432/soulspot_test_0123456789'],
    ['migrations', 'degraded', '1 migration(s) applied, 2 pending: 20261201000000_add_lyrics, 20261202000000_add_moods'],
    ['pool', 'healthy', 'pool_size 5, max_overflow 10, 1 of max_connections 100 in use'],
  ];

  test.each([80, 60, 40])('at %i columns no line is wider and no cell is cut', (width) => {
    const text = renderTable(['check', 'status', 'detail'], rows, { title: `Health of a database with a long name: ${'x'.repeat(100)}`, width });
    expect(widestLine(text)).toBeLessThanOrEqual(width);
    expect(text).not.toContain('…');
    expect(content(text)).toContain(content(rows.flat().join('')));
  });

  test('a table that fits is left as it is', () => {
    expect(renderTable(['a', 'b'], [['1', '2']], { width: 80 })).toBe(['┌───┬───┐', '│ a │ b │', '├───┼───┤', '│ 1 │ 2 │', '└───┴───┘', ''].join('\n'));
  });

  test('cells of wide characters wrap without being cut', () => {
    const title = 'サカナクション「新宝島」'.repeat(6);
    const text = renderKeyValue([['title', title], ['artist', 'サカナクション']], { width: 40 });
    expect(widestLine(text)).toBeLessThanOrEqual(40);
    expect(text).not.toContain('…');
    expect(content(text)).toContain(title);
  });
});
