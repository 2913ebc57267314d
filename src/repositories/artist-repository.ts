import { randomUUID } from 'node:crypto';
import type { Database } from '../db/client.js';
import type { Artist } from '../generated/sqlite/client.js';
import {
  assertArray,
  findByConditions,
  inConditions,
  retryOnUniqueViolation,
  writeRows,
  type Column,
} from './sql.js';
import { Checker, rowLabel } from './validation.js';

export interface ArtistInput {
  name: string;
  spotifyUri?: string | null;
  musicbrainzId?: string | null;
}

const insertColumns: Column[] = [
  { field: 'id', column: 'id', type: 'text' },
  { field: 'name', column: 'name', type: 'text' },
  { field: 'spotifyUri', column: 'spotify_uri', type: 'text' },
  { field: 'musicbrainzId', column: 'musicbrainz_id', type: 'text' },
  { field: 'createdAt', column: 'created_at', type: 'timestamp' },
  { field: 'updatedAt', column: 'updated_at', type: 'timestamp' },
];
const fillColumns: Record<'spotifyUri' | 'musicbrainzId', Column> = {
  spotifyUri: { field: 'spotifyUri', column: 'spotify_uri', type: 'text' },
  musicbrainzId: { field: 'musicbrainzId', column: 'musicbrainz_id', type: 'text' },
};

const fillGroups = [['spotifyUri'], ['musicbrainzId'], ['spotifyUri', 'musicbrainzId']] as const;

interface Entry {
  row: Artist;
  isNew: boolean;
  /** Identifiers learnt for an existing row that had none (written back). */
  filled: Set<'spotifyUri' | 'musicbrainzId'>;
}

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
  constructor(private readonly db: Database) {}

  async getById(id: string): Promise<Artist | undefined> {
    return (await this.db.prisma.artist.findUnique({ where: { id } })) ?? undefined;
  }

  async getBySpotifyUri(spotifyUri: string): Promise<Artist | undefined> {
    return (await this.db.prisma.artist.findUnique({ where: { spotifyUri } })) ?? undefined;
  }

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

  private async resolve(inputs: Required<ArtistInput>[]): Promise<Artist[]> {
    const { provider } = this.db;
    const existing = await findByConditions(
      provider,
      [
        ...inConditions(provider, 'spotifyUri', inputs.flatMap((i) => (i.spotifyUri ? [i.spotifyUri] : []))),
        ...inConditions(provider, 'musicbrainzId', inputs.flatMap((i) => (i.musicbrainzId ? [i.musicbrainzId] : []))),
        ...inConditions(provider, 'name', inputs.map((i) => i.name)),
      ],
      (where) => this.db.prisma.artist.findMany({ where, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] }),
    );
    existing.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : 1));

    const byUri = new Map<string, Entry>();
    const byMbid = new Map<string, Entry>();
    const byName = new Map<string, Entry[]>();
    const register = (entry: Entry) => {
      if (entry.row.spotifyUri) byUri.set(entry.row.spotifyUri, entry);
      if (entry.row.musicbrainzId) byMbid.set(entry.row.musicbrainzId, entry);
      const list = byName.get(entry.row.name);
      if (list) {
        if (!list.includes(entry)) list.push(entry);
      } else byName.set(entry.row.name, [entry]);
    };
    for (const row of existing) register({ row, isNew: false, filled: new Set() });

    const now = new Date();
    const created: Entry[] = [];
    const result = inputs.map((input) => {
      let entry = (input.spotifyUri && byUri.get(input.spotifyUri)) || (input.musicbrainzId && byMbid.get(input.musicbrainzId)) || undefined;
      if (!entry) {
        const candidates = byName.get(input.name) ?? [];
        entry = candidates.find(
          (c) =>
            (!input.spotifyUri || c.row.spotifyUri === null) && (!input.musicbrainzId || c.row.musicbrainzId === null || c.row.musicbrainzId === input.musicbrainzId),
        );
      }
      if (!entry) {
        entry = {
          row: { id: randomUUID(), name: input.name, spotifyUri: input.spotifyUri, musicbrainzId: input.musicbrainzId, createdAt: now, updatedAt: now },
          isNew: true,
          filled: new Set(),
        };
        created.push(entry);
        register(entry);
        return entry;
      }
      for (const field of ['spotifyUri', 'musicbrainzId'] as const) {
        const value = input[field];
        const index = field === 'spotifyUri' ? byUri : byMbid;
        if (value && entry.row[field] === null && !index.has(value)) {
          entry.row = { ...entry.row, [field]: value };
          if (!entry.isNew) entry.filled.add(field);
          register(entry);
        }
      }
      return entry;
    });

    const toUpdate = [...new Set(result)].filter((e) => !e.isNew && e.filled.size > 0);
    const groups = fillGroups.map((fields) => ({
      columns: fields.map((f) => fillColumns[f]),
      rows: toUpdate.filter((e) => e.filled.size === fields.length && fields.every((f) => e.filled.has(f))).map((e) => [e.row.id, ...fields.map((f) => e.row[f])]),
    }));
    await writeRows(this.db, 'artists', { columns: insertColumns, rows: created.map((e) => insertColumns.map((c) => e.row[c.field as keyof Artist])) }, groups, now);
    for (const e of toUpdate) e.row = { ...e.row, updatedAt: now };
    return result.map((e) => e.row);
  }
}
