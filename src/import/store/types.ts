/**
 * The import's hot path: provider-specific raw-driver statements (better-sqlite3 prepared
 * statements; PostgreSQL COPY straight into tracks plus set-based statements, lookups on a second
 * connection), always parameterized. Prisma's createMany reaches about 1.5k rows/s here, far below
 * what a bulk import needs; these reach a large share of the raw driver's own speed (see
 * bench/import.mjs).
 * The matching rules live in src/import/plan.ts; a store only finds and writes rows.
 */

export interface ExistingArtist {
  id: string;
  name: string;
  spotifyUri: string | null;
}

export interface ExistingAlbum {
  id: string;
  title: string;
  artistId: string;
  spotifyUri: string | null;
  releaseYear: number | null;
}

/** The columns of a track the import manages. */
export interface TrackValues {
  id: string;
  title: string;
  artistId: string;
  albumId: string | null;
  durationMs: number;
  trackNumber: number | null;
  discNumber: number;
  spotifyUri: string | null;
  isrc: string | null;
  musicbrainzId: string | null;
  filePath: string | null;
  fileSize: number | null;
  audioBitrate: number | null;
  audioFormat: string | null;
  audioSampleRate: number | null;
  /**
   * The ids of the artists credited after the track's artist, in order, comma-joined ('' for
   * none): track_artists positions 1, 2, … (the first is artist_id, not stored twice). Filled by
   * findCredits for found tracks.
   */
  credits: string;
  /**
   * SQLite only: the row's rowid, set by the finds and insertTracks. The run's set of tracks
   * already matched is keyed by it there (an integer key costs less than the 36-character id).
   */
  rowid?: number;
}

/**
 * A playlist's new content, in order (position = index): its tracks, and when each was added
 * (milliseconds since the epoch; NaN when the row gives none: an entry already there keeps its
 * time, a new one gets the import's). Two flat arrays, not an object per entry: an import holds
 * it until its end.
 */
export interface PlaylistContent {
  trackIds: string[];
  addedAt: number[];
}

/** A playlist an import fills: found by its Spotify URI where it has one, else by name. */
export interface PlaylistSpec {
  name: string;
  spotifyUri?: string;
  /** Set on the playlist when given (null clears it). */
  description?: string | null;
  source?: 'manual' | 'spotify';
}

/** Finds and writes the rows of one import; one instance per run, on its own connection. */
export interface ImportStore {
  readonly provider: 'sqlite' | 'postgresql';
  /**
   * Runs `fn` in one write transaction, serialised with other imports (SQLite: BEGIN IMMEDIATE;
   * PostgreSQL: a transaction advisory lock), retried from the start on a deadlock, serialization
   * failure or unique violation raced in by another writer. Inside a dry run, `fn` just runs.
   */
  transaction<T>(fn: () => Promise<T>): Promise<T>;
  /** True when `transaction` may run `fn` again (PostgreSQL): its caller must be able to redo the work. */
  readonly replays: boolean;
  /**
   * True when the finds (findArtists, findAlbums, findTracks, findSeen) run on a connection of
   * their own, at the same time as the writes: they see what is committed, not what the current
   * transaction wrote, and markSeen belongs after the commit. Otherwise they see everything written
   * so far, and markSeen belongs in the transaction that matched the tracks.
   */
  readonly separateReader: boolean;
  /**
   * True when a write runs on the server while the caller goes on (PostgreSQL): the next chunk can
   * be planned meanwhile, as long as any find waits for the writes before it (without a separate
   * reader, the finds run on the same connection and must see them). False when every call does
   * its work before it returns (SQLite).
   */
  readonly pipelines: boolean;
  findArtists(uris: string[], names: string[]): Promise<ExistingArtist[]>;
  insertArtists(rows: ExistingArtist[], now: Date): Promise<void>;
  attachArtistUris(rows: Array<{ id: string; spotifyUri: string }>, now: Date): Promise<void>;
  findAlbums(uris: string[], titles: Array<[title: string, artistId: string]>): Promise<ExistingAlbum[]>;
  insertAlbums(rows: ExistingAlbum[], now: Date): Promise<void>;
  attachAlbumUris(rows: Array<{ id: string; spotifyUri: string }>, now: Date): Promise<void>;
  /** Every track holding one of these Spotify URIs, ISRCs or MusicBrainz ids (one found by two of them may come back twice). */
  findTracks(uris: string[], isrcs: string[], mbids: string[]): Promise<TrackValues[]>;
  /** Every track with one of these (title, artist). */
  findTracksByTitle(titles: Array<[title: string, artistId: string]>): Promise<TrackValues[]>;
  /** The ids of those of `tracks` (as the finds returned them) this run has already matched: duplicates inside one file. */
  findSeen(tracks: TrackValues[]): Promise<Set<string>>;
  /** Records that this run matched `tracks` (found by findTracks, or written by insertTracks); see separateReader for when. */
  markSeen(tracks: SeenTrack[]): Promise<void>;
  /** Inserts new tracks (on SQLite, also sets each one's rowid). */
  insertTracks(rows: TrackValues[], now: Date): Promise<void>;
  updateTracks(rows: TrackValues[], now: Date): Promise<void>;
  /**
   * The credits after the first (TrackValues.credits) of these tracks, by id; a track without any
   * is left out. Runs where the finds run (see separateReader).
   */
  findCredits(trackIds: string[]): Promise<Map<string, string>>;
  /**
   * Writes the credits after the first of `tracks` (TrackValues.credits): added for new tracks,
   * replaced for the others (`replace`). In the batch's transaction.
   */
  writeCredits(tracks: Array<Pick<TrackValues, 'id' | 'credits'>>, replace: boolean): Promise<void>;
  /** The playlist of this Spotify URI, else the oldest of this name, else a new one; its description set when given. */
  getOrCreatePlaylist(spec: PlaylistSpec, now: Date): Promise<string>;
  /**
   * In a transaction: makes `content` the playlist's entries, whole (re-created as `name` if it
   * was deleted meanwhile). Holds the playlist's row lock until the commit, so writers of the same
   * playlist take turns: the last to commit wins, never a mix.
   */
  replacePlaylist(playlistId: string, name: string, content: PlaylistContent, now: Date): Promise<void>;
  /** How many tracks the table holds, counting at most `limit` (so the cost stays small on a large table). */
  countTracks(limit: number): Promise<number>;
  /**
   * Whether the artists and the albums tables are empty. Asked in a batch's transaction after
   * deferIndexes, when no other writer can add rows until the commit (see BatchImporter.writeBatch).
   */
  emptyRefTables(): Promise<{ artists: boolean; albums: boolean }>;
  /**
   * Bulk load, in the current transaction: drops those of DEFERRED_TRACK_INDEXES the table has
   * and returns what builds them again, to be awaited before the commit. The drop is part of the
   * transaction: a rollback (a failure, a kill) leaves the indexes as they were. Absent where it
   * cannot be done safely (see the PostgreSQL store).
   */
  deferIndexes?(): Promise<() => Promise<void>>;
  /** Dry run: everything from here on happens in one transaction that `close` rolls back. */
  beginDryRun(): Promise<void>;
  close(): Promise<void>;
}

