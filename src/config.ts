import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { ConfigError } from './errors.js';
import { getPgUrlProblem, getProvider, maskUrl, type Provider } from './database-url.js';

export const DEFAULT_DATABASE_URL = 'file:./soulspot.db';

export interface PoolSettings {
  /** Connections kept open (pg.Pool min is this; max is size + maxOverflow). */
  size: number;
  maxOverflow: number;
  /** Seconds to wait for a connection before a timeout error. */
  timeoutSeconds: number;
  /** Maximum connection age in seconds; 0 disables recycling. */
  recycleSeconds: number;
  prePing: boolean;
}

export interface Config {
  databaseUrl: string;
  provider: Provider;
  /**
   * DATABASE_DIRECT_URL (Prisma's `directUrl`): PostgreSQL reached without a connection pooler
   * between, for the work that needs a session of its own (migrate's advisory lock and SETs, the
   * import's temporary table). Everything else goes through `databaseUrl`.
   */
  directUrl?: string;
  pool: PoolSettings;
  /** DATABASE_ECHO: log every SQL statement with its duration. */
  echo: boolean;
  slowQueryMs: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  logFormat: 'text' | 'json';
  /** SOULSPOT_MIGRATIONS_DIR: a migrations folder other than the packaged one (tests, forks). */
  migrationsDir?: string;
  /** CACHE_URL: redis:// URL of the cache tier shared by every soulspot process (absent: in-process only). */
  cacheUrl?: string;
  /** RATE_LIMIT_URL, else CACHE_URL: redis:// URL where spotify-fetch processes share their request budget and 429 pauses. */
  rateLimitUrl?: string;
}

/** Values given on the command line; they override the environment and .env. */
export interface ConfigFlags {
  databaseUrl?: string;
  debug?: boolean;
  quiet?: boolean;
}

type Env = Record<string, string | undefined>;

/** Parses a raw value, or returns undefined when it does not fit. */
type Parser<T> = (raw: string) => T | undefined;

// Plain parsers rather than zod here: importing zod costs ~110 ms, a quarter of a no-op
// `soulspot migrate`, and these rules are simple.
const bool: Parser<boolean> = (raw) => {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off'].includes(v)) return false;
  return undefined;
};
const wholeNumber =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const v = raw.trim();
    if (!/^\d+$/.test(v)) return undefined;
    const n = Number(v);
    return n >= min && n <= max ? n : undefined;
  };
const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    const v = raw.trim().toLowerCase();
    return (values as string[]).includes(v) ? (v as T) : undefined;
  };

/** Each variable: its parser, what it expects (for the error line) and its default. */
const variables = {
  DATABASE_POOL_SIZE: { parse: wholeNumber(1, 1000), expected: 'a whole number from 1 to 1000', fallback: '5' },
  DATABASE_MAX_OVERFLOW: { parse: wholeNumber(0, 1000), expected: 'a whole number from 0 to 1000', fallback: '10' },
  DATABASE_POOL_TIMEOUT: { parse: wholeNumber(1, 3600), expected: 'a whole number of seconds from 1 to 3600', fallback: '30' },
  DATABASE_POOL_RECYCLE: { parse: wholeNumber(0, 86400), expected: 'a whole number of seconds from 0 (off) to 86400', fallback: '3600' },
  DATABASE_POOL_PRE_PING: { parse: bool, expected: 'true or false', fallback: 'true' },
  DATABASE_ECHO: { parse: bool, expected: 'true or false', fallback: 'false' },
  SLOW_QUERY_MS: { parse: wholeNumber(0, 3_600_000), expected: 'a whole number of milliseconds', fallback: '100' },
  LOG_LEVEL: { parse: oneOf('debug', 'info', 'warn', 'error', 'silent'), expected: 'one of debug, info, warn, error, silent', fallback: 'info' },
  LOG_FORMAT: { parse: oneOf('text', 'json'), expected: 'text or json', fallback: 'text' },
} as const;

type Variables = typeof variables;
type ValueOf<K extends keyof Variables> = Variables[K]['parse'] extends Parser<infer T> ? T : never;

/**
 * Reads `.env` in `cwd` (values already in the environment win, as with dotenv) without touching
 * process.env. Returns the merged view.
 */
export function readEnvironment(env: Env = process.env, cwd = process.cwd()): Env {
  const path = join(cwd, '.env');
  if (!existsSync(path)) return { ...env };
  let fromFile: Record<string, string>;
  try {
    const { parse } = createRequire(import.meta.url)('dotenv') as typeof import('dotenv');
    fromFile = parse(readFileSync(path));
  } catch (error) {
    throw new ConfigError(`.env: expected a readable KEY=value file at ${path}, got ${(error as Error).message}; fix or remove it`);
  }
  return { ...fromFile, ...env };
}

