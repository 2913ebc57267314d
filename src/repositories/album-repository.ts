import type { Database } from '../db/client.js';
import type { Album } from '../generated/sqlite/client.js';
import { ValidationError } from './errors.js';
import { getOrCreateRows, type GetOrCreateTable } from './get-or-create.js';
import { assertArray, findByConditions, found, inConditions, isForeignKeyViolation, retryOnUniqueViolation, snakeCaseColumns } from './sql.js';
import { Checker, rowLabel, YEAR_MAX, YEAR_MIN } from './validation.js';

export interface AlbumInput {
  title: string;
  artistId: string;
  spotifyUri?: string | null;
  releaseYear?: number | null;
  musicbrainzId?: string | null;
  artworkPath?: string | null;
}

type CleanAlbum = { [K in keyof AlbumInput]-?: Exclude<AlbumInput[K], undefined> };

const columns = snakeCaseColumns({
  id: 'text',
  title: 'text',
  artistId: 'text',
  releaseYear: 'int',
  spotifyUri: 'text',
  musicbrainzId: 'text',
  artworkPath: 'text',
  createdAt: 'timestamp',
  updatedAt: 'timestamp',
});

function validate(input: AlbumInput, index: number): CleanAlbum {
  const shape: Checker = new Checker(rowLabel('album', index));
  shape.object(input);
  const check = new Checker(rowLabel('album', index, input.spotifyUri ?? input.title));
  return {
    title: check.text('title', input.title, 255),
    artistId: check.text('artistId', input.artistId, 36),
    spotifyUri: check.optionalText('spotifyUri', input.spotifyUri, 255) ?? null,
    releaseYear: check.int('releaseYear', input.releaseYear, YEAR_MIN, YEAR_MAX, true) ?? null,
    musicbrainzId: check.optionalText('musicbrainzId', input.musicbrainzId, 36) ?? null,
    artworkPath: check.optionalText('artworkPath', input.artworkPath, 512) ?? null,
  };
}

const pairKey = (title: string, artistId: string) => `${artistId}\u0000${title}`;

/** Albums: batched get-or-create by spotify_uri, else (title, artist). */
export class AlbumRepository {
  constructor(private readonly db: Database) {}

  async getById(id: string): Promise<Album | undefined> {
    return found(this.db.prisma.album.findUnique({ where: { id } }));
  }

  /** Albums of an artist, newest release first (backed by `ix_albums_artist_id`). */
  listByArtist(artistId: string): Promise<Album[]> {
    return this.db.prisma.album.findMany({ where: { artistId }, orderBy: [{ releaseYear: 'desc' }, { title: 'asc' }] });
  }

  /**
   * One album per input, same length and order. Matched by spotifyUri, then musicbrainzId, then
   * (exact title, artistId) — an input with a URI only adopts a same-titled album of that artist
   * that has no URI yet. A matched album gains the URI, MusicBrainz id, release year and artwork path
   * it lacked; nothing it has is overwritten. Duplicates inside the batch resolve to one row.
   * Batched statements, writes in one transaction; an unknown artistId is refused with its row.
   */
  async getOrCreateBatch(inputs: AlbumInput[]): Promise<Album[]> {
    assertArray(inputs, 'albums');
    const clean = inputs.map(validate);
    if (clean.length === 0) return [];
    try {
      return await retryOnUniqueViolation(() => this.resolve(clean), 'albums get-or-create');
    } catch (error) {
      if (isForeignKeyViolation(error)) throw await this.describeMissingArtist(clean, error);
      throw error;
    }
  }

  private async describeMissingArtist(inputs: CleanAlbum[], cause: unknown): Promise<Error> {
    const ids = [...new Set(inputs.map((i) => i.artistId))];
    const found = new Set(
      (await findByConditions(this.db.provider, inConditions(this.db.provider, 'id', ids), (where) => this.db.prisma.artist.findMany({ where, select: { id: true } }))).map(
        (a) => a.id,
      ),
    );
    const index = inputs.findIndex((i) => !found.has(i.artistId));
    if (index < 0) return cause as Error;
    return new ValidationError(
      `${rowLabel('album', index, inputs[index].title)}: artistId ${inputs[index].artistId} does not exist; create the artist first (nothing was written)`,
      { cause },
    );
  }

  private resolve(inputs: CleanAlbum[]): Promise<Album[]> {
    const { prisma } = this.db;
    const albums: GetOrCreateTable<CleanAlbum, Album> = {
      table: 'albums',
      columns,
      fillable: ['spotifyUri', 'musicbrainzId', 'releaseYear', 'artworkPath'],
      nameOf: (album) => pairKey(album.title, album.artistId),
      nameConditions: (batch) =>
        [...new Map(batch.map((i) => [pairKey(i.title, i.artistId), i])).values()].map((i) => ({ where: { title: i.title, artistId: i.artistId }, params: 2 })),
      findMany: (where) => prisma.album.findMany({ where }),
    };
    return getOrCreateRows(this.db, albums, inputs);
  }
}
