import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { MigrationList, SchemaEngine } from '@prisma/schema-engine-wasm';
import { schemaPath } from '../paths.js';
import type { MigrationSet } from './migrations.js';
import { createPgPool } from '../db/pool.js';
import { sqliteFilePath, type Provider } from '../database-url.js';

type EngineModule = typeof import('@prisma/schema-engine-wasm');
let engineModule: Promise<EngineModule> | undefined;

/**
 * Prisma's schema engine, compiled to WebAssembly (no binary download). The package is
 * bundler-style ESM, so the .wasm is instantiated here with its JS glue as the import object.
 */
function loadSchemaEngineModule(): Promise<EngineModule> {
  engineModule ??= (async () => {
    const require = createRequire(import.meta.url);
    const pkgDir = dirname(require.resolve('@prisma/schema-engine-wasm/schema_engine_bg'));
    const bg = (await import(join(pkgDir, 'schema_engine_bg.js'))) as EngineModule & {
      __wbg_set_wasm(exports: WebAssembly.Exports): void;
    };
    // The engine arms a timer for each timeout it may need (10 s for the advisory lock) and
    // leaves it pending after success: unref them so a finished migrate exits at once.
    const imports: Record<string, unknown> = { ...bg };
    for (const [name, fn] of Object.entries(bg)) {
      if (name.startsWith('__wbg_setTimeout_') && typeof fn === 'function') {
        imports[name] = (...args: unknown[]) => {
          const timer = (fn as (...a: unknown[]) => unknown)(...args);
          (timer as { unref?: () => void })?.unref?.();
          return timer;
        };
      }
    }
    const { instance } = await WebAssembly.instantiate(readFileSync(join(pkgDir, 'schema_engine_bg.wasm')), {
      './schema_engine_bg.js': imports as WebAssembly.ModuleImports,
    });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bg;
  })();
  return engineModule;
}

export const noFilters = { externalTables: [], externalEnums: [] };

/** The engine's view of a migrations folder, optionally only its first `count` migrations. */
export function toMigrationList(set: MigrationSet, count = set.migrations.length): MigrationList {
  return {
    baseDir: set.dir,
    lockfile: { path: 'migration_lock.toml', content: set.lockfile },
    shadowDbInitScript: '',
    migrationDirectories: set.migrations.slice(0, count).map((m) => ({
      path: m.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok', value: m.sql } },
    })),
  };
}

export interface EngineSession {
  engine: SchemaEngine;
  provider: Provider;
  schema: { path: string; content: string };
}

/** Hooks into the driver adapter the engine uses. */
export interface EngineOptions {
  /** Replaces how the engine runs a script (used to run each migration atomically). */
  executeScript?: (script: string, original: (script: string) => Promise<void>, pool?: pg.Pool) => Promise<void>;
}

/**
 * Runs `fn` with a schema engine connected through the provider's driver adapter, then frees it.
 * On PostgreSQL the engine gets a pool of our own, ended as soon as it is done: the engine's
 * advisory lock lives as long as its connection, and other migrators wait on that lock.
 */
export async function withSchemaEngine<T>(config: Config, fn: (s: EngineSession) => Promise<T>, options: EngineOptions = {}): Promise<T> {
  const [bg, { bindMigrationAwareSqlAdapterFactory }] = await Promise.all([
    loadSchemaEngineModule(),
    import('@prisma/driver-adapter-utils'),
  ]);
  let factory: import('@prisma/driver-adapter-utils').SqlMigrationAwareDriverAdapterFactory;
  let pool: pg.Pool | undefined;
  if (config.provider === 'sqlite') {
    const { PrismaBetterSqlite3 } = await import('@prisma/adapter-better-sqlite3');
    factory = new PrismaBetterSqlite3({ url: sqliteFilePath(config.databaseUrl), timeout: config.pool.timeoutSeconds * 1000 });
  } else {
    const { PrismaPg } = await import('@prisma/adapter-pg');
    const { getPgSchema } = await import('../db/pool.js');
    pool = createPgPool(config.databaseUrl, { ...config.pool, size: 0, maxOverflow: 4 });
    factory = new PrismaPg(pool, { schema: getPgSchema(config.databaseUrl) });
  }
  const adapters: Array<{ dispose(): Promise<void> }> = [];
  factory = trackAdapters(factory, adapters, options.executeScript, pool);
  const path = schemaPath(config.provider);
  const content = readFileSync(path, 'utf8');
  let engine: SchemaEngine | undefined;
  try {
    engine = await bg.SchemaEngine.new({ datamodels: [[path, content]] }, () => {}, bindMigrationAwareSqlAdapterFactory(factory));
    return await fn({ engine, provider: config.provider, schema: { path, content } });
  } finally {
    engine?.free();
    // free() does not close the JS side: dispose the connections, or SQLite stays locked.
    await Promise.all(adapters.map((a) => a.dispose().catch(() => {})));
    if (pool) await pool.end();
  }
}

/** Records every connection the engine opens (to dispose them) and optionally hooks executeScript. */
function trackAdapters(
  factory: import('@prisma/driver-adapter-utils').SqlMigrationAwareDriverAdapterFactory,
  adapters: Array<{ dispose(): Promise<void> }>,
  executeScript?: EngineOptions['executeScript'],
  pool?: pg.Pool,
): import('@prisma/driver-adapter-utils').SqlMigrationAwareDriverAdapterFactory {
  const wrap = <A extends { executeScript(script: string): Promise<void>; dispose(): Promise<void> }>(adapter: A): A => {
    adapters.push(adapter);
    if (executeScript) {
      const original = adapter.executeScript.bind(adapter);
      adapter.executeScript = (script: string) => executeScript(script, original, pool);
    }
    return adapter;
  };
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => wrap(await factory.connect()),
    connectToShadowDb: async () => wrap(await factory.connectToShadowDb()),
  };
}
