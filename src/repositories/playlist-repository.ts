import type { Database } from '../db/client.js';
import type { Artist, Playlist, PlaylistTrack, Prisma, Track, TrackArtist } from '../generated/sqlite/client.js';
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
  /** The tracks in order; a track may stand at several positions. */
  trackIds?: string[];
}
export type PlaylistUpdate = Partial<PlaylistInput>;

/** The most playlists one `listAll` page returns. */
export const MAX_PAGE_SIZE = 500;

/** A track with its artist and the artists credited after it (positions 1, 2, …). */
export type TrackWithCredits = Track & { artist: Artist; credits: Array<TrackArtist & { artist: Artist }> };
/** One position of a playlist, with its track and the track's credits. */
export type PlaylistEntryWithCredits = PlaylistTrack & { track: TrackWithCredits };
export type PlaylistWithCredits = Playlist & { tracks: PlaylistEntryWithCredits[] };

/**
 * Eager loading through Prisma `include`: the playlists, then their entries (`IN` the playlist
 * ids, ordered by position), then the tracks (`IN` the track ids) — three statements whatever the
 * number of playlists and tracks, never one per row.
 */
const withTracks = {
  tracks: { orderBy: [{ position: 'asc' }], include: { track: true } },
} as const satisfies Prisma.PlaylistInclude;

/** withTracks and every track's artists: three statements more (artists, credits `IN` the track ids, their artists). */
const withCredits = {
  tracks: {
    orderBy: [{ position: 'asc' }],
    include: { track: { include: { artist: true, credits: { orderBy: { position: 'asc' }, include: { artist: true } } } } },
  },
} as const satisfies Prisma.PlaylistInclude;

/** Far below any position and above INTEGER's minimum: entries are moved through it (see shift). */
const SHIFT = 1_000_000_000;

function validateFields(input: PlaylistUpdate, check: Checker, full: boolean): Omit<PlaylistUpdate, 'trackIds'> & { trackIds?: string[] } {
  const out: PlaylistUpdate = {};
  if (full || input.name !== undefined) out.name = check.text('name', input.name, 255);
  if (input.description !== undefined) out.description = input.description === null ? null : check.text('description', input.description, 100_000);
  if (input.source !== undefined) out.source = check.oneOf('source', input.source, PLAYLIST_SOURCES);
  if (input.spotifyUri !== undefined) out.spotifyUri = check.optionalText('spotifyUri', input.spotifyUri, 255);
  if (input.trackIds !== undefined) {
    if (!Array.isArray(input.trackIds)) throw new ValidationError(`${describe(input)}: trackIds must be an array of track ids`);
    input.trackIds.forEach((id, i) => check.text(`trackIds[${i}]`, id, 36));
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

  /** A playlist with its tracks, each with its artist and later credits in order; six statements whatever its size. */
  async getByIdWithCredits(id: string): Promise<PlaylistWithCredits | undefined> {
    return (await this.db.prisma.playlist.findUnique({ where: { id }, include: withCredits })) ?? undefined;
  }

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
          // An entry kept keeps its added_at: the n-th entry of a track takes the n-th one's before.
          const previous = new Map<string, Date[]>();
          for (const e of await tx.playlistTrack.findMany({ where: { playlistId: id }, select: { trackId: true, addedAt: true }, orderBy: { position: 'asc' } })) {
            const times = previous.get(e.trackId);
            if (times) times.push(e.addedAt);
            else previous.set(e.trackId, [e.addedAt]);
          }
          await tx.playlistTrack.deleteMany({ where: { playlistId: id } });
          if (trackIds.length > 0) {
            await tx.playlistTrack.createMany({
              data: trackIds.map((trackId, position) => ({ playlistId: id, trackId, position, addedAt: previous.get(trackId)?.shift() ?? now })),
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
   * Adds a track at the end, or at `position` (0-based; later entries move down one). A track may
   * stand at several positions. Returns the position it got. Refuses a position past the end.
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
        if (at < length) await shift(tx, playlistId, at, 1);
        await tx.playlistTrack.create({ data: { playlistId, trackId, position: at, addedAt: now } });
        return at;
      }),
    );
  }

  /** Removes every entry of a track; later entries move up. False when the track was not in the playlist. */
  async removeTrack(playlistId: string, trackId: string): Promise<boolean> {
    const now = new Date();
    return transaction(this.db, async (tx) => {
      const entries = await tx.playlistTrack.findMany({ where: { playlistId, trackId }, select: { position: true }, orderBy: { position: 'desc' } });
      if (!entries.length) {
        if (!(await tx.playlist.findUnique({ where: { id: playlistId }, select: { id: true } }))) throw new NotFoundError('playlist', playlistId);
        return false;
      }
      await tx.playlistTrack.deleteMany({ where: { playlistId, trackId } });
      // From the last removed entry back, so each shift moves only entries that stay.
      for (const { position } of entries) await shift(tx, playlistId, position + 1, -1);
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

/**
 * Moves the entries at `from` and after by `by` positions. Positions are the primary key, which
 * both databases check row by row during an UPDATE: `position + 1` in one statement would collide
 * with the next entry. So the entries go below zero first (distinct, out of the way), then to
 * their place.
 */
async function shift(tx: Prisma.TransactionClient, playlistId: string, from: number, by: number): Promise<void> {
  await tx.playlistTrack.updateMany({ where: { playlistId, position: { gte: from } }, data: { position: { decrement: SHIFT } } });
  await tx.playlistTrack.updateMany({ where: { playlistId, position: { lt: 0 } }, data: { position: { increment: SHIFT + by } } });
}
