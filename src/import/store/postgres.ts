import { newId } from '../../ids.js';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DatabaseError } from '../../errors.js';
import { DEFERRED_TRACK_INDEXES, TRACK_COLUMNS, trackFromRow, type ExistingAlbum, type ImportStore, type TrackValues } from './types.js';
import { pgCredits } from './credits-postgres.js';

/**
 * Planner settings for the import's lookups: with the default random_page_cost the planner reads a
 * whole 100k-track table rather than probe an index 1,000 times (measured here: 45 ms against
 * 13 ms a chunk), and parallel workers only slow such short statements. Set for the writer's
 * transactions only (SET LOCAL), and for the reader's session until the import closes it.
 */
export const PLANNER_SETTINGS = ['random_page_cost = 1.1', 'max_parallel_workers_per_gather = 0'];

/**
 * The start of every import transaction. The advisory lock serialises import batches across
 * processes, like SQLite's BEGIN IMMEDIATE (name matches need it).
 */
const IMPORT_TRANSACTION_SQL = `${PLANNER_SETTINGS.map((s) => `SET LOCAL ${s}; `).join('')}SELECT pg_advisory_xact_lock(hashtext('soulspot.import-tracks'))`;

/** The artists of these Spotify URIs or names: two index lookups (ix_artists_name for the names), whatever the library's size. */
export const PG_FIND_ARTISTS_SQL = 'SELECT id, name, spotify_uri FROM artists WHERE spotify_uri = ANY($1::text[]) OR name = ANY($2::text[]) ORDER BY created_at, id';

/*
 * The track finds: index lookups, so the cost follows the chunk, not the table. (One scan with the
 * conditions OR'ed together reads the whole table each call: measured here, 38-65 ms a 1,000-row
 * chunk on a 100k-track table, against 13 ms for these lookups with the import's planner
 * settings.) The ISRCs and MusicBrainz ids held by a track found by its Spotify URI are not looked
 * up again: both are unique, so that track is the one they would find (on a re-import, every
 * track). Measured here on 1,000-row chunks of a 100k-track table: 13-16 ms → 9-10 ms a chunk. A
 * track found by both its ISRC and its MusicBrainz id comes back twice, which the planning allows
 * for.
 */
const TRACK_COLUMNS_OF_T = TRACK_COLUMNS.map((c) => `t.${c}`).join(', ');
const FIND_HELD_TRACKS_SQL = `WITH u AS MATERIALIZED (SELECT ${TRACK_COLUMNS_OF_T} FROM tracks t WHERE t.spotify_uri = ANY($1::text[]))
  SELECT * FROM u
  UNION ALL SELECT ${TRACK_COLUMNS_OF_T} FROM tracks t
    WHERE t.isrc = ANY(ARRAY(SELECT unnest($2::text[]) EXCEPT SELECT isrc FROM u WHERE isrc IS NOT NULL))
  UNION ALL SELECT ${TRACK_COLUMNS_OF_T} FROM tracks t
    WHERE t.musicbrainz_id = ANY(ARRAY(SELECT unnest($3::text[]) EXCEPT SELECT musicbrainz_id FROM u WHERE musicbrainz_id IS NOT NULL))`;
const FIND_TRACKS_BY_TITLE_SQL = `SELECT ${TRACK_COLUMNS_OF_T} FROM unnest($1::text[], $2::text[]) AS k(title, artist_id)
  JOIN tracks t ON t.title = k.title AND t.artist_id = k.artist_id`;

/** The reader's temp_buffers (see openPgImportStore). */
const READER_TEMP_BUFFERS = '256MB';

/** Deadlock, serialization failure, unique violation: another writer raced us; the batch is redone. */
const RETRYABLE = new Set(['40P01', '40001', '23505']);
const MAX_ATTEMPTS = 5;

/** Playlist entries a COPY statement when a playlist is replaced (the text of one stays a few hundred kB). */
const PLAYLIST_COPY_ROWS = 10_000;

/** COPY text-format field: \N for null, backslash escapes for the characters COPY treats specially. */
function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'number') return String(value);
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r')) : value;
}

