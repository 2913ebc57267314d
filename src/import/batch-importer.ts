import * as ids from '../ids.js';
import { LRUCache } from 'lru-cache';
import type { ExistingAlbum, ExistingArtist, ImportStore, PlaylistContent, PlaylistSpec, SeenTrack } from './store/index.js';
import type { AlbumRef, ArtistRef, TrackRow } from './parse/normalize.js';
import { ALBUMS, albumKey, ARTISTS, artistKey, planFreshTracks, planRefs, planTracks, type RefKind, type RefPlan, type ResolvedRow, type TrackValues } from './plan.js';
import type { Reject } from './rejects.js';
import { detach } from './row-chunks.js';
import { UnseenWrites, type WrittenRefs } from './store/unseen-writes.js';
import { GrowingKeyFilter, KeyFilter, prefix } from './key-filter.js';

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
  /** The ids of the tracks the batch changed (not those it created): what a cache of tracks must drop. */
  updatedIds: string[];
}

/** What one attempt at a batch's transaction learnt and counted. */
interface Attempt {
  now: Date;
  outcome: BatchOutcome;
  /** Ids created or found in this transaction, for its later chunks; the caches learn them at commit. */
  artists: Map<string, string>;
  albums: Map<string, string>;
  /** With a separate reader: what this transaction wrote, which the finds cannot see. */
  unseen?: UnseenWrites;
  /**
   * When the tracks table was empty as the transaction began: the keys of every row it has read
   * since (see splitFresh). No track holds a key not in it, so rows with none of their keys in it
   * are new tracks, planned without finds (a fresh load's rows nearly all are).
   */
  fresh?: KeyFilter;
  /**
   * The same for the artists and the albums, when their table was empty as the transaction began
   * (a new library): the Spotify URIs and names of those it created or gave a URI since. A
   * reference with neither in it is created without a find.
   */
  freshRefs?: { filter: KeyFilter; artists: boolean; albums: boolean };
  /**
   * In a bulk load into an empty tracks table that no other writer can touch until the commit
   * (the store does not replay it: SQLite's BEGIN IMMEDIATE, PostgreSQL's table locks): every
   * track the batch finds, it wrote itself, so every one is a duplicate of an earlier row (seen)
   * without a look at the run's seen ids; and the tracks it accepts are kept here (their rowid on
   * SQLite, else their id: what markSeen reads, in as little memory as that takes) rather than
   * marked seen chunk by chunk: only a later batch needs them (BatchImporter.seenLater).
   */
  ownsAll?: Array<number | string>;
  /**
   * In such a batch on a store that pipelines (PostgreSQL): the new tracks' credits, written in
   * one statement at the end of the batch instead of one a chunk (a round trip fewer a chunk,
   * while the server is busiest). No find reads them before: every track the batch finds is a
   * duplicate, whose credits are never compared.
   */
  credits?: Array<Pick<TrackValues, 'id' | 'credits'>>;
  /**
   * The chunk's writes in flight, when the store pipelines (see ImportStore.pipelines): a find
   * on the writing connection waits for them first (see settled).
   */
  writes?: Promise<void>;
}

/** The kinds of a track's keys in a KeyFilter, as the finds match them. */
const URI = 1;
const ISRC = 2;
const MBID = 3;
const TITLE = 4;
/** The kinds of an artist's and an album's keys in Attempt.freshRefs. */
const ARTIST_URI = 5;
const ARTIST_NAME = 6;
const ALBUM_URI = 7;
const ALBUM_NAME = 8;
/** The kind of a track's id in BatchImporter.seenIds. */
const SEEN = 9;

/** A chunk ready to plan: its rows resolved, the tracks they could match, those already matched. */
interface Prepared {
  rows: ResolvedRow[];
  candidates: TrackValues[];
  seen: Set<string>;
  /** The rows whose (title, artist) was looked up. */
  titled: Set<ResolvedRow>;
  /** In a fresh load (Attempt.fresh): the rows that hold no key of another track or earlier row (see splitFresh), by index. */
  sure?: Uint8Array;
  /** With a separate reader: the tracks this transaction matched that the rows could match (UnseenWrites.own). */
  own?: Set<TrackValues>;
  artists: RefPlan<ExistingArtist>;
  albums: RefPlan<ExistingAlbum>;
}

/** A chunk's writes: its new artists and albums, and its tracks' plan. */
type ChunkPlan = ReturnType<typeof planTracks> & {
  artists: RefPlan<ExistingArtist>;
  albums: RefPlan<ExistingAlbum>;
};

/** What a playlist of an import received, for the summary. */
export interface PlaylistCounts {
  /** Entries it will hold: created + matched. */
  entries: number;
  /** Entries whose row created its track. */
  created: number;
  /** Entries whose row matched a track already in the library (or earlier in the file). */
  matched: number;
  /** Rows of this playlist refused while writing (a Spotify URI another track holds…). */
  rejected: number;
}

