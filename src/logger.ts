import { createRequire } from 'node:module';
import type { Config } from './config.js';
import { maskSecretsInText } from './database-url.js';

export type LogFields = Record<string, unknown>;

/** The narrow logger every service depends on; logs go to stderr, never stdout. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const levels = ['debug', 'info', 'warn', 'error', 'silent'] as const;
type Level = (typeof levels)[number];

/** A logger that drops everything (tests, --quiet library use). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function formatFields(fields?: LogFields): string {
  if (!fields) return '';
  return Object.entries(fields)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x))}`)
    .join('');
}

/** Fields with the passwords of URLs in their text masked (query parameters may hold URLs). */
function maskFields(fields?: LogFields): LogFields {
  if (!fields) return {};
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, typeof v === 'string' ? maskSecretsInText(v) : v]));
}

/** Text lines (`warn: message key=value`) or, with LOG_FORMAT=json, one pino JSON object per line. */
export function createLogger(config: Pick<Config, 'logLevel' | 'logFormat'>, stream: NodeJS.WritableStream = process.stderr): Logger {
  if (config.logFormat === 'json') {
    // Loaded only for JSON logs: pino costs ~35 ms of start-up that text logs do not need.
    const pino = createRequire(import.meta.url)('pino') as typeof import('pino').default;
    const p = pino({ level: config.logLevel, base: { name: 'soulspot' }, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }));
    return {
      debug: (m, f) => p.debug(maskFields(f), maskSecretsInText(m)),
      info: (m, f) => p.info(maskFields(f), maskSecretsInText(m)),
      warn: (m, f) => p.warn(maskFields(f), maskSecretsInText(m)),
      error: (m, f) => p.error(maskFields(f), maskSecretsInText(m)),
    };
  }
  const threshold = levels.indexOf(config.logLevel);
  const write = (level: Level) => (message: string, fields?: LogFields) => {
    if (levels.indexOf(level) < threshold) return;
    stream.write(`${level}: ${maskSecretsInText(message + formatFields(fields))}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}
