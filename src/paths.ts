import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { Provider } from './database-url.js';

/** The package root (this file is one level below it both in src/ and in dist/). */
export const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** The Prisma schema of a provider: the source of truth for PostgreSQL, its derived twin for SQLite. */
export function schemaPath(provider: Provider): string {
  return provider === 'postgresql' ? join(packageRoot, 'prisma', 'schema.prisma') : join(packageRoot, 'prisma', 'sqlite', 'schema.prisma');
}

/** The migrations folder of a provider, where Prisma's own CLI looks for it next to the schema. */
export function migrationsDir(provider: Provider): string {
  return provider === 'postgresql' ? join(packageRoot, 'prisma', 'migrations') : join(packageRoot, 'prisma', 'sqlite', 'migrations');
}
