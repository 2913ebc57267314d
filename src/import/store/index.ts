/** The import's raw-driver store: its types, and the store of the database's provider. */
import type { Database } from '../../db/client.js';
import type { ImportStore } from './types.js';

export * from './types.js';

/** Opens the raw-driver store for `db`'s provider (a second SQLite connection, or pg clients of db.pgSessionPool). */
export async function openImportStore(db: Database, options: { busyTimeoutMs: number; dryRun?: boolean }): Promise<ImportStore> {
  if (db.provider === 'sqlite') {
    const { openSqliteImportStore } = await import('./sqlite.js');
    return openSqliteImportStore(db.sqlitePath!, options.busyTimeoutMs);
  }
  const { openPgImportStore } = await import('./postgres.js');
  // The store keeps a temporary table and settings between transactions: a session of its own
  // (DATABASE_DIRECT_URL behind a transaction-mode PgBouncer).
  return openPgImportStore(await db.pgSessionPool!('import-tracks'), { dryRun: options.dryRun });
}
