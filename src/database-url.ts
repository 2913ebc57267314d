import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';

export type Provider = 'sqlite' | 'postgresql';

/** The provider a database URL names, or undefined for an unknown scheme. */
export function getProvider(url: string): Provider | undefined {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//i.test(url)) return 'postgresql';
  return undefined;
}

/** Absolute path of the SQLite file named by a `file:` URL (relative paths are from the working directory). */
export function sqliteFilePath(url: string, cwd = process.cwd()): string {
  const path = decodeURIComponent(url.replace(/^file:(\/\/)?/, '').replace(/\?.*$/, ''));
  if (path === ':memory:') return path;
  return isAbsolute(path) ? path : resolve(cwd, path);
}

/**
 * What is wrong with a PostgreSQL URL, or undefined when both readers of it accept it: node-postgres
 * (through pg-connection-string, the parser it uses, loaded from pg's own dependencies) and the
 * WHATWG URL parser that reads `?schema=` and `?pgbouncer=` (src/db/pool.ts).
 */
export function getPgUrlProblem(url: string): string | undefined {
  let port: unknown;
  try {
    const pgRequire = createRequire(createRequire(import.meta.url).resolve('pg'));
    ({ port } = (pgRequire('pg-connection-string') as typeof import('pg-connection-string')).parse(url));
    new URL(url);
  } catch (error) {
    // The parsers only say "Invalid URL". Name the usual culprit, the port, but never echo it: when
    // the password holds a `/`, what the parser takes for the port is part of the password.
    const hostPort = /^[^/?#]*?([^@/?#]*)(?:[/?#]|$)/.exec(url.replace(SCHEME, ''))?.[1] ?? '';
    const written = /^(?:\[[^\]]*\]|[^:[\]]*):(.*)$/.exec(hostPort)?.[1];
    if (written !== undefined && !(/^\d{1,5}$/.test(written) && Number(written) <= 65535)) return 'the port is not a whole number from 1 to 65535';
    return `node-postgres cannot read it as a URL: ${(error as Error).message}`;
  }
  // The URL parser refuses ports above 65535 and non-digits, but takes 0.
  if (port === '0') return 'the port is not a whole number from 1 to 65535';
  return undefined;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;
/** Schemes whose URLs end their host at a backslash too (the WHATWG "special" schemes). */
const SPECIAL_SCHEME = /^(https?|wss?|ftp):/i;

/**
 * Whether node-postgres would parse `url`: pg-connection-string percent-encodes spaces and stray
 * `%` first, and retries `user@/db` (a socket in `?host=`) with a placeholder host.
 */
function driverParses(url: string): boolean {
  const encoded = / |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(url) ? encodeURI(url).replace(/%25(\d\d)/g, '%$1') : url;
  return URL.canParse(encoded) || URL.canParse(encoded.replace('@/', '@___DUMMY___/'));
}

/**
 * The URL with its password replaced by `****`, safe to print or log; everything else is kept as
 * written. The password is found as the drivers find it (WHATWG URL parsing, which node-postgres
 * and fetch use): the authority runs to the first `/`, `?` or `#`; its last `@` ends the userinfo,
 * whose first `:` starts the password — so `user:Pa55:w@rd%21@host` hides `Pa55:w@rd%21`. A URL the
 * driver would refuse (a `/` in the password, say) hides everything up to its last `@`. Query
 * parameters named like `password` (node-postgres reads `?password=` and `?sslpassword=`) are
 * hidden too.
 */
export function maskUrl(url: string): string {
  const scheme = SCHEME.exec(url);
  if (!scheme) return url;
  const rest = url.slice(scheme[0].length);
  let userinfoEnd: number;
  if (driverParses(url)) {
    const authorityEnd = rest.search(SPECIAL_SCHEME.test(url) ? /[/?#\\]/ : /[/?#]/);
    userinfoEnd = (authorityEnd < 0 ? rest : rest.slice(0, authorityEnd)).lastIndexOf('@');
  } else {
    userinfoEnd = rest.lastIndexOf('@');
  }
  const queryStart = rest.indexOf('?', userinfoEnd + 1);
  let head = queryStart < 0 ? rest : rest.slice(0, queryStart);
  const query = queryStart < 0 ? '' : rest.slice(queryStart);
  const colon = head.indexOf(':');
  if (colon >= 0 && colon < userinfoEnd - 1) head = `${head.slice(0, colon + 1)}****${head.slice(userinfoEnd)}`;
  const maskedQuery = query.replace(/([?&])([^=&#]*)=([^&#]*)/g, (all, sep: string, name: string) => (isPasswordParam(name) ? `${sep}${name}=****` : all));
  return scheme[0] + head + maskedQuery;
}

/** A query parameter that holds a secret (node-postgres reads `password` and `sslpassword`), its name decoded as URLSearchParams does. */
function isPasswordParam(name: string): boolean {
  let decoded = name.replace(/\+/g, ' ');
  try {
    decoded = decodeURIComponent(decoded);
  } catch {
    // A malformed escape: judge the name as written.
  }
  return /password|secret/i.test(decoded);
}

/** Masks the password of every URL inside a longer text (error messages, log lines); see {@link maskUrl}. */
export function maskSecretsInText(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, (url) => maskUrl(url));
}
