import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ImportStore, PlaylistEntry } from '../../db/fast-insert.js';
import type { AlbumRef, ArtistRef, TrackRow } from './normalize.js';
import { albumKey, artistKey, planAlbums, planArtists, planTracks, type ResolvedRow } from './plan.js';
import type { Reject } from './rejects.js';
import { detach } from './row-chunks.js';

export interface BatchOutcome {
  /** Valid rows written (each inserted, updated, unchanged or a duplicate, or rejected below). */
  rows: number;
  inserted: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  /** Rows the database side refused (a Spotify URI, ISRC or MusicBrainz id another track holds). */
  rejects: Reject[];
  artistsCreated: number;
  albumsCreated: number;
}

/** What one attempt at a batch's transaction learnt and counted. */
interface Attempt {
  now: Date;
  outcome: BatchOutcome;
  /** Ids created or found in this transaction, for its later chunks; the caches learn them at commit. */
  artists: Map<string, string>;
  albums: Map<string, string>;
}

/**
 * Writes batches of valid rows through an ImportStore: artists and albums get-or-created once
 * (with a bounded LRU of ids, so memory stays flat however long the file), tracks matched and
 * inserted or updated, playlist entries placed in file order. One transaction per batch; a batch
 * arrives in chunks, written as they come, so only one chunk needs to be in memory.
 */
export class BatchImporter {
  // 20,000 ids each: enough for any file in artist or album order; at 50,000 a 1M-row import's
  // peak memory was ~6 MB higher (the target is a flat peak, see bench/import.mjs).
  private readonly artistIds = new LRUCache<string, string>({ max: 20_000 });
  private readonly albumIds = new LRUCache<string, string>({ max: 20_000 });
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

  /**
   * Writes one batch in one transaction: `first`, then the chunks `next` gives until it gives
   * undefined. A store whose transactions may run again (PostgreSQL, after a deadlock or a
   * conflict with another writer) gets the chunks already taken replayed, so they are kept until
   * the commit; otherwise each chunk can go once written.
   */
  async writeBatch(first: TrackRow[], next: () => Promise<TrackRow[] | undefined>): Promise<BatchOutcome> {
    const startPosition = this.position;
    const kept: TrackRow[][] = [];
    let pending: TrackRow[] | undefined = first;
    let exhausted = false;
    const attempt = await this.store.transaction(async () => {
      // A retried transaction starts over: nothing it learnt may leak into the caches before commit.
      this.position = startPosition;
      const a: Attempt = {
        now: this.clock(),
        outcome: { rows: 0, inserted: 0, updated: 0, unchanged: 0, duplicates: 0, rejects: [], artistsCreated: 0, albumsCreated: 0 },
        artists: new Map(),
        albums: new Map(),
      };
      for (let replayed = 0; ; ) {
        let rows: TrackRow[] | undefined;
        if (replayed < kept.length) rows = kept[replayed++];
        else {
          if (pending) {
            rows = pending;
            pending = undefined;
          } else if (!exhausted) {
            rows = await next();
            if (!rows) exhausted = true;
          }
          if (!rows) break;
          if (this.store.replays) {
            kept.push(rows);
            replayed += 1;
          }
        }
        if (rows.length) await this.writeChunk(rows, a);
      }
      return a;
    });
    // Committed: only now may the caches learn the ids. (Keys copied: they may be slices of a
    // chunk's text, which the caches would otherwise keep alive.)
    for (const [k, v] of attempt.artists) this.artistIds.set(detach(k), v);
    for (const [k, v] of attempt.albums) this.albumIds.set(detach(k), v);
    return attempt.outcome;
  }

