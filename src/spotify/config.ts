import { z } from 'zod';
import { readEnvironment } from '../config.js';
import { ConfigError } from '../errors.js';
import { maskUrl } from '../database-url.js';

type Env = Record<string, string | undefined>;

/** Validated settings of the Spotify client and fetcher. */
export interface SpotifyConfig {
  clientId: string;
  clientSecret: string;
  /** Base URL of the accounts service (token at `/api/token`). */
  accountsUrl: string;
  /** Base URL of the Web API (`/v1/tracks`). */
  apiUrl: string;
  /** Total seconds a run may spend waiting on 429 Retry-After before it stops. */
  maxRateLimitWaitSeconds: number;
  /** 429 answers in a row (no other answer between) after which the run stops. */
  maxRateLimitsInARow: number;
  /** Requests (batches) in flight at once. */
  concurrency: number;
  /** Per-request timeout. */
  timeoutMs: number;
  /** Retries of one request after a 5xx, a timeout or a dropped connection. */
  maxRetries: number;
  /** First backoff delay; doubles on each retry, with jitter. */
  retryBaseMs: number;
  /** Entries of the response cache. */
  cacheSize: number;
  /** Requests per second for every spotify-fetch of this app together (shared through RATE_LIMIT_URL); 0 = no budget. */
  requestsPerSecond: number;
}

const url = z
  .string()
  .trim()
  .pipe(z.url({ protocol: /^https?$/ }))
  .transform((v) => v.replace(/\/+$/, ''));
const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const variables = {
  SPOTIFY_ACCOUNTS_URL: { schema: url, expected: 'an http(s) URL', fallback: 'https://accounts.spotify.com' },
  SPOTIFY_API_URL: { schema: url, expected: 'an http(s) URL', fallback: 'https://api.spotify.com' },
  SPOTIFY_MAX_RATE_LIMIT_WAIT: { schema: wholeNumber(0, 86_400), expected: 'a whole number of seconds from 0 to 86400', fallback: '300' },
  SPOTIFY_MAX_RATE_LIMITS: { schema: wholeNumber(1, 1000), expected: 'a whole number from 1 to 1000', fallback: '10' },
  SPOTIFY_CONCURRENCY: { schema: wholeNumber(1, 64), expected: 'a whole number from 1 to 64', fallback: '5' },
  SPOTIFY_TIMEOUT_MS: { schema: wholeNumber(100, 600_000), expected: 'a whole number of milliseconds from 100 to 600000', fallback: '10000' },
  SPOTIFY_MAX_RETRIES: { schema: wholeNumber(0, 20), expected: 'a whole number from 0 to 20', fallback: '4' },
  SPOTIFY_RETRY_BASE_MS: { schema: wholeNumber(0, 60_000), expected: 'a whole number of milliseconds from 0 to 60000', fallback: '500' },
  SPOTIFY_REQUESTS_PER_SECOND: { schema: wholeNumber(0, 10_000), expected: 'a whole number of requests per second from 0 (no budget) to 10000', fallback: '0' },
  SPOTIFY_CACHE_SIZE: { schema: wholeNumber(1, 10_000_000), expected: 'a whole number from 1 to 10000000', fallback: '50000' },
} as const;

function read<K extends keyof typeof variables>(env: Env, name: K): z.output<(typeof variables)[K]['schema']> {
  const { schema, expected, fallback } = variables[name];
  const raw = env[name];
  const value = raw === undefined || raw.trim() === '' ? fallback : raw;
  const parsed = (schema as z.ZodType).safeParse(value);
  if (!parsed.success) throw new ConfigError(`${name}: expected ${expected}, got "${maskUrl(raw ?? '')}"; fix it in the environment or .env`);
  return parsed.data as z.output<(typeof variables)[K]['schema']>;
}

function readCredential(env: Env, name: 'SPOTIFY_CLIENT_ID' | 'SPOTIFY_CLIENT_SECRET'): string {
  const value = env[name]?.trim();
  if (!value) {
    throw new ConfigError(
      `${name}: expected the ${name === 'SPOTIFY_CLIENT_ID' ? 'client id' : 'client secret'} of your Spotify app, got nothing; set ${name} in the environment or .env (apps: https://developer.spotify.com/dashboard)`,
    );
  }
  // The secret's value is never echoed, even when it is malformed.
  if (/\s/.test(value)) throw new ConfigError(`${name}: expected a value without spaces, got one with spaces; fix it in the environment or .env`);
  return value;
}

/** Loads and validates the Spotify settings from the environment and `.env`. */
export function loadSpotifyConfig(env: Env = readEnvironment()): SpotifyConfig {
  return {
    clientId: readCredential(env, 'SPOTIFY_CLIENT_ID'),
    clientSecret: readCredential(env, 'SPOTIFY_CLIENT_SECRET'),
    accountsUrl: read(env, 'SPOTIFY_ACCOUNTS_URL'),
    apiUrl: read(env, 'SPOTIFY_API_URL'),
    maxRateLimitWaitSeconds: read(env, 'SPOTIFY_MAX_RATE_LIMIT_WAIT'),
    maxRateLimitsInARow: read(env, 'SPOTIFY_MAX_RATE_LIMITS'),
    concurrency: read(env, 'SPOTIFY_CONCURRENCY'),
    timeoutMs: read(env, 'SPOTIFY_TIMEOUT_MS'),
    maxRetries: read(env, 'SPOTIFY_MAX_RETRIES'),
    retryBaseMs: read(env, 'SPOTIFY_RETRY_BASE_MS'),
    cacheSize: read(env, 'SPOTIFY_CACHE_SIZE'),
    requestsPerSecond: read(env, 'SPOTIFY_REQUESTS_PER_SECOND'),
  };
}