/** A playlist an import fills: what to find or create, its new content, its counts. */
interface PlaylistRun {
  spec: PlaylistSpec;
  id?: string;
  content: PlaylistContent;
  counts: PlaylistCounts;
}

/** The key of the --playlist playlist among an import's playlists (an account export's are 0, 1, …). */
const OPTION_PLAYLIST = -1;

const NO_ARTISTS: RefPlan<ExistingArtist> = { ids: new Map(), creates: [], attaches: [] };
const NO_ALBUMS: RefPlan<ExistingAlbum> = { ids: new Map(), creates: [], attaches: [] };

/**
 * Writes batches of valid rows through an ImportStore: artists and albums get-or-created once
 * (with a bounded LRU of ids, so memory stays flat however long the file), tracks matched and
 * inserted or updated, and collected in file order for the playlist. One transaction per batch; a
 * batch arrives in chunks, written as they come.
 */
export class BatchImporter {
  // 20,000 ids each: enough for any file in artist or album order; at 50,000 a 1M-row import's
  // peak memory was ~6 MB higher (the target is a flat peak, see bench/import.mjs).
  private readonly artistIds = new LRUCache<string, string>({ max: 20_000 });
  private readonly albumIds = new LRUCache<string, string>({ max: 20_000 });
  /**
   * The playlist and its new content so far (the committed batches', then the current attempt's).
   * Its entries are replaced only at the end, whole: writing them batch by batch let two imports
   * into one playlist interleave into a mix of both files. Kept here, not in the database, so that
   * it needs no table of its own nor session state (PgBouncer); an interrupted run leaves the
   * playlist as it was, and the next run rebuilds all of it.
   */
  private readonly playlists = new Map<number, PlaylistRun>();
  /** With a separate reader: the last committed batch's markSeen, running while the next batch starts. */
  private seenWrite: Promise<void> | undefined;
  /**
   * The tracks of the last batch when it was a bulk load into an empty table (Attempt.ownsAll):
   * marked seen when another batch starts. An import of one batch never writes them: measured
   * here on PostgreSQL (100k rows), they cost the reader's backend about 0.3 s of CPU.
   */
  private seenLater: Array<number | string> | undefined;
  /**
   * The ids of every track this run has matched (added as each chunk is planned), so
   * that findSeen asks only about found tracks that may be among them. A re-import of unchanged
   * rows then asks about none, a query a chunk fewer. (A retried transaction's leave false
   * positives, which only cost a look.)
   */
  private readonly seenIds = new GrowingKeyFilter();

  constructor(
    private readonly store: ImportStore,
    private readonly clock: () => Date = () => new Date(),
    private readonly newId: () => string = ids.newId,
  ) {}

  /** Creates the --playlist playlist if missing (before the first batch); rows without a playlist of their own go there. */
  async preparePlaylist(name: string): Promise<string> {
    const id = await this.store.transaction(() => this.store.getOrCreatePlaylist({ name }, this.clock()));
    this.playlists.set(OPTION_PLAYLIST, { spec: { name }, id, content: { trackIds: [], addedAt: [] }, counts: emptyCounts() });
    return id;
  }

  /**
   * The playlists of a Spotify account export as the parser knows them so far (declared before
   * the rows that are their entries): each is found or created at the end, by name.
   */
  declarePlaylists(playlists: ReadonlyArray<{ index: number; name: string; description?: string | null }>): void {
    for (const p of playlists) {
      const spec: PlaylistSpec = { name: p.name, description: p.description ?? null, source: 'spotify' };
      const run = this.playlists.get(p.index);
      if (run) run.spec = spec;
      else this.playlists.set(p.index, { spec, content: { trackIds: [], addedAt: [] }, counts: emptyCounts() });
    }
  }

