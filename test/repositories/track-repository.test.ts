import type { Database } from '../../src/db/client.js';
import { ArtistRepository } from '../../src/repositories/artist-repository.js';
import { AlbumRepository } from '../../src/repositories/album-repository.js';
import { TrackRepository, creditedArtists, type TrackInput } from '../../src/repositories/track-repository.js';
import { ConflictError, ValidationError } from '../../src/repositories/errors.js';
import { providers } from '../helpers/db.js';
import { openTestDatabase, statementsOf } from './helpers.js';

describe.each(providers)('TrackRepository on %s', (provider) => {
  let db: Database;
  let done: () => Promise<void>;
  let artistId: string;
  let albumId: string;
  const written: string[][] = [];
  let repo: TrackRepository;
  let seq = 0;
  const uri = () => `spotify:track:${provider}${String(++seq).padStart(8, '0')}`;

  beforeAll(async () => {
    ({ db, done } = await openTestDatabase(provider));
    repo = new TrackRepository(db, {
      onTracksWritten: (ids) => {
        written.push(ids);
      },
    });
    [{ id: artistId }] = await new ArtistRepository(db).getOrCreateBatch([{ name: 'Björk' }]);
    [{ id: albumId }] = await new AlbumRepository(db).getOrCreateBatch([{ title: 'Homogenic', artistId, releaseYear: 1997 }]);
  });
  afterAll(() => done());
  beforeEach(() => {
    written.length = 0;
  });

  test('addBatch inserts every row in one statement, with defaults, and reports the ids to the hook', async () => {
    const inputs: TrackInput[] = [
      { title: 'Hunter', artistId, albumId, trackNumber: 1, durationMs: 255_000, spotifyUri: uri(), isrc: 'gbaaa9700001', fileSize: 9_000_000_000n },
      { title: 'Jóga', artistId, albumId, trackNumber: 2, lastScannedAt: new Date('2026-01-02T03:04:05.678Z') },
    ];
    const { result, sql } = await statementsOf(db, () => repo.addBatch(inputs));
    expect(result).toBe(2);
    expect(sql.filter((s) => /^\s*INSERT/i.test(s))).toHaveLength(1);
    expect(written).toHaveLength(1);
    const rows = await repo.getManyByIds(written[0]);
    expect(rows.map((r) => r.title)).toEqual(['Hunter', 'Jóga']);
    expect(rows[0]).toMatchObject({ isrc: 'GBAAA9700001', fileSize: 9_000_000_000n, discNumber: 1, isBroken: false, albumId });
    expect(rows[1]).toMatchObject({ durationMs: 0, spotifyUri: null, lastScannedAt: new Date('2026-01-02T03:04:05.678Z') });
    expect(rows[0].createdAt.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(rows[0].updatedAt).toEqual(rows[0].createdAt);
  });

  test('addBatch splits a batch larger than the parameter limit and keeps every row', async () => {
    // Columns bound: id, title, artist_id, spotify_uri, created_at, updated_at (the others hold their defaults).
    const count = 12_000; // 12,000 × 6 > 65,535 > 32,766
    const inputs = Array.from({ length: count }, (_, i) => ({ title: `bulk ${i}`, artistId, spotifyUri: uri() }));
    const { result, sql } = await statementsOf(db, () => repo.addBatch(inputs));
    expect(result).toBe(count);
    const inserts = sql.filter((s) => /^\s*INSERT/i.test(s));
    const limit = provider === 'sqlite' ? 32766 : 65535;
    expect(inserts).toHaveLength(Math.ceil(count / Math.floor(limit / 6)));
    expect(inserts.length).toBeGreaterThan(1);
    expect(sql).toContain('COMMIT');
    expect(await db.prisma.track.count({ where: { title: { startsWith: 'bulk ' } } })).toBe(count);
    const bulk = await db.prisma.track.findMany({ where: { title: { startsWith: 'bulk ' } }, select: { id: true } });
    expect(await repo.deleteBatch(bulk.map((t) => t.id))).toEqual({ deleted: count, missingIds: [] });
  });

  test('addBatch refuses the whole batch on a bad row, naming it, and writes nothing', async () => {
    const before = await db.prisma.track.count();
    const bad: Array<[Partial<TrackInput>, RegExp]> = [
      [{ durationMs: -1 }, /track #2.*durationMs must be a whole number >= 0, got -1/],
      [{ trackNumber: 0 }, /trackNumber must be a whole number >= 1 or null, got 0/],
      [{ discNumber: 0 }, /discNumber/],
      [{ isrc: 'TOO-SHORT' }, /isrc must be 12 characters/],
      [{ title: '' }, /title must be a non-empty text/],
      [{ title: 'x'.repeat(256) }, /title must be at most 255 characters/],
      [{ fileSize: -5n }, /fileSize/],
      // Objects and arrays are shown as JSON, not as [object Object].
      [{ title: { en: 'Hunter' } as never }, /^track #2: title must be a non-empty text, got \{"en":"Hunter"\};/],
      [{ durationMs: [255_000] as never }, /durationMs must be a whole number >= 0, got \[255000\];/],
    ];
    for (const [patch, message] of bad) {
      const inputs = [{ title: 'ok', artistId }, { title: 'bad', artistId, ...patch }] as TrackInput[];
      await expect(repo.addBatch(inputs)).rejects.toThrow(message);
      await expect(repo.addBatch(inputs)).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await db.prisma.track.count()).toBe(before);
    expect(written).toHaveLength(0);
  });

  test('addBatch refuses duplicates in the batch and in the database, and unknown artists', async () => {
    const taken = uri();
    await repo.addBatch([{ title: 'first', artistId, spotifyUri: taken }]);
    const before = await db.prisma.track.count();
    await expect(repo.addBatch([{ title: 'a', artistId, isrc: 'USRC17600001' }, { title: 'b', artistId, isrc: 'USRC17600001' }])).rejects.toThrow(
      /track #2.*isrc USRC17600001 also appears in track #1/,
    );
    const dup = repo.addBatch([{ title: 'new', artistId, spotifyUri: uri() }, { title: 'again', artistId, spotifyUri: taken }]);
    await expect(dup).rejects.toBeInstanceOf(ConflictError);
    await expect(repo.addBatch([{ title: 'again', artistId, spotifyUri: taken }])).rejects.toThrow(new RegExp(`spotify_uri ${taken} already belongs to track .*upsertBatch`));
    await expect(repo.addBatch([{ title: 'orphan', artistId: '00000000-0000-4000-8000-000000000000' }])).rejects.toThrow(
      /track #1 \(orphan\): artistId 00000000-0000-4000-8000-000000000000 does not exist/,
    );
    expect(await db.prisma.track.count()).toBe(before);
  });

  test('updateBatch updates in batched statements, refreshes updated_at and reports unknown ids', async () => {
    const [a, b, c] = await repo.addBatchReturningIds([
      { title: 'u1', artistId },
      { title: 'u2', artistId },
      { title: 'u3', artistId, isBroken: true },
    ]);
    const before = await repo.getManyByIds([a, b, c]);
    await new Promise((r) => setTimeout(r, 15));
    written.length = 0;
    const missing = '11111111-1111-4111-8111-111111111111';
    const { result, sql } = await statementsOf(db, () =>
      repo.updateBatch([
        { id: a, title: 'u1 renamed' },
        { id: missing, title: 'ghost' },
        { id: b, title: 'u2 renamed' },
        { id: c, isBroken: false, fileSize: 42n, albumId },
      ]),
    );
    expect(result).toEqual({ updated: 3, missingIds: [missing] });
    expect(sql.filter((s) => /UPDATE/i.test(s))).toHaveLength(2); // {title} and {albumId,fileSize,isBroken}
    const after = await repo.getManyByIds([a, b, c]);
    expect(after.map((t) => t.title)).toEqual(['u1 renamed', 'u2 renamed', 'u3']);
    expect(after[2]).toMatchObject({ isBroken: false, fileSize: 42n, albumId });
    for (let i = 0; i < 3; i += 1) expect(after[i].updatedAt.getTime()).toBeGreaterThan(before[i].updatedAt.getTime());
    expect(after[0].createdAt).toEqual(before[0].createdAt);
    expect(written).toEqual([[a, b, c]]);
    await expect(repo.updateBatch([{ id: a, title: 'fine' }, { id: b, durationMs: -3 }])).rejects.toThrow(/track update #2 .*durationMs/);
    await expect(repo.updateBatch([{ id: a, durationMS: 5 } as never])).rejects.toThrow(/track update #1 .*unknown field durationMS; expected only title, artistId/);
    expect((await repo.getById(a))!.title).toBe('u1 renamed');
    expect(await repo.updateBatch([{ id: missing }])).toEqual({ updated: 0, missingIds: [missing] });
  });

  test('updateBatch splits above the parameter limit', async () => {
    const ids = await repo.addBatchReturningIds(Array.from({ length: 12_000 }, (_, i) => ({ title: `split ${i}`, artistId })));
    const { result, sql } = await statementsOf(db, () => repo.updateBatch(ids.map((id, i) => ({ id, durationMs: i, trackNumber: i + 1 }))));
    expect(result).toEqual({ updated: 12_000, missingIds: [] });
    const perStatement = Math.floor(((provider === 'sqlite' ? 32766 : 65535) - 1) / 3);
    expect(sql.filter((s) => /UPDATE/i.test(s))).toHaveLength(Math.ceil(12_000 / perStatement));
    const sample = await repo.getById(ids[11_999]);
    expect(sample).toMatchObject({ durationMs: 11_999, trackNumber: 12_000 });
    expect((await repo.deleteBatch(ids)).deleted).toBe(12_000);
  });

  test('upsertBatch matches by spotify_uri, then isrc, then musicbrainz_id and counts what it did', async () => {
    const u1 = uri();
    const [byUri, byIsrc, byMbid] = await repo.addBatchReturningIds([
      { title: 'by uri', artistId, spotifyUri: u1, durationMs: 100 },
      { title: 'by isrc', artistId, isrc: 'SEAAA0000001' },
      { title: 'by mbid', artistId, musicbrainzId: 'f1b7c4a2-0000-4000-8000-000000000001' },
    ]);
    written.length = 0;
    const fresh = uri();
    const report = await repo.upsertBatch([
      { title: 'by uri', artistId, spotifyUri: u1, durationMs: 100 }, // unchanged
      { title: 'by isrc, renamed', artistId, isrc: 'seaaa0000001' }, // updated (isrc normalised)
      { title: 'by mbid', artistId, musicbrainzId: 'f1b7c4a2-0000-4000-8000-000000000001', spotifyUri: fresh }, // updated: gains a uri
      { title: 'brand new', artistId, spotifyUri: uri() }, // inserted
      { title: 'by mbid', artistId, spotifyUri: fresh }, // same row again, by its new uri: unchanged
    ]);
    expect(report).toMatchObject({ inserted: 1, updated: 2, unchanged: 2 });
    expect(report.ids.slice(0, 3)).toEqual([byUri, byIsrc, byMbid]);
    expect(report.ids[4]).toBe(byMbid);
    expect(written).toHaveLength(1);
    expect(written[0].sort()).toEqual([byIsrc, byMbid, report.ids[3]].sort());
    expect((await repo.getById(byIsrc))!.title).toBe('by isrc, renamed');
    expect((await repo.getById(byMbid))!.spotifyUri).toBe(fresh);
    expect((await repo.getById(byUri))!.durationMs).toBe(100);

    const again = await repo.upsertBatch([{ title: 'brand new', artistId, spotifyUri: (await repo.getById(report.ids[3]))!.spotifyUri }]);
    expect(again).toEqual({ inserted: 0, updated: 0, unchanged: 1, ids: [report.ids[3]] });
  });

  test('upsertBatch keeps updated_at of unchanged rows and refuses identifiers of two different tracks', async () => {
    const u = uri();
    const [id] = await repo.addBatchReturningIds([{ title: 'steady', artistId, spotifyUri: u }]);
    const before = (await repo.getById(id))!.updatedAt;
    await new Promise((r) => setTimeout(r, 10));
    await repo.upsertBatch([{ title: 'steady', artistId, spotifyUri: u }]);
    expect((await repo.getById(id))!.updatedAt).toEqual(before);
    await repo.addBatch([{ title: 'other', artistId, isrc: 'FRZZZ0000009' }]);
    const count = await db.prisma.track.count();
    await expect(repo.upsertBatch([{ title: 'new', artistId, spotifyUri: uri() }, { title: 'steady', artistId, spotifyUri: u, isrc: 'FRZZZ0000009' }])).rejects.toThrow(
      new RegExp(`track #2 .*matches track ${id}, but its isrc FRZZZ0000009 belongs to track`),
    );
    expect(await db.prisma.track.count()).toBe(count);
  });

  test('a one-statement write outside Prisma stores updated_at as Prisma does (read back, compared, listed)', async () => {
    const u = uri();
    const [id] = await repo.addBatchReturningIds([{ title: 'before', artistId, spotifyUri: u }]);
    const before = (await repo.getById(id))!.updatedAt;
    await new Promise((r) => setTimeout(r, 10));
    const { sql } = await statementsOf(db, () => repo.upsertBatch([{ title: 'after', artistId, spotifyUri: u, isBroken: true }]));
    expect(sql.filter((s) => /^\s*(WITH|UPDATE)/i.test(s))).toHaveLength(1);
    expect(sql.filter((s) => /^\s*(BEGIN|COMMIT)/i.test(s))).toHaveLength(0);
    const after = (await repo.getById(id))!;
    expect(after).toMatchObject({ title: 'after', isBroken: true });
    expect(after.updatedAt.getTime()).toBeGreaterThan(before.getTime());
    expect(Math.abs(after.updatedAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect((await repo.listUpdatedSince(before)).map((t) => t.id)).toContain(id);
    expect((await db.prisma.track.findMany({ where: { updatedAt: { gt: before } } })).map((t) => t.id)).toContain(id);
  });

  test('upsertBatch of thousands of rows with all three identifiers stays batched and idempotent', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => ({
      title: `big ${i}`,
      artistId,
      spotifyUri: `spotify:track:big${provider}${i}`,
      isrc: `QZBIG${String(i).padStart(7, '0')}`,
      musicbrainzId: `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`,
    }));
    const first = await statementsOf(db, () => repo.upsertBatch(rows));
    expect(first.result).toMatchObject({ inserted: 3000, updated: 0, unchanged: 0 });
    expect(first.sql.length).toBeLessThan(20);
    const second = await repo.upsertBatch(rows.map((r, i) => (i % 2 ? { ...r, durationMs: 1000 } : r)));
    expect(second).toMatchObject({ inserted: 0, updated: 1500, unchanged: 1500 });
    expect(second.ids).toEqual(first.result.ids);
    await repo.deleteBatch(first.result.ids);
  });

  test('upsertBatch collapses duplicates inside one batch into one row', async () => {
    const u = uri();
    const report = await repo.upsertBatch([
      { title: 'dup', artistId, spotifyUri: u },
      { title: 'dup', artistId, spotifyUri: u },
      { title: 'dup v2', artistId, spotifyUri: u },
    ]);
    expect(report).toMatchObject({ inserted: 1, updated: 1, unchanged: 1 });
    expect(new Set(report.ids).size).toBe(1);
    expect((await repo.getById(report.ids[0]))!.title).toBe('dup v2');
  });

  test('timestamps and big integers written by the batched SQL read back and sort like those Prisma writes', async () => {
    const viaPrisma = await db.prisma.track.create({ data: { title: 'via prisma', artistId } });
    await new Promise((r) => setTimeout(r, 5));
    const [viaBatch] = await repo.addBatchReturningIds([{ title: 'via batch', artistId, fileSize: 9_223_372_036_854_775_807n, lastScannedAt: new Date('1999-12-31T23:59:59.999Z') }]);
    const batchRow = (await repo.getById(viaBatch))!;
    expect(batchRow.fileSize).toBe(9_223_372_036_854_775_807n);
    expect(batchRow.lastScannedAt).toEqual(new Date('1999-12-31T23:59:59.999Z'));
    const since = await repo.listUpdatedSince(viaPrisma.updatedAt, { limit: 1_000_000 });
    const order = since.map((t) => t.id);
    expect(order.indexOf(viaPrisma.id)).toBeGreaterThanOrEqual(0);
    expect(order.indexOf(viaBatch)).toBeGreaterThan(order.indexOf(viaPrisma.id));
    expect((await repo.listUpdatedSince(batchRow.updatedAt)).map((t) => t.id)).not.toContain(viaPrisma.id);
    await repo.deleteBatch([viaPrisma.id, viaBatch]);
  });

  test('credits: every credited artist in order, loaded with include in a constant number of statements', async () => {
    const [guest, other] = await new ArtistRepository(db).getOrCreateBatch([{ name: 'Thom Yorke' }, { name: 'Tyler, The Creator' }]);
    const [one] = await repo.addBatchReturningIds([{ title: 'credits one', artistId }]);
    const names = async (id: string) => creditedArtists((await repo.getByIdWithCredits(id))!).map((a) => a.name);
    // The first artist is the track's; later ones are track_artists positions 1, 2, ….
    expect(await names(one)).toEqual(['Björk']);
    await db.prisma.trackArtist.create({ data: { trackId: one, artistId: guest.id, position: 1 } });
    expect(await names(one)).toEqual(['Björk', 'Thom Yorke']);
    await repo.updateBatch([{ id: one, artistId: other.id }]);
    expect(await names(one)).toEqual(['Tyler, The Creator', 'Thom Yorke']);

    const many = await repo.addBatchReturningIds(Array.from({ length: 500 }, (_, i) => ({ title: `credited ${i}`, artistId })));
    await db.prisma.trackArtist.createMany({ data: many.map((trackId) => ({ trackId, artistId: guest.id, position: 1 })) });
    const count = async (fn: () => Promise<unknown>) => (await statementsOf(db, fn)).sql.length;
    const small = await count(async () => expect((await repo.listCreditedTo(other.id)).map((t) => t.id)).toEqual([one]));
    const large = await count(async () => {
      const tracks = await repo.listCreditedTo(guest.id);
      expect(tracks).toHaveLength(501);
      expect(tracks.every((t) => creditedArtists(t).map((a) => a.name).join('|') === (t.id === one ? 'Tyler, The Creator|Thom Yorke' : 'Björk|Thom Yorke'))).toBe(true);
    });
    expect(small).toBeLessThanOrEqual(4);
    expect(large).toBe(small);
    await repo.deleteBatch([one, ...many]);
    expect(await db.prisma.trackArtist.count({ where: { trackId: { in: [one, ...many.slice(0, 10)] } } })).toBe(0);
  });

  test('getManyByIds splits id lists above the parameter limit', async () => {
    const [known] = await repo.addBatchReturningIds([{ title: 'needle', artistId }]);
    const ids = Array.from({ length: 70_000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    ids.splice(40_000, 0, known);
    const { result, sql } = await statementsOf(db, () => repo.getManyByIds(ids));
    expect(result.map((t) => t.id)).toEqual([known]);
    expect(sql.filter((s) => /^\s*SELECT/i.test(s)).length).toBeGreaterThanOrEqual(provider === 'sqlite' ? 71 : 3);
  });

  test('deleteBatch deletes, reports unknown ids and tells the hook', async () => {
    const ids = await repo.addBatchReturningIds([{ title: 'd1', artistId }, { title: 'd2', artistId }]);
    written.length = 0;
    const ghost = '22222222-2222-4222-8222-222222222222';
    expect(await repo.deleteBatch([...ids, ghost])).toEqual({ deleted: 2, missingIds: [ghost] });
    expect(written).toEqual([ids]);
    expect(await repo.getManyByIds(ids)).toEqual([]);
  });

  test('listByAlbum returns exactly what Prisma returns (same rows, order and value types) and is logged', async () => {
    const [album] = await new AlbumRepository(db).getOrCreateBatch([{ title: 'Every type', artistId }]);
    await repo.addBatch([
      { title: 'full', artistId, albumId: album.id, discNumber: 1, trackNumber: 2, durationMs: 245_123, spotifyUri: uri(), isrc: `GBAYE${provider === 'sqlite' ? 1 : 2}900001`, musicbrainzId: `b1a9c0e9-0000-4000-8000-00000000000${provider === 'sqlite' ? 1 : 2}`, filePath: '/music/ü/full.flac', fileSize: 9_007_199_254_740_993n, fileHash: 'ab'.repeat(32), fileHashAlgorithm: 'sha256', isBroken: true, lastScannedAt: new Date('2024-02-29T23:59:59.123Z'), audioBitrate: 1411, audioFormat: 'flac', audioSampleRate: 44100 },
      { title: 'bare', artistId, albumId: album.id },
      { title: 'twin a', artistId, albumId: album.id, discNumber: 2, trackNumber: 1 },
      { title: 'twin b', artistId, albumId: album.id, discNumber: 2, trackNumber: 1 },
    ]);
    const trackOrder = { trackNumber: { sort: 'asc', nulls: 'last' } } as const;
    const viaPrisma = {
      disc: await db.prisma.track.findMany({ where: { albumId: album.id }, orderBy: [{ discNumber: 'asc' }, trackOrder, { id: 'asc' }] }),
      oneDisc: await db.prisma.track.findMany({ where: { albumId: album.id, discNumber: 2 }, orderBy: [trackOrder, { id: 'asc' }] }),
      track: await db.prisma.track.findMany({ where: { albumId: album.id }, orderBy: [trackOrder, { id: 'asc' }] }),
    };
    const { result, sql } = await statementsOf(db, async () => ({
      disc: await repo.listByAlbum(album.id),
      oneDisc: await repo.listByAlbum(album.id, { disc: 2 }),
      track: await repo.listByAlbum(album.id, { order: 'track' }),
    }));
    expect(result).toEqual(viaPrisma);
    expect(result.disc.map((t) => t.title).slice(0, 2)).toEqual(['full', 'bare']);
    const full = result.disc[0];
    expect(full.fileSize).toBe(9_007_199_254_740_993n);
    expect(full.lastScannedAt).toEqual(new Date('2024-02-29T23:59:59.123Z'));
    expect(full.createdAt).toBeInstanceOf(Date);
    expect(full.isBroken).toBe(true);
    expect(sql).toHaveLength(3);
    expect(await repo.listByAlbum('00000000-0000-4000-8000-000000000000')).toEqual([]);
  });

  test('listings: album order, file path, broken, updated since, unscanned since', async () => {
    const [album2] = await new AlbumRepository(db).getOrCreateBatch([{ title: 'Vespertine (2 discs)', artistId }]);
    const ids = await repo.addBatchReturningIds([
      { title: 'd2t1', artistId, albumId: album2.id, discNumber: 2, trackNumber: 1 },
      { title: 'd1t2', artistId, albumId: album2.id, discNumber: 1, trackNumber: 2, filePath: '/music/v/d1t2.flac' },
      { title: 'no number', artistId, albumId: album2.id },
      { title: 'd1t1', artistId, albumId: album2.id, discNumber: 1, trackNumber: 1, isBroken: true, lastScannedAt: new Date('2020-01-01T00:00:00Z') },
    ]);
    expect((await repo.listByAlbum(album2.id)).map((t) => t.title)).toEqual(['d1t1', 'd1t2', 'no number', 'd2t1']);
    expect((await repo.listByAlbum(album2.id, { disc: 1 })).map((t) => t.title)).toEqual(['d1t1', 'd1t2', 'no number']);
    expect((await repo.listByAlbum(album2.id, { order: 'track' })).map((t) => t.title).slice(0, 2).sort()).toEqual(['d1t1', 'd2t1']);
    expect((await repo.listByAlbum(album2.id, { order: 'track' })).at(-1)!.title).toBe('no number');
    expect((await repo.findByFilePath('/music/v/d1t2.flac'))!.id).toBe(ids[1]);
    expect(await repo.findByFilePath('/nowhere')).toBeUndefined();
    expect((await repo.listBroken()).map((t) => t.id)).toContain(ids[3]);
    expect((await repo.listBroken()).every((t) => t.isBroken)).toBe(true);
    const since = (await repo.getById(ids[0]))!.updatedAt;
    const changed = await repo.listUpdatedSince(since);
    expect(changed.map((t) => t.id)).toEqual(expect.arrayContaining(ids));
    expect(changed.every((t) => t.updatedAt >= since)).toBe(true);
    expect(await repo.listUpdatedSince(new Date(Date.now() + 60_000))).toEqual([]);
    const unscanned = await repo.listUnscannedSince(new Date('2021-01-01T00:00:00Z'), { limit: 100_000 });
    expect(unscanned.map((t) => t.id)).toEqual(expect.arrayContaining(ids));
    const scannedLater = await repo.listUnscannedSince(new Date('2019-01-01T00:00:00Z'), { limit: 100_000 });
    expect(scannedLater.map((t) => t.id)).not.toContain(ids[3]);
    expect(await repo.getById('nope')).toBeUndefined();
  });
});
