import type { Config } from '../config.js';
import type { RawConnection } from '../db/raw.js';
import { describeError } from '../errors.js';
import { maskSecretsInText } from '../database-url.js';

/** How a doctor check came out: `skipped` when it does not apply (another provider, nothing to read). */
export type DoctorStatus = 'ok' | 'warning' | 'problem' | 'skipped';

/** One row of `soulspot doctor`: what was checked, how it came out, what was found, the one-line fix. */
export interface DoctorCheck {
  /** Stable id for scripts (`index:ix_tracks_file_path`, `statistics`, …). */
  id: string;
  /** What is checked, for people. */
  check: string;
  status: DoctorStatus;
  found: string;
  /** The one-line fix; null when there is nothing to do. */
  fix: string | null;
}

/** What every check group gets: the settings, one open connection, the number of app workers. */
export interface DoctorContext {
  config: Config;
  conn: RawConnection;
  /** Processes running soulspot's pool against this database (`--workers`). */
  workers: number;
}

export function ok(id: string, check: string, found: string): DoctorCheck {
  return { id, check, status: 'ok', found, fix: null };
}

export function finding(id: string, check: string, status: Exclude<DoctorStatus, 'ok'>, found: string, fix: string | null): DoctorCheck {
  return { id, check, status, found, fix };
}

/** One line of any thrown value, secrets masked. */
export function oneLine(error: unknown): string {
  return maskSecretsInText(describeError(error)).replace(/\s*\n\s*/g, ' ').trim();
}

/** Runs one check; a statement that fails makes the row a problem that says why, never the whole run. */
export async function guarded(id: string, check: string, run: () => Promise<DoctorCheck | DoctorCheck[]>): Promise<DoctorCheck[]> {
  try {
    const result = await run();
    return Array.isArray(result) ? result : [result];
  } catch (error) {
    return [finding(id, check, 'problem', `could not check: ${oneLine(error)}`, 'fix what the message names (soulspot migrate status lists missing tables), then run soulspot doctor again')];
  }
}

/** The application tables, as the migrations create them. */
export const APP_TABLES = ['artists', 'albums', 'tracks', 'playlists', 'playlist_tracks', 'downloads'] as const;

export const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
