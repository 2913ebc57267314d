import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DatabaseError } from '../../errors.js';
import { packageRoot } from '../../paths.js';
import { DEFERRED_TRACK_INDEXES, TRACK_COLUMNS, trackFromRow, type ExistingAlbum, type ExistingArtist, type ImportStore } from './types.js';
import { sqliteCredits } from './credits-sqlite.js';
import { newId } from '../../ids.js';
import { sqliteTimestamp } from '../../db/sqlite-values.js';

/** WAL pages between two automatic checkpoints during an import (see openSqliteImportStore). */
const WAL_CHECKPOINT_PAGES = 65_536;

const SELECT_TRACK = `SELECT rowid AS rowid, ${TRACK_COLUMNS.join(', ')} FROM tracks`;

/** The artists of these names (a JSON array): an index lookup (ix_artists_name), whatever the library's size. */
export const SQLITE_ARTISTS_BY_NAME_SQL = 'SELECT id, name, spotify_uri FROM artists WHERE name IN (SELECT value FROM json_each(?)) ORDER BY created_at, id';

/**
 * The SQLite import store: its own better-sqlite3 connection (WAL, busy timeout), prepared
 * statements, one BEGIN IMMEDIATE transaction per batch. Arrays travel as one JSON parameter read
 * with json_each, so every statement stays parameterized whatever the batch size.
 */
export function openSqliteImportStore(path: string, busyTimeoutMs: number): ImportStore {
  let db: Database.Database | undefined;
  let stmt: Statements;
  let credits: ReturnType<typeof sqliteCredits>;
  try {
    db = new Database(path, { fileMustExist: true, timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // Checkpoint the WAL rarely: every batch's commit rewrites much the same index pages (random
    // ids), and a checkpoint copies each page once however many commits wrote it. Measured here
    // (100k rows, batches of 5,000): with a checkpoint every 16,384 pages, commits took about
    // 0.8 s; without checkpoints during the import, 0.4 s plus 0.3 s for one checkpoint at the end.
    // So: at most 65,536 pages (256 MiB of WAL) between automatic checkpoints, a checkpointer
    // thread that copies the WAL after each commit while this connection goes on writing, one
    // checkpoint in close(), and the WAL file cut back to 64 MiB after each checkpoint.
    db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    // The page caches stay bounded (main: the driver's default 16 MiB; the run's temporary table
    // of seen rowids: 2 MiB, it spills to a temporary file), so memory does not grow with the file.
    db.pragma('temp.cache_size = -2048');
    db.pragma('foreign_keys = ON');
    db.exec('CREATE TEMP TABLE IF NOT EXISTS import_seen (rid INTEGER PRIMARY KEY)');
    // k: the entry's occurrence of its track in the playlist (1 for the first), see replacePlaylist.
    db.exec('CREATE TEMP TABLE IF NOT EXISTS import_playlist (position INTEGER PRIMARY KEY, track_id TEXT NOT NULL, k INTEGER NOT NULL, added_at TEXT)');
    // Compiling the statements checks the schema: an unmigrated file fails here, before any write.
    stmt = prepare(db);
    credits = sqliteCredits(db);
  } catch (error) {
    db?.close();
    throw new DatabaseError(`cannot open the SQLite database ${path} for import: ${(error as Error).message}; ${adviceFor(error)}`, { cause: error });
  }
  // Last: a thread, which would keep the process alive if anything above failed after it started.
  return { ...sqliteStore(db, stmt, startCheckpointer(path)), ...credits };
}

/** What to do about a failure to open the database: only a missing table calls for migrate. */
function adviceFor(error: unknown): string {
  const code = String((error as { code?: string | number }).code ?? '');
  if (/no such table/.test((error as Error).message)) return 'run soulspot migrate first';
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code)) {
    return 'check that you may write the file and its directory (SQLite writes its -wal and -shm files beside it)';
  }
  return 'check the DATABASE_URL';
}

/** The compiled checkpointer (a Worker cannot load TypeScript: tests running src/ use the build). */
const CHECKPOINTER_PATH = join(packageRoot, 'dist', 'import', 'store', 'sqlite-checkpointer.js');