  /**
   * Writes one batch in one transaction: `first`, then the chunks `next` gives until it gives
   * undefined. A store whose transactions may run again (PostgreSQL, after a deadlock or a
   * conflict with another writer) gets the chunks already taken replayed, so they are kept until
   * the commit; otherwise each chunk can go once written.
   *
   * With a separate reader (see ImportStore.separateReader) chunks overlap: while one chunk's
   * writes run, the next is looked up on the reader and planned, its finds completed with what
   * the transaction wrote (UnseenWrites). Otherwise each chunk is looked up, planned and written
   * in turn.
   *
   * `expectedRows` (about how many rows the batch will hold) lets the store build the secondary
   * indexes it does not need after the batch's rows, in the same transaction, when the batch is
   * at least as large as the table it loads into (see ImportStore.deferIndexes).
   */
  async writeBatch(first: TrackRow[], next: () => Promise<TrackRow[] | undefined>, options: { expectedRows?: number } = {}): Promise<BatchOutcome> {
    // Where the playlists stood before this batch: a retried transaction starts over from there.
    const playlistMarks = new Map([...this.playlists].map(([k, run]) => [k, { length: run.content.trackIds.length, counts: { ...run.counts } }]));
    const kept: TrackRow[][] = [];
    let pending: TrackRow[] | undefined = first;
    let exhausted = false;
    const take = async (replay: { index: number }): Promise<TrackRow[] | undefined> => {
      if (replay.index < kept.length) return kept[replay.index++];
      let rows: TrackRow[] | undefined;
      if (pending) {
        rows = pending;
        pending = undefined;
      } else if (!exhausted) {
        rows = await next();
        if (!rows) exhausted = true;
      }
      if (rows && this.store.replays) {
        kept.push(rows);
        replay.index += 1;
      }
      return rows;
    };
    if (this.seenLater) {
      const later = this.seenLater;
      this.seenLater = undefined;
      await this.store.markSeen(later.map((k): SeenTrack => (typeof k === 'number' ? { id: '', rowid: k } : { id: k })));
    }
    const attempt = await this.store.transaction(async () => {
      // A retried transaction starts over: nothing it learnt may leak into the caches before commit.
      for (const [k, run] of this.playlists) {
        const mark = playlistMarks.get(k);
        run.content.trackIds.length = run.content.addedAt.length = mark?.length ?? 0;
        run.counts = { ...(mark?.counts ?? emptyCounts()) };
      }
      // A batch at least as large as the table it loads into builds the indexes the import does
      // not read after its rows, before the commit; when the table is empty it also keeps its new
      // tracks' keys in a filter, to skip the finds of rows no track can match.
      let restoreIndexes: (() => Promise<void>) | undefined;
      let fresh: KeyFilter | undefined;
      let freshRefs: Attempt['freshRefs'];
      const expected = options.expectedRows;
      if (expected) {
        const existing = await this.store.countTracks(expected);
        if (existing < expected && this.store.deferIndexes) restoreIndexes = await this.store.deferIndexes();
        // Counted again once deferIndexes holds the tables (PostgreSQL): until the commit no other
        // writer can add the rows the filters would not know. (SQLite's BEGIN IMMEDIATE held them already.)
        if (existing === 0 && (await this.store.countTracks(1)) === 0) fresh = new KeyFilter(expected * 4);
        if (restoreIndexes) {
          const empty = await this.store.emptyRefTables();
          if (empty.artists || empty.albums) freshRefs = { filter: new KeyFilter(expected * 2), ...empty };
        }
      }
      // Read after deferIndexes, which may move the finds onto the writer for this transaction.
      // With a store that pipelines, the next chunk is planned while the current one is written.
      const overlap = this.store.separateReader || this.store.pipelines;
      const a: Attempt = {
        now: this.clock(),
        outcome: { rows: 0, inserted: 0, updated: 0, unchanged: 0, duplicates: 0, rejects: [], artistsCreated: 0, albumsCreated: 0, updatedIds: [] },
        artists: new Map(),
        albums: new Map(),
        unseen: this.store.separateReader ? new UnseenWrites() : undefined,
        fresh,
        freshRefs,
        // (Read after deferIndexes, which makes PostgreSQL's transaction a bulk load that is not replayed.)
        ownsAll: restoreIndexes && fresh && !this.store.replays ? [] : undefined,
      };
      if (a.ownsAll && this.store.pipelines) a.credits = [];
      const replay = { index: 0 };
      // The seen ids being written in this transaction (see flush).
      const marks: Array<Promise<void>> = [];
      // The writes in flight (their failure is reported where they are awaited, not as an
      // unhandled rejection).
      let flushing: Promise<void> | undefined;
      try {
        for (;;) {
          const rows = await take(replay);
          if (!rows) break;
          if (!rows.length) continue;
          const prepared = await this.prepare(rows, a);
          await this.breathe();
          const plan = await this.plan(prepared, a);
          if (flushing) await flushing;
          flushing = a.writes = this.flush(plan, a, marks);
          flushing.catch(() => {});
          if (!overlap) {
            await flushing;
            flushing = undefined;
          }
        }
        if (flushing) await flushing;
        if (a.credits?.length) await this.store.writeCredits(a.credits, false);
        await Promise.all(marks);
        await restoreIndexes?.();
        // The previous batch's seen ids are written by now (the reader runs in order); a failure
        // there is this transaction's too.
        await this.seenWrite;
      } catch (error) {
        // Writes still in flight fail first: theirs is the error to report (and to retry on).
        if (flushing) await flushing;
        throw error;
      }
      return a;
    });
    // Committed: only now may the caches learn the ids (their keys copied already, see planRefs).
    for (const [k, v] of attempt.artists) this.artistIds.set(k, v);
    for (const [k, v] of attempt.albums) this.albumIds.set(k, v);
    if (attempt.ownsAll?.length) this.seenLater = attempt.ownsAll;
    if (attempt.unseen) {
      this.seenWrite = this.store.markSeen(attempt.unseen.matched());
      this.seenWrite.catch(() => {});
    }
    return attempt.outcome;
  }

