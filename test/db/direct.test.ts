import { openDatabase, type Database } from '../../src/db/client.js';
import { ArtistRepository } from '../../src/repositories/artist-repository.js';
import { AlbumRepository } from '../../src/repositories/album-repository.js';
import { TrackRepository } from '../../src/repositories/track-repository.js';
import { configFor, createMigratedDatabase, type TestDatabase } from '../helpers/db.js';

/** Statements past Prisma on PostgreSQL (src/db/direct.ts): prepared by name, unless behind PgBouncer. */
describe('direct statements on postgresql', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createMigratedDatabase('postgresql');
  });
  afterAll(() => database.drop());

  /** One connection in the pool, so the session that prepared is the session asked. */
  async function withOneConnection<T>(url: string, fn: (db: Database) => Promise<T>): Promise<T> {
    const db = await openDatabase(configFor(url, { DATABASE_POOL_SIZE: '1', DATABASE_MAX_OVERFLOW: '0' }));
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }

  async function preparedAfterWrites(db: Database): Promise<string[]> {
    const [artist] = await new ArtistRepository(db).getOrCreateBatch([{ name: `Direct ${Math.random()}` }]);
    const [album] = await new AlbumRepository(db).getOrCreateBatch([{ title: 'Direct', artistId: artist.id }]);
    const tracks = new TrackRepository(db);
    await tracks.addBatch([{ title: 'one', artistId: artist.id, albumId: album.id, trackNumber: 1 }]);
    expect((await tracks.listByAlbum(album.id)).map((t) => t.title)).toEqual(['one']);
    expect((await tracks.listByAlbum(album.id)).map((t) => t.title)).toEqual(['one']); // the prepared statement again
    const { rows } = await db.pgPool!.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name');
    return rows.map((r) => r.name);
  }

  test('the batched insert and the album listing are prepared once per connection and reused', async () => {
    await withOneConnection(database.url, async (db) => {
      expect(db.pgNamedStatements).toBe(true);
      const names = await preparedAfterWrites(db);
      expect(names.length).toBeGreaterThanOrEqual(2);
      expect(names.every((n) => n.startsWith('soulspot_'))).toBe(true);
    });
  });

  test('?pgbouncer=true prepares nothing by name (PgBouncer in transaction mode would lose it)', async () => {
    const url = new URL(database.url);
    url.searchParams.set('pgbouncer', 'true');
    await withOneConnection(url.toString(), async (db) => {
      expect(db.pgNamedStatements).toBe(false);
      expect(await preparedAfterWrites(db)).toEqual([]);
    });
  });
});