/** One typed value of a variable, or a ConfigError naming it, its value and what it expects. */
export function readVariable<K extends keyof Variables>(env: Env, name: K): ValueOf<K> {
  const { parse, expected, fallback } = variables[name];
  const raw = env[name];
  const value = (parse as Parser<ValueOf<K>>)(raw === undefined || raw.trim() === '' ? fallback : raw);
  if (value === undefined) {
    throw new ConfigError(`${name}: expected ${expected}, got "${raw}"; fix it in the environment or .env`);
  }
  return value;
}

/** Validates the database URL (flag, else DATABASE_URL, else the SQLite default). */
export function readDatabaseUrl(env: Env, flagValue?: string): { databaseUrl: string; provider: Provider } {
  const databaseUrl = (flagValue ?? env.DATABASE_URL ?? '').trim() || DEFAULT_DATABASE_URL;
  const provider = getProvider(databaseUrl);
  const source = flagValue ? '--database-url' : 'DATABASE_URL';
  if (!provider) {
    throw new ConfigError(
      `${source}: expected a file:… (SQLite) or postgresql://… URL, got "${maskUrl(databaseUrl)}"; set ${source} to one of those`,
    );
  }
  const problem = provider === 'postgresql' ? getPgUrlProblem(databaseUrl) : undefined;
  if (problem) {
    throw new ConfigError(
      `${source}: expected postgresql://host:port/database (port from 1 to 65535, an IPv6 host in [ ], user and password ` +
        `before the host as user:password@ with special characters percent-encoded), got "${maskUrl(databaseUrl)}" (${problem}); fix ${source}`,
    );
  }
  return { databaseUrl, provider };
}

/** Validates DATABASE_DIRECT_URL: unset, or a PostgreSQL URL beside a PostgreSQL DATABASE_URL. */
export function readDirectUrl(env: Env, provider: Provider): string | undefined {
  const raw = env.DATABASE_DIRECT_URL?.trim();
  if (!raw) return undefined;
  if (getProvider(raw) !== 'postgresql' || provider !== 'postgresql') {
    const got = getProvider(raw) === 'postgresql' ? `a PostgreSQL URL beside a ${provider} database` : `"${maskUrl(raw)}"`;
    throw new ConfigError(
      `DATABASE_DIRECT_URL: expected a postgresql://… URL reaching the same server as a PostgreSQL DATABASE_URL without its connection pooler, got ${got}; fix or unset DATABASE_DIRECT_URL`,
    );
  }
  const problem = getPgUrlProblem(raw);
  if (problem) {
    throw new ConfigError(`DATABASE_DIRECT_URL: expected postgresql://host:port/database, got "${maskUrl(raw)}" (${problem}); fix DATABASE_DIRECT_URL`);
  }
  return raw;
}

/** A redis:// or rediss:// URL from `name`, undefined when unset, or a ConfigError naming it. */
export function readRedisUrl(env: Env, name: 'CACHE_URL' | 'RATE_LIMIT_URL'): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || !/^rediss?:$/.test(url.protocol) || url.hostname === '') {
    throw new ConfigError(`${name}: expected a redis://host:port[/db] (or rediss://) URL, got "${maskUrl(raw)}"; fix it in the environment or .env, or unset it`);
  }
  return raw;
}

/** Loads and validates the whole configuration: environment, then .env, then flags. */
export function loadConfig(flags: ConfigFlags = {}, env: Env = readEnvironment()): Config {
  const { databaseUrl, provider } = readDatabaseUrl(env, flags.databaseUrl);
  // DATABASE_DIRECT_URL belongs to DATABASE_URL: --database-url names another database, whose
  // direct connection it does not know.
  const directUrl = flags.databaseUrl ? undefined : readDirectUrl(env, provider);
  let logLevel = readVariable(env, 'LOG_LEVEL');
  if (flags.debug) logLevel = 'debug';
  else if (flags.quiet) logLevel = 'error';
  return {
    databaseUrl,
    provider,
    ...(directUrl ? { directUrl } : {}),
    pool: {
      size: readVariable(env, 'DATABASE_POOL_SIZE'),
      maxOverflow: readVariable(env, 'DATABASE_MAX_OVERFLOW'),
      timeoutSeconds: readVariable(env, 'DATABASE_POOL_TIMEOUT'),
      recycleSeconds: readVariable(env, 'DATABASE_POOL_RECYCLE'),
      prePing: readVariable(env, 'DATABASE_POOL_PRE_PING'),
    },
    echo: readVariable(env, 'DATABASE_ECHO'),
    slowQueryMs: readVariable(env, 'SLOW_QUERY_MS'),
    logLevel,
    logFormat: readVariable(env, 'LOG_FORMAT'),
    migrationsDir: env.SOULSPOT_MIGRATIONS_DIR?.trim() || undefined,
    cacheUrl: readRedisUrl(env, 'CACHE_URL'),
    rateLimitUrl: readRedisUrl(env, 'RATE_LIMIT_URL') ?? readRedisUrl(env, 'CACHE_URL'),
  };
}