  /** Waits for the writes that follow the last commit (a separate reader's seen ids). */
  async finish(): Promise<void> {
    await this.seenWrite;
  }

  /**
   * With a store that pipelines (the next chunk planned while the current one is written): a turn
   * of the event loop between the steps of the planning. node-postgres sends a connection's next
   * statement from its socket handler, which runs only when this thread is free: without these
   * turns each of a chunk's statements (artists, albums, COPY, credits) waited for the whole
   * planning of the next chunk, and the server sat idle meanwhile. Measured here (100k rows, 6
   * alternating runs): 6.2 s → 5.6 s (medians).
   */
  private async breathe(): Promise<void> {
    if (this.store.pipelines) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /**
   * Before a find: without a separate reader the finds run where the writes do, and must see
   * every write before them, including the chunk still being written (see Attempt.writes).
   */
  private async settled(a: Attempt): Promise<void> {
    if (!a.unseen && a.writes) await a.writes;
  }

  /**
   * A chunk's finds: its artists and albums planned (get-or-create: the creates are written with
   * the chunk), its rows resolved to their ids, and every candidate track any row could match
   * with those this run has already matched.
   *
   * The per-row loops are small synchronous methods of their own, and this one only awaits: V8
   * compiles a large async function again after every deoptimization (a rare path taken late,
   * such as a find in a fresh load), which cost this thread and the compiler's threads about a
   * second of CPU per 100k rows when all of this was one function.
   */
  private async prepare(rows: TrackRow[], a: Attempt): Promise<Prepared> {
    a.outcome.rows += rows.length;
    const keys = this.artistKeysOf(rows, a);
    await this.breathe();
    const artists = keys.missing.size ? await this.resolveArtists(keys, a) : NO_ARTISTS;
    const albumKeys = this.albumKeysOf(rows, keys.ids, keys.albumArtistKeys, a);
    const albums = albumKeys.missing.size ? await this.resolveAlbums(albumKeys, a) : NO_ALBUMS;
    const resolved = rows as ResolvedRow[];
    await this.breathe();
    resolveRows(resolved, keys, albumKeys);
    // In a fresh load only the rows the filter may match are looked up (a fresh load's rows
    // rarely are): the others are new tracks.
    const split = a.fresh ? splitFresh(resolved, a.fresh) : undefined;
    const toFind = split ? split.rest : resolved;
    const wanted = keysOf(toFind);
    await this.breathe();
    // The tracks holding a row's keys; then, for the rows none of those matches by Spotify URI or
    // ISRC (only they can match by title), the tracks of the same title and artist. A re-import
    // thus fetches each track once, and skips the title lookups.
    let held: TrackValues[] = [];
    if (wanted.uris.length || wanted.isrcs.length || wanted.mbids.length) {
      await this.settled(a);
      held = await this.store.findTracks(wanted.uris, wanted.isrcs, wanted.mbids);
    }
    const own = a.unseen?.own(toFind);
    const titled = untitledBy(toFind, own ? [...own, ...a.unseen!.committed(held)] : held);
    const found = titled.size ? [...held, ...(await this.findByTitle(titled, a))] : held;
    const { candidates, seen } = await this.completed(found, own, a);
    return { rows: resolved, candidates, seen, titled, own, artists, albums, sure: split?.sure };
  }

  /**
   * Each row's artist key and album artist key, the ids the caches know, and the artists none
   * knows. (Artists: the track's first listed artist and, when different, the album artist; each
   * key computed once a row, looked up once a chunk.)
   */
  private artistKeysOf(rows: TrackRow[], a: Attempt): ArtistKeys {
    const n = rows.length;
    const keys: ArtistKeys = {
      artistKeys: new Array<string>(n),
      albumArtistKeys: new Array<string>(n),
      creditKeys: new Map(),
      ids: new Map(),
      missing: new Map(),
    };
    const { ids, missing } = keys;
    const want = (ref: ArtistRef): string => {
      const key = artistKey(ref);
      if (!ids.has(key) && !missing.has(key)) {
        const id = a.artists.get(key) ?? this.artistIds.get(key);
        if (id === undefined) missing.set(key, ref);
        else ids.set(key, id);
      }
      return key;
    };
    // Rows of an artist mostly follow one another, sharing one ArtistRef (see row-chunks.ts): the
    // last row's key is reused without a look at the maps.
    let lastRef: ArtistRef | undefined;
    let lastKey = '';
    for (let i = 0; i < n; i++) {
      const r = rows[i];
      const key = r.artist === lastRef ? lastKey : want(r.artist);
      lastRef = r.artist;
      lastKey = key;
      keys.artistKeys[i] = key;
      if (r.album) keys.albumArtistKeys[i] = r.album.artist === r.artist ? key : want(r.album.artist);
      if (r.credits?.length) keys.creditKeys.set(i, r.credits.map(want));
    }
    return keys;
  }

  /** The artists no cache knew: found (in a new library, only those this transaction may have written) or planned. */
  private async resolveArtists(keys: ArtistKeys, a: Attempt): Promise<RefPlan<ExistingArtist>> {
    const refs = [...keys.missing.values()];
    const filter = a.freshRefs?.artists ? a.freshRefs.filter : undefined;
    const toFind = filter ? refs.filter((r) => (r.spotifyUri !== undefined && filter.has(ARTIST_URI, r.spotifyUri)) || filter.has(ARTIST_NAME, r.name)) : refs;
    let found: ExistingArtist[] = [];
    if (toFind.length) {
      await this.settled(a);
      found = await this.store.findArtists(
        toFind.filter((r) => r.spotifyUri).map((r) => r.spotifyUri!),
        [...new Set(toFind.map((r) => r.name))],
      );
    }
    const artists = this.planRefs(ARTISTS, refs, found, a.unseen?.artists, keys.ids, a.artists);
    if (filter) {
      for (const c of artists.creates) {
        if (c.spotifyUri) filter.add(ARTIST_URI, c.spotifyUri);
        filter.add(ARTIST_NAME, c.name);
      }
      for (const c of artists.attaches) filter.add(ARTIST_URI, c.spotifyUri);
    }
    a.outcome.artistsCreated += artists.creates.length;
    return artists;
  }

  /** Each row's album key (by Spotify URI, else title and album artist), the ids the caches know, the albums none knows. */
  private albumKeysOf(rows: TrackRow[], artistIds: Map<string, string>, albumArtistKeys: string[], a: Attempt): AlbumKeys {
    const n = rows.length;
    const keys: AlbumKeys = { albumKeys: new Array<string>(n), ids: new Map(), missing: new Map() };
    const { ids, missing } = keys;
    // As artistKeysOf: the last row's key again for a row of the same album.
    let lastAlbum: AlbumRef | undefined;
    let lastArtistKey: string | undefined;
    let lastKey = '';
    for (let i = 0; i < n; i++) {
      const album = rows[i].album;
      if (!album) continue;
      if (album === lastAlbum && albumArtistKeys[i] === lastArtistKey) {
        keys.albumKeys[i] = lastKey;
        continue;
      }
      const aId = artistIds.get(albumArtistKeys[i])!;
      const key = albumKey(album, aId);
      keys.albumKeys[i] = key;
      lastAlbum = album;
      lastArtistKey = albumArtistKeys[i];
      lastKey = key;
      if (!ids.has(key) && !missing.has(key)) {
        const id = a.albums.get(key) ?? this.albumIds.get(key);
        if (id === undefined) missing.set(key, { ref: album, artistId: aId });
        else ids.set(key, id);
      }
    }
    return keys;
  }

  /** The albums no cache knew: found (in a new library, only those this transaction may have written) or planned. */
  private async resolveAlbums(keys: AlbumKeys, a: Attempt): Promise<RefPlan<ExistingAlbum>> {
    const refs = [...keys.missing.values()];
    const filter = a.freshRefs?.albums ? a.freshRefs.filter : undefined;
    const toFind = filter
      ? refs.filter((r) => (r.ref.spotifyUri !== undefined && filter.has(ALBUM_URI, r.ref.spotifyUri)) || filter.has(ALBUM_NAME, r.artistId, r.ref.title))
      : refs;
    let found: ExistingAlbum[] = [];
    if (toFind.length) {
      await this.settled(a);
      found = await this.store.findAlbums(
        toFind.filter((r) => r.ref.spotifyUri).map((r) => r.ref.spotifyUri!),
        toFind.map((r) => [r.ref.title, r.artistId] as [string, string]),
      );
    }
    const albums = this.planRefs(ALBUMS, refs, found, a.unseen?.albums, keys.ids, a.albums);
    if (filter) {
      for (const c of albums.creates) {
        if (c.spotifyUri) filter.add(ALBUM_URI, c.spotifyUri);
        filter.add(ALBUM_NAME, c.artistId, c.title);
      }
      for (const c of albums.attaches) filter.add(ALBUM_URI, c.spotifyUri);
    }
    a.outcome.albumsCreated += albums.creates.length;
    return albums;
  }

  /**
   * Plans the artists or albums no cache knew against those `found` (with a separate reader,
   * completed with what this transaction wrote), and learns their ids for the chunk (`ids`) and
   * for the transaction (`learnt`).
   */
  private planRefs<R, T extends { id: string; spotifyUri: string | null }>(
    kind: RefKind<R, T>,
    refs: R[],
    found: T[],
    written: WrittenRefs<T> | undefined,
    ids: Map<string, string>,
    learnt: Map<string, string>,
  ): RefPlan<T> {
    const existing = written ? written.found(found) : found;
    const plan = planRefs(kind, refs, existing, this.newId);
    written?.planned(plan.creates, plan.attaches, existing);
    for (const [k, id] of plan.ids) {
      // Copied: the key may be a slice of its chunk's text, which would otherwise stay in memory
      // until the commit, a chunk's text per chunk of the batch (tens of MB in a bulk load's).
      learnt.set(detach(k), id);
      ids.set(k, id);
    }
    return plan;
  }

  private async findByTitle(rows: Iterable<ResolvedRow>, a: Attempt): Promise<TrackValues[]> {
    await this.settled(a);
    return this.store.findTracksByTitle([...rows].map((r) => [r.title, r.artistId] as [string, string]));
  }

  /**
   * Found tracks as the transaction sees them (with a separate reader: `own`, then the committed
   * rest), and which of them this run has matched.
   */
  private async completed(found: TrackValues[], own: Set<TrackValues> | undefined, a: Attempt): Promise<{ candidates: TrackValues[]; seen: Set<string> }> {
    const committed = own ? a.unseen!.committed(found) : found;
    // Their credits after the first, to compare with the rows' (a track found twice is one object
    // per find); not when the batch owns every track (all are duplicates, see Attempt.ownsAll).
    if (committed.length && !a.ownsAll) {
      await this.settled(a);
      const credits = await this.store.findCredits([...new Set(committed.map((t) => t.id))]);
      for (const t of committed) t.credits = credits.get(t.id) ?? '';
    }
    const seen = !committed.length ? new Set<string>() : a.ownsAll ? new Set(committed.map((t) => t.id)) : await this.findSeen(committed, a);
    if (!own) return { candidates: found, seen };
    for (const t of own) seen.add(t.id);
    return { candidates: [...own, ...committed], seen };
  }

  /**
   * Which of these found tracks this run has matched: asked of the store only for those the run's
   * filter may hold and the transaction has not matched unchanged (known seen without a look).
   */
  private async findSeen(found: TrackValues[], a: Attempt): Promise<Set<string>> {
    const seen = new Set<string>();
    const ask: TrackValues[] = [];
    for (const t of found) {
      if (a.unseen?.matchedUnchanged(t.id)) seen.add(t.id);
      else if (this.seenIds.has(SEEN, t.id)) ask.push(t);
    }
    if (ask.length) for (const id of await this.store.findSeen(ask)) seen.add(id);
    return seen;
  }

  /**
   * Matches a prepared chunk's rows; the playlist's content grows here, in file order. Should an
   * earlier row take a Spotify URI or ISRC from the track that held it when looked up, a later row
   * with that key falls back to its title, which was not looked up: then it is, and the chunk is
   * planned again.
   */
  private async plan(prepared: Prepared, a: Attempt): Promise<ChunkPlan> {
    let { candidates, seen } = prepared;
    const { sure } = prepared;
    const titled = new Set(prepared.titled);
    const planChunk = () =>
      sure
        ? planFreshTracks(prepared.rows, sure, candidates, seen, this.newId, (row) => titled.has(row))
        : planTracks(prepared.rows, candidates, seen, this.newId, (row) => titled.has(row));
    let tracks = planChunk();
    while (tracks.untitled.length) {
      for (const row of tracks.untitled) titled.add(row);
      const more = await this.completed(await this.findByTitle(tracks.untitled, a), prepared.own, a);
      candidates = [...candidates, ...more.candidates];
      seen = new Set([...seen, ...more.seen]);
      tracks = planChunk();
    }
    const plan: ChunkPlan = { ...tracks, artists: prepared.artists, albums: prepared.albums };
    a.unseen?.tracksMatched(plan.accepted);
    for (const { track } of plan.accepted) this.seenIds.add(SEEN, track.id);
    // (The fresh filter holds the accepted tracks' keys already: splitFresh put in every row's,
    // and a track a row updated is one this batch wrote, whose keys were put in at its own row.)
    const { outcome } = a;
    outcome.inserted += plan.inserts.length;
    outcome.updated += plan.updates.length;
    for (const t of plan.updates) outcome.updatedIds.push(t.id);
    outcome.unchanged += plan.unchanged;
    outcome.duplicates += plan.duplicates;
    outcome.rejects.push(...plan.rejects);
    if (this.playlists.size) {
      for (const { row, trackId, created } of plan.placed) {
        const run = this.playlists.get(row.playlist ?? OPTION_PLAYLIST);
        if (!run) continue;
        run.content.trackIds.push(trackId);
        run.content.addedAt.push(row.addedAt ? Date.parse(row.addedAt) : NaN);
        run.counts.entries += 1;
        if (created) run.counts.created += 1;
        else run.counts.matched += 1;
      }
      for (const r of plan.rejects) {
        const run = this.playlists.get(r.playlist ?? OPTION_PLAYLIST);
        if (run) run.counts.rejected += 1;
      }
    }
    return plan;
  }

  /** A planned chunk's writes, in its batch's transaction. */
  private async flush(plan: ChunkPlan, a: Attempt, marks: Array<Promise<void>>): Promise<void> {
    const { now } = a;
    await this.store.insertArtists(plan.artists.creates, now);
    await this.store.attachArtistUris(plan.artists.attaches, now);
    await this.store.insertAlbums(plan.albums.creates, now);
    await this.store.attachAlbumUris(plan.albums.attaches, now);
    await this.store.insertTracks(plan.inserts, now);
    await this.store.updateTracks(plan.updates, now);
    // Credits after the first (the first is artist_id): new tracks' that have some, updated
    // tracks' replaced.
    if (a.credits) {
      for (const t of plan.inserts) if (t.credits) a.credits.push({ id: t.id, credits: t.credits });
    } else await this.store.writeCredits(plan.inserts.filter((t) => t.credits), false);
    await this.store.writeCredits(plan.updates, true);
    // A separate reader cannot see this transaction: its seen ids are written after the commit.
    // Not awaited here: on PostgreSQL's bulk load it runs on the other connection meanwhile (that
    // connection runs findSeen after it, in order); the transaction awaits it before its commit.
    if (a.ownsAll) {
      for (const { track } of plan.accepted) a.ownsAll.push(track.rowid ?? track.id);
    } else if (!this.store.separateReader) {
      const mark = this.store.markSeen(plan.accepted.map((x) => x.track));
      mark.catch(() => {});
      marks.push(mark);
    }
  }

  /** Each playlist's counts so far, by key (an account export's playlist index). */
  playlistCounts(): Map<number, PlaylistCounts> {
    return new Map([...this.playlists].map(([k, run]) => [k, { ...run.counts }]));
  }

  /**
   * After the last batch of a complete run: each playlist becomes exactly this run's entries, in
   * file order, one transaction each (found or created by name first, for an account export's).
   * Returns each playlist's id, name and counts, the --playlist one first.
   */
  async finishPlaylists(): Promise<Array<{ key: number; id: string; name: string; counts: PlaylistCounts }>> {
    await this.finish();
    const done: Array<{ key: number; id: string; name: string; counts: PlaylistCounts }> = [];
    for (const [key, run] of [...this.playlists].sort((x, y) => x[0] - y[0])) {
      const id = await this.store.transaction(async () => {
        const now = this.clock();
        const playlistId = run.id ?? (await this.store.getOrCreatePlaylist(run.spec, now));
        await this.store.replacePlaylist(playlistId, run.spec.name, run.content, now);
        return playlistId;
      });
      done.push({ key, id, name: run.spec.name, counts: { ...run.counts } });
    }
    return done;
  }
}

function emptyCounts(): PlaylistCounts {
  return { entries: 0, created: 0, matched: 0, rejected: 0 };
}

/** A chunk's artist keys by row, with what the caches knew of them (see BatchImporter.artistKeysOf). */
interface ArtistKeys {
  artistKeys: string[];
  /** Undefined for a row without an album. */
  albumArtistKeys: string[];
  /** The artists credited after the first, by row (only rows crediting several). */
  creditKeys: Map<number, string[]>;
  /** Key → id, for the chunk (the planned artists' are added). */
  ids: Map<string, string>;
  /** The artists no cache knew, by key. */
  missing: Map<string, ArtistRef>;
}

/** A chunk's album keys by row, with what the caches knew of them (see BatchImporter.albumKeysOf). */
interface AlbumKeys {
  /** Undefined for a row without an album. */
  albumKeys: string[];
  ids: Map<string, string>;
  missing: Map<string, { ref: AlbumRef; artistId: string }>;
}

/** The Spotify URIs, ISRCs and MusicBrainz ids a chunk's tracks are looked up by. */
type TrackKeys = { uris: string[]; isrcs: string[]; mbids: string[] };

/**
 * Resolves a chunk's rows in place (a copy of every row would cost more than the lookups) to
 * their artist, album and credited artists' ids.
 *
 * Small loops of their own (here, splitFresh, keysOf), not one: in a fresh load a key the filter
 * may hold is rare, and each rare path first taken late (a push, a row with credits) threw V8's
 * optimized code for the whole loop away. Measured here (--trace-opt, 100k rows): the one loop
 * was compiled 12 times, this one twice. The whole import's time did not change measurably.
 */
function resolveRows(rows: ResolvedRow[], artists: ArtistKeys, albums: AlbumKeys): void {
  const { ids: artistIds, artistKeys, creditKeys } = artists;
  const { ids: albumIds, albumKeys } = albums;
  let lastArtist = '';
  let lastArtistId = '';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    // (The last row's artist again, most of the time: see artistKeysOf.)
    if (artistKeys[i] !== lastArtist) {
      lastArtist = artistKeys[i];
      lastArtistId = artistIds.get(lastArtist)!;
    }
    r.artistId = lastArtistId;
    r.albumId = r.album ? albumIds.get(albumKeys[i])! : null;
    r.creditIds = '';
  }
  for (const [i, keys] of creditKeys) rows[i].creditIds = idsOf(keys, artistIds);
}

