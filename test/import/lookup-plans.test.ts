import Database from 'better-sqlite3';
import pg from 'pg';
import { PG_FIND_ARTISTS_SQL, PLANNER_SETTINGS } from '../../src/import/store/postgres.js';
import { SQLITE_ARTISTS_BY_NAME_SQL } from '../../src/import/store/sqlite.js';
import { providers, useMigratedDatabase } from '../helpers/db.js';

// The import looks artists up by name every chunk. Without an index on artists.name that lookup
// read the whole table each time, so an import into a large library grew slower a row with the
// library (a re-import of 1M rows took 1.3× as long a row as one of 100k): its plan must use the index.
describe.each(providers)('the import finds artists by name with an index on %s', (provider) => {
  const database = useMigratedDatabase(provider);

  test('the lookup by name is an index scan on a library of 5,000 artists, not a scan of the table', async () => {
    const db = database();
    const ts = '2026-01-01T00:00:00.000Z';
    const names = Array.from({ length: 25 }, (_, i) => `Artist ${i * 200}`);
    const uris = Array.from({ length: 25 }, (_, i) => `spotify:artist:${String(i * 200).padStart(22, '0')}`);
    let plan: string;
    if (provider === 'sqlite') {
      const file = new Database(db.url.slice('file:'.length));
      try {
        const insert = file.prepare('INSERT INTO artists (id, name, spotify_uri, created_at, updated_at) VALUES (?, ?, ?, ?, ?)');
        file.transaction(() => {
          for (let i = 0; i < 5000; i++) insert.run(`a-${i}`, `Artist ${i}`, i % 2 ? `spotify:artist:${String(i).padStart(22, '0')}` : null, ts, ts);
        })();
        file.exec('ANALYZE');
        const rows = file.prepare(`EXPLAIN QUERY PLAN ${SQLITE_ARTISTS_BY_NAME_SQL}`).all(JSON.stringify(names)) as Array<{ detail: string }>;
        plan = rows.map((r) => r.detail).join('\n');
        expect(file.prepare(SQLITE_ARTISTS_BY_NAME_SQL).all(JSON.stringify(names))).toHaveLength(25);
      } finally {
        file.close();
      }
      expect(plan).toMatch(/SEARCH artists USING INDEX ix_artists_name/);
      expect(plan).not.toMatch(/SCAN artists/);
    } else {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(
          `INSERT INTO artists (id, name, spotify_uri, created_at, updated_at)
           SELECT 'a-' || i, 'Artist ' || i, CASE WHEN i % 2 = 1 THEN 'spotify:artist:' || lpad(i::text, 22, '0') END, $1, $1 FROM generate_series(0, 4999) i`,
          [ts],
        );
        await client.query('ANALYZE artists');
        // As the import's reader runs it.
        await client.query(PLANNER_SETTINGS.map((s) => `SET ${s};`).join(' '));
        const rows = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${PG_FIND_ARTISTS_SQL}`, [uris, names]);
        plan = rows.rows.map((r) => r['QUERY PLAN']).join('\n');
        expect((await client.query(PG_FIND_ARTISTS_SQL, [uris, names])).rows).toHaveLength(25);
      } finally {
        await client.end();
      }
      expect(plan).toMatch(/Index Scan on ix_artists_name|Index Scan using ix_artists_name/);
      expect(plan).not.toMatch(/Seq Scan on artists/);
    }
  });
});
