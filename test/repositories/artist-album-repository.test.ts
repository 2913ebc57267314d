import type { Database } from '../../src/db/client.js';
import { ArtistRepository } from '../../src/repositories/artist-repository.js';
import { AlbumRepository } from '../../src/repositories/album-repository.js';
import { ValidationError } from '../../src/repositories/errors.js';
import { providers } from '../helpers/db.js';
import { openTestDatabase, statementsOf } from './helpers.js';

describe.each(providers)('Artist and Album repositories on %s', (provider) => {
  let db: Database;
  let done: () => Promise<void>;
  let artists: ArtistRepository;
  let albums: AlbumRepository;

  beforeAll(async () => {
    ({ db, done } = await openTestDatabase(provider));
    artists = new ArtistRepository(db);
    albums = new AlbumRepository(db);
  });
  afterAll(() => done());

  test('artists: same length and order as the input, duplicates resolve to one row, a rerun creates nothing', async () => {
    const input = [
      { name: 'Björk', spotifyUri: 'spotify:artist:7w29UYBi0qsHi5RTcv3lmA' },
      { name: 'Sigur Rós' },
      { name: 'Björk', spotifyUri: 'spotify:artist:7w29UYBi0qsHi5RTcv3lmA' },
      { name: 'Sigur Rós' },
      { name: 'Múm', musicbrainzId: '6f0c2a9c-1f5b-4a4e-9b2d-0d0e0b2a1c01' },
    ];
    const first = await artists.getOrCreateBatch(input);
    expect(first.map((a) => a.name)).toEqual(input.map((i) => i.name));
    expect(first[2].id).toBe(first[0].id);
    expect(first[3].id).toBe(first[1].id);
    expect(await db.prisma.artist.count()).toBe(3);
    const { result: again, sql } = await statementsOf(db, () => artists.getOrCreateBatch(input));
    expect(again.map((a) => a.id)).toEqual(first.map((a) => a.id));
    expect(sql.filter((s) => /^\s*(INSERT|UPDATE|WITH)/i.test(s))).toEqual([]);
    expect(await db.prisma.artist.count()).toBe(3);
  });

  test('artists: a URI-less artist is adopted by name and gains the URI; two URIs with one name stay two artists', async () => {
    const [plain] = await artists.getOrCreateBatch([{ name: 'Portishead' }]);
    await new Promise((r) => setTimeout(r, 10));
    const [withUri] = await artists.getOrCreateBatch([{ name: 'Portishead', spotifyUri: 'spotify:artist:6liAMWkVf5LH7YR9yfFy1Y' }]);
    expect(withUri.id).toBe(plain.id);
    expect(withUri.spotifyUri).toBe('spotify:artist:6liAMWkVf5LH7YR9yfFy1Y');
    const stored = (await artists.getById(plain.id))!;
    expect(stored.spotifyUri).toBe('spotify:artist:6liAMWkVf5LH7YR9yfFy1Y');
    expect(stored.updatedAt.getTime()).toBeGreaterThan(plain.updatedAt.getTime());
    const twins = await artists.getOrCreateBatch([
      { name: 'Nirvana', spotifyUri: 'spotify:artist:6olE6TJLqED3rqDCT0FyPh' },
      { name: 'Nirvana', spotifyUri: 'spotify:artist:0z0ZrA9YdYqf0aKg7eq4yP' },
      { name: 'Nirvana' },
    ]);
    expect(twins[0].id).not.toBe(twins[1].id);
    expect(twins[2].id).toBe(twins[0].id);
  });

  test('artists: batched statements, never one per row', async () => {
    const input = Array.from({ length: 1000 }, (_, i) => ({ name: `Artist ${i}`, spotifyUri: `spotify:artist:bulk${i}` }));
    const { result, sql } = await statementsOf(db, () => artists.getOrCreateBatch(input));
    expect(result).toHaveLength(1000);
    expect(new Set(result.map((a) => a.id)).size).toBe(1000);
    expect(sql.length).toBeLessThanOrEqual(6);
    expect(sql.filter((s) => /INSERT/i.test(s))).toHaveLength(1);
  });

  test('artists: bad input is refused whole', async () => {
    const before = await db.prisma.artist.count();
    await expect(artists.getOrCreateBatch([{ name: 'ok' }, { name: '  ' }])).rejects.toThrow(/artist #2 .*name must be a non-empty text/);
    await expect(artists.getOrCreateBatch([{ name: 'x'.repeat(256) }])).rejects.toBeInstanceOf(ValidationError);
    await expect(artists.getOrCreateBatch([null as never])).rejects.toThrow(/artist #1: the row must be an object/);
    expect(await db.prisma.artist.count()).toBe(before);
  });

  test('names are counted in characters as PostgreSQL counts them, and a NUL is refused, the same on both', async () => {
    const emoji = '\u{1F3B5}'; // one character, two UTF-16 units
    const [stored] = await artists.getOrCreateBatch([{ name: emoji.repeat(255) }]);
    expect(stored.name).toBe(emoji.repeat(255));
    await expect(artists.getOrCreateBatch([{ name: emoji.repeat(256) }])).rejects.toThrow(/at most 255 characters, got "256 characters"/);
    const before = await db.prisma.artist.count();
    await expect(artists.getOrCreateBatch([{ name: 'a\0b' }])).rejects.toThrow(/name must be text without NUL characters/);
    await expect(artists.getOrCreateBatch([{ name: 'a\ud800b' }])).rejects.toThrow(/unpaired UTF-16 surrogates/);
    expect(await db.prisma.artist.count()).toBe(before);
  });

  test('albums: by spotify_uri, else (title, artist); fills what the album lacks; validates the year', async () => {
    const [a, b] = await artists.getOrCreateBatch([{ name: 'Air' }, { name: 'Daft Punk' }]);
    const first = await albums.getOrCreateBatch([
      { title: 'Moon Safari', artistId: a.id },
      { title: 'Discovery', artistId: b.id, spotifyUri: 'spotify:album:2noRn2Aes5aoNVsU6iWThc', releaseYear: 2001 },
      { title: 'Discovery', artistId: a.id }, // same title, other artist: another album
      { title: 'Moon Safari', artistId: a.id, releaseYear: 1998 }, // same album; learns its year
    ]);
    expect(first[3].id).toBe(first[0].id);
    expect(first[2].id).not.toBe(first[1].id);
    expect(first[3].releaseYear).toBe(1998);
    expect((await albums.getById(first[0].id))!.releaseYear).toBe(1998);
    expect(await db.prisma.album.count()).toBe(3);
    const again = await albums.getOrCreateBatch([
      { title: 'Discovery (renamed upstream)', artistId: b.id, spotifyUri: 'spotify:album:2noRn2Aes5aoNVsU6iWThc', releaseYear: 1999 },
      { title: 'Moon Safari', artistId: a.id, spotifyUri: 'spotify:album:6HpVTJ5wGJvSDEmUGj9ZVN' },
    ]);
    expect(again.map((x) => x.id)).toEqual([first[1].id, first[0].id]);
    expect(again[0].releaseYear).toBe(2001); // never overwritten
    expect(again[1].spotifyUri).toBe('spotify:album:6HpVTJ5wGJvSDEmUGj9ZVN');
    expect(await db.prisma.album.count()).toBe(3);
    expect((await albums.listByArtist(a.id)).map((x) => x.title).sort()).toEqual(['Discovery', 'Moon Safari']);

    await expect(albums.getOrCreateBatch([{ title: 'Old', artistId: a.id, releaseYear: 1899 }])).rejects.toThrow(/releaseYear must be a whole number from 1900 to 2100 or null, got 1899/);
    await expect(albums.getOrCreateBatch([{ title: 'Future', artistId: a.id, releaseYear: 2101 }])).rejects.toBeInstanceOf(ValidationError);
    await expect(albums.getOrCreateBatch([{ title: 'Ok', artistId: a.id }, { title: 'Orphan', artistId: '00000000-0000-4000-8000-000000000000' }])).rejects.toThrow(
      /album #2 \(Orphan\): artistId 00000000-0000-4000-8000-000000000000 does not exist/,
    );
    expect(await db.prisma.album.count()).toBe(3);
  });
});
