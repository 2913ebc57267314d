import type { RepositoryHooks } from '../repositories/hooks.js';
import type { Database } from '../db/client.js';
import { describeError } from '../errors.js';
import { AlbumRepository } from '../repositories/album-repository.js';
import { ArtistRepository } from '../repositories/artist-repository.js';
import { TrackRepository } from '../repositories/track-repository.js';
import { BatchProcessor, type ItemResult } from './batch-processor.js';
import type { FetchedTrack, FetchFailure } from './fetcher.js';
import { parseTrackIds } from './ids.js';

/** What the upserts did. */
export interface LibraryWriteReport {
  inserted: number;
  updated: number;
  unchanged: number;
  /** Write batches (each a few statements, never one per row). */
  batches: number;
  /** Tracks whose ISRC was left out because another track of the library (or run) already has it. */
  isrcConflicts: number;
  failed: FetchFailure[];
}

/**
 * Writes fetched tracks, their artists and albums into the library in batches: artists and
 * albums by get-or-create, tracks by upsert keyed by spotify_uri then ISRC, so a second run
 * updates (or leaves unchanged) instead of duplicating. A failed write batch fails only its
 * tracks, reported with the database's reason.
 */
export class SpotifyLibraryWriter {
  private readonly artists: ArtistRepository;
  private readonly albums: AlbumRepository;
  private readonly tracks: TrackRepository;
  private readonly processor: BatchProcessor<FetchedTrack, string>;
  private readonly counts = { inserted: 0, updated: 0, unchanged: 0 };
  /** ISRC → spotify_uri claimed in this run (two Spotify tracks can share a recording's ISRC). */
  private readonly isrcOwners = new Map<string, string>();
  private isrcConflicts = 0;

  constructor(
    private readonly db: Database,
    options: { batchSize?: number; hooks?: RepositoryHooks } = {},
  ) {
    this.artists = new ArtistRepository(db);
    this.albums = new AlbumRepository(db);
    // The hooks of a CachedTrackReader make these writes invalidate its cached reads.
    this.tracks = new TrackRepository(db, options.hooks);
    // One batch at a time: the writes of a batch are one transaction, and SQLite has one writer.
    this.processor = new BatchProcessor((batch) => this.writeBatch(batch), { batchSize: options.batchSize ?? 500, maxWaitMs: 200, concurrency: 1 });
  }

  add(tracks: FetchedTrack[]): void {
    void this.processor.addMany(tracks);
  }

  async close(): Promise<LibraryWriteReport> {
    const result = await this.processor.close();
    return {
      ...this.counts,
      batches: this.processor.batchCount,
      isrcConflicts: this.isrcConflicts,
      failed: result.failures.map((f) => ({ id: f.item.id, kind: 'database', reason: `not saved: ${f.reason}` })),
    };
  }

  /**
   * Writes one batch in a few statements; when the batch is refused (for example a conflict the
   * repository detects), writes its tracks one by one so only the offending ones fail.
   */
  private async writeBatch(batch: readonly FetchedTrack[]): Promise<ItemResult<string>[]> {
    try {
      const ids = await this.write(batch);
      return ids.map((value) => ({ ok: true, value }));
    } catch (error) {
      if (batch.length === 1) throw error;
      const results: ItemResult<string>[] = [];
      for (const track of batch) {
        try {
          results.push({ ok: true, value: (await this.write([track]))[0] });
        } catch (single) {
          results.push({ ok: false, error: single instanceof Error ? single : new Error(String(single)) });
        }
      }
      return results;
    }
  }