/** COPY … FROM STDIN of ready-made text-format rows. */
async function copyRows(client: pg.PoolClient, target: string, text: string): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${target} FROM STDIN`));
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    stream.on('finish', () => resolve());
    stream.end(text);
  });
}

/** A pool client for the import; a failure to connect says what to check. */
async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw new DatabaseError(`cannot connect to PostgreSQL: ${(error as Error).message}; check that the server runs and the database URL`, { cause: error });
  }
}

/**
 * The PostgreSQL import store: new tracks written with COPY, everything else as set-based
 * statements over unnest() arrays; always parameterized, COPY data escaped for the text format.
 *
 * Two clients from the pool for the whole run: the writer holds the batch transactions; the
 * reader runs the lookups (and keeps the run's seen ids in a temporary table) at the same time,
 * so the server looks up the next chunk on one core while it writes the current one on another
 * (`separateReader`). A dry run, whose writes are never committed, or a pool of one connection,
 * uses one client for both.
 */
export async function openPgImportStore(pool: pg.Pool, options: { dryRun?: boolean } = {}): Promise<ImportStore> {
  const writer = await connect(pool);
  let reader = writer;
  try {
    if (!options.dryRun && ((pool.options as pg.PoolConfig).max ?? 10) >= 2) {
      reader = await connect(pool);
      await reader.query(PLANNER_SETTINGS.map((s) => `SET ${s};`).join(' '));
      // Room for the run's temporary table of matched ids in the reader's own buffers (the default
      // 8 MB holds ~80k of them; past that every probe and insert goes through the OS): a
      // re-import of 1M unchanged rows took 1.15× as long a row as one of 100k. The server
      // allocates these buffers only as the table grows; the reader is closed, not pooled, after
      // the import (see close). Allowed only before the session's first use of a temporary table:
      // a connection that used one keeps its setting.
      await reader.query(`SET temp_buffers = '${READER_TEMP_BUFFERS}'`).catch(() => {});
    }
    await reader.query('CREATE TEMP TABLE IF NOT EXISTS import_seen (id text PRIMARY KEY)');
    await reader.query('TRUNCATE import_seen');
    await writer.query('SELECT 1 FROM tracks LIMIT 0'); // not migrated: fail here, before any write
  } catch (error) {
    writer.release(true);
    if (reader !== writer) reader.release(true);
    if (error instanceof DatabaseError) throw error;
    // Only a missing table (undefined_table) calls for migrate; a refused permission does not.
    const advice = (error as { code?: string }).code === '42P01' ? 'run soulspot migrate first' : 'check the database URL and its permissions';
    throw new DatabaseError(`cannot prepare the PostgreSQL import: ${(error as Error).message}; ${advice}`, { cause: error });
  }
  const q = async <R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await writer.query<R>(sql, params)).rows;
  let dryRun = false;
  /**
   * The current transaction is a bulk load (deferIndexes): it holds the tables it writes, so no
   * other writer can race it and it is never redone (its chunks are not kept: memory stays flat);
   * the finds run on the writer, since the reader could not read tracks past the transaction's
   * lock.
   */
  let bulk = false;
  let broken = false;
  /** A statement on the reader (never returned to the pool, see close). */
  const r = async <R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []) => (await reader.query<R>(sql, params)).rows;
  /** The finds of artists, albums and tracks: on the reader, or on the writer in a bulk load. */
  const find = <R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []) => (bulk ? q<R>(sql, params) : r<R>(sql, params));

  /** Gives artists or albums that have none the Spotify URI a batch matched them by. */
  const attachUris = async (table: 'artists' | 'albums', rows: Array<{ id: string; spotifyUri: string }>, now: Date) => {
    if (!rows.length) return;
    await q(
      `UPDATE ${table} a SET spotify_uri = u.uri, updated_at = $3::timestamp FROM unnest($1::text[], $2::text[]) AS u(id, uri)
       WHERE a.id = u.id AND a.spotify_uri IS NULL`,
      [rows.map((r) => r.id), rows.map((r) => r.spotifyUri), now.toISOString()],
    );
  };

  const store: ImportStore = {
    provider: 'postgresql',
    get replays() {
      return !bulk;
    },
    get separateReader() {
      return reader !== writer && !bulk;
    },
    pipelines: true,
    // The credits are read where the other finds are: in a bulk load, on the writer (the reader
    // cannot see what the transaction wrote).
    ...pgCredits((sql, params) => find(sql, params), q),
    async transaction(fn) {
      if (dryRun) return fn();
      for (let attempt = 1; ; attempt++) {
        await writer.query('BEGIN');
        try {
          await writer.query(IMPORT_TRANSACTION_SQL);
          const result = await fn();
          await writer.query('COMMIT');
          return result;
        } catch (error) {
          await writer.query('ROLLBACK').catch(() => (broken = true));
          const code = (error as { code?: string }).code;
          // A bulk load cannot be redone (its chunks were not kept); nothing raced it anyway.
          if (!code || !RETRYABLE.has(code) || attempt >= MAX_ATTEMPTS || broken || bulk) throw error;
        } finally {
          bulk = false;
        }
      }
    },
    async countTracks(limit) {
      const rows = await q<{ n: number }>('SELECT count(*)::int AS n FROM (SELECT 1 FROM tracks LIMIT $1) t', [limit]);
      return rows[0].n;
    },
    async emptyRefTables() {
      const rows = await q<{ artists: boolean; albums: boolean }>('SELECT NOT EXISTS (SELECT 1 FROM artists) AS artists, NOT EXISTS (SELECT 1 FROM albums) AS albums');
      return rows[0];
    },
    async deferIndexes() {
      if (dryRun) return async () => {};
      // The tables this batch writes, held until its commit: other writers wait (readers of
      // artists and albums do not), so nothing can race the batch and it never needs redoing.
      // Tracks is held whole anyway by DROP INDEX. A deadlock here comes before any row is taken,
      // so the batch may still be retried.
      await q('LOCK TABLE artists, albums IN SHARE ROW EXCLUSIVE MODE');
      await q('LOCK TABLE tracks IN ACCESS EXCLUSIVE MODE');
      bulk = true;
      // Dropped in this transaction (PostgreSQL's DDL is transactional): a rollback, a lost
      // connection or a killed import leaves them as they were.
      const indexes = await q<{ name: string; definition: string }>(
        `SELECT indexname AS name, indexdef AS definition FROM pg_indexes
         WHERE schemaname = current_schema() AND tablename = 'tracks' AND indexname = ANY($1::text[]) ORDER BY indexname`,
        [[...DEFERRED_TRACK_INDEXES]],
      );
      for (const { name } of indexes) await q(`DROP INDEX "${name.replace(/"/g, '""')}"`);
      return async () => {
        for (const { definition } of indexes) await q(definition);
      };
    },
    async findArtists(uris, names) {
      const rows = await find<{ id: string; name: string; spotify_uri: string | null }>(PG_FIND_ARTISTS_SQL, [uris, names]);
      return rows.map((r) => ({ id: r.id, name: r.name, spotifyUri: r.spotify_uri }));
    },
    async insertArtists(rows, now) {
      if (!rows.length) return;
      await q(
        `INSERT INTO artists (id, name, spotify_uri, created_at, updated_at)
         SELECT u.id, u.name, u.uri, $4::timestamp, $4::timestamp FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, name, uri)`,
        [rows.map((r) => r.id), rows.map((r) => r.name), rows.map((r) => r.spotifyUri), now.toISOString()],
      );
    },
    attachArtistUris: (rows, now) => attachUris('artists', rows, now),
    async findAlbums(uris, titles) {
      const rows = await find<{ id: string; title: string; artist_id: string; spotify_uri: string | null; release_year: number | null }>(
        `SELECT id, title, artist_id, spotify_uri, release_year, created_at FROM albums WHERE spotify_uri = ANY($1::text[])
         UNION SELECT a.id, a.title, a.artist_id, a.spotify_uri, a.release_year, a.created_at FROM albums a
           JOIN unnest($2::text[], $3::text[]) AS k(title, artist_id) ON a.title = k.title AND a.artist_id = k.artist_id
         ORDER BY created_at, id`,
        [uris, titles.map((t) => t[0]), titles.map((t) => t[1])],
      );
      return rows.map((r): ExistingAlbum => ({ id: r.id, title: r.title, artistId: r.artist_id, spotifyUri: r.spotify_uri, releaseYear: r.release_year }));
    },
    async insertAlbums(rows, now) {
      if (!rows.length) return;
      await q(
        `INSERT INTO albums (id, title, artist_id, release_year, spotify_uri, created_at, updated_at)
         SELECT u.id, u.title, u.artist_id, u.year, u.uri, $6::timestamp, $6::timestamp
         FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[]) AS u(id, title, artist_id, year, uri)`,
        [rows.map((r) => r.id), rows.map((r) => r.title), rows.map((r) => r.artistId), rows.map((r) => r.releaseYear), rows.map((r) => r.spotifyUri), now.toISOString()],
      );
    },
    attachAlbumUris: (rows, now) => attachUris('albums', rows, now),
    async findTracks(uris, isrcs, mbids) {
      return (await find(FIND_HELD_TRACKS_SQL, [uris, isrcs, mbids])).map(trackFromRow);
    },
    async findTracksByTitle(titles) {
      return (await find(FIND_TRACKS_BY_TITLE_SQL, [titles.map((t) => t[0]), titles.map((t) => t[1])])).map(trackFromRow);
    },
    async findSeen(tracks) {
      if (!tracks.length) return new Set();
      const ids = tracks.map((t) => t.id);
      const rows = await r<{ id: string }>('SELECT id FROM import_seen WHERE id = ANY($1::text[])', [ids]);
      return new Set(rows.map((r) => r.id));
    },
    async markSeen(tracks) {
      // A batch never marks a track twice, nor one marked before (that row would be a duplicate).
      if (tracks.length) await copyRows(reader, 'import_seen (id)', `${tracks.map((t) => t.id).join('\n')}\n`);
    },
    async insertTracks(rows, now) {
      if (!rows.length) return;
      const ts = now.toISOString().replace('T', ' ').replace('Z', '');
      let text = '';
      for (const t of rows) {
        text +=
          `${t.id}\t${copyField(t.title)}\t${t.artistId}\t${copyField(t.albumId)}\t${t.durationMs}\t${copyField(t.trackNumber)}\t${t.discNumber}\t` +
          `${copyField(t.spotifyUri)}\t${copyField(t.isrc)}\t${copyField(t.musicbrainzId)}\t${copyField(t.filePath)}\t${copyField(t.fileSize)}\t` +
          `${copyField(t.audioBitrate)}\t${copyField(t.audioFormat)}\t${copyField(t.audioSampleRate)}\tf\t${ts}\t${ts}\n`;
      }
      // Straight into tracks: a staging table plus INSERT … SELECT wrote every row twice and cost
      // about a third of the import's time. A Spotify URI or ISRC raced in by another writer fails
      // the COPY with a unique violation, and the batch is retried (see transaction()).
      await copyRows(writer, `tracks (${TRACK_COLUMNS.join(', ')}, is_broken, created_at, updated_at)`, text);
    },
    async updateTracks(rows, now) {
      if (!rows.length) return;
      const col = <K extends keyof TrackValues>(k: K) => rows.map((r) => r[k]);
      await q(
        `UPDATE tracks t SET title = u.title, artist_id = u.artist_id, album_id = u.album_id, duration_ms = u.duration_ms,
           track_number = u.track_number, disc_number = u.disc_number, spotify_uri = u.spotify_uri, isrc = u.isrc,
           musicbrainz_id = u.musicbrainz_id, file_path = u.file_path, file_size = u.file_size, audio_bitrate = u.audio_bitrate,
           audio_format = u.audio_format, audio_sample_rate = u.audio_sample_rate, updated_at = $16::timestamp
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[], $8::text[], $9::text[],
                     $10::text[], $11::text[], $12::bigint[], $13::int[], $14::text[], $15::int[])
           AS u(id, title, artist_id, album_id, duration_ms, track_number, disc_number, spotify_uri, isrc, musicbrainz_id,
                file_path, file_size, audio_bitrate, audio_format, audio_sample_rate)
         WHERE t.id = u.id`,
        [
          col('id'),
          col('title'),
          col('artistId'),
          col('albumId'),
          col('durationMs'),
          col('trackNumber'),
          col('discNumber'),
          col('spotifyUri'),
          col('isrc'),
          col('musicbrainzId'),
          col('filePath'),
          col('fileSize'),
          col('audioBitrate'),
          col('audioFormat'),
          col('audioSampleRate'),
          now.toISOString(),
        ],
      );
    },
    async getOrCreatePlaylist(spec, now) {
      const ts = now.toISOString();
      const found = spec.spotifyUri
        ? await q<{ id: string }>(
            `SELECT id FROM (SELECT id, 0 AS o, created_at FROM playlists WHERE spotify_uri = $1
               UNION ALL SELECT id, 1, created_at FROM playlists WHERE name = $2 AND spotify_uri IS NULL) p ORDER BY o, created_at, id LIMIT 1`,
            [spec.spotifyUri, spec.name],
          )
        : await q<{ id: string }>('SELECT id FROM playlists WHERE name = $1 ORDER BY created_at, id LIMIT 1', [spec.name]);
      if (found.length) {
        if (spec.description !== undefined || spec.spotifyUri) {
          await q('UPDATE playlists SET description = $2, spotify_uri = COALESCE(spotify_uri, $3), updated_at = $4::timestamp WHERE id = $1', [
            found[0].id,
            spec.description ?? null,
            spec.spotifyUri ?? null,
            ts,
          ]);
        }
        return found[0].id;
      }
      const id = newId();
      await q('INSERT INTO playlists (id, name, description, source, spotify_uri, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6::timestamp, $6::timestamp)', [
        id,
        spec.name,
        spec.description ?? null,
        spec.source ?? 'manual',
        spec.spotifyUri ?? null,
        ts,
      ]);
      return id;
    },
    async replacePlaylist(playlistId, name, content, now) {
      const ts = now.toISOString();
      // The playlist's row lock, until the commit: every writer of this playlist (another import,
      // the repository) takes its turn. Transaction-scoped, as PgBouncer's transaction mode needs.
      const { rowCount } = await writer.query('UPDATE playlists SET updated_at = $2::timestamp WHERE id = $1', [playlistId, ts]);
      if (!rowCount) await q("INSERT INTO playlists (id, name, source, created_at, updated_at) VALUES ($1, $2, 'manual', $3::timestamp, $3::timestamp)", [playlistId, name, ts]);
      // Staged in a table of this transaction only (dropped at its end: no session state). k: the
      // entry's occurrence of its track (1 for the first).
      await q('CREATE TEMP TABLE import_playlist (position int PRIMARY KEY, track_id text NOT NULL, k int NOT NULL, added_at timestamp) ON COMMIT DROP');
      const { trackIds, addedAt } = content;
      const occurrences = new Map<string, number>();
      for (let start = 0; start < trackIds.length; start += PLAYLIST_COPY_ROWS) {
        let text = '';
        for (let i = start; i < Math.min(start + PLAYLIST_COPY_ROWS, trackIds.length); i++) {
          const k = (occurrences.get(trackIds[i]) ?? 0) + 1;
          occurrences.set(trackIds[i], k);
          text += `${i}\t${copyField(trackIds[i])}\t${k}\t${Number.isNaN(addedAt[i]) ? '\\N' : new Date(addedAt[i]).toISOString()}\n`;
        }
        await copyRows(writer, 'import_playlist (position, track_id, k, added_at)', text);
      }
      await q('ANALYZE import_playlist');
      // An entry the row gives no time keeps the time of the same occurrence of its track in the
      // playlist before (the 2nd entry of a track takes the 2nd one's), else gets the import's.
      await q(
        `UPDATE import_playlist s SET added_at = COALESCE(o.added_at, $2::timestamp)
         FROM import_playlist s2 LEFT JOIN (SELECT track_id, added_at, row_number() OVER (PARTITION BY track_id ORDER BY position) AS k
                                             FROM playlist_tracks WHERE playlist_id = $1) o ON o.track_id = s2.track_id AND o.k = s2.k
         WHERE s.added_at IS NULL AND s2.position = s.position`,
        [playlistId, ts],
      );
      // Then only what differs is written: positions past the new end go, changed ones are set, new ones added.
      await q('DELETE FROM playlist_tracks WHERE playlist_id = $1 AND position >= $2', [playlistId, trackIds.length]);
      await q(
        `UPDATE playlist_tracks p SET track_id = s.track_id, added_at = s.added_at FROM import_playlist s
         WHERE p.playlist_id = $1 AND p.position = s.position AND (p.track_id <> s.track_id OR p.added_at <> s.added_at)`,
        [playlistId],
      );
      await q(
        `INSERT INTO playlist_tracks (playlist_id, track_id, position, added_at)
         SELECT $1, s.track_id, s.position, s.added_at FROM import_playlist s
         WHERE NOT EXISTS (SELECT 1 FROM playlist_tracks p WHERE p.playlist_id = $1 AND p.position = s.position)`,
        [playlistId],
      );
    },
    async beginDryRun() {
      await writer.query('BEGIN');
      await writer.query(IMPORT_TRANSACTION_SQL);
      dryRun = true;
    },
    async close() {
      // A cleanup that fails (the connection was lost, say) closes that connection instead, which
      // ends its session, transaction, temporary table and settings with it. It must not throw:
      // that would hide the error that ended the import.
      const tidy = (client: pg.PoolClient, sql: string) => client.query(sql).then(() => true, () => false);
      if (!broken && dryRun) broken = !(await tidy(writer, 'ROLLBACK'));
      if (reader === writer && !broken) broken = !(await tidy(writer, 'DROP TABLE IF EXISTS import_seen'));
      // A broken connection must not go back to the pool Prisma uses. The reader never does: its
      // session holds the temporary table, the planner settings and the larger temporary buffers
      // (the server frees them with the connection).
      writer.release(broken);
      if (reader !== writer) reader.release(true);
    },
  };
  return store;
}