/** The ids of these artist keys, comma-joined (a track's credits after the first). */
function idsOf(keys: string[], ids: Map<string, string>): string {
  let out = ids.get(keys[0])!;
  for (let k = 1; k < keys.length; k++) out += `,${ids.get(keys[k])!}`;
  return out;
}

/** The rows' track keys. */
function keysOf(rows: ResolvedRow[]): TrackKeys {
  const uris: string[] = [];
  const isrcs: string[] = [];
  const mbids: string[] = [];
  for (const r of rows) {
    if (r.spotifyUri) uris.push(r.spotifyUri);
    if (r.isrc) isrcs.push(r.isrc);
    if (r.musicbrainzId) mbids.push(r.musicbrainzId);
  }
  return { uris, isrcs, mbids };
}

/**
 * A fresh load's chunk (see Attempt.fresh), its rows in file order: each row's keys go into the
 * filter, and a row none of whose keys the filter held before is `sure` (1): no track and no
 * earlier row holds one of its keys, so it is a new track, planned without finds (planFreshTracks).
 * The `rest` may match: they are looked up and planned in full. (Each key is hashed once, for
 * the look and the put together; the keys of a row that turns out a duplicate or a reject go in
 * too, which can only make a later row look up what it need not.)
 */
function splitFresh(rows: ResolvedRow[], fresh: KeyFilter): { sure: Uint8Array; rest: ResolvedRow[] } {
  const sure = new Uint8Array(rows.length);
  // The title key's first part, the artist's id, hashed once for rows of the artist before.
  let artist = '';
  let titled = 0;
  for (let i = 0; i < rows.length; i++) {
    if (rows[i].artistId !== artist) {
      artist = rows[i].artistId;
      titled = prefix(TITLE, artist);
    }
    sure[i] = heldKeys(rows[i], fresh, titled) ? 0 : 1;
  }
  // (Not pushed in the loop: a row that may match is rare, and a path first taken late threw V8's
  // optimized code for the loop away, see planFreshTracks.)
  return { sure, rest: rows.filter((_, i) => !sure[i]) };
}