  private async write(batch: readonly FetchedTrack[]): Promise<string[]> {
    const isrcs = await this.claimIsrcs(batch);
    const artistInputs = batch.flatMap((t) => [t.artist, t.album?.artist ?? t.artist]).map((a) => ({ name: a.name, spotifyUri: a.spotifyUri }));
    const artists = await this.artists.getOrCreateBatch(artistInputs);
    const withAlbum = batch.map((t, i) => ({ t, albumArtistId: artists[2 * i + 1].id })).filter((x) => x.t.album);
    const albums = await this.albums.getOrCreateBatch(
      withAlbum.map(({ t, albumArtistId }) => ({ title: t.album!.title, artistId: albumArtistId, spotifyUri: t.album!.spotifyUri, releaseYear: t.album!.releaseYear })),
    );
    const albumIdOf = new Map(withAlbum.map((x, k) => [x.t, albums[k].id]));
    // Fields Spotify did not give are left out (undefined), so they never clear what the library has.
    const report = await this.tracks.upsertBatch(
      batch.map((t, i) => ({
        title: t.title,
        artistId: artists[2 * i].id,
        albumId: albumIdOf.get(t),
        durationMs: t.durationMs,
        trackNumber: t.trackNumber,
        discNumber: t.discNumber,
        spotifyUri: t.spotifyUri,
        isrc: isrcs[i],
      })),
    );
    this.counts.inserted += report.inserted;
    this.counts.updated += report.updated;
    this.counts.unchanged += report.unchanged;
    return report.ids;
  }

  /**
   * The ISRC each track may carry. Spotify gives one recording's ISRC to several tracks (album and
   * single versions) while the column is unique, so a track's ISRC is left out (undefined: the
   * stored value is kept) when it already belongs to another track: one with another spotify_uri,
   * or a URI-less one while this track's own row exists too, or an earlier track of this run.
   */
  private async claimIsrcs(batch: readonly FetchedTrack[]): Promise<Array<string | undefined>> {
    const wanted = [...new Set(batch.flatMap((t) => (t.isrc ? [t.isrc] : [])))];
    if (wanted.length === 0) return batch.map(() => undefined);
    const holders = await this.db.prisma.track.findMany({ where: { isrc: { in: wanted } }, select: { id: true, isrc: true, spotifyUri: true } });
    const uris = batch.filter((t) => t.isrc && holders.some((h) => h.isrc === t.isrc)).map((t) => t.spotifyUri);
    const own = uris.length
      ? await this.db.prisma.track.findMany({ where: { spotifyUri: { in: uris } }, select: { id: true, spotifyUri: true } })
      : [];
    const holderOf = new Map(holders.map((h) => [h.isrc!, h]));
    const rowOf = new Map(own.map((r) => [r.spotifyUri!, r.id]));
    return batch.map((t) => {
      if (!t.isrc) return undefined;
      const owner = this.isrcOwners.get(t.isrc);
      const holder = holderOf.get(t.isrc);
      const ownRow = rowOf.get(t.spotifyUri);
      const taken =
        (owner !== undefined && owner !== t.spotifyUri) ||
        (holder !== undefined && holder.spotifyUri !== t.spotifyUri && (holder.spotifyUri !== null || (ownRow !== undefined && ownRow !== holder.id)));
      if (taken) {
        this.isrcConflicts++;
        return undefined;
      }
      this.isrcOwners.set(t.isrc, t.spotifyUri);
      return t.isrc;
    });
  }
}

/**
 * The track ids of library tracks that have a spotify_uri but incomplete metadata: no duration
 * (0), no ISRC, or no album.
 */
export async function findIncompleteTracks(db: Database): Promise<{ ids: string[]; invalid: FetchFailure[] }> {
  let rows: Array<{ spotifyUri: string | null }>;
  try {
    rows = await db.prisma.track.findMany({
      where: { spotifyUri: { not: null }, OR: [{ durationMs: 0 }, { isrc: null }, { albumId: null }] },
      select: { spotifyUri: true },
      orderBy: { createdAt: 'asc' },
    });
  } catch (error) {
    throw new Error(`reading the library's incomplete tracks failed: ${describeError(error)}`, { cause: error });
  }
  const uris = rows.map((r) => r.spotifyUri!);
  const parsed = parseTrackIds(uris.map((u) => (u.startsWith('spotify:track:') ? u : `invalid:${u}`)));
  return {
    ids: parsed.ids,
    invalid: parsed.malformed.map((m) => {
      const uri = m.replace(/^invalid:/, '');
      return { id: uri, kind: 'invalid_uri' as const, reason: `the library's spotify_uri "${uri}" is not a spotify:track: URI; fix it in the library` };
    }),
  };
}
