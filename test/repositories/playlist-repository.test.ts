import type { Database } from '../../src/db/client.js';
import { ArtistRepository } from '../../src/repositories/artist-repository.js';
import { TrackRepository, creditedArtists } from '../../src/repositories/track-repository.js';
import { PlaylistRepository } from '../../src/repositories/playlist-repository.js';
import { NotFoundError, ValidationError } from '../../src/repositories/errors.js';
import { providers } from '../helpers/db.js';
import { openTestDatabase, statementsOf } from './helpers.js';

describe.each(providers)('PlaylistRepository on %s', (provider) => {
  let db: Database;
  let done: () => Promise<void>;
  let repo: PlaylistRepository;
  let trackIds: string[];

  beforeAll(async () => {
    ({ db, done } = await openTestDatabase(provider));
    repo = new PlaylistRepository(db);
    const [artist] = await new ArtistRepository(db).getOrCreateBatch([{ name: 'Sigur Rós' }]);
    trackIds = await new TrackRepository(db).addBatchReturningIds(Array.from({ length: 1000 }, (_, i) => ({ title: `track ${i}`, artistId: artist.id })));
  });
  afterAll(() => done());

  test('create, getById and getBySpotifyUri return the tracks in position order', async () => {
    const order = [trackIds[5], trackIds[2], trackIds[9]];
    const created = await repo.create({ name: 'Ágætis byrjun', spotifyUri: `spotify:playlist:${provider}1`, source: 'spotify', trackIds: order });
    expect(created.tracks.map((e) => e.trackId)).toEqual(order);
    expect(created.tracks.map((e) => e.position)).toEqual([0, 1, 2]);
    expect(created.tracks.map((e) => e.track.title)).toEqual(['track 5', 'track 2', 'track 9']);
    expect(created.source).toBe('spotify');
    expect((await repo.getById(created.id))!.tracks.map((e) => e.trackId)).toEqual(order);
    expect((await repo.getBySpotifyUri(`spotify:playlist:${provider}1`))!.id).toBe(created.id);
    expect(await repo.getById('missing')).toBeUndefined();
    expect(await repo.getBySpotifyUri('spotify:playlist:none')).toBeUndefined();
  });

  test('eager loading takes a constant number of statements (at most 3) from 1 to 1,000 rows', async () => {
    const small = await repo.create({ name: 'one', spotifyUri: `spotify:playlist:${provider}small`, trackIds: trackIds.slice(0, 1) });
    const large = await repo.create({ name: 'thousand', spotifyUri: `spotify:playlist:${provider}large`, trackIds });
    const count = async (fn: () => Promise<unknown>) => (await statementsOf(db, fn)).sql.length;

    const byIdSmall = await count(() => repo.getById(small.id));
    const byIdLarge = await count(async () => expect((await repo.getById(large.id))!.tracks).toHaveLength(1000));
    expect(byIdSmall).toBeLessThanOrEqual(3);
    expect(byIdLarge).toBe(byIdSmall);

    // With every track's artist and later credits: three statements more, whatever the size.
    const [guest] = await new ArtistRepository(db).getOrCreateBatch([{ name: 'Jónsi' }]);
    await db.prisma.trackArtist.create({ data: { trackId: trackIds[0], artistId: guest.id, position: 1 } });
    const creditsSmall = await count(async () =>
      expect((await repo.getByIdWithCredits(small.id))!.tracks.map((e) => creditedArtists(e.track).map((a) => a.name))).toEqual([['Sigur Rós', 'Jónsi']]),
    );
    const creditsLarge = await count(async () => {
      const p = (await repo.getByIdWithCredits(large.id))!;
      expect(p.tracks).toHaveLength(1000);
      expect(p.tracks.map((e) => creditedArtists(e.track).length)).toEqual([2, ...Array<number>(999).fill(1)]);
    });
    expect(creditsSmall).toBeLessThanOrEqual(6);
    expect(creditsLarge).toBe(creditsSmall);
    await db.prisma.trackArtist.deleteMany({});

    const byUriSmall = await count(() => repo.getBySpotifyUri(small.spotifyUri!));
    const byUriLarge = await count(() => repo.getBySpotifyUri(large.spotifyUri!));
    expect(byUriSmall).toBeLessThanOrEqual(3);
    expect(byUriLarge).toBe(byUriSmall);

    // listAll: one page holding 1 playlist of 1 track, then 500 playlists holding 1,000 entries.
    const { db: other, done: dropOther } = await openTestDatabase(provider);
    try {
      const otherRepo = new PlaylistRepository(other);
      const [artist] = await new ArtistRepository(other).getOrCreateBatch([{ name: 'x' }]);
      const ids = await new TrackRepository(other).addBatchReturningIds(Array.from({ length: 1000 }, (_, i) => ({ title: `t${i}`, artistId: artist.id })));
      await otherRepo.create({ name: 'p0000', trackIds: ids.slice(0, 1) });
      const listOne = await count(async () => expect(await otherRepo.listAll({ pageSize: 500 })).toHaveLength(1));
      await other.prisma.playlistTrack.deleteMany({});
      await other.prisma.playlist.deleteMany({});
      const playlists = Array.from({ length: 500 }, (_, p) => ({ id: `00000000-0000-4000-8000-${String(p).padStart(12, '0')}`, name: `p${String(p).padStart(4, '0')}` }));
      await other.prisma.playlist.createMany({ data: playlists });
      await other.prisma.playlistTrack.createMany({
        data: playlists.flatMap((p, i) => [0, 1].map((position) => ({ playlistId: p.id, trackId: ids[i * 2 + position], position }))),
      });
      const listMany = await count(async () => {
        const page = await otherRepo.listAll({ pageSize: 500 });
        expect(page).toHaveLength(500);
        expect(page.reduce((n, p) => n + p.tracks.length, 0)).toBe(1000);
        expect(page[499].tracks.map((e) => e.track.title)).toEqual(['t998', 't999']);
      });
      expect(listOne).toBeLessThanOrEqual(3);
      expect(listMany).toBe(listOne);
    } finally {
      await dropOther();
    }
  });

  test('listAll pages by name', async () => {
    const all = await repo.listAll({ pageSize: 500 });
    const names = all.map((p) => p.name);
    expect(names).toEqual([...names].sort());
    const second = await repo.listAll({ page: 2, pageSize: 1 });
    expect(second.map((p) => p.id)).toEqual([all[1].id]);
    expect(() => repo.listAll({ pageSize: 501 })).toThrow(/pageSize must be a whole number from 1 to 500/);
  });

  test('update changes fields and the track order, keeps added_at of kept tracks, refreshes updated_at', async () => {
    const created = await repo.create({ name: 'mix', trackIds: [trackIds[0], trackIds[1], trackIds[2]] });
    await new Promise((r) => setTimeout(r, 15));
    const updated = await repo.update(created.id, { name: 'mix v2', description: 'reordered', trackIds: [trackIds[2], trackIds[7], trackIds[0]] });
    expect(updated.name).toBe('mix v2');
    expect(updated.description).toBe('reordered');
    expect(updated.tracks.map((e) => e.trackId)).toEqual([trackIds[2], trackIds[7], trackIds[0]]);
    expect(updated.tracks.map((e) => e.position)).toEqual([0, 1, 2]);
    expect(updated.tracks[0].addedAt).toEqual(created.tracks[2].addedAt);
    expect(updated.tracks[1].addedAt.getTime()).toBeGreaterThan(created.tracks[0].addedAt.getTime());
    expect(updated.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
    await new Promise((r) => setTimeout(r, 15));
    const touched = await repo.update(created.id, { trackIds: [trackIds[7]] });
    expect(touched.updatedAt.getTime()).toBeGreaterThan(updated.updatedAt.getTime());
    await expect(repo.update('00000000-0000-4000-8000-000000000000', { name: 'x' })).rejects.toBeInstanceOf(NotFoundError);
  });

  test('addTrack appends or inserts at a position; removeTrack closes the gap', async () => {
    const p = await repo.create({ name: 'edit', trackIds: [trackIds[10], trackIds[11]] });
    expect(await repo.addTrack(p.id, trackIds[12])).toBe(2);
    expect(await repo.addTrack(p.id, trackIds[13], 0)).toBe(0);
    expect(await repo.addTrack(p.id, trackIds[14], 2)).toBe(2);
    let now = (await repo.getById(p.id))!;
    expect(now.tracks.map((e) => e.trackId)).toEqual([13, 10, 14, 11, 12].map((i) => trackIds[i]));
    expect(now.tracks.map((e) => e.position)).toEqual([0, 1, 2, 3, 4]);
    expect(await repo.removeTrack(p.id, trackIds[10])).toBe(true);
    expect(await repo.removeTrack(p.id, trackIds[10])).toBe(false);
    now = (await repo.getById(p.id))!;
    expect(now.tracks.map((e) => e.trackId)).toEqual([13, 14, 11, 12].map((i) => trackIds[i]));
    expect(now.tracks.map((e) => e.position)).toEqual([0, 1, 2, 3]);
    await expect(repo.addTrack(p.id, trackIds[20], 9)).rejects.toThrow(/position must be from 0 to 4 \(its length\), got 9/);
    await expect(repo.addTrack(p.id, '00000000-0000-4000-8000-00000000abcd')).rejects.toThrow(/track 00000000-0000-4000-8000-00000000abcd does not exist/);
    await expect(repo.addTrack('00000000-0000-4000-8000-000000000000', trackIds[1])).rejects.toBeInstanceOf(NotFoundError);
    await expect(repo.removeTrack('00000000-0000-4000-8000-000000000000', trackIds[1])).rejects.toBeInstanceOf(NotFoundError);
    expect((await repo.getById(p.id))!.tracks).toHaveLength(4);
  });

  test('a track may stand at several positions: added twice, listed twice, removed with all its entries', async () => {
    const p = await repo.create({ name: 'twice', trackIds: [trackIds[1], trackIds[2], trackIds[1]] });
    expect(p.tracks.map((e) => [e.position, e.trackId])).toEqual([[0, trackIds[1]], [1, trackIds[2]], [2, trackIds[1]]]);
    expect(await repo.addTrack(p.id, trackIds[2], 0)).toBe(0);
    let now = (await repo.getById(p.id))!;
    expect(now.tracks.map((e) => e.trackId)).toEqual([2, 1, 2, 1].map((i) => trackIds[i]));
    expect(now.tracks.map((e) => e.position)).toEqual([0, 1, 2, 3]);
    // update keeps each entry's added_at by its occurrence: the first tr-1 keeps the first's.
    const firstAdded = now.tracks[1].addedAt;
    const updated = await repo.update(p.id, { trackIds: [trackIds[1], trackIds[3], trackIds[1]] });
    expect(updated.tracks.map((e) => e.trackId)).toEqual([1, 3, 1].map((i) => trackIds[i]));
    expect(updated.tracks[0].addedAt).toEqual(firstAdded);
    expect(await repo.removeTrack(p.id, trackIds[1])).toBe(true);
    now = (await repo.getById(p.id))!;
    expect(now.tracks.map((e) => [e.position, e.trackId])).toEqual([[0, trackIds[3]]]);
  });

  test('validation: source values, unknown tracks, taken URI; nothing half-written', async () => {
    const before = await db.prisma.playlist.count();
    await expect(repo.create({ name: 'x', source: 'Spotify' as never })).rejects.toThrow(/source must be one of manual, spotify, got "Spotify"/);
    await expect(repo.create({ name: '' })).rejects.toBeInstanceOf(ValidationError);
    await expect(repo.create({ name: 'ghost', trackIds: [trackIds[1], '00000000-0000-4000-8000-00000000beef'] })).rejects.toThrow(
      /track 00000000-0000-4000-8000-00000000beef does not exist/,
    );
    await expect(repo.create({ name: 'again', spotifyUri: `spotify:playlist:${provider}1` })).rejects.toThrow(/already belongs to another playlist/);
    expect(await db.prisma.playlist.count()).toBe(before);
  });

  test('delete removes the playlist and its entries, not the tracks', async () => {
    const p = await repo.create({ name: 'gone', trackIds: [trackIds[3]] });
    expect(await repo.delete(p.id)).toBe(true);
    expect(await repo.delete(p.id)).toBe(false);
    expect(await db.prisma.playlistTrack.count({ where: { playlistId: p.id } })).toBe(0);
    expect(await db.prisma.track.count({ where: { id: trackIds[3] } })).toBe(1);
  });
});
