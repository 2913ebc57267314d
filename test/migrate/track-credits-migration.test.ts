import { jest } from '@jest/globals';
import Database from 'better-sqlite3';
import pg from 'pg';
import { applyMigrations, rollbackMigrations } from '../../src/migrate/migrator.js';
import { createEmptyDatabase, providers, type TestDatabase } from '../helpers/db.js';

jest.setTimeout(180_000);

const PREVIOUS = '20261128174650_init';
const MIGRATION = 'track_credits_playlist_positions';
/** Up to this one only: later migrations have tests of their own. */
const THROUGH = `20261130231422_${MIGRATION}`;

/** Plain SQL on the test database, `?` placeholders on both providers. */
interface Sql {
  run(sql: string, params?: unknown[]): Promise<void>;
  all(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

async function connect(db: TestDatabase): Promise<Sql> {
  if (db.dir) {
    const file = new Database(db.url.slice('file:'.length));
    return {
      run: async (sql, params = []) => void file.prepare(sql).run(...params),
      all: async (sql, params = []) => file.prepare(sql).all(...params) as Array<Record<string, unknown>>,
      close: async () => void file.close(),
    };
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  return {
    run: async (sql, params = []) => void (await client.query(numbered(sql), params)),
    all: async (sql, params = []) => (await client.query(numbered(sql), params)).rows as Array<Record<string, unknown>>,
    close: () => client.end(),
  };
}

const TABLES: Record<string, string> = {
  artists: 'id',
  albums: 'id',
  tracks: 'id',
  playlists: 'id',
  downloads: 'id',
  playlist_tracks: 'playlist_id, position, track_id',
};

/** Every row of every table of the previous version, in a stable order, values as text. */
async function snapshot(sql: Sql): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [table, order] of Object.entries(TABLES)) {
    const rows = await sql.all(`SELECT * FROM ${table} ORDER BY ${order}`);
    out[table] = rows.map((r) =>
      JSON.stringify(
        Object.keys(r)
          .sort()
          .map((k) => [k, r[k] instanceof Date ? (r[k]).toISOString() : String(r[k])]),
      ),
    );
  }
  return out;
}

describe.each(providers)('migration %s: track credits and position-keyed playlist entries', (provider) => {
  let db: TestDatabase;
  let sql: Sql;
  beforeAll(async () => {
    db = await createEmptyDatabase(provider);
    await applyMigrations(db.config, { to: PREVIOUS });
    sql = await connect(db);
  });
  afterAll(async () => {
    await sql?.close();
    await db?.drop();
  });

  test('up keeps every row and adds track_artists; down keeps every row again', async () => {
    const now = new Date('2026-01-02T03:04:05.678Z');
    const ts = provider === 'sqlite' ? now.toISOString().replace('Z', '+00:00') : now.toISOString();
    const artists = ['Björk', 'Sigur Rós', 'Ólafur Arnalds'].map((name, i) => ({ id: `00000000-0000-4000-8000-00000000000${i}`, name }));
    for (const a of artists) await sql.run('INSERT INTO artists (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)', [a.id, a.name, ts, ts]);
    await sql.run('INSERT INTO albums (id, title, artist_id, release_year, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', ['al-1', 'Homogenic', artists[0].id, 1997, ts, ts]);
    const tracks = Array.from({ length: 6 }, (_, i) => ({ id: `tr-${i}`, title: `Track ${i} — ${'★'.repeat(i)}`, artistId: artists[i % 3].id }));
    for (const [i, t] of tracks.entries()) {
      await sql.run('INSERT INTO tracks (id, title, artist_id, album_id, duration_ms, disc_number, spotify_uri, is_broken, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?)', [
        t.id,
        t.title,
        t.artistId,
        i < 3 ? 'al-1' : null,
        1000 * i,
        `spotify:track:${String(i).padStart(22, 'A')}`,
        provider === 'sqlite' ? 0 : false,
        ts,
        ts,
      ]);
    }
    await sql.run("INSERT INTO downloads (id, track_id, status, priority, created_at, updated_at) VALUES ('dl-1', 'tr-1', 'queued', 3, ?, ?)", [ts, ts]);
    for (const id of ['pl-a', 'pl-b', 'pl-c']) await sql.run("INSERT INTO playlists (id, name, source, created_at, updated_at) VALUES (?, ?, 'manual', ?, ?)", [id, `List ${id}`, ts, ts]);
    // pl-a: positions 0..4 as the repository writes them; pl-c empty.
    for (let p = 0; p < 5; p++) await sql.run('INSERT INTO playlist_tracks (playlist_id, track_id, position, added_at) VALUES (?, ?, ?, ?)', ['pl-a', `tr-${4 - p}`, p, ts]);
    // pl-b: positions a hand edit left colliding and with a gap (the old key allowed it).
    for (const [track, p] of [['tr-0', 3], ['tr-1', 3], ['tr-2', 7]] as const) {
      await sql.run('INSERT INTO playlist_tracks (playlist_id, track_id, position, added_at) VALUES (?, ?, ?, ?)', ['pl-b', track, p, ts]);
    }
    const before = await snapshot(sql);

    // Migrations run with no other connection open (a SQLite connection would hold the file's lock).
    await sql.close();
    const up = await applyMigrations(db.config, { to: THROUGH });
    sql = await connect(db);
    expect(up.applied.map((m) => m.name.replace(/^\d+_/, ''))).toEqual([MIGRATION]);
    const after = await snapshot(sql);
    for (const table of ['artists', 'albums', 'tracks', 'playlists', 'downloads']) expect(after[table]).toEqual(before[table]);
    const entries = (rows: Array<Record<string, unknown>>) => rows.map((r) => `${String(r.playlist_id)}:${Number(r.position)}:${String(r.track_id)}`);
    const order = 'SELECT playlist_id, position, track_id FROM playlist_tracks ORDER BY playlist_id, position';
    // pl-a as it was; pl-b in its order (position, then added_at, then track id), numbered 0, 1, 2.
    expect(entries(await sql.all(order))).toEqual(['pl-a:0:tr-4', 'pl-a:1:tr-3', 'pl-a:2:tr-2', 'pl-a:3:tr-1', 'pl-a:4:tr-0', 'pl-b:0:tr-0', 'pl-b:1:tr-1', 'pl-b:2:tr-2']);
    expect(after.playlist_tracks.filter((r) => r.includes('pl-a'))).toEqual(before.playlist_tracks.filter((r) => r.includes('pl-a')));
    // No credits yet: a track's first artist stays tracks.artist_id (not stored twice).
    expect(await sql.all('SELECT * FROM track_artists')).toEqual([]);

    // What the new version allows: a second credited artist, the same track twice in a playlist.
    await sql.run('INSERT INTO track_artists (track_id, artist_id, position) VALUES (?, ?, 1)', ['tr-0', artists[1].id]);
    await sql.run('INSERT INTO playlist_tracks (playlist_id, track_id, position, added_at) VALUES (?, ?, 5, ?)', ['pl-a', 'tr-4', ts]);

    await sql.close();
    const down = await rollbackMigrations(db.config);
    sql = await connect(db);
    expect(down.rolledBack.map((m) => m.name.replace(/^\d+_/, ''))).toEqual([MIGRATION]);
    const back = await snapshot(sql);
    for (const table of ['artists', 'albums', 'tracks', 'playlists', 'downloads']) expect(back[table]).toEqual(before[table]);
    // The second entry of tr-4 goes (the old key holds a track once), the rest as after up.
    expect(entries(await sql.all(order))).toEqual(['pl-a:0:tr-4', 'pl-a:1:tr-3', 'pl-a:2:tr-2', 'pl-a:3:tr-1', 'pl-a:4:tr-0', 'pl-b:0:tr-0', 'pl-b:1:tr-1', 'pl-b:2:tr-2']);
    const tables = provider === 'sqlite'
      ? await sql.all("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'track_artists'")
      : await sql.all("SELECT to_regclass('track_artists')::text AS name WHERE to_regclass('track_artists') IS NOT NULL");
    expect(tables).toHaveLength(0);
    // And up again from there.
    await sql.close();
    expect((await applyMigrations(db.config, { to: THROUGH })).applied).toHaveLength(1);
    sql = await connect(db);
  });
});
