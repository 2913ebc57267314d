/**
 * Values in the form Prisma's better-sqlite3 adapter stores them, for the statements written
 * without Prisma (batched SQL, the importer, direct statements), so Prisma reads those rows back
 * and they compare and sort with the rows Prisma writes.
 */

/** DateTime: ISO 8601 text with an explicit `+00:00` offset. */
export const sqliteTimestamp = (d: Date): string => d.toISOString().replace('Z', '+00:00');

/** A bound value as the adapter binds it: DateTime as above, booleans as 1/0, undefined as NULL. */
export function sqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date) return sqliteTimestamp(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}
