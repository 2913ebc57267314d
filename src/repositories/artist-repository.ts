import type { Database } from '../db/client.js';
import type { Artist } from '../generated/sqlite/client.js';
import { getOrCreateRows, type GetOrCreateTable } from './get-or-create.js';
import { assertArray, inConditions, retryOnUniqueViolation, snakeCaseColumns, uniqueLookups } from './sql.js';
import { Checker, rowLabel } from './validation.js';

export interface ArtistInput {
  name: string;
  spotifyUri?: string | null;
  musicbrainzId?: string | null;
}

const columns = snakeCaseColumns({ id: 'text', name: 'text', spotifyUri: 'text', musicbrainzId: 'text', createdAt: 'timestamp', updatedAt: 'timestamp' });

function validate(input: ArtistInput, index: number): Required<ArtistInput> {
  const shape: Checker = new Checker(rowLabel('artist', index));
  shape.object(input);
  const check = new Checker(rowLabel('artist', index, input.spotifyUri ?? input.name));
  return {
    name: check.text('name', input.name, 255),
    spotifyUri: check.optionalText('spotifyUri', input.spotifyUri, 255) ?? null,
    musicbrainzId: check.optionalText('musicbrainzId', input.musicbrainzId, 36) ?? null,
  };
}

/** Artists: batched get-or-create so importers never create the same artist twice. */
export class ArtistRepository {
  private readonly lookups = uniqueLookups((where) => this.db.prisma.artist.findUnique({ where }));
  /** The artist with this id, or undefined. */
  readonly getById = this.lookups.getById;
  /** The artist with this spotify_uri, or undefined. */
  readonly getBySpotifyUri = this.lookups.getBySpotifyUri;

  constructor(private readonly db: Database) {}

  /**
   * One artist per input, same length and order. Matched by spotifyUri, then musicbrainzId, then
   * exact name (an input with a URI only adopts a same-named artist that has no URI yet, and
   * records the URI on it); otherwise created. Duplicates inside the batch resolve to one row.
   * Lookups and writes are batched (a few statements per batch, never one per row); the writes run
   * in one transaction. Names are not unique in the schema: two processes creating the same
   * URI-less artist at the same moment can still both create it.
   */
  async getOrCreateBatch(inputs: ArtistInput[]): Promise<Artist[]> {
    assertArray(inputs, 'artists');
    const clean = inputs.map(validate);
    if (clean.length === 0) return [];
    return retryOnUniqueViolation(() => this.resolve(clean), 'artists get-or-create');
  }

  private resolve(inputs: Required<ArtistInput>[]): Promise<Artist[]> {
    const { prisma, provider } = this.db;
    const artists: GetOrCreateTable<Required<ArtistInput>, Artist> = {
      table: 'artists',
      columns,
      fillable: ['spotifyUri', 'musicbrainzId'],
      nameOf: (artist) => artist.name,
      nameConditions: (batch) => inConditions(provider, 'name', batch.map((i) => i.name)),
      findMany: (where) => prisma.artist.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    };
    return getOrCreateRows(this.db, artists, inputs);
  }
}
