import Table from 'cli-table3';

/** JSON for scripts: BigInts as numbers or strings, Dates as ISO text, one document on stdout. */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : v),
    2,
  );
}

export function writeJson(stdout: NodeJS.WritableStream, value: unknown): void {
  stdout.write(`${toJson(value)}\n`);
}

/** Columns to fit the output into: the terminal's width, else COLUMNS, else 80. */
export function outputWidth(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): number {
  const tty = stream as NodeJS.WriteStream;
  if (tty.isTTY && tty.columns >= 1) return tty.columns;
  const columns = Number(env.COLUMNS);
  return Number.isInteger(columns) && columns >= 1 ? columns : 80;
}

/**
 * Terminal cells of one character: 2 for East Asian wide and fullwidth characters and emoji, 0 for
 * combining marks, else 1. (cli-table3 measures the same way; should it ever count wider, it cuts
 * the cell with … rather than break the table.)
 */
function cellWidth(char: string): number {
  if (/\p{Mark}/u.test(char)) return 0;
  const code = char.codePointAt(0)!;
  const wide =
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) ||
    (code >= 0x20000 && code <= 0x3fffd);
  return wide ? 2 : 1;
}

export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += cellWidth(char);
  return width;
}

/** Cuts a word wider than `width` into pieces that fit. */
function splitWord(word: string, width: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  let used = 0;
  for (const char of word) {
    const w = cellWidth(char);
    if (used + w > width && piece) {
      pieces.push(piece);
      piece = '';
      used = 0;
    }
    piece += char;
    used += w;
  }
  return [...pieces, piece];
}

/** The pieces of a word a line may end after: "lru-no-metrics" → lru-, no-, metrics (not "-5", "2.5"). */
function pieces(word: string): string[] {
  return word.split(/(?<=\p{L}[-/.])/u);
}

/** Wraps text to lines of at most `width` cells: at spaces, after - and /, and inside words where it must. */
export function wrapText(text: string, width: number): string {
  const max = Math.max(1, width);
  return text
    .split('\n')
    .map((paragraph) => {
      const lines: string[] = [];
      let line = '';
      paragraph.split(' ').forEach((word, w) => {
        pieces(word).forEach((piece, p) => {
          const joined = `${line}${w > 0 && p === 0 && line ? ' ' : ''}${piece}`;
          if (displayWidth(joined) <= max) {
            line = joined;
            return;
          }
          if (line) lines.push(line);
          const parts = splitWord(piece, max);
          line = parts.pop()!;
          lines.push(...parts);
        });
      });
      return [...lines, line].join('\n');
    })
    .join('\n');
}

/** Widest piece of `text` that wrapText keeps on one line when it can. */
function longestPiece(text: string): number {
  return Math.max(0, ...text.split(/[\s]+/).flatMap(pieces).map(displayWidth));
}

/**
 * Content widths for columns of `natural` widths (their widest line) that sum to at most `budget`:
 * narrow columns keep their width and the wide ones shrink to one level, but no column below the
 * first of `floors` (candidate minimums, best first) that fits; else down to 1.
 */
export function fitColumns(natural: number[], floors: number[][], budget: number): number[] {
  const sum = (widths: number[]) => widths.reduce((a, b) => a + b, 0);
  if (sum(natural) <= budget) return [...natural];
  const floor = floors.find((f) => sum(f) <= budget) ?? natural.map(() => 1);
  const at = (level: number) => natural.map((n, i) => Math.min(n, Math.max(floor[i], level)));
  let level = 1;
  while (level < Math.max(...natural) && sum(at(level + 1)) <= budget) level++;
  const widths = at(level);
  // What the level leaves over goes, a cell each, to the widest columns still short of their width.
  let left = budget - sum(widths);
  for (const i of natural.map((_, i) => i).sort((a, b) => natural[b] - natural[a])) {
    if (left <= 0) break;
    if (widths[i] < natural[i]) {
      widths[i]++;
      left--;
    }
  }
  return widths;
}

export interface TableOptions {
  /** A line above the table (wrapped to the width too). */
  title?: string;
  /** Columns to fit into (see outputWidth). */
  width: number;
}

/** Border and padding cells of a cli-table3 table with `columns` columns. */
const chrome = (columns: number) => 3 * columns + 1;

/**
 * A cli-table3 table as text, at most `width` columns wide: long cells wrap, at spaces where they
 * can. Plain borders (no colours) stay readable in logs.
 */
export function renderTable(head: string[], rows: Array<Array<string | number>>, options: TableOptions): string {
  const cells = rows.map((row) => row.map((c) => String(c)));
  const columns = Math.max(head.length, ...cells.map((r) => r.length));
  const widest = (rows: string[][], measure: (text: string) => number) =>
    Array.from({ length: columns }, (_, i) => Math.max(1, ...rows.map((row) => measure(row[i] ?? ''))));
  const lineWidth = (cell: string) => Math.max(...cell.split('\n').map(displayWidth));
  const natural = widest([head, ...cells], lineWidth);
  const headWords = widest([head], longestPiece);
  // Rather wrap a heading than a cell, a cell at a space than inside a word, a heading than a figure.
  const widths = fitColumns(
    natural,
    [widest(cells, lineWidth).map((w, i) => Math.max(w, headWords[i])), widest([head, ...cells], longestPiece), widest(cells, longestPiece)],
    options.width - chrome(columns),
  );
  const wrap = (row: string[]) => row.map((cell, i) => wrapText(cell, widths[i]));
  const table = new Table({
    ...(head.length ? { head: wrap(head) } : {}),
    colWidths: widths.map((w) => w + 2),
    style: { head: [], border: [] },
  });
  for (const row of cells) table.push(wrap(row));
  return `${options.title ? `${wrapText(options.title, options.width)}\n` : ''}${table.toString()}\n`;
}

/** A two-column key/value table. */
export function renderKeyValue(entries: Array<[string, string | number]>, options: TableOptions): string {
  return renderTable([], entries, options);
}

/**
 * Key/value rows of fields of `record`, each under its label, in the order given:
 * `fieldEntries(summary, { read: 'read', 'artists created': 'artistsCreated' })`.
 */
export function fieldEntries<T extends object>(record: T, labels: Record<string, keyof T>): Array<[string, string | number]> {
  return Object.entries(labels).map(([label, key]) => {
    const value = record[key];
    return [label, typeof value === 'number' ? value : String(value)];
  });
}