interface Checkpointer {
  /** Asks for a checkpoint (returns at once). */
  request(): void;
  /** Waits for the requested checkpoints, then closes its connection. */
  close(): Promise<void>;
}

/** The background checkpointer (see sqlite-checkpointer.ts); none without a build, the import then just checkpoints at the end. */
function startCheckpointer(path: string): Checkpointer | undefined {
  if (!existsSync(CHECKPOINTER_PATH)) return undefined;
  const worker = new Worker(CHECKPOINTER_PATH, { workerData: { path }, resourceLimits: { maxYoungGenerationSizeMb: 2 } });
  let failed = false;
  // A checkpointer that fails only loses its help: the final checkpoint does its work.
  worker.on('error', () => (failed = true));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    request: () => {
      if (!failed) worker.postMessage('checkpoint');
    },
    close: async () => {
      if (!failed) worker.postMessage('close');
      await exited;
    },
  };
}

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  return {
    artistsByUri: db.prepare('SELECT id, name, spotify_uri FROM artists WHERE spotify_uri IN (SELECT value FROM json_each(?))'),
    artistsByName: db.prepare(SQLITE_ARTISTS_BY_NAME_SQL),
    insertArtist: db.prepare('INSERT INTO artists (id, name, spotify_uri, created_at, updated_at) VALUES (?, ?, ?, ?, ?)'),
    attachArtist: db.prepare('UPDATE artists SET spotify_uri = ?, updated_at = ? WHERE id = ? AND spotify_uri IS NULL'),
    albumsByUri: db.prepare('SELECT id, title, artist_id, spotify_uri, release_year FROM albums WHERE spotify_uri IN (SELECT value FROM json_each(?))'),
    albumsByTitle: db.prepare(
      `SELECT a.id, a.title, a.artist_id, a.spotify_uri, a.release_year FROM json_each(?) j
       JOIN albums a ON a.title = j.value ->> 0 AND a.artist_id = j.value ->> 1 ORDER BY a.created_at, a.id`,
    ),
    insertAlbum: db.prepare('INSERT INTO albums (id, title, artist_id, release_year, spotify_uri, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    attachAlbum: db.prepare('UPDATE albums SET spotify_uri = ?, updated_at = ? WHERE id = ? AND spotify_uri IS NULL'),
    tracks: db.prepare(
      `${SELECT_TRACK} WHERE spotify_uri IN (SELECT value FROM json_each(?))
       UNION ALL ${SELECT_TRACK} WHERE isrc IN (SELECT value FROM json_each(?))
       UNION ALL ${SELECT_TRACK} WHERE musicbrainz_id IN (SELECT value FROM json_each(?))`,
    ),
    tracksByTitle: db.prepare(
      `SELECT t.rowid AS rowid, ${TRACK_COLUMNS.map((c) => `t.${c}`).join(', ')} FROM json_each(?) j
       JOIN tracks t ON t.title = j.value ->> 0 AND t.artist_id = j.value ->> 1`,
    ),
    // The run's matched tracks by rowid. (A rowid could change only if another process ran VACUUM
    // during the import; soulspot never does.)
    seen: db.prepare('SELECT rid FROM temp.import_seen WHERE rid IN (SELECT value FROM json_each(?))').pluck(),
    markSeen: db.prepare('INSERT OR IGNORE INTO temp.import_seen (rid) SELECT value FROM json_each(?)'),
    insertTrack: db.prepare(
      `INSERT INTO tracks (${TRACK_COLUMNS.join(', ')}, is_broken, created_at, updated_at)
       VALUES (${TRACK_COLUMNS.map(() => '?').join(', ')}, 0, ?, ?)`,
    ),
    // The same insert for a track without file or MusicBrainz fields (every row of a playlist
    // export): six parameters fewer to bind, the columns take their NULL default.
    insertTrackNoFile: db.prepare(
      `INSERT INTO tracks (${TRACK_COLUMNS.slice(0, 9).join(', ')}, is_broken, created_at, updated_at)
       VALUES (${TRACK_COLUMNS.slice(0, 9).map(() => '?').join(', ')}, 0, ?, ?)`,
    ),
    updateTrack: db.prepare(
      `UPDATE tracks SET ${TRACK_COLUMNS.slice(1).map((c) => `${c} = ?`).join(', ')}, updated_at = ? WHERE id = ?`,
    ),
    playlistByName: db.prepare('SELECT id FROM playlists WHERE name = ? ORDER BY created_at, id LIMIT 1').pluck(),
    playlistByNameWithoutUri: db.prepare('SELECT id FROM playlists WHERE name = ? AND spotify_uri IS NULL ORDER BY created_at, id LIMIT 1').pluck(),
    playlistByUri: db.prepare('SELECT id FROM playlists WHERE spotify_uri = ?').pluck(),
    insertPlaylist: db.prepare('INSERT INTO playlists (id, name, description, source, spotify_uri, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    describePlaylist: db.prepare('UPDATE playlists SET description = ?, spotify_uri = COALESCE(spotify_uri, ?), updated_at = ? WHERE id = ?'),
    playlistStage: db.prepare('INSERT INTO temp.import_playlist (position, track_id, k, added_at) VALUES (?, ?, ?, ?)'),
    playlistUnstage: db.prepare('DELETE FROM temp.import_playlist'),
    // The entries of a playlist replaced whole from the staged content, position by position. An
    // entry the row gives no time keeps the time of the same occurrence of its track in the
    // playlist before (the 2nd entry of a track takes the 2nd one's), else gets the import's.
    playlistKeepTimes: db.prepare(
      `UPDATE temp.import_playlist AS s SET added_at = o.added_at
       FROM (SELECT track_id, added_at, row_number() OVER (PARTITION BY track_id ORDER BY position) AS k FROM playlist_tracks WHERE playlist_id = ?) AS o
       WHERE s.added_at IS NULL AND o.track_id = s.track_id AND o.k = s.k`,
    ),
    playlistNewTimes: db.prepare('UPDATE temp.import_playlist SET added_at = ? WHERE added_at IS NULL'),
    // Then only what differs is written: positions past the new end go, changed ones are set, new ones added.
    playlistCut: db.prepare('DELETE FROM playlist_tracks WHERE playlist_id = ? AND position >= ?'),
    playlistSet: db.prepare(
      `UPDATE playlist_tracks SET track_id = s.track_id, added_at = s.added_at FROM temp.import_playlist s
       WHERE playlist_tracks.playlist_id = ? AND playlist_tracks.position = s.position
         AND (playlist_tracks.track_id <> s.track_id OR playlist_tracks.added_at <> s.added_at)`,
    ),
    playlistAdd: db.prepare(
      `INSERT INTO playlist_tracks (playlist_id, track_id, position, added_at)
       SELECT @playlist, s.track_id, s.position, s.added_at FROM temp.import_playlist s
       WHERE NOT EXISTS (SELECT 1 FROM playlist_tracks p WHERE p.playlist_id = @playlist AND p.position = s.position)`,
    ),
    touchPlaylist: db.prepare('UPDATE playlists SET updated_at = ? WHERE id = ?'),
    countTracks: db.prepare('SELECT count(*) FROM (SELECT 1 FROM tracks LIMIT ?)').pluck(),
    emptyRefTables: db.prepare('SELECT NOT EXISTS (SELECT 1 FROM artists) AS artists, NOT EXISTS (SELECT 1 FROM albums) AS albums'),
    deferrableIndexes: db.prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tracks' AND sql IS NOT NULL
       AND name IN (${DEFERRED_TRACK_INDEXES.map(() => '?').join(', ')}) ORDER BY name`,
    ),
    recreatePlaylist: db.prepare("INSERT OR IGNORE INTO playlists (id, name, source, created_at, updated_at) VALUES (?, ?, 'manual', ?, ?)"),
  };
}

function sqliteStore(db: Database.Database, stmt: Statements, checkpointer: Checkpointer | undefined): Omit<ImportStore, 'findCredits' | 'writeCredits'> {
  let dryRun = false;

  return {
    provider: 'sqlite',
    replays: false,
    separateReader: false,
    pipelines: false,
    async transaction(fn) {
      if (dryRun) return fn();
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn();
        db.exec('COMMIT');
        checkpointer?.request();
        return result;
      } catch (error) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    },
    async findArtists(uris, names) {
      const rows = [
        ...(uris.length ? (stmt.artistsByUri.all(JSON.stringify(uris)) as Array<Record<string, string | null>>) : []),
        ...(names.length ? (stmt.artistsByName.all(JSON.stringify(names)) as Array<Record<string, string | null>>) : []),
      ];
      return rows.map((r) => ({ id: r.id!, name: r.name!, spotifyUri: r.spotify_uri ?? null }));
    },
    async insertArtists(rows, now) {
      const ts = sqliteTimestamp(now);
      for (const a of rows) stmt.insertArtist.run(a.id, a.name, a.spotifyUri, ts, ts);
    },
    async attachArtistUris(rows, now) {
      const ts = sqliteTimestamp(now);
      for (const a of rows) stmt.attachArtist.run(a.spotifyUri, ts, a.id);
    },
    async findAlbums(uris, titles) {
      const rows = [
        ...(uris.length ? (stmt.albumsByUri.all(JSON.stringify(uris)) as Array<Record<string, unknown>>) : []),
        ...(titles.length ? (stmt.albumsByTitle.all(JSON.stringify(titles)) as Array<Record<string, unknown>>) : []),
      ];
      return rows.map(
        (r): ExistingAlbum => ({
          id: r.id as string,
          title: r.title as string,
          artistId: r.artist_id as string,
          spotifyUri: (r.spotify_uri as string | null) ?? null,
          releaseYear: (r.release_year as number | null) ?? null,
        }),
      );
    },
    async insertAlbums(rows, now) {
      const ts = sqliteTimestamp(now);
      for (const a of rows) stmt.insertAlbum.run(a.id, a.title, a.artistId, a.releaseYear, a.spotifyUri, ts, ts);
    },
    async attachAlbumUris(rows, now) {
      const ts = sqliteTimestamp(now);
      for (const a of rows) stmt.attachAlbum.run(a.spotifyUri, ts, a.id);
    },
    async findTracks(uris, isrcs, mbids) {
      const rows = stmt.tracks.all(JSON.stringify(uris), JSON.stringify(isrcs), JSON.stringify(mbids)) as Array<Record<string, unknown>>;
      return rows.map(trackFromRow);
    },
    async findTracksByTitle(titles) {
      return (stmt.tracksByTitle.all(JSON.stringify(titles)) as Array<Record<string, unknown>>).map(trackFromRow);
    },
    async findSeen(tracks) {
      if (tracks.length === 0) return new Set();
      const seen = new Set(stmt.seen.all(JSON.stringify(tracks.map((t) => t.rowid))) as number[]);
      return new Set(tracks.filter((t) => seen.has(t.rowid!)).map((t) => t.id));
    },
    async markSeen(tracks) {
      if (tracks.length) stmt.markSeen.run(JSON.stringify(tracks.map((t) => t.rowid)));
    },
    async insertTracks(rows, now) {
      const ts = sqliteTimestamp(now);
      const insert = stmt.insertTrack;
      const noFile = stmt.insertTrackNoFile;
      for (const t of rows) {
        if (t.musicbrainzId === null && t.filePath === null && t.fileSize === null && t.audioBitrate === null && t.audioFormat === null && t.audioSampleRate === null) {
          t.rowid = noFile.run(t.id, t.title, t.artistId, t.albumId, t.durationMs, t.trackNumber, t.discNumber, t.spotifyUri, t.isrc, ts, ts).lastInsertRowid as number;
          continue;
        }
        t.rowid = insert.run(
          t.id, t.title, t.artistId, t.albumId, t.durationMs, t.trackNumber, t.discNumber, t.spotifyUri, t.isrc, t.musicbrainzId,
          t.filePath, t.fileSize, t.audioBitrate, t.audioFormat, t.audioSampleRate, ts, ts,
        ).lastInsertRowid as number;
      }
    },
    async updateTracks(rows, now) {
      const ts = sqliteTimestamp(now);
      for (const t of rows) {
        stmt.updateTrack.run(
          t.title, t.artistId, t.albumId, t.durationMs, t.trackNumber, t.discNumber, t.spotifyUri, t.isrc, t.musicbrainzId,
          t.filePath, t.fileSize, t.audioBitrate, t.audioFormat, t.audioSampleRate, ts, t.id,
        );
      }
    },
    async getOrCreatePlaylist(spec, now) {
      const ts = sqliteTimestamp(now);
      const found = (
        spec.spotifyUri ? (stmt.playlistByUri.get(spec.spotifyUri) ?? stmt.playlistByNameWithoutUri.get(spec.name)) : stmt.playlistByName.get(spec.name)
      ) as string | undefined;
      if (found) {
        if (spec.description !== undefined || spec.spotifyUri) stmt.describePlaylist.run(spec.description ?? null, spec.spotifyUri ?? null, ts, found);
        return found;
      }
      const id = newId();
      stmt.insertPlaylist.run(id, spec.name, spec.description ?? null, spec.source ?? 'manual', spec.spotifyUri ?? null, ts, ts);
      return id;
    },
    async replacePlaylist(playlistId, name, content, now) {
      // The write transaction (BEGIN IMMEDIATE) already keeps every other writer out.
      const ts = sqliteTimestamp(now);
      stmt.recreatePlaylist.run(playlistId, name, ts, ts);
      stmt.playlistUnstage.run();
      const { trackIds, addedAt } = content;
      const occurrences = new Map<string, number>();
      for (let i = 0; i < trackIds.length; i++) {
        const k = (occurrences.get(trackIds[i]) ?? 0) + 1;
        occurrences.set(trackIds[i], k);
        stmt.playlistStage.run(i, trackIds[i], k, Number.isNaN(addedAt[i]) ? null : sqliteTimestamp(new Date(addedAt[i])));
      }
      stmt.playlistKeepTimes.run(playlistId);
      stmt.playlistNewTimes.run(ts);
      stmt.playlistCut.run(playlistId, trackIds.length);
      stmt.playlistSet.run(playlistId);
      stmt.playlistAdd.run({ playlist: playlistId });
      stmt.touchPlaylist.run(ts, playlistId);
      stmt.playlistUnstage.run();
    },
    async countTracks(limit) {
      return stmt.countTracks.get(limit) as number;
    },
    async emptyRefTables() {
      const r = stmt.emptyRefTables.get() as { artists: number; albums: number };
      return { artists: r.artists === 1, albums: r.albums === 1 };
    },
    async deferIndexes() {
      // A dry run is rolled back whole: nothing to gain.
      if (dryRun) return async () => {};
      // Inside the batch's transaction (SQLite's DDL is transactional): until the commit other
      // connections still see the indexes, and a rollback or a crash leaves them as they were.
      const indexes = stmt.deferrableIndexes.all(...DEFERRED_TRACK_INDEXES) as Array<{ name: string; sql: string }>;
      for (const { name } of indexes) db.exec(`DROP INDEX "${name}"`);
      return async () => {
        for (const { sql } of indexes) db.exec(sql);
      };
    },
    async beginDryRun() {
      db.exec('BEGIN IMMEDIATE');
      dryRun = true;
    },
    async close() {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
        db.exec('DROP TABLE IF EXISTS temp.import_seen; DROP TABLE IF EXISTS temp.import_playlist');
        await checkpointer?.close();
        // The one checkpoint the import waits for (see openSqliteImportStore), of what the
        // checkpointer thread has not copied yet; PASSIVE never blocks on other connections,
        // whatever it cannot copy now a later checkpoint will.
        if (!dryRun) db.pragma('wal_checkpoint(PASSIVE)');
      } finally {
        db.close();
      }
    },
  };
}

export type { ExistingArtist };
