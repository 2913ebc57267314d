/**
 * The import's reads and writes of track credits on SQLite: the artists credited after a track's
 * first (track_artists positions 1, 2, …; the first is tracks.artist_id). Kept apart from
 * sqlite.ts, whose hot path only calls these.
 */
import type Database from 'better-sqlite3';
import type { ImportStore } from './types.js';

/** Compiling the statements checks the table: a database without it fails here, before any write. */
export function sqliteCredits(db: Database.Database): Pick<ImportStore, 'findCredits' | 'writeCredits'> {
  const find = db.prepare(
    'SELECT track_id, artist_id FROM track_artists WHERE track_id IN (SELECT value FROM json_each(?)) AND position > 0 ORDER BY track_id, position',
  );
  const drop = db.prepare('DELETE FROM track_artists WHERE track_id = ? AND position > 0');
  const add = db.prepare('INSERT INTO track_artists (track_id, artist_id, position) VALUES (?, ?, ?)');
  return {
    async findCredits(trackIds) {
      const credits = new Map<string, string>();
      if (!trackIds.length) return credits;
      for (const r of find.all(JSON.stringify(trackIds)) as Array<{ track_id: string; artist_id: string }>) {
        const before = credits.get(r.track_id);
        credits.set(r.track_id, before === undefined ? r.artist_id : `${before},${r.artist_id}`);
      }
      return credits;
    },
    async writeCredits(tracks, replace) {
      for (const t of tracks) {
        if (replace) drop.run(t.id);
        if (!t.credits) continue;
        const ids = t.credits.split(',');
        for (let i = 0; i < ids.length; i++) add.run(t.id, ids[i], i + 1);
      }
    },
  };
}
