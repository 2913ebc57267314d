import type pg from 'pg';
import type { Config } from '../config.js';
import { DatabaseError, describeError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import type { PrismaClient as SqlitePrismaClient } from '../generated/sqlite/client.js';
import { createPgPool, getPgSchema, usesPgBouncer } from './pool.js';
import { sessionConfig } from './session.js';
import { QueryLog, type QueryEvent } from './query-log.js';
import { maskSecretsInText, sqliteFilePath, type Provider } from '../database-url.js';

/**
 * The Prisma client type the repositories use. Both generated clients expose the same model API
 * (they come from one schema), so the SQLite client's type stands for both.
 */
export type PrismaDb = SqlitePrismaClient;

/** An open database: the Prisma client plus the raw handles the fast paths need. */
export interface Database {
  readonly provider: Provider;
  readonly prisma: PrismaDb;
  readonly queryLog: QueryLog;
  /** PostgreSQL only: the pool Prisma's adapter uses (also used for COPY and pool statistics). */
  readonly pgPool?: pg.Pool;
  /** PostgreSQL only: the schema in use (`?schema=`, default public). */
  readonly pgSchema?: string;
  /** PostgreSQL only: statements sent past Prisma may be prepared by name (not behind PgBouncer: `?pgbouncer=true`). */
  readonly pgNamedStatements?: boolean;
  /**
   * PostgreSQL only: a pool whose connections are sessions of their own, for work that keeps state
   * between transactions (the import's temporary table and settings): a pool on DATABASE_DIRECT_URL
   * (opened on first use, ended by close), or `pgPool` itself when DATABASE_URL needs no bypass.
   * A ConfigError when DATABASE_URL goes through a transaction-mode pooler and no direct URL is set
   * (src/db/session.ts). `what` names the work in that error.
   */
  pgSessionPool?(what: string): Promise<pg.Pool>;
  /** SQLite only: absolute path of the database file. */
  readonly sqlitePath?: string;
  /**
   * SQLite only: the better-sqlite3 connection of Prisma's adapter (connecting first if needed),
   * for the statements that skip Prisma (direct.ts). Statements on it behave as Prisma's
   * own outside a transaction: same connection, same locks.
   */
  sqliteConnection?(): Promise<import('better-sqlite3').Database>;
  close(): Promise<void>;
}

export interface OpenOptions {
  logger?: Logger;
  /** An existing pool to hand to Prisma (pool-stats instruments its own). */
  pgPool?: pg.Pool;
}

/** Opens the database of `config` with the provider's generated client and driver adapter. */
export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Database> {
  const queryLog = new QueryLog(options.logger ?? silentLogger, { echo: config.echo, slowQueryMs: config.slowQueryMs });
  const log = [{ emit: 'event', level: 'query' }] as const;
  if (config.provider === 'sqlite') {
    const [{ PrismaClient }, { PrismaBetterSqlite3 }] = await Promise.all([
      import('../generated/sqlite/client.js'),
      import('@prisma/adapter-better-sqlite3'),
    ]);
    const sqlitePath = sqliteFilePath(config.databaseUrl);
    let connection: import('better-sqlite3').Database | undefined;
    const adapter = withSqliteBindLimit(new PrismaBetterSqlite3({ url: sqlitePath, timeout: config.pool.timeoutSeconds * 1000 }), (opened) => {
      connection = (opened as { client?: import('better-sqlite3').Database }).client;
    });
    const prisma = new PrismaClient({ adapter, log: [...log] });
    prisma.$on('query', (e: QueryEvent) => queryLog.record(e));
    return {
      provider: 'sqlite',
      prisma,
      queryLog,
      sqlitePath,
      async sqliteConnection() {
        if (!connection?.open) await prisma.$connect();
        if (!connection?.open) throw new DatabaseError(`the SQLite adapter exposes no open connection to ${sqlitePath}; this is a bug`);
        return connection;
      },
      close: () => prisma.$disconnect(),
    };
  }
  const [{ PrismaClient }, { PrismaPg }] = await Promise.all([
    import('../generated/postgresql/client.js'),
    import('@prisma/adapter-pg'),
  ]);
  const pgSchema = getPgSchema(config.databaseUrl);
  const ownPool = !options.pgPool;
  const pgPool = options.pgPool ?? createPgPool(config.databaseUrl, config.pool, { logger: options.logger });
  // A pooled connection the server drops is removed from the pool; say so, never crash.
  pgPool.on('error', (error) => (options.logger ?? silentLogger).warn(`pooled connection lost: ${describeError(error)}`));
  const adapter = new PrismaPg(pgPool, { schema: pgSchema });
  // Prisma waits only 2 s for a transaction's connection by default; let DATABASE_POOL_TIMEOUT decide.
  const prisma = new PrismaClient({
    adapter,
    log: [...log],
    transactionOptions: { maxWait: config.pool.timeoutSeconds * 1000 + 1000 },
  }) as unknown as PrismaDb;
  (prisma as unknown as { $on(e: 'query', cb: (e: QueryEvent) => void): void }).$on('query', (e) => queryLog.record(e));
  let sessionPool: Promise<pg.Pool> | undefined;
  return {
    provider: 'postgresql',
    prisma,
    queryLog,
    pgPool,
    pgSchema,
    pgNamedStatements: !usesPgBouncer(config.databaseUrl),
    pgSessionPool(what) {
      sessionPool ??= (async () => {
        const session = await sessionConfig(config, what);
        if (session.databaseUrl === config.databaseUrl) return pgPool;
        // As many connections as the main pool may open, none kept once idle.
        const pool = createPgPool(session.databaseUrl, { ...config.pool, size: 0, maxOverflow: Math.max(1, config.pool.size + config.pool.maxOverflow) }, { logger: options.logger });
        pool.on('error', (error) => (options.logger ?? silentLogger).warn(`direct connection lost: ${describeError(error)}`));
        return pool;
      })();
      sessionPool.catch(() => (sessionPool = undefined));
      return sessionPool;
    },
    close: async () => {
      await prisma.$disconnect();
      if (ownPool) await pgPool.end();
      const session = await sessionPool?.catch(() => undefined);
      if (session && session !== pgPool) await session.end();
    },
  };
}

/** Runs `fn` with an open database and always closes it, even when `fn` throws. */
export async function withDatabase<T>(config: Config, fn: (db: Database) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  const db = await openDatabase(config, options);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** A one-line DatabaseError for a failed connection or statement, password masked. */
export function toDatabaseError(error: unknown, what: string): DatabaseError {
  return new DatabaseError(`${what}: ${maskSecretsInText(describeError(error))}`, { cause: error });
}

/**
 * Prisma assumes SQLite's pre-3.32 limit of 999 bind parameters when the adapter reports none: it
 * splits every longer `IN` list (an include of 1,000 tracks) into several statements inside an
 * implicit transaction, and refuses a query whose ORed lists exceed 999. better-sqlite3 12 bundles
 * a SQLite whose limit is 32,766: report that. `onConnect` receives each adapter it opens.
 */
function withSqliteBindLimit<F extends { connect(): Promise<unknown> }>(factory: F, onConnect: (adapter: unknown) => void): F {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = (await connect()) as { getConnectionInfo?: () => unknown };
    adapter.getConnectionInfo = () => ({ maxBindValues: 32766, supportsRelationJoins: false });
    onConnect(adapter);
    return adapter;
  };
  return factory;
}
