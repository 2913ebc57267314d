import type { Database } from '../../src/db/client.js';
import { ArtistRepository } from '../../src/repositories/artist-repository.js';
import { AlbumRepository } from '../../src/repositories/album-repository.js';
import { TrackRepository } from '../../src/repositories/track-repository.js';
import { DownloadRepository } from '../../src/repositories/download-repository.js';
import { providers } from '../helpers/db.js';
import { openTestDatabase } from './helpers.js';

/**
 * Each repository query is captured as sent (SQL and parameters, from the query log) and handed
 * back to the database's own planner: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL (with
 * enable_seqscan off in that transaction, so the planner shows the index it would use on a big
 * table instead of a sequential scan of these few rows).
 */
describe.each(providers)('index usage on %s', (provider) => {
  let db: Database;
  let done: () => Promise<void>;
  let tracks: TrackRepository;
  let downloads: DownloadRepository;
  let albumId: string;

  beforeAll(async () => {
    ({ db, done } = await openTestDatabase(provider));
    tracks = new TrackRepository(db);
    downloads = new DownloadRepository(db);
    const [artist] = await new ArtistRepository(db).getOrCreateBatch([{ name: 'Radiohead' }]);
    const albums = await new AlbumRepository(db).getOrCreateBatch(Array.from({ length: 20 }, (_, i) => ({ title: `Album ${i}`, artistId: artist.id })));
    albumId = albums[3].id;
    const ids = await tracks.addBatchReturningIds(
      Array.from({ length: 400 }, (_, i) => ({
        title: `Track ${i}`,
        artistId: artist.id,
        albumId: albums[i % 20].id,
        discNumber: 1 + (i % 2),
        trackNumber: 1 + Math.floor(i / 40),
        filePath: `/music/${i}.flac`,
        isBroken: i % 50 === 0,
        lastScannedAt: i % 3 === 0 ? null : new Date(Date.UTC(2025, 0, 1 + (i % 28))),
      })),
    );
    for (const [i, id] of ids.slice(0, 60).entries()) {
      const d = await downloads.create({ trackId: id, priority: i % 7, status: i % 2 ? 'queued' : 'pending' });
      if (i % 4 === 0) {
        await downloads.start(d.id);
        await downloads.complete(d.id);
      }
    }
  });
  afterAll(() => done());

  /** The plan of every statement `fn` sends, one text per statement. */
  async function plansOf(fn: () => Promise<unknown>): Promise<string[]> {
    const sent: Array<{ sql: string; params: unknown[] }> = [];
    const stop = db.queryLog.subscribe((e) => sent.push({ sql: e.query, params: e.params ? JSON.parse(e.params) : [] }));
    try {
      await fn();
    } finally {
      stop();
    }
    const plans: string[] = [];
    for (const { sql, params } of sent.filter((s) => /^\s*SELECT/i.test(s.sql))) {
      if (provider === 'sqlite') {
        const rows = await db.prisma.$queryRawUnsafe<Array<{ detail: string }>>(`EXPLAIN QUERY PLAN ${sql}`, ...params);
        plans.push(rows.map((r) => r.detail).join('\n'));
      } else {
        const rows = await db.prisma.$transaction(async (tx) => {
          await tx.$executeRawUnsafe('SET LOCAL enable_seqscan = off');
          return tx.$queryRawUnsafe<Array<{ 'QUERY PLAN': string }>>(`EXPLAIN ${sql}`, ...params);
        });
        plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
      }
    }
    return plans;
  }

  const usesIndex = (plan: string, index: string) =>
    provider === 'sqlite' ? new RegExp(`(SEARCH|SCAN) .*USING (COVERING )?INDEX ${index}\\b`).test(plan) : new RegExp(`Index (Only )?Scan (Backward )?using ${index} on|Bitmap Index Scan on ${index}\\b`).test(plan);

  test.each([
    ['album track listing', 'ix_tracks_album_track_number', () => tracks.listByAlbum(albumId, { order: 'track' })],
    ['multi-disc listing', 'ix_tracks_album_disc_track', () => tracks.listByAlbum(albumId)],
    ['one disc of an album', 'ix_tracks_album_disc_track', () => tracks.listByAlbum(albumId, { disc: 2 })],
    ['file-path lookup', 'ix_tracks_file_path', () => tracks.findByFilePath('/music/7.flac')],
    ['updated-since sync', 'ix_tracks_updated_at', () => tracks.listUpdatedSince(new Date(Date.now() - 3_600_000), { limit: 100 })],
    ['broken-file monitoring', 'ix_tracks_broken_updated', () => tracks.listBroken({ limit: 100 })],
    ['unscanned since', 'ix_tracks_last_scanned_at', () => tracks.listUnscannedSince(new Date(Date.UTC(2025, 0, 10)), { limit: 100 })],
    ['download queue', 'ix_downloads_status_priority', () => downloads.nextInQueue(10)],
    ['completed downloads', 'ix_downloads_completed_at', () => downloads.listCompleted(new Date(Date.now() - 3_600_000))],
  ] as const)('%s uses %s', async (_name, index, query) => {
    const result = (await query()) as unknown;
    expect(Array.isArray(result) ? result.length : result ? 1 : 0).toBeGreaterThan(0);
    const plans = await plansOf(query);
    expect(plans.length).toBeGreaterThan(0);
    // The first statement is the query itself (later ones load included relations).
    if (!usesIndex(plans[0], index)) throw new Error(`expected the plan to use ${index}, got:\n${plans[0]}`);
  });
});