/** Puts the row's keys in the filter (`titled`: prefix(TITLE, its artist's id)); true when it held one of them before. */
function heldKeys(r: ResolvedRow, fresh: KeyFilter, titled: number): boolean {
  // Every key is put in, held or not (no short cut after the first held one).
  let held = fresh.addAfter(titled, r.title);
  if (r.spotifyUri && fresh.add(URI, r.spotifyUri)) held = true;
  if (r.isrc && fresh.add(ISRC, r.isrc)) held = true;
  if (r.musicbrainzId && fresh.add(MBID, r.musicbrainzId)) held = true;
  return held;
}

/** The rows no track of `view` matches by Spotify URI or ISRC: only they can match by title. */
function untitledBy(rows: ResolvedRow[], view: TrackValues[]): Set<ResolvedRow> {
  const heldUris = new Set<string>();
  const heldIsrcs = new Set<string>();
  for (const t of view) {
    if (t.spotifyUri) heldUris.add(t.spotifyUri);
    if (t.isrc) heldIsrcs.add(t.isrc);
  }
  const titled = new Set<ResolvedRow>();
  for (const r of rows) if (!(r.spotifyUri && heldUris.has(r.spotifyUri)) && !(r.isrc && heldIsrcs.has(r.isrc))) titled.add(r);
  return titled;
}
