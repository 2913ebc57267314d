import { openRawConnection } from '../../src/db/raw.js';
import type { Config } from '../../src/config.js';

/**
 * A provider-neutral description of a database's schema (tables, columns, indexes, foreign keys),
 * read from the database's own catalog, for comparing two databases exactly.
 */
export async function describeSchema(config: Config, { includeMigrationsTable = false } = {}): Promise<Record<string, unknown>> {
  const conn = await openRawConnection(config);
  try {
    const result: Record<string, unknown> = {};
    if (conn.provider === 'sqlite') {
      const tables = await conn.query<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`);
      for (const { name } of tables) {
        if (name === '_prisma_migrations' && !includeMigrationsTable) continue;
        const q = (pragma: string) => conn.query(`SELECT * FROM pragma_${pragma}('${name.replace(/'/g, "''")}')`);
        const indexes = (await q('index_list')) as Array<{ name: string; unique: number; origin: string; partial: number }>;
        const indexDetails = [];
        for (const ix of indexes.sort((a, b) => a.name.localeCompare(b.name))) {
          const cols = await conn.query(`SELECT seqno, name FROM pragma_index_info('${ix.name.replace(/'/g, "''")}') ORDER BY seqno`);
          indexDetails.push({ ...ix, columns: cols });
        }
        result[name] = { columns: await q('table_info'), indexes: indexDetails, foreignKeys: await q('foreign_key_list') };
      }
      return result;
    }
    const tables = await conn.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    for (const { table_name: name } of tables) {
      if (name === '_prisma_migrations' && !includeMigrationsTable) continue;
      result[name] = {
        columns: await conn.query(
          `SELECT column_name, data_type, character_maximum_length, is_nullable, column_default, ordinal_position
             FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`,
          [name],
        ),
        indexes: await conn.query(`SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1 ORDER BY indexname`, [name]),
        constraints: await conn.query(
          `SELECT conname, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace ORDER BY conname`,
          [name],
        ),
      };
    }
    return result;
  } finally {
    await conn.close();
  }
}

/** Names of the tables in the database (all of them, `_prisma_migrations` included). */
export async function listTables(config: Config): Promise<string[]> {
  return Object.keys(await describeSchema(config, { includeMigrationsTable: true }));
}
