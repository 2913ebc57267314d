import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Database } from '../../src/db/client.js';
import { SharedCacheTier } from '../../src/cache/shared-tier.js';
import { TrackRepository } from '../../src/repositories/track-repository.js';
import { FakeSpotify } from '../../src/bench/fake-spotify/server.js';
import { runCli } from '../helpers/cli.js';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { SHARED_REDIS_URL, freePort, startPrivateRedis, uniquePrefix } from '../helpers/redis.js';
import { TrackReaderProcess } from '../helpers/track-reader.js';

/**
 * The shared cache tier (CACHE_URL) with the real Redis: separate soulspot processes (the built
 * code) reading and writing one database. Keys are namespaced by the database, which each test
 * makes afresh, so no two tests (nor other runs on this Redis) share keys.
 */

const TIMEOUT = 120_000;

describe('the shared tier on its own: the generation check refuses a stale fill', () => {
  test('a value loaded before an invalidation elsewhere is not stored; one loaded after is', async () => {
    const namespace = uniquePrefix('tier');
    const a = (await SharedCacheTier.connect<{ title: string }>({ url: SHARED_REDIS_URL, namespace }))!;
    const b = (await SharedCacheTier.connect<{ title: string }>({ url: SHARED_REDIS_URL, namespace }))!;
    try {
      const heard: Array<string[] | 'all'> = [];
      a.onInvalidate((keys) => heard.push(keys));
      // Process A misses and reads the database (the old row)...
      const before = await a.getMany(['x']);
      expect(before.found.size).toBe(0);
      // ...process B writes the row and invalidates, before A stores what it read.
      await b.invalidate(['x']);
      await a.fill([['x', { title: 'old' }]], before.generations);
      expect(a.stats()).toMatchObject({ writes: 0, stale_fills: 1 });
      expect((await b.getMany(['x'])).found.size).toBe(0);
      // A fresh load after the write is stored and then served to every process.
      const after = await a.getMany(['x']);
      await a.fill([['x', { title: 'new' }]], after.generations);
      expect((await b.getMany(['x'])).found.get('x')).toEqual({ title: 'new' });
      expect(b.stats()).toMatchObject({ hits: 1, misses: 1, errors: 0, invalidations_sent: 1 });
      // A heard B's invalidation (published once Redis had forgotten the value).
      for (let i = 0; i < 100 && heard.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(heard).toEqual([['x']]);
      expect(a.stats().invalidations_received).toBe(1);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe.each(providers)('the shared cache tier across processes on %s', (provider) => {
  let testDb: TestDatabase;
  let db: Database;
  let artistId: string;
  let repository: TrackRepository;

  beforeAll(async () => {
    testDb = await createMigratedDatabase(provider);
    db = await openDatabase(testDb.config);
    artistId = (await db.prisma.artist.create({ data: { name: 'Massive Attack' } })).id;
    repository = new TrackRepository(db);
  });
  afterAll(async () => {
    await db?.close();
    await testDb?.drop();
  });

  const env = (extra: Record<string, string> = {}) => ({ DATABASE_URL: testDb.url, CACHE_URL: SHARED_REDIS_URL, ...extra });

  test(
    'three processes: the second reads what the first loaded from Redis; a write in one is never served stale by the others',
    async () => {
      const [id] = await repository.addBatchReturningIds([{ title: 'Teardrop', artistId }]);
      const started = await Promise.all([TrackReaderProcess.start(env()), TrackReaderProcess.start(env()), TrackReaderProcess.start(env())]);
      const [p1, p2, p3] = started.map((s) => s.reader);
      try {
        for (const { ready } of started) expect(ready).toEqual({ ready: true, shared: true });
        // p1 misses both tiers and loads from the database; p2 and p3 find it in Redis.
        expect(await p1.send(`get ${id}`)).toMatchObject({ title: 'Teardrop', l1: { hits: 0, misses: 1 }, l2: { hits: 0, misses: 1 } });
        expect(await p2.send(`get ${id}`)).toMatchObject({ title: 'Teardrop', l2: { hits: 1, misses: 0 } });
        expect(await p3.send(`get ${id}`)).toMatchObject({ title: 'Teardrop', l2: { hits: 1, misses: 0 } });
        // Now all three hold it in their first tier.
        expect(await p2.send(`get ${id}`)).toMatchObject({ title: 'Teardrop', l1: { hits: 1 } });
        // p1 writes; once its write has resolved, p2 and p3 read: not the copy in their first tier.
        expect(await p1.send(`write ${id} Teardrop (Mad Professor mix)`)).toEqual({ written: 1 });
        const read2 = await p2.send(`get ${id}`);
        const read3 = await p3.send(`get ${id}`);
        expect(read2.title).toBe('Teardrop (Mad Professor mix)');
        expect(read3.title).toBe('Teardrop (Mad Professor mix)');
        expect(read2.l2?.invalidations_received).toBe(1);
        expect(read3.l2?.invalidations_received).toBe(1);
        // The writer's own next read is fresh too, and one process reloaded for all: L2 serves the rest.
        expect((await p1.send(`get ${id}`)).title).toBe('Teardrop (Mad Professor mix)');
        for (const p of [p1, p2, p3]) expect(await p.quit()).toBe(0);
        for (const p of [p1, p2, p3]) expect(p.stderr).toBe('');
      } finally {
        for (const p of [p1, p2, p3]) p.kill();
      }
    },
    TIMEOUT,
  );

  test(
    'spotify-fetch in another process rewrites a track a reader holds: with CACHE_URL the reader sees it, without it the reader keeps its stale copy',
    async () => {
      const fake = await FakeSpotify.start();
      const spotifyIds = ['stalereadcontrol000001', 'stalereadshared0000001'];
      const [control, shared] = await repository.addBatchReturningIds(spotifyIds.map((s) => ({ title: 'Unknown title', artistId, spotifyUri: `spotify:track:${s}` })));
      const { reader } = await TrackReaderProcess.start(env());
      try {
        expect((await reader.send(`get ${control}`)).title).toBe('Unknown title');
        expect((await reader.send(`get ${shared}`)).title).toBe('Unknown title');
        // The problem: a writer without CACHE_URL leaves the reader's first tier stale.
        const blind = await runCli(['spotify-fetch', spotifyIds[0]], { env: { ...fake.env(), DATABASE_URL: testDb.url } });
        expect(blind.code).toBe(0);
        expect((await reader.send(`get ${control}`)).title).toBe('Unknown title');
        // With CACHE_URL, the write reaches every process's cache before spotify-fetch ends.
        const told = await runCli(['spotify-fetch', spotifyIds[1]], { env: { ...fake.env(), ...env() } });
        expect(told.code).toBe(0);
        expect(told.stderr).not.toMatch(/CACHE_URL/);
        const fresh = await reader.send(`get ${shared}`);
        expect(fresh.title).toBe(`Track ${spotifyIds[1].slice(0, 6)}`);
        expect(fresh.l2?.invalidations_received).toBe(1);
        expect(await reader.quit()).toBe(0);
      } finally {
        reader.kill();
        await fake.close();
      }
    },
    TIMEOUT,
  );

  test(
    'import-tracks in another process updates a track a reader holds: with CACHE_URL the reader sees it, without it the reader keeps its stale copy',
    async () => {
      const uris = ['spotify:track:importcontrol000000001', 'spotify:track:importshared0000000001'];
      const [control, shared] = await repository.addBatchReturningIds(uris.map((spotifyUri) => ({ title: 'Before the import', artistId, spotifyUri })));
      const csv = (uri: string) => `title,artist,spotify_uri\nAfter the import,Massive Attack,${uri}\n`;
      const cwd = mkdtempSync(join(tmpdir(), 'soulspot-import-cache-'));
      const { reader } = await TrackReaderProcess.start(env());
      try {
        expect((await reader.send(`get ${control}`)).title).toBe('Before the import');
        expect((await reader.send(`get ${shared}`)).title).toBe('Before the import');
        // The problem: an import without CACHE_URL leaves the reader's first tier stale.
        const blind = await runCli(['--json', 'import-tracks', '-', '--format', 'csv'], { input: csv(uris[0]), cwd, env: { DATABASE_URL: testDb.url } });
        expect(blind.code).toBe(0);
        expect(JSON.parse(blind.stdout)).toMatchObject({ updated: 1, inserted: 0 });
        expect((await reader.send(`get ${control}`)).title).toBe('Before the import');
        // With CACHE_URL, the changed track leaves every process's cache before the import ends.
        const told = await runCli(['--json', 'import-tracks', '-', '--format', 'csv'], { input: csv(uris[1]), cwd, env: env() });
        expect(told.code).toBe(0);
        expect(told.stderr).not.toMatch(/CACHE_URL/);
        expect(JSON.parse(told.stdout)).toMatchObject({ updated: 1, inserted: 0 });
        const fresh = await reader.send(`get ${shared}`);
        expect(fresh.title).toBe('After the import');
        expect(fresh.l2?.invalidations_received).toBe(1);
        expect(await reader.quit()).toBe(0);
      } finally {
        reader.kill();
        rmSync(cwd, { recursive: true, force: true });
      }
    },
    TIMEOUT,
  );

  test(
    'Redis stopped mid-run: one warning, reads and writes go on from the first tier and the database, and the processes exit on their own',
    async () => {
      const redis = await startPrivateRedis();
      const [x, y] = await repository.addBatchReturningIds([
        { title: 'Angel', artistId },
        { title: 'Safe from Harm', artistId },
      ]);
      const { reader: p1 } = await TrackReaderProcess.start(env({ CACHE_URL: redis.url }));
      const { reader: p2 } = await TrackReaderProcess.start(env({ CACHE_URL: redis.url }));
      try {
        expect((await p1.send(`get ${x}`)).title).toBe('Angel');
        expect(await p2.send(`get ${x}`)).toMatchObject({ title: 'Angel', l2: { hits: 1 } });
        await redis.stop();
        // Give both processes a moment to see the connection drop (they would also find out on the next command).
        await new Promise((resolve) => setTimeout(resolve, 300));
        const afterStop = await p1.send(`get ${y}`);
        expect(afterStop.title).toBe('Safe from Harm');
        expect(afterStop.l2?.errors).toBeGreaterThan(0);
        expect(await p1.send(`write ${x} Angel (remastered)`)).toEqual({ written: 1 });
        // p2 cannot be told of the write; it forgot its first tier when its subscription dropped, so it reads the database.
        expect((await p2.send(`get ${x}`)).title).toBe('Angel (remastered)');
        for (const p of [p1, p2]) {
          expect((await p.send(`get ${y}`)).title).toBe('Safe from Harm');
          expect(await p.quit()).toBe(0);
          expect(p.stderr.match(/CACHE_URL/g)).toHaveLength(1);
          expect(p.stderr).toMatch(/^warn: CACHE_URL: Redis at redis:\/\/127\.0\.0\.1:\d+ failed \(.+\); continuing with the in-process cache alone until it is back$/m);
        }
      } finally {
        p1.kill();
        p2.kill();
        await redis.stop();
      }
    },
    TIMEOUT,
  );

  test(
    'CACHE_URL unreachable: one warning line, the command works with the in-process cache alone',
    async () => {
      const fake = await FakeSpotify.start();
      try {
        const url = `redis://127.0.0.1:${await freePort()}`;
        const run = await runCli(['spotify-fetch', 'unreachablecache000001'], { env: { ...fake.env(), ...env({ CACHE_URL: url, RATE_LIMIT_URL: SHARED_REDIS_URL }) } });
        expect(run.code).toBe(0);
        // (A loaded machine may add slow-query warnings; the cache says one thing, once.)
        expect(run.stderr.match(/CACHE_URL/g)).toHaveLength(1);
        expect(run.stderr).toMatch(/^warn: CACHE_URL: Redis at redis:\/\/127\.0\.0\.1:\d+ unreachable \(ECONNREFUSED\); continuing with the in-process cache alone$/m);
      } finally {
        await fake.close();
      }
    },
    TIMEOUT,
  );
});