/** What markSeen needs of a track: its id (PostgreSQL) and rowid (SQLite). */
export type SeenTrack = Pick<TrackValues, 'id' | 'rowid'>;

/**
 * The tracks' secondary indexes an import may build after its rows rather than maintain row by
 * row: none is unique (no constraint is lifted) and none serves the import's own lookups (Spotify
 * URI, ISRC and MusicBrainz id use the unique indexes, title and artist ix_tracks_title_artist).
 */
export const DEFERRED_TRACK_INDEXES = [
  // By album.
  'ix_tracks_album_disc_track',
  'ix_tracks_album_track_number',
  // By state and time.
  'ix_tracks_broken_updated',
  'ix_tracks_last_scanned_at',
  'ix_tracks_updated_at',
  // By file.
  'ix_tracks_file_hash',
  'ix_tracks_file_path',
] as const;

export const TRACK_COLUMNS = [
  'id',
  'title',
  'artist_id',
  'album_id',
  'duration_ms',
  'track_number',
  'disc_number',
  'spotify_uri',
  'isrc',
  'musicbrainz_id',
  'file_path',
  'file_size',
  'audio_bitrate',
  'audio_format',
  'audio_sample_rate',
] as const;

/** TrackValues from a row of TRACK_COLUMNS, and rowid on SQLite (file_size arrives as text from pg's BIGINT). */
export function trackFromRow(r: Record<string, unknown>): TrackValues {
  const t: TrackValues = {
    id: r.id as string,
    title: r.title as string,
    artistId: r.artist_id as string,
    albumId: (r.album_id as string | null) ?? null,
    durationMs: Number(r.duration_ms),
    trackNumber: r.track_number === null ? null : Number(r.track_number),
    discNumber: Number(r.disc_number),
    spotifyUri: (r.spotify_uri as string | null) ?? null,
    isrc: (r.isrc as string | null) ?? null,
    musicbrainzId: (r.musicbrainz_id as string | null) ?? null,
    filePath: (r.file_path as string | null) ?? null,
    fileSize: r.file_size === null || r.file_size === undefined ? null : Number(r.file_size),
    audioBitrate: r.audio_bitrate === null ? null : Number(r.audio_bitrate),
    audioFormat: (r.audio_format as string | null) ?? null,
    audioSampleRate: r.audio_sample_rate === null ? null : Number(r.audio_sample_rate),
    credits: '',
  };
  if (r.rowid !== undefined) t.rowid = r.rowid as number;
  return t;
}
