import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readEnvironment } from '../../src/config.js';
import { withDatabase } from '../../src/db/client.js';
import { ConfigError, ExitCode, UsageError } from '../../src/errors.js';
import { loadSpotifyConfig } from '../../src/spotify/config.js';
import { FakeSpotify, generatedTrack } from '../../src/bench/fake-spotify/server.js';
import { runSpotifyFetch } from '../../src/spotify/fetch-service.js';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { closedPort, configFor, makeIds, useFakeSpotify } from './helpers.js';

let fake: FakeSpotify;
useFakeSpotify((f) => (fake = f));

function distinct<T>(values: T[]): number {
  return new Set(values).size;
}

describe.each(providers)('spotify-fetch into the library (%s)', (provider) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createMigratedDatabase(provider);
  });
  afterEach(async () => {
    await db.drop();
  });

  test('tracks it writes leave a shared CachedTrackReader, so the next read sees the fetched metadata', async () => {
    const [id] = makeIds(1);
    const stale = await withDatabase(db.config, async (open) => {
      const artist = await open.prisma.artist.create({ data: { name: 'Placeholder' } });
      return open.prisma.track.create({ data: { title: 'Unknown title', artistId: artist.id, spotifyUri: `spotify:track:${id}` } });
    });
    await withDatabase(db.config, async (open) => {
      const { createCachedTrackReader } = await import('../../src/cache/cached-track-reader.js');
      const { LRUCache } = await import('../../src/cache/lru-cache.js');
      const { reader, hooks } = createCachedTrackReader(open, new LRUCache({ maxSize: 100 }));
      expect((await reader.getById(stale.id))?.title).toBe('Unknown title'); // now cached
      const summary = await runSpotifyFetch({ ids: [id] }, { config: db.config, spotify: configFor(fake), trackHooks: hooks });
      expect(summary.library.updated).toBe(1);
      const fresh = await reader.getById(stale.id);
      expect(fresh?.title).toBe((generatedTrack(id) as { name: string }).name);
      expect(fresh?.durationMs).toBeGreaterThan(0);
    });
  });

  test('upserts tracks, artists and albums in batches; a second run duplicates nothing', async () => {
    const ids = makeIds(620);
    const first = await runSpotifyFetch({ ids }, { config: db.config, spotify: configFor(fake) });
    expect(first.exitCode).toBe(ExitCode.OK);
    expect(first.fetched).toBe(620);
    expect(first.library).toMatchObject({ inserted: 620, updated: 0, unchanged: 0 });
    // Written in batches (up to 500 tracks, or what arrived within 200 ms), never one per track.
    expect(first.library.batches).toBeGreaterThanOrEqual(2);
    expect(first.library.batches).toBeLessThanOrEqual(13);
    expect(first.requests).toBe(13);

    const expected = ids.map(generatedTrack) as Array<{ artists: Array<{ uri: string }>; album: { uri: string } }>;
    const counts = await withDatabase(db.config, async ({ prisma }) => ({
      tracks: await prisma.track.count(),
      artists: await prisma.artist.count(),
      albums: await prisma.album.count(),
      sample: await prisma.track.findUnique({ where: { spotifyUri: `spotify:track:${ids[5]}` }, include: { artist: true, album: true } }),
    }));
    expect(counts.tracks).toBe(620);
    expect(counts.artists).toBe(distinct(expected.map((t) => t.artists[0].uri)));
    expect(counts.albums).toBe(distinct(expected.map((t) => t.album.uri)));
    const g = generatedTrack(ids[5]) as { name: string; duration_ms: number; external_ids: { isrc: string }; album: { name: string; release_date: string }; artists: Array<{ name: string }> };
    expect(counts.sample).toMatchObject({
      title: g.name,
      durationMs: g.duration_ms,
      isrc: g.external_ids.isrc,
      artist: { name: g.artists[0].name },
      album: { title: g.album.name, releaseYear: Number(g.album.release_date.slice(0, 4)) },
    });

    const second = await runSpotifyFetch({ ids }, { config: db.config, spotify: configFor(fake) });
    expect(second.library).toMatchObject({ inserted: 0, updated: 0, unchanged: 620 });
    const after = await withDatabase(db.config, async ({ prisma }) => [await prisma.track.count(), await prisma.artist.count(), await prisma.album.count()]);
    expect(after).toEqual([counts.tracks, counts.artists, counts.albums]);
  });

  test('--missing fetches only tracks with a spotify_uri and incomplete metadata, and completes them in place', async () => {
    const ids = makeIds(8, 'm');
    await withDatabase(db.config, async ({ prisma }) => {
      const artist = await prisma.artist.create({ data: { name: 'Someone' } });
      const album = await prisma.album.create({ data: { title: 'Old', artistId: artist.id } });
      const base = { artistId: artist.id, title: 'old title' };
      await prisma.track.createMany({
        data: [
          { ...base, spotifyUri: `spotify:track:${ids[0]}` }, // duration 0, no isrc, no album
          { ...base, spotifyUri: `spotify:track:${ids[1]}`, durationMs: 1000, isrc: 'QZAAA0000001' }, // no album
          { ...base, spotifyUri: `spotify:track:${ids[2]}`, durationMs: 1000, albumId: album.id }, // no isrc
          { ...base, spotifyUri: `spotify:track:${ids[3]}`, durationMs: 1000, isrc: 'QZAAA0000003', albumId: album.id }, // complete
          { ...base, durationMs: 0 }, // no spotify_uri: not Spotify's to fill
          { ...base, spotifyUri: 'spotify:track:not-a-valid-id' },
        ],
      });
    });
    const summary = await runSpotifyFetch({ ids: [], missing: true }, { config: db.config, spotify: configFor(fake) });
    expect(summary.fromLibrary).toBe(3);
    expect(fake.log.flatMap((r) => r.ids).sort()).toEqual([ids[0], ids[1], ids[2]].sort());
    expect(summary.fetched).toBe(3);
    expect(summary.failed).toEqual([expect.objectContaining({ id: 'spotify:track:not-a-valid-id', kind: 'invalid_uri' })]);
    expect(summary.exitCode).toBe(ExitCode.PARTIAL);
    const rows = await withDatabase(db.config, ({ prisma }) => prisma.track.findMany({ orderBy: { spotifyUri: 'asc' } }));
    expect(rows).toHaveLength(6);
    for (const id of [ids[0], ids[1], ids[2]]) {
      const row = rows.find((r) => r.spotifyUri === `spotify:track:${id}`)!;
      expect(row.durationMs).toBeGreaterThan(0);
      expect(row.isrc).not.toBeNull();
      expect(row.albumId).not.toBeNull();
    }
    // Nothing incomplete is left that Spotify can fill.
    const again = await runSpotifyFetch({ ids: [], missing: true }, { config: db.config, spotify: configFor(fake) });
    expect(again.fromLibrary).toBe(0);
  });

  test('a library track known only by its ISRC gets the spotify_uri instead of a duplicate row', async () => {
    const [id] = makeIds(1, 'i');
    const isrc = (generatedTrack(id) as { external_ids: { isrc: string } }).external_ids.isrc;
    await withDatabase(db.config, async ({ prisma }) => {
      const artist = await prisma.artist.create({ data: { name: 'Local' } });
      await prisma.track.create({ data: { title: 'from a file', artistId: artist.id, isrc, filePath: '/music/x.flac' } });
    });
    const summary = await runSpotifyFetch({ ids: [id] }, { config: db.config, spotify: configFor(fake) });
    expect(summary.library).toMatchObject({ inserted: 0, updated: 1 });
    const rows = await withDatabase(db.config, ({ prisma }) => prisma.track.findMany());
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ spotifyUri: `spotify:track:${id}`, filePath: '/music/x.flac', isrc });
  });

  test('two Spotify tracks sharing one ISRC are both saved; the second without the ISRC', async () => {
    const ids = makeIds(3, 's');
    fake.options.catalog = (id) => ({ ...generatedTrack(id), external_ids: { isrc: 'QZSHR2400001' } });
    const summary = await runSpotifyFetch({ ids }, { config: db.config, spotify: configFor(fake) });
    expect(summary.exitCode).toBe(ExitCode.OK);
    expect(summary.library.isrcConflicts).toBe(2);
    const rows = await withDatabase(db.config, ({ prisma }) => prisma.track.findMany({ select: { spotifyUri: true, isrc: true } }));
    expect(rows).toHaveLength(3);
    expect(rows.filter((r) => r.isrc === 'QZSHR2400001')).toHaveLength(1);
  });

  test('quota exceeded mid-run: what was fetched is saved, the rest reported, exit EXTERNAL', async () => {
    const ids = makeIds(200, 'q');
    fake.options.faultFor = (r) => (r.n === 3 ? { type: 'quota' } : undefined);
    const summary = await runSpotifyFetch({ ids }, { config: db.config, spotify: configFor(fake, { SPOTIFY_CONCURRENCY: '1' }) });
    expect(summary.exitCode).toBe(ExitCode.EXTERNAL);
    expect(summary.error).toMatch(/quota exceeded/i);
    expect(summary.fetched).toBe(100);
    expect(summary.failed).toHaveLength(100);
    expect(await withDatabase(db.config, ({ prisma }) => prisma.track.count())).toBe(100);
  });

  test('exit codes: not found is PARTIAL; the API unreachable for the whole run is EXTERNAL', async () => {
    const ids = makeIds(5, 'x');
    fake.setUnknownIds([ids[1]]);
    const partial = await runSpotifyFetch({ ids }, { config: db.config, spotify: configFor(fake) });
    expect(partial.exitCode).toBe(ExitCode.PARTIAL);
    expect(partial.notFound).toEqual([ids[1]]);
    const unreachable = await runSpotifyFetch(
      { ids: makeIds(5, 'y') },
      { config: db.config, spotify: { ...configFor(fake, { SPOTIFY_MAX_RETRIES: '1' }), apiUrl: `http://127.0.0.1:${await closedPort()}` } },
    );
    expect(unreachable.exitCode).toBe(ExitCode.EXTERNAL);
    expect(unreachable.error).toMatch(/unreachable for the whole run.*ECONNREFUSED.*SPOTIFY_API_URL/);
  });

  test('a database that is not migrated: every fetched id is reported as not saved, exit DATABASE', async () => {
    await withDatabase(db.config, async ({ prisma }) => {
      await prisma.$executeRawUnsafe('DROP TABLE playlist_tracks');
      await prisma.$executeRawUnsafe('DROP TABLE downloads');
      await prisma.$executeRawUnsafe('DROP TABLE track_artists');
      await prisma.$executeRawUnsafe('DROP TABLE tracks');
    });
    const summary = await runSpotifyFetch({ ids: makeIds(3, 'd') }, { config: db.config, spotify: configFor(fake) });
    expect(summary.exitCode).toBe(ExitCode.DATABASE);
    expect(summary.failed).toHaveLength(3);
    expect(summary.failed.every((f) => f.kind === 'database' && f.reason.startsWith('not saved:'))).toBe(true);
  });
});

