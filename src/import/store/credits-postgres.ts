/**
 * The import's reads and writes of track credits on PostgreSQL: the artists credited after a
 * track's first (track_artists positions 1, 2, …; the first is tracks.artist_id), as set-based
 * statements over unnest() arrays. Kept apart from postgres.ts, whose hot path only calls these.
 */
import type { ImportStore } from './types.js';

type Query = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

/** `read` runs where the finds run (the reader connection), `write` in the batch's transaction. */
export function pgCredits(read: Query, write: Query): Pick<ImportStore, 'findCredits' | 'writeCredits'> {
  return {
    async findCredits(trackIds) {
      const credits = new Map<string, string>();
      if (!trackIds.length) return credits;
      const rows = await read('SELECT track_id, artist_id FROM track_artists WHERE track_id = ANY($1::text[]) AND position > 0 ORDER BY track_id, position', [trackIds]);
      for (const r of rows as Array<{ track_id: string; artist_id: string }>) {
        const before = credits.get(r.track_id);
        credits.set(r.track_id, before === undefined ? r.artist_id : `${before},${r.artist_id}`);
      }
      return credits;
    },
    async writeCredits(tracks, replace) {
      if (!tracks.length) return;
      if (replace) await write('DELETE FROM track_artists WHERE track_id = ANY($1::text[]) AND position > 0', [tracks.map((t) => t.id)]);
      const trackIds: string[] = [];
      const artistIds: string[] = [];
      const positions: number[] = [];
      for (const t of tracks) {
        if (!t.credits) continue;
        t.credits.split(',').forEach((artistId, i) => {
          trackIds.push(t.id);
          artistIds.push(artistId);
          positions.push(i + 1);
        });
      }
      if (!trackIds.length) return;
      await write('INSERT INTO track_artists (track_id, artist_id, position) SELECT * FROM unnest($1::text[], $2::text[], $3::int[])', [trackIds, artistIds, positions]);
    },
  };
}
