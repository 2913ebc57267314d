import { newId } from '../ids.js';
import type { Database } from '../db/client.js';
import { findByConditions, groupByChangedColumns, inConditions, writeRows, type Column, type KeyCondition } from './sql.js';

/** The identifiers an artist or album is matched on before its name. */
interface Identified {
  spotifyUri: string | null;
  musicbrainzId: string | null;
}

/** What sets apart the get-or-create of artists and of albums. */
export interface GetOrCreateTable<Input extends Identified, Row extends Input & { id: string; createdAt: Date; updatedAt: Date }> {
  table: string;
  /** Every column, for the inserts; the fills update some of them. */
  columns: readonly Column[];
  /** Fields a matched row takes from the input when it has none yet. */
  fillable: ReadonlyArray<keyof Input & string>;
  /** What an input matches on when its identifiers match nothing: the artist's name, the album's (title, artist). */
  nameOf(input: Input): string;
  /** The lookup conditions for the rows named like `inputs`. */
  nameConditions(inputs: Input[]): KeyCondition[];
  findMany(where: Record<string, unknown>): Promise<Row[]>;
}

/**
 * One row per input, same length and order. Matched by spotifyUri, then musicbrainzId, then name
 * (an input with an identifier only adopts a same-named row whose identifier is empty or the
 * same); otherwise created. A matched row gains the fillable values it lacked (an identifier only
 * if no other row holds it); nothing it has is overwritten. Duplicates inside the batch resolve to
 * one row. A few lookup statements, and the writes in one transaction.
 */
export async function getOrCreateRows<Input extends Identified, Row extends Input & { id: string; createdAt: Date; updatedAt: Date }>(
  db: Database,
  table: GetOrCreateTable<Input, Row>,
  inputs: Input[],
): Promise<Row[]> {
  const { provider } = db;
  const existing = await findByConditions(
    provider,
    [
      ...inConditions(provider, 'spotifyUri', inputs.flatMap((i) => (i.spotifyUri ? [i.spotifyUri] : []))),
      ...inConditions(provider, 'musicbrainzId', inputs.flatMap((i) => (i.musicbrainzId ? [i.musicbrainzId] : []))),
      ...table.nameConditions(inputs),
    ],
    (where) => table.findMany(where),
  );
  existing.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));

  interface Entry {
    row: Row;
    isNew: boolean;
    /** Values learnt for an existing row that had none (written back). */
    filled: Record<string, unknown>;
  }
  const byUri = new Map<string, Entry>();
  const byMbid = new Map<string, Entry>();
  const byName = new Map<string, Entry[]>();
  const register = (entry: Entry) => {
    if (entry.row.spotifyUri) byUri.set(entry.row.spotifyUri, entry);
    if (entry.row.musicbrainzId) byMbid.set(entry.row.musicbrainzId, entry);
    const key = table.nameOf(entry.row);
    const list = byName.get(key);
    if (!list) byName.set(key, [entry]);
    else if (!list.includes(entry)) list.push(entry);
  };
  for (const row of existing) register({ row, isNew: false, filled: {} });

  const now = new Date();
  const created: Entry[] = [];
  const result = inputs.map((input) => {
    let entry = (input.spotifyUri && byUri.get(input.spotifyUri)) || (input.musicbrainzId && byMbid.get(input.musicbrainzId)) || undefined;
    entry ??= (byName.get(table.nameOf(input)) ?? []).find(
      (c) => (!input.spotifyUri || c.row.spotifyUri === null) && (!input.musicbrainzId || c.row.musicbrainzId === null || c.row.musicbrainzId === input.musicbrainzId),
    );
    if (!entry) {
      entry = { row: { id: newId(), ...input, createdAt: now, updatedAt: now } as Row, isNew: true, filled: {} };
      created.push(entry);
      register(entry);
      return entry;
    }
    for (const field of table.fillable) {
      const value = input[field];
      if (value === null || entry.row[field] !== null) continue;
      if (field === 'spotifyUri' && byUri.has(value as string)) continue;
      if (field === 'musicbrainzId' && byMbid.has(value as string)) continue;
      entry.row = { ...entry.row, [field]: value };
      if (!entry.isNew) entry.filled[field] = value;
      register(entry);
    }
    return entry;
  });

  const toUpdate = [...new Set(result)].filter((e) => !e.isNew && Object.keys(e.filled).length > 0);
  const groups = groupByChangedColumns(
    toUpdate.map((e) => ({ id: e.row.id, values: e.filled })),
    (field) => table.columns.find((c) => c.field === field)!,
  );
  const { columns } = table;
  await writeRows(db, table.table, { columns, rows: created.map((e) => columns.map((c) => e.row[c.field as keyof Row])) }, groups, now);
  for (const e of toUpdate) e.row = { ...e.row, updatedAt: now };
  return result.map((e) => e.row);
}
