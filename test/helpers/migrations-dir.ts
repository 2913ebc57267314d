import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrationsDir } from '../../src/paths.js';
import type { Provider } from '../../src/database-url.js';

/** A temp copy of the packaged migrations folder that a test may extend or edit. */
export function copyMigrations(provider: Provider): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'soulspot-migrations-')), 'migrations');
  cpSync(migrationsDir(provider), dir, { recursive: true });
  return dir;
}

/** Adds a migration folder (`down` omitted: no reverse script). */
export function addMigration(dir: string, name: string, sql: string, down?: string): void {
  mkdirSync(join(dir, name));
  writeFileSync(join(dir, name, 'migration.sql'), sql);
  if (down !== undefined) writeFileSync(join(dir, name, 'down.sql'), down);
}
