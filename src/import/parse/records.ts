/** The import's input formats, and what a reader of one hands the parser thread. */
import type { RawValues } from './normalize.js';
import type { AccountTracker } from './account-progress.js';

export const FORMATS = ['csv', 'tsv', 'json', 'ndjson', 'exportify', 'spotify-account'] as const;
export type ImportFormat = (typeof FORMATS)[number];

/** One data row from the input: its values by field, or why it cannot be read. */
export interface SourceRecord {
  line: number;
  /** JSON arrays: the element's place in the array, from 1 (a whole array may sit on one line). */
  record?: number;
  original: string;
  values?: RawValues;
  error?: string;
  /** Where the record is, before its reasons, when not a line of the file (an account export's playlist and item). */
  where?: string;
  /** A Spotify account export: the index of the playlist the record is an entry of. */
  playlist?: number;
}

export interface RecordSource {
  format: ImportFormat;
  /** What the input is called in messages: the path, or "stdin". */
  name: string;
  /** Size in bytes for files (progress percent and ETA); undefined for stdin. */
  totalBytes?: number;
  bytesRead(): number;
  /**
   * The records in file order, a group at a time (those cut from one block of the input; one
   * record at a time for an account export): the reader hands them on without a promise per
   * record, which cost the parser thread about a tenth of its time.
   */
  records: AsyncGenerator<SourceRecord[]>;
  close(): void;
  /** A Spotify account export: its files and playlists as read so far. */
  account?: AccountTracker;
}
