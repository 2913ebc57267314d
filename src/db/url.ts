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

/** The URL with any password replaced by `****`, safe to print or log. */
export function maskUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/?#@]*):([^@/?#]*)@/i, '$1:****@');
}

/** Mask every database URL password that appears inside a longer text (error messages). */
export function maskSecretsInText(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):([^@/?#\s]*)@/gi, '$1:****@');
}
