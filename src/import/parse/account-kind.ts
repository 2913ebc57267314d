/**
 * Whether an input is a Spotify account export (see account-export.ts), told from its name, kind
 * and first bytes only. Apart from the reader so that the parser thread loads the reader (with
 * yauzl and stream-json, about 60-90 ms of the thread's start, measured here) only for an export.
 */
import { open as openFile, stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { UsageError } from '../../errors.js';
import type { ImportFormat } from './records.js';

/** The files of an export that hold the library: YourLibrary.json, Playlist1.json, Playlist2.json… */
export const LIBRARY_FILE = /^(YourLibrary|Playlist(\d*))\.json$/i;

export type AccountExportKind = 'zip' | 'folder' | 'json';

/**
 * Whether `input` is an account export, and of what kind: a folder, a zip (by extension or
 * content), YourLibrary.json or PlaylistN.json (by name), or any JSON file with `--format
 * spotify-account`. Undefined for anything else (read as CSV/TSV/JSON/NDJSON).
 */
export async function accountExportKind(input: string, format: ImportFormat | undefined): Promise<AccountExportKind | undefined> {
  const forced = format === 'spotify-account';
  let info;
  try {
    info = await stat(input);
  } catch {
    if (forced) throw new UsageError(`cannot read ${input}: no such file or folder; check the path`);
    return undefined;
  }
  if (format && !forced) return undefined;
  if (info.isDirectory()) return 'folder';
  if (!info.isFile()) {
    if (forced) throw new UsageError(`--format spotify-account: expected the export's zip, its folder or one of its JSON files, got ${input} (not a regular file)`);
    return undefined;
  }
  const name = basename(input);
  // A zip by its extension (another file that starts like one is reported as binary), or any zip when forced.
  if (extname(name).toLowerCase() === '.zip' || (forced && (await startsWith(input, 'PK\x03\x04')))) return 'zip';
  if (LIBRARY_FILE.test(name) || forced) return 'json';
  return undefined;
}

async function startsWith(path: string, magic: string): Promise<boolean> {
  const handle = await openFile(path, 'r');
  try {
    const head = Buffer.alloc(magic.length);
    const { bytesRead } = await handle.read(head, 0, magic.length, 0);
    return bytesRead === magic.length && head.toString('latin1') === magic;
  } finally {
    await handle.close();
  }
}
