import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ImportStore, PlaylistEntry } from '../../db/fast-insert.js';
import type { TrackRow } from './normalize.js';
import { albumKey, artistKey, planAlbums, planArtists, planTracks, type ResolvedRow } from './plan.js';
import type { Reject } from './rejects.js';

export interface BatchOutcome {
  inserted: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  rejects: Reject[];
  artistsCreated: number;
  albumsCreated: number;
}

/**
 * Writes batches of valid rows through an ImportStore: artists and albums get-or-created once
 * (with a bounded LRU of ids, so memory stays flat however long the file), tracks matched and
 * inserted or updated, playlist entries placed in file order. One transaction per batch.
 */
export class BatchImporter {
  private readonly artistIds = new LRUCache<string, string>({ max: 50_000 });
  private readonly albumIds = new LRUCache<string, string>({ max: 50_000 });
  private position = 0;
  private playlistId: string | undefined;

  constructor(
    private readonly store: ImportStore,
    private readonly clock: () => Date = () => new Date(),
    private readonly newId: () => string = randomUUID,
  ) {}

  /** Creates the playlist if missing (before the first batch). */
  async preparePlaylist(name: string): Promise<string> {
    this.playlistId = await this.store.transaction(() => this.store.getOrCreatePlaylist(name, this.clock()));
    return this.playlistId;
  }

  async writeBatch(rows: TrackRow[]): Promise<BatchOutcome> {
    const startPosition = this.position;
    return this.store.transaction(async () => {
      // A retried transaction starts over: nothing it learnt may leak into the caches before commit.
      this.position = startPosition;
      const now = this.clock();
      const learnedArtists = new Map<string, string>();
      const learnedAlbums = new Map<string, string>();

      // Artists: the track's (first listed) artist and, when different, the album artist.
      const artistRefs = new Map<string, TrackRow['artist']>();
      for (const r of rows) {
        for (const ref of r.album ? [r.artist, r.album.artist] : [r.artist]) {
          const key = artistKey(ref);
          if (!artistRefs.has(key) && !this.artistIds.has(key)) artistRefs.set(key, ref);
        }
      }
      let artistsCreated = 0;
      if (artistRefs.size) {
        const refs = [...artistRefs.values()];
        const existing = await this.store.findArtists(
          refs.filter((r) => r.spotifyUri).map((r) => r.spotifyUri!),
          [...new Set(refs.map((r) => r.name))],
        );
        const plan = planArtists(refs, existing, this.newId);
        await this.store.insertArtists(plan.creates, now);
        await this.store.attachArtistUris(plan.attaches, now);
        artistsCreated = plan.creates.length;
        for (const [k, id] of plan.ids) learnedArtists.set(k, id);
      }
      const artistId = (ref: TrackRow['artist']) => {
        const key = artistKey(ref);
        return learnedArtists.get(key) ?? this.artistIds.get(key)!;
      };

      // Albums: by Spotify URI, else (title, album artist).
      const albumRefs = new Map<string, { ref: NonNullable<TrackRow['album']>; artistId: string }>();
      for (const r of rows) {
        if (!r.album) continue;
        const aId = artistId(r.album.artist);
        const key = albumKey(r.album, aId);
        if (!albumRefs.has(key) && !this.albumIds.has(key)) albumRefs.set(key, { ref: r.album, artistId: aId });
      }
      let albumsCreated = 0;
      if (albumRefs.size) {
        const refs = [...albumRefs.values()];
        const existing = await this.store.findAlbums(
          refs.filter((r) => r.ref.spotifyUri).map((r) => r.ref.spotifyUri!),
          refs.map((r) => [r.ref.title, r.artistId] as [string, string]),
        );
        const plan = planAlbums(refs, existing, this.newId);
        await this.store.insertAlbums(plan.creates, now);
        await this.store.attachAlbumUris(plan.attaches, now);
        albumsCreated = plan.creates.length;
        for (const [k, id] of plan.ids) learnedAlbums.set(k, id);
      }

      // Resolved in place (a copy of every row would cost more than the lookups).
      const resolved = rows as ResolvedRow[];
      for (const r of resolved) {
        let albumId: string | null = null;
        if (r.album) {
          const key = albumKey(r.album, artistId(r.album.artist));
          albumId = learnedAlbums.get(key) ?? this.albumIds.get(key)!;
        }
        r.artistId = artistId(r.artist);
        r.albumId = albumId;
      }

      // Tracks: every candidate any row could match, in one round trip.
      const uris: string[] = [];
      const isrcs: string[] = [];
      const mbids: string[] = [];
      const titles: Array<[string, string]> = [];
      for (const r of resolved) {
        if (r.spotifyUri) uris.push(r.spotifyUri);
        if (r.isrc) isrcs.push(r.isrc);
        if (r.musicbrainzId) mbids.push(r.musicbrainzId);
        titles.push([r.title, r.artistId]);
      }
      const candidates = await this.store.findTracks(uris, isrcs, mbids, titles);
      const seen = await this.store.findSeen(candidates.map((c) => c.id));
      const plan = planTracks(resolved, candidates, seen, this.newId);
      await this.store.insertTracks(plan.inserts, now);
      await this.store.updateTracks(plan.updates, now);
      await this.store.markSeen(plan.accepted.map((a) => a.trackId));
      if (this.playlistId) {
        const entries: PlaylistEntry[] = plan.accepted.map((a) => ({ trackId: a.trackId, position: this.position++, addedAt: a.row.addedAt ?? null }));
        await this.store.upsertPlaylistEntries(this.playlistId, entries, now);
      }
      return {
        outcome: {
          inserted: plan.inserts.length,
          updated: plan.updates.length,
          unchanged: plan.unchanged,
          duplicates: plan.duplicates,
          rejects: plan.rejects,
          artistsCreated,
          albumsCreated,
        },
        learnedArtists,
        learnedAlbums,
      };
    }).then(({ outcome, learnedArtists, learnedAlbums }) => {
      // Committed: only now may the caches learn the ids.
      for (const [k, v] of learnedArtists) this.artistIds.set(k, v);
      for (const [k, v] of learnedAlbums) this.albumIds.set(k, v);
      return outcome;
    });
  }

  /** After the last batch of a complete run: the playlist keeps exactly this run's tracks. */
  async finishPlaylist(): Promise<number | undefined> {
    if (!this.playlistId) return undefined;
    const id = this.playlistId;
    return this.store.transaction(() => this.store.prunePlaylist(id, this.clock()));
  }
}
