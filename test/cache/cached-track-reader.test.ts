import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { LRUCache } from '../../src/cache/lru-cache.js';
import { CachedTrackReader, createCachedTrackReader, type Track, type TrackSource } from '../../src/cache/cached-track-reader.js';

describe.each(providers)('cached track reads on %s', (provider) => {
  let testDb: TestDatabase;
  let db: Database;
  let artistId: string;

  beforeAll(async () => {
    testDb = await createMigratedDatabase(provider);
    db = await openDatabase(testDb.config);
    artistId = (await db.prisma.artist.create({ data: { name: 'Portishead' } })).id;
  });

  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  test('read-through: the first read queries, the second is a hit with no statement', async () => {
    const cache = new LRUCache<string, Track>({ maxSize: 100 });
    const { reader, repository } = createCachedTrackReader(db, cache);
    const [id] = await repository.addBatchReturningIds([{ title: 'Roads', artistId }]);
    const first = await reader.getById(id!);
    expect(first?.title).toBe('Roads');
    const { statements } = await db.queryLog.countDuring(async () => {
      expect((await reader.getById(id!))?.title).toBe('Roads');
    });
    expect(statements).toBe(0);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1 });
    expect(await reader.getById('00000000-0000-4000-8000-000000000000')).toBeUndefined();
  });

  test('a write through the repository invalidates the cached track (update and delete)', async () => {
    const cache = new LRUCache<string, Track>({ maxSize: 100 });
    const { reader, repository } = createCachedTrackReader(db, cache);
    const [id, other] = await repository.addBatchReturningIds([
      { title: 'Glory Box', artistId },
      { title: 'Sour Times', artistId },
    ]);
    expect((await reader.getById(id!))?.title).toBe('Glory Box');
    expect((await reader.getById(other!))?.title).toBe('Sour Times');
    await repository.updateBatch([{ id: id!, title: 'Glory Box (Live)' }]);
    expect(cache.has(id!)).toBe(false);
    expect(cache.has(other!)).toBe(true); // only the written track is dropped
    expect((await reader.getById(id!))?.title).toBe('Glory Box (Live)');
    await repository.deleteBatch([id!]);
    expect(await reader.getById(id!)).toBeUndefined();
  });

  test('many reads: misses go to the database in one query, hits stay in memory', async () => {
    const cache = new LRUCache<string, Track>({ maxSize: 100 });
    const { reader, repository } = createCachedTrackReader(db, cache);
    const ids = await repository.addBatchReturningIds(Array.from({ length: 20 }, (_, i) => ({ title: `Dummy ${i}`, artistId })));
    await reader.getById(ids[0]!);
    const unknown = '00000000-0000-4000-8000-000000000001';
    let found!: Map<string, Track>;
    const { statements } = await db.queryLog.countDuring(async () => {
      found = await reader.getManyByIds([...ids, unknown, ids[1]!]);
    });
    expect(statements).toBe(1);
    expect(found.size).toBe(20);
    expect(found.has(unknown)).toBe(false);
    expect(found.get(ids[5]!)?.title).toBe('Dummy 5');
    // Concurrent readers of the same ids share that one load.
    cache.clear();
    const { statements: concurrent } = await db.queryLog.countDuring(async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => reader.getManyByIds(ids)));
      expect(results.every((r) => r.size === 20)).toBe(true);
    });
    expect(concurrent).toBe(1);
  });
});

test('a write that lands while a read is in flight keeps the stale row out of the cache', async () => {
  const rows = new Map<string, Track>([['t1', { id: 't1', title: 'old' } as Track]]);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const source: TrackSource = {
    async getManyByIds(ids) {
      const snapshot = ids.flatMap((id) => (rows.has(id) ? [{ ...rows.get(id)! }] : []));
      await gate; // the database answered before the write; the answer is still travelling
      return snapshot;
    },
  };
  const cache = new LRUCache<string, Track>({ maxSize: 10 });
  const reader = new CachedTrackReader(source, cache);
  const pending = reader.getById('t1');
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  rows.set('t1', { id: 't1', title: 'new' } as Track);
  await reader.hooks.onTracksWritten!(['t1']);
  release();
  expect((await pending)?.title).toBe('old');
  expect(cache.has('t1')).toBe(false);
  expect((await reader.getById('t1'))?.title).toBe('new');
});
