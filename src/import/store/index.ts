/** The import's raw-driver store: its types, and the store of the database's provider. */
import type { Database } from '../../db/client.js';
import type { ImportStore } from './types.js';

export * from './types.js';

/** Opens the raw-driver store for `db`'s provider (a second SQLite connection, or a pg client of db.pgPool). */
export async function openImportStore(db: Database, options: { busyTimeoutMs: number; dryRun?: boolean }): Promise<ImportStore> {
  if (db.provider === 'sqlite') {
    const { openSqliteImportStore } = await import('./sqlite.js');
    return openSqliteImportStore(db.sqlitePath!, options.busyTimeoutMs);
  }
  const { openPgImportStore } = await import('./postgres.js');
  return openPgImportStore(db.pgPool!, { dryRun: options.dryRun });
}
