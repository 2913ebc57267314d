import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseError, describeError } from '../errors.js';

/** Read-only commands never create a database: only `soulspot migrate` does. */
export function assertSqliteFileExists(path: string): void {
  if (path !== ':memory:' && !existsSync(path)) {
    throw new DatabaseError(`no SQLite database at ${path}; run soulspot migrate to create it (nothing was created)`);
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * One line for a SQLite file that cannot be opened or used. SQLite's own messages ("unable to open
 * database file", "attempt to write a readonly database") name no path, and do not say that the
 * folder must be writable too: SQLite creates its journal (or -wal and -shm) beside the file, even
 * to read a database in WAL mode.
 */
export function sqliteFileError(path: string, error: unknown): DatabaseError {
  const folder = dirname(path);
  const code = (error as { code?: string }).code ?? '';
  let problem: string;
  if (!isFolder(folder)) problem = `its folder ${folder} does not exist or is not a folder; create it, or point DATABASE_URL elsewhere`;
  else if (!writable(folder)) {
    problem = `its folder ${folder} is not writable (SQLite writes its journal beside the file); make the folder writable for this user, or move the database`;
  } else if (existsSync(path) && !writable(path)) problem = 'the file is not writable; make it writable for this user';
  else if (code === 'SQLITE_NOTADB') problem = 'the file is not a SQLite database; point DATABASE_URL at a soulspot database';
  else problem = `${describeError(error)}; check the file and its folder`;
  return new DatabaseError(`cannot use the SQLite database ${path}: ${problem}`, { cause: error });
}

/**
 * Opens a SQLite file with better-sqlite3 and reads its schema once, so that a file that cannot be
 * used fails here with one line. Without `create`, a missing file is an error and none is made.
 */
export async function openSqliteFile(path: string, options: { create?: boolean; timeoutMs: number }): Promise<import('better-sqlite3').Database> {
  if (!options.create) assertSqliteFileExists(path);
  const { default: Sqlite } = await import('better-sqlite3');
  let db: import('better-sqlite3').Database | undefined;
  try {
    db = new Sqlite(path, { fileMustExist: !options.create && path !== ':memory:', timeout: options.timeoutMs });
    // A WAL database in a folder this user cannot write fails on its first read, not on open.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (error) {
    db?.close();
    throw sqliteFileError(path, error);
  }
}
