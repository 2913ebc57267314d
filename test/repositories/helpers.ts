import { openDatabase, type Database } from '../../src/db/client.js';
import type { Provider } from '../../src/database-url.js';
import { createMigratedDatabase, type TestDatabase } from '../helpers/db.js';

/** A migrated throwaway database of `provider`, opened; `done()` closes and drops it. */
export async function openTestDatabase(provider: Provider): Promise<{ db: Database; test: TestDatabase; done: () => Promise<void> }> {
  const test = await createMigratedDatabase(provider);
  const db = await openDatabase(test.config);
  return {
    db,
    test,
    async done() {
      await db.close();
      await test.drop();
    },
  };
}

/** SQL statements `fn` sends, as text (COMMIT of Prisma's implicit transactions included). */
export async function statementsOf<T>(db: Database, fn: () => Promise<T>): Promise<{ result: T; sql: string[] }> {
  const sql: string[] = [];
  const stop = db.queryLog.subscribe((e) => sql.push(e.query));
  try {
    const result = await fn();
    return { result, sql };
  } finally {
    stop();
  }
}
