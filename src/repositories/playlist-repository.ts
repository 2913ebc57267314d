import type { Database } from '../db/client.js';
import type { Playlist, PlaylistTrack, Prisma, Track } from '../generated/sqlite/client.js';
import { ConflictError, NotFoundError, ValidationError } from './errors.js';
import { findByConditions, inConditions, isForeignKeyViolation, isUniqueViolation, transaction, uniqueLookups } from './sql.js';
import { Checker } from './validation.js';

export const PLAYLIST_SOURCES = ['manual', 'spotify'] as const;
export type PlaylistSource = (typeof PLAYLIST_SOURCES)[number];

/** One position of a playlist, with its track. */
export type PlaylistEntry = PlaylistTrack & { track: Track };
/** A playlist with its tracks in position order (positions 0, 1, 2…). */
export type PlaylistWithTracks = Playlist & { tracks: PlaylistEntry[] };

export interface PlaylistInput {
  name: string;
  description?: string | null;
  source?: PlaylistSource;
  spotifyUri?: string | null;
  /** The tracks in order; each once. */
  trackIds?: string[];
}
export type PlaylistUpdate = Partial<PlaylistInput>;

/** The most playlists one `listAll` page returns. */
export const MAX_PAGE_SIZE = 500;

/**
 * Eager loading through Prisma `include`: the playlists, then their entries (`IN` the playlist
 * ids, ordered by position), then the tracks (`IN` the track ids) — three statements whatever the
 * number of playlists and tracks, never one per row.
 */
const withTracks = {
  tracks: { orderBy: [{ position: 'asc' }, { trackId: 'asc' }], include: { track: true } },
} as const satisfies Prisma.PlaylistInclude;

function validateFields(input: PlaylistUpdate, check: Checker, full: boolean): Omit<PlaylistUpdate, 'trackIds'> & { trackIds?: string[] } {
  const out: PlaylistUpdate = {};
  if (full || input.name !== undefined) out.name = check.text('name', input.name, 255);
  if (input.description !== undefined) out.description = input.description === null ? null : check.text('description', input.description, 100_000);
  if (input.source !== undefined) out.source = check.oneOf('source', input.source, PLAYLIST_SOURCES);
  if (input.spotifyUri !== undefined) out.spotifyUri = check.optionalText('spotifyUri', input.spotifyUri, 255);
  if (input.trackIds !== undefined) {
    if (!Array.isArray(input.trackIds)) throw new ValidationError(`${describe(input)}: trackIds must be an array of track ids`);
    const seen = new Set<string>();
    input.trackIds.forEach((id, i) => {
      check.text(`trackIds[${i}]`, id, 36);
      if (seen.has(id)) throw new ValidationError(`${describe(input)}: track ${id} is listed twice (trackIds[${i}]); a playlist holds a track once`);
      seen.add(id);
    });
    out.trackIds = input.trackIds;
  }
  return out;
}

const describe = (input: PlaylistUpdate) => (input.name ? `playlist "${input.name}"` : 'playlist');

/** Playlists and their ordered tracks. */
export class PlaylistRepository {
  private readonly lookups = uniqueLookups((where) => this.db.prisma.playlist.findUnique({ where, include: withTracks }));
  /** The playlist, with its tracks in order, with this id, or undefined. */
  readonly getById = this.lookups.getById;
  /** The playlist, with its tracks in order, with this spotify_uri, or undefined. */
  readonly getBySpotifyUri = this.lookups.getBySpotifyUri;

  constructor(private readonly db: Database) {}

  /** One page of playlists by name (page 1 first), each with its tracks; three statements per page. */
  listAll(options: { page?: number; pageSize?: number } = {}): Promise<PlaylistWithTracks[]> {
    const check = new Checker('listAll');
    const page = check.int('page', options.page ?? 1, 1, 1_000_000_000, false)!;
    const pageSize = check.int('pageSize', options.pageSize ?? 50, 1, MAX_PAGE_SIZE, false)!;
    return this.db.prisma.playlist.findMany({
      orderBy: [{ name: 'asc' }, { id: 'asc' }],
      skip: (page - 1) * pageSize,
      take: pageSize,
      include: withTracks,
    });
  }

  /** Creates a playlist, with its tracks in the order given. */
  async create(input: PlaylistInput): Promise<PlaylistWithTracks> {
    const shape: Checker = new Checker('playlist');
    shape.object(input);
    const clean = validateFields(input, new Checker(describe(input)), true);
    const { trackIds = [], ...fields } = clean;
    const now = new Date();
    const id = await this.guard(clean, () =>
      transaction(this.db, async (tx) => {
        const playlist = await tx.playlist.create({ data: { ...(fields as PlaylistInput), createdAt: now, updatedAt: now }, select: { id: true } });
        if (trackIds.length > 0) {
          await tx.playlistTrack.createMany({ data: trackIds.map((trackId, position) => ({ playlistId: playlist.id, trackId, position, addedAt: now })) });
        }
        return playlist.id;
      }),
    );
    return (await this.getById(id))!;
  }

