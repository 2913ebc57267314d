import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrationsDir } from '../paths.js';
import type { Provider } from '../database-url.js';

/** One migration folder: `<timestamp>_<name>/migration.sql` and its reverse `down.sql`. */
export interface MigrationFile {
  name: string;
  sql: string;
  /** sha256 of migration.sql, hex: the checksum Prisma records in `_prisma_migrations`. */
  checksum: string;
  /** The reverse script, if the folder has one. */
  downSql?: string;
}

export interface MigrationSet {
  provider: Provider;
  dir: string;
  lockfile: string | null;
  migrations: MigrationFile[];
}

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Reads a provider's migrations folder (default: the packaged one), in name (timestamp) order. */
export function readMigrations(provider: Provider, dir: string = migrationsDir(provider)): MigrationSet {
  const lockPath = join(dir, 'migration_lock.toml');
  const migrations: MigrationFile[] = [];
  if (existsSync(dir)) {
    for (const entry of readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort()) {
      const sqlPath = join(dir, entry, 'migration.sql');
      if (!existsSync(sqlPath)) continue;
      const sql = readFileSync(sqlPath, 'utf8');
      const downPath = join(dir, entry, 'down.sql');
      migrations.push({
        name: entry,
        sql,
        checksum: checksumOf(sql),
        downSql: existsSync(downPath) ? readFileSync(downPath, 'utf8') : undefined,
      });
    }
  }
  return { provider, dir, lockfile: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null, migrations };
}