describe('spotify-fetch input checks (before any request)', () => {
  test('malformed ids are rejected up front, listed, with USAGE', async () => {
    const db = await createMigratedDatabase('sqlite');
    try {
      const run = runSpotifyFetch(
        { ids: ['4uLU6hMCjMI75M1A2tKUQC', 'spotify:album:4uLU6hMCjMI75M1A2tKUQC', 'nope'] },
        { config: db.config, spotify: configFor(fake) },
      );
      await expect(run).rejects.toThrow(UsageError);
      await expect(run).rejects.toThrow(/2 malformed: "spotify:album:4uLU6hMCjMI75M1A2tKUQC", "nope".*nothing was fetched/);
      expect(fake.stats.tokenRequests + fake.stats.apiRequests).toBe(0);
      await expect(runSpotifyFetch({ ids: [] }, { config: db.config, spotify: configFor(fake) })).rejects.toThrow(/--missing/);
      await expect(runSpotifyFetch({ ids: ['4uLU6hMCjMI75M1A2tKUQC'], market: 'Germany' }, { config: db.config, spotify: configFor(fake) })).rejects.toThrow(
        /--market: expected a two-letter country code/,
      );
    } finally {
      await db.drop();
    }
  });

  test('ids, URIs and links are accepted and deduplicated; --file reads one per line', async () => {
    const db = await createMigratedDatabase('sqlite');
    try {
      const id = '4uLU6hMCjMI75M1A2tKUQC';
      const summary = await runSpotifyFetch(
        { ids: [id, `spotify:track:${id}`, `https://open.spotify.com/intl-de/track/${id}?si=abc`], file: '-' },
        { config: db.config, spotify: configFor(fake), readStdin: () => `# my list\n${id}\n\nhttps://open.spotify.com/track/7ouMYWpwJ422jRcDASZB7P\n` },
      );
      expect(summary.requested).toBe(2);
      expect(fake.stats.idsRequested).toBe(2);
    } finally {
      await db.drop();
    }
  });

  test('credentials and settings are read from .env too; the environment wins', () => {
    const dir = mkdtempSync(join(tmpdir(), 'soulspot-env-'));
    writeFileSync(join(dir, '.env'), 'SPOTIFY_CLIENT_ID=from-file\nSPOTIFY_CLIENT_SECRET=file-secret\nSPOTIFY_CONCURRENCY=7\n');
    const config = loadSpotifyConfig(readEnvironment({ SPOTIFY_CONCURRENCY: '3' }, dir));
    expect(config).toMatchObject({ clientId: 'from-file', clientSecret: 'file-secret', concurrency: 3 });
  });

  test('a malformed secret is refused without echoing it', () => {
    let message = '';
    try {
      loadSpotifyConfig({ SPOTIFY_CLIENT_ID: 'x', SPOTIFY_CLIENT_SECRET: 'abc def-secret' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^SPOTIFY_CLIENT_SECRET: expected a value without spaces/);
    expect(message).not.toContain('def-secret');
  });

  test('missing credentials: a ConfigError naming the variable', () => {
    expect(() => loadSpotifyConfig({})).toThrow(ConfigError);
    expect(() => loadSpotifyConfig({})).toThrow(/^SPOTIFY_CLIENT_ID: .*set SPOTIFY_CLIENT_ID/);
    expect(() => loadSpotifyConfig({ SPOTIFY_CLIENT_ID: 'x' })).toThrow(/^SPOTIFY_CLIENT_SECRET: /);
    expect(() => loadSpotifyConfig({ SPOTIFY_CLIENT_ID: 'x', SPOTIFY_CLIENT_SECRET: 'y', SPOTIFY_CONCURRENCY: '0' })).toThrow(
      'SPOTIFY_CONCURRENCY: expected a whole number from 1 to 64, got "0"; fix it in the environment or .env',
    );
    expect(() => loadSpotifyConfig({ SPOTIFY_CLIENT_ID: 'x', SPOTIFY_CLIENT_SECRET: 'y', SPOTIFY_API_URL: 'ftp://x' })).toThrow(/SPOTIFY_API_URL: expected an http\(s\) URL/);
    expect(() => loadSpotifyConfig({ SPOTIFY_CLIENT_ID: 'x', SPOTIFY_CLIENT_SECRET: 'y', SPOTIFY_MAX_RATE_LIMITS: '0' })).toThrow(
      'SPOTIFY_MAX_RATE_LIMITS: expected a whole number from 1 to 1000, got "0"; fix it in the environment or .env',
    );
    expect(() => loadSpotifyConfig({ SPOTIFY_CLIENT_ID: 'x', SPOTIFY_CLIENT_SECRET: 'y', SPOTIFY_REQUESTS_PER_SECOND: '2.5' })).toThrow(
      'SPOTIFY_REQUESTS_PER_SECOND: expected a whole number of requests per second from 0 (no budget) to 10000, got "2.5"; fix it in the environment or .env',
    );
    const ok = loadSpotifyConfig({ SPOTIFY_CLIENT_ID: 'x', SPOTIFY_CLIENT_SECRET: 'y', SPOTIFY_API_URL: 'http://127.0.0.1:1234/' });
    expect(ok).toMatchObject({ apiUrl: 'http://127.0.0.1:1234', accountsUrl: 'https://accounts.spotify.com', concurrency: 5, maxRateLimitWaitSeconds: 300, maxRateLimitsInARow: 10, requestsPerSecond: 0 });
  });
});