  /**
   * Changes fields and/or replaces the track order (`trackIds`: tracks kept keep their added_at).
   * Always refreshes updated_at. Throws NotFoundError for an unknown id.
   */
  async update(id: string, patch: PlaylistUpdate): Promise<PlaylistWithTracks> {
    const shape: Checker = new Checker(`playlist ${id}`);
    shape.object(patch);
    const clean = validateFields(patch, new Checker(`playlist ${id}`), false);
    const { trackIds, ...fields } = clean;
    const now = new Date();
    await this.guard(clean, () =>
      transaction(this.db, async (tx) => {
        const { count } = await tx.playlist.updateMany({ where: { id }, data: { ...fields, updatedAt: now } });
        if (count === 0) throw new NotFoundError('playlist', id);
        if (trackIds) {
          const previous = new Map((await tx.playlistTrack.findMany({ where: { playlistId: id }, select: { trackId: true, addedAt: true } })).map((e) => [e.trackId, e.addedAt]));
          await tx.playlistTrack.deleteMany({ where: { playlistId: id } });
          if (trackIds.length > 0) {
            await tx.playlistTrack.createMany({
              data: trackIds.map((trackId, position) => ({ playlistId: id, trackId, position, addedAt: previous.get(trackId) ?? now })),
            });
          }
        }
      }),
    );
    return (await this.getById(id))!;
  }

  /** Deletes a playlist (its entries go with it); false when there was none. */
  async delete(id: string): Promise<boolean> {
    return (await this.db.prisma.playlist.deleteMany({ where: { id } })).count > 0;
  }

  /**
   * Adds a track at the end, or at `position` (0-based; later entries move down one).
   * Returns the position it got. Refuses a track already in the playlist and a position past the end.
   */
  async addTrack(playlistId: string, trackId: string, position?: number): Promise<number> {
    const check = new Checker(`playlist ${playlistId}`);
    check.text('trackId', trackId, 36);
    check.int('position', position, 0, 2_147_483_647, false);
    const now = new Date();
    return this.guard({ trackIds: [trackId] }, () =>
      transaction(this.db, async (tx) => {
        const { count } = await tx.playlist.updateMany({ where: { id: playlistId }, data: { updatedAt: now } });
        if (count === 0) throw new NotFoundError('playlist', playlistId);
        const length = await tx.playlistTrack.count({ where: { playlistId } });
        const at = position ?? length;
        if (at > length) throw new ValidationError(`playlist ${playlistId}: position must be from 0 to ${length} (its length), got ${at}`);
        if (await tx.playlistTrack.findUnique({ where: { playlistId_trackId: { playlistId, trackId } }, select: { position: true } })) {
          throw new ConflictError(`playlist ${playlistId} already holds track ${trackId}; remove it first to move it`);
        }
        if (at < length) await tx.playlistTrack.updateMany({ where: { playlistId, position: { gte: at } }, data: { position: { increment: 1 } } });
        await tx.playlistTrack.create({ data: { playlistId, trackId, position: at, addedAt: now } });
        return at;
      }),
    );
  }

  /** Removes a track; later entries move up one. False when the track was not in the playlist. */
  async removeTrack(playlistId: string, trackId: string): Promise<boolean> {
    const now = new Date();
    return transaction(this.db, async (tx) => {
      const entry = await tx.playlistTrack.findUnique({ where: { playlistId_trackId: { playlistId, trackId } }, select: { position: true } });
      if (!entry) {
        if (!(await tx.playlist.findUnique({ where: { id: playlistId }, select: { id: true } }))) throw new NotFoundError('playlist', playlistId);
        return false;
      }
      await tx.playlistTrack.delete({ where: { playlistId_trackId: { playlistId, trackId } } });
      await tx.playlistTrack.updateMany({ where: { playlistId, position: { gt: entry.position } }, data: { position: { decrement: 1 } } });
      await tx.playlist.update({ where: { id: playlistId }, data: { updatedAt: now } });
      return true;
    });
  }

  /** Turns constraint failures into one line: an unknown track id, a taken Spotify URI. */
  private async guard<T>(input: PlaylistUpdate, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (isForeignKeyViolation(error) && input.trackIds?.length) {
        const { provider } = this.db;
        const found = new Set(
          (await findByConditions(provider, inConditions(provider, 'id', input.trackIds), (where) => this.db.prisma.track.findMany({ where, select: { id: true } }))).map(
            (t) => t.id,
          ),
        );
        const missing = input.trackIds.find((id) => !found.has(id));
        if (missing) throw new ValidationError(`${describe(input)}: track ${missing} does not exist; import it first (nothing was written)`, { cause: error });
      }
      if (isUniqueViolation(error) && input.spotifyUri) {
        throw new ConflictError(`${describe(input)}: spotify_uri ${input.spotifyUri} already belongs to another playlist (nothing was written)`, { cause: error });
      }
      throw error;
    }
  }
}
