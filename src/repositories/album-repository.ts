import { randomUUID } from 'node:crypto';
import type { Database } from '../db/client.js';
import type { Album } from '../generated/sqlite/client.js';
import { ValidationError } from './errors.js';
import {
  assertArray,
  findByConditions,
  groupByChangedColumns,
  inConditions,
  isForeignKeyViolation,
  retryOnUniqueViolation,
  writeRows,
  type Column,
  type KeyCondition,
} from './sql.js';
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

const columns: Column[] = [
  { field: 'id', column: 'id', type: 'text' },
  { field: 'title', column: 'title', type: 'text' },
  { field: 'artistId', column: 'artist_id', type: 'text' },
  { field: 'releaseYear', column: 'release_year', type: 'int' },
  { field: 'spotifyUri', column: 'spotify_uri', type: 'text' },
  { field: 'musicbrainzId', column: 'musicbrainz_id', type: 'text' },
  { field: 'artworkPath', column: 'artwork_path', type: 'text' },
  { field: 'createdAt', column: 'created_at', type: 'timestamp' },
  { field: 'updatedAt', column: 'updated_at', type: 'timestamp' },
];
const columnOf = (field: string) => columns.find((c) => c.field === field)!;
/** Fields a matched album learns from the input when it has none yet. */
const fillable = ['spotifyUri', 'musicbrainzId', 'releaseYear', 'artworkPath'] as const;

interface Entry {
  row: Album;
  isNew: boolean;
  filled: Record<string, unknown>;
}

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
    return (await this.db.prisma.album.findUnique({ where: { id } })) ?? undefined;
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

  private async resolve(inputs: CleanAlbum[]): Promise<Album[]> {
    const { provider } = this.db;
    const conditions: KeyCondition[] = [
      ...inConditions(provider, 'spotifyUri', inputs.flatMap((i) => (i.spotifyUri ? [i.spotifyUri] : []))),
      ...inConditions(provider, 'musicbrainzId', inputs.flatMap((i) => (i.musicbrainzId ? [i.musicbrainzId] : []))),
      ...[...new Map(inputs.map((i) => [pairKey(i.title, i.artistId), i])).values()].map((i) => ({
        where: { title: i.title, artistId: i.artistId },
        params: 2,
      })),
    ];
    const existing = await findByConditions(provider, conditions, (where) => this.db.prisma.album.findMany({ where }));
    existing.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));

    const byUri = new Map<string, Entry>();
    const byMbid = new Map<string, Entry>();
    const byPair = new Map<string, Entry[]>();
    const register = (entry: Entry) => {
      if (entry.row.spotifyUri) byUri.set(entry.row.spotifyUri, entry);
      if (entry.row.musicbrainzId) byMbid.set(entry.row.musicbrainzId, entry);
      const key = pairKey(entry.row.title, entry.row.artistId);
      const list = byPair.get(key);
      if (!list) byPair.set(key, [entry]);
      else if (!list.includes(entry)) list.push(entry);
    };
    for (const row of existing) register({ row, isNew: false, filled: {} });

    const now = new Date();
    const created: Entry[] = [];
    const result = inputs.map((input) => {
      let entry = (input.spotifyUri && byUri.get(input.spotifyUri)) || (input.musicbrainzId && byMbid.get(input.musicbrainzId)) || undefined;
      entry ??= (byPair.get(pairKey(input.title, input.artistId)) ?? []).find(
        (c) =>
          (!input.spotifyUri || c.row.spotifyUri === null) && (!input.musicbrainzId || c.row.musicbrainzId === null || c.row.musicbrainzId === input.musicbrainzId),
      );
      if (!entry) {
        entry = { row: { id: randomUUID(), ...input, createdAt: now, updatedAt: now }, isNew: true, filled: {} };
        created.push(entry);
        register(entry);
        return entry;
      }
      for (const field of fillable) {
        const value = input[field];
        if (value === null || entry.row[field] !== null) continue;
        if (field === 'spotifyUri' && byUri.has(value as string)) continue;
        if (field === 'musicbrainzId' && byMbid.has(value as string)) continue;
        entry.row = { ...entry.row, [field]: value };
        if (!entry.isNew) entry.filled[field] = value;
        register(entry);
      }
      return entry;
    });

    const toUpdate = [...new Set(result)].filter((e) => !e.isNew && Object.keys(e.filled).length > 0);
    const groups = groupByChangedColumns(
      toUpdate.map((e) => ({ id: e.row.id, values: e.filled })),
      columnOf,
    );
    await writeRows(this.db, 'albums', { columns, rows: created.map((e) => columns.map((c) => e.row[c.field as keyof Album])) }, groups, now);
    for (const e of toUpdate) e.row = { ...e.row, updatedAt: now };
    return result.map((e) => e.row);
  }
}
