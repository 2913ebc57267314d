import pg from 'pg';
import type { PoolSettings } from '../config.js';

/** The schema named by a `?schema=` URL parameter (Prisma's convention), default `public`. */
export function getPgSchema(url: string): string {
  try {
    return new URL(url).searchParams.get('schema') || 'public';
  } catch {
    return 'public';
  }
}

/** The connection string without Prisma-only parameters that node-postgres does not know. */
export function pgConnectionString(url: string): string {
  const parsed = new URL(url);
  parsed.searchParams.delete('schema');
  return parsed.toString();
}

/**
 * A node-postgres pool with soulspot's pool settings: `size` connections kept, up to
 * `size + maxOverflow` under load, `timeoutSeconds` to wait for one, `recycleSeconds` maximum age.
 * Every connection runs in the URL's `?schema=` and identifies as application_name=soulspot.
 */
export function createPgPool(url: string, settings: PoolSettings): pg.Pool {
  const schema = getPgSchema(url);
  return new pg.Pool({
    connectionString: pgConnectionString(url),
    min: settings.size,
    max: settings.size + settings.maxOverflow,
    connectionTimeoutMillis: settings.timeoutSeconds * 1000,
    idleTimeoutMillis: 10_000,
    maxLifetimeSeconds: settings.recycleSeconds,
    application_name: 'soulspot',
    options: `-c search_path="${schema.replace(/"/g, '""')}"`,
  });
}
