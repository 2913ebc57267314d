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

/** A cli-table3 table as text; plain borders when stdout is not a terminal stay readable in logs. */
export function renderTable(head: string[], rows: Array<Array<string | number>>, title?: string): string {
  const table = new Table({ head, style: { head: [], border: [] } });
  for (const row of rows) table.push(row.map((c) => String(c)));
  return `${title ? `${title}\n` : ''}${table.toString()}\n`;
}

/** A two-column key/value table. */
export function renderKeyValue(entries: Array<[string, string | number]>, title?: string): string {
  const table = new Table({ style: { head: [], border: [] } });
  for (const [key, value] of entries) table.push([key, String(value)]);
  return `${title ? `${title}\n` : ''}${table.toString()}\n`;
}