  private async writeChunk(rows: TrackRow[], a: Attempt): Promise<void> {
    const { now, outcome } = a;
    const n = rows.length;
    outcome.rows += n;

    // Artists: the track's (first listed) artist and, when different, the album artist. Each
    // row's keys are computed once; ids are looked up once a chunk per distinct key.
    const artistKeys: string[] = new Array(n);
    const albumArtistKeys: string[] = new Array(n);
    const artistIds = new Map<string, string>();
    const missingArtists = new Map<string, ArtistRef>();
    const wantArtist = (ref: ArtistRef): string => {
      const key = artistKey(ref);
      if (!artistIds.has(key) && !missingArtists.has(key)) {
        const id = a.artists.get(key) ?? this.artistIds.get(key);
        if (id === undefined) missingArtists.set(key, ref);
        else artistIds.set(key, id);
      }
      return key;
    };
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      const key = wantArtist(r.artist);
      artistKeys[i] = key;
      if (r.album) albumArtistKeys[i] = r.album.artist === r.artist ? key : wantArtist(r.album.artist);
    }
    if (missingArtists.size) {
      const refs = [...missingArtists.values()];
      const existing = await this.store.findArtists(
        refs.filter((r) => r.spotifyUri).map((r) => r.spotifyUri!),
        [...new Set(refs.map((r) => r.name))],
      );
      const plan = planArtists(refs, existing, this.newId);
      await this.store.insertArtists(plan.creates, now);
      await this.store.attachArtistUris(plan.attaches, now);
      outcome.artistsCreated += plan.creates.length;
      for (const [k, id] of plan.ids) {
        a.artists.set(k, id);
        artistIds.set(k, id);
      }
    }

    // Albums: by Spotify URI, else (title, album artist).
    const albumKeys: string[] = new Array(n);
    const albumIds = new Map<string, string>();
    const missingAlbums = new Map<string, { ref: AlbumRef; artistId: string }>();
    for (let i = 0; i < n; i++) {
      const album = rows[i].album;
      if (!album) continue;
      const aId = artistIds.get(albumArtistKeys[i])!;
      const key = albumKey(album, aId);
      albumKeys[i] = key;
      if (!albumIds.has(key) && !missingAlbums.has(key)) {
        const id = a.albums.get(key) ?? this.albumIds.get(key);
        if (id === undefined) missingAlbums.set(key, { ref: album, artistId: aId });
        else albumIds.set(key, id);
      }
    }
    if (missingAlbums.size) {
      const refs = [...missingAlbums.values()];
      const existing = await this.store.findAlbums(
        refs.filter((r) => r.ref.spotifyUri).map((r) => r.ref.spotifyUri!),
        refs.map((r) => [r.ref.title, r.artistId] as [string, string]),
      );
      const plan = planAlbums(refs, existing, this.newId);
      await this.store.insertAlbums(plan.creates, now);
      await this.store.attachAlbumUris(plan.attaches, now);
      outcome.albumsCreated += plan.creates.length;
      for (const [k, id] of plan.ids) {
        a.albums.set(k, id);
        albumIds.set(k, id);
      }
    }

    // Resolved in place (a copy of every row would cost more than the lookups); and every
    // candidate track any row could match, fetched in one round trip.
    const resolved = rows as ResolvedRow[];
    const uris: string[] = [];
    const isrcs: string[] = [];
    const mbids: string[] = [];
    const titles: Array<[string, string]> = new Array(n);
    for (let i = 0; i < n; i++) {
      const r = resolved[i];
      r.artistId = artistIds.get(artistKeys[i])!;
      r.albumId = r.album ? albumIds.get(albumKeys[i])! : null;
      if (r.spotifyUri) uris.push(r.spotifyUri);
      if (r.isrc) isrcs.push(r.isrc);
      if (r.musicbrainzId) mbids.push(r.musicbrainzId);
      titles[i] = [r.title, r.artistId];
    }
    const candidates = await this.store.findTracks(uris, isrcs, mbids, titles);
    const seen = await this.store.findSeen(candidates);
    const plan = planTracks(resolved, candidates, seen, this.newId);
    await this.store.insertTracks(plan.inserts, now);
    await this.store.updateTracks(plan.updates, now);
    await this.store.markSeen(plan.accepted.map((x) => x.track));
    if (this.playlistId) {
      const entries: PlaylistEntry[] = plan.accepted.map((x) => ({ trackId: x.track.id, position: this.position++, addedAt: x.row.addedAt ?? null }));
      await this.store.upsertPlaylistEntries(this.playlistId, entries, now);
    }
    outcome.inserted += plan.inserts.length;
    outcome.updated += plan.updates.length;
    outcome.unchanged += plan.unchanged;
    outcome.duplicates += plan.duplicates;
    outcome.rejects.push(...plan.rejects);
  }

  /** After the last batch of a complete run: the playlist keeps exactly this run's tracks. */
  async finishPlaylist(): Promise<number | undefined> {
    if (!this.playlistId) return undefined;
    const id = this.playlistId;
    return this.store.transaction(() => this.store.prunePlaylist(id, this.clock()));
  }
}
