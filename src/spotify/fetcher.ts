import { silentLogger, type Logger } from '../logger.js';
import { BatchProcessor } from './batch-processor.js';
import { MAX_IDS_PER_REQUEST, SpotifyClient, type ClientStats } from './client.js';
import type { SpotifyConfig } from './config.js';
import { RunInterruptedError, RunStoppedError, SpotifyError, SpotifyHttpError, type FailureKind } from './errors.js';
import { trackUri } from './ids.js';
import type { SpotifyClock } from './rate-limit.js';
import type { RequestBudget } from './shared-budget.js';
import type { SpotifyTrack, TrackLookup } from './types.js';

/** The answer for one id, with a found track already normalized (what the cache keeps). */
export type Answer = { status: 'found'; track: FetchedTrack } | { status: 'not_found' } | { status: 'invalid'; reason: string };

/** The narrow cache the fetcher needs (src/cache/lru-cache.ts's LRUCache fits it). */
export interface LookupCache {
  get(key: string): Answer | undefined;
  set(key: string, value: Answer): void;
}

export interface FetchedArtist {
  name: string;
  spotifyUri?: string;
}

/** A fetched track, normalized for the library's columns. */
export interface FetchedTrack {
  /** The id asked for (its URI is what the library stores, even when Spotify relinked it). */
  id: string;
  spotifyUri: string;
  title: string;
  durationMs: number;
  trackNumber?: number;
  discNumber: number;
  isrc?: string;
  releaseDate?: string;
  artist: FetchedArtist;
  album?: { title: string; spotifyUri?: string; releaseYear?: number; artist: FetchedArtist };
}

export interface FetchFailure {
  id: string;
  kind: FailureKind;
  reason: string;
}

export interface FetchReport {
  /** Unique ids asked for. */
  requested: number;
  /** Ids answered from the cache (no request). */
  fromCache: number;
  tracks: FetchedTrack[];
  notFound: string[];
  failed: FetchFailure[];
  /** Web API requests made by this call (retries included) and the other client counters. */
  client: ClientStats;
  /** The several-tracks endpoint was refused (403) and ids were fetched one by one. */
  perTrackFallback: boolean;
  /** The error that stopped the run, if one did. */
  fatal?: { kind: FailureKind; message: string };
  /** The caller's signal (Ctrl-C) stopped the run: the ids not fetched are failed as `interrupted`. */
  interrupted: boolean;
  elapsedMs: number;
}

export interface FetchOptions {
  market?: string;
  /** Fetch one request per id (the baseline the benchmark compares with). */
  perTrack?: boolean;
  /** Progress after each batch. */
  onProgress?: (done: number, total: number) => void;
  /** Found tracks, as each batch completes (the library writer). */
  onTracks?: (tracks: FetchedTrack[]) => void;
  /**
   * Stops the run (Ctrl-C): no further batch starts, the requests in flight are aborted, and what
   * was answered before is kept in the report (and was handed to onTracks). The ids not fetched
   * fail as `interrupted`; fetchTracks still resolves with the report.
   */
  signal?: AbortSignal;
}

export interface FetcherOptions {
  cache?: LookupCache;
  clock?: SpotifyClock;
  logger?: Logger;
  /** Let a partial batch wait at most this long for more ids (default 25 ms). */
  maxWaitMs?: number;
  /** The request budget shared with other processes (see shared-budget.ts). */
  budget?: RequestBudget;
}

const ISRC = /^[A-Z]{2}[A-Z0-9]{3}[0-9]{7}$/;

function clip(text: string, max = 255): string {
  const t = text.trim();
  return t.length > max ? t.slice(0, max) : t;
}

function artistOf(a: { name: string; uri?: string | null } | undefined): FetchedArtist {
  const name = a ? clip(a.name) : '';
  return { name: name || 'Unknown Artist', spotifyUri: a?.uri?.startsWith('spotify:artist:') ? a.uri : undefined };
}

/** Maps Spotify's track object to the library's fields. */
function normalizeTrack(id: string, t: SpotifyTrack): FetchedTrack {
  const artist = artistOf(t.artists[0]);
  const isrc = t.external_ids?.isrc?.replace(/-/g, '').trim().toUpperCase();
  const year = Number(/^(\d{4})/.exec(t.album?.release_date ?? '')?.[1]);
  return {
    id,
    spotifyUri: trackUri(id),
    title: clip(t.name) || '(untitled)',
    durationMs: t.duration_ms,
    trackNumber: t.track_number && t.track_number >= 1 ? t.track_number : undefined,
    discNumber: t.disc_number && t.disc_number >= 1 ? t.disc_number : 1,
    isrc: isrc && ISRC.test(isrc) ? isrc : undefined,
    releaseDate: t.album?.release_date ?? undefined,
    artist,
    album: t.album
      ? {
          title: clip(t.album.name) || 'Unknown Album',
          spotifyUri: t.album.uri?.startsWith('spotify:album:') ? t.album.uri : undefined,
          releaseYear: year >= 1900 && year <= 2100 ? year : undefined,
          artist: t.album.artists?.[0] ? artistOf(t.album.artists[0]) : artist,
        }
      : undefined,
  };
}

/** The client's counters for one call (the client, its token and rate-limit budget live across calls). */
function statsSince(before: ClientStats, after: ClientStats): ClientStats {
  const delta = {} as ClientStats;
  for (const key of Object.keys(after) as Array<keyof ClientStats>) delta[key] = after[key] - before[key];
  return delta;
}

/** Normalizes a client lookup right away, so the raw JSON objects die young (less GC in big runs). */
function toAnswer(id: string, lookup: TrackLookup): Answer {
  return lookup.status === 'found' ? { status: 'found', track: normalizeTrack(id, lookup.track) } : lookup;
}

/**
 * Fetches track metadata for many ids: cache first, then batches of 50 through the
 * BatchProcessor (several in flight), with the per-track fallback after a 403. Every id ends as
 * fetched, not found, or failed with a reason, even when a fatal error stops the run.
 */
export class SpotifyFetcher {
  readonly client: SpotifyClient;
  private readonly logger: Logger;

  constructor(
    private readonly config: SpotifyConfig,
    private readonly options: FetcherOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
    this.client = new SpotifyClient(config, { clock: options.clock, logger: this.logger, budget: options.budget });
  }

  async fetchTracks(ids: readonly string[], options: FetchOptions = {}): Promise<FetchReport> {
    const started = performance.now();
    const before = this.client.stats;
    const { cache } = this.options;
    const unique = [...new Set(ids)];
    const keyOf = (id: string) => `${options.market ?? '-'}:${id}`;
    const lookups = new Map<string, Answer>();
    const failed: FetchFailure[] = [];
    const toFetch: string[] = [];
    for (const id of unique) {
      const hit = cache?.get(keyOf(id));
      if (hit) lookups.set(id, hit);
      else toFetch.push(id);
    }
    const fromCache = lookups.size;
    const cachedTracks = [...lookups.values()].flatMap((a) => (a.status === 'found' ? [a.track] : []));
    if (cachedTracks.length > 0) options.onTracks?.(cachedTracks);

    // Aborted by a fatal error (reason: that error) or by the caller's signal (reason: the caller's).
    const stop = new AbortController();
    const interrupted = () => options.signal?.aborted === true;
    const onInterrupt = () => {
      if (!stop.signal.aborted) stop.abort(options.signal!.reason);
    };
    if (interrupted()) onInterrupt();
    else options.signal?.addEventListener('abort', onInterrupt, { once: true });
    let fatal: SpotifyError | undefined;
    let perTrack = options.perTrack ?? false;
    let done = fromCache;
    const request = { market: options.market, signal: stop.signal };

    /** A fatal error stops the run: the first batch to meet it reports it; the others, "stopped". */
    const settleFatal = (error: unknown): Error => {
      if (!(error instanceof SpotifyError && error.fatal)) {
        // Whatever a request cut short by Ctrl-C failed with (the abort's reason), it was interrupted.
        if (interrupted() && !(error instanceof SpotifyError)) return new RunInterruptedError();
        return error instanceof Error ? error : new Error(String(error));
      }
      if (!fatal) {
        fatal = error;
        stop.abort(error);
        // Debug only: the report carries it, and the command prints it once.
        this.logger.debug(`run stopped: ${this.client.redact(error.message)}`);
        return error;
      }
      return error === fatal ? new RunStoppedError(fatal) : error;
    };

    const fetchOneByOne = (batch: readonly string[]) =>
      Promise.all(
        batch.map(async (id) => {
          if (fatal) return { ok: false as const, error: new RunStoppedError(fatal) };
          if (interrupted()) return { ok: false as const, error: new RunInterruptedError() };
          try {
            return { ok: true as const, value: toAnswer(id, await this.client.getTrack(id, request)) };
          } catch (error) {
            return { ok: false as const, error: settleFatal(error) };
          }
        }),
      );

    const processor = new BatchProcessor<string, Answer>(
      async (batch) => {
        if (fatal) return batch.map(() => ({ ok: false as const, error: new RunStoppedError(fatal!) }));
        if (interrupted()) return batch.map(() => ({ ok: false as const, error: new RunInterruptedError() }));
        if (!perTrack) {
          try {
            const answers = await this.client.getSeveralTracks(batch, request);
            return answers.map((lookup, i) => ({ ok: true as const, value: toAnswer(batch[i], lookup) }));
          } catch (error) {
            if (!(error instanceof SpotifyHttpError && error.status === 403)) throw settleFatal(error);
            if (!perTrack) {
              perTrack = true;
              this.logger.warn('Spotify refused the several-tracks endpoint (HTTP 403, apps in development mode); fetching one track per request');
            }
          }
        }
        return fetchOneByOne(batch);
      },
      {
        batchSize: MAX_IDS_PER_REQUEST,
        concurrency: this.config.concurrency,
        maxWaitMs: this.options.maxWaitMs ?? 25,
        onBatch: (result) => {
          const found: FetchedTrack[] = [];
          for (const o of result.outcomes) {
            if (!o.ok) continue;
            if (o.value.status !== 'invalid') cache?.set(keyOf(o.item), o.value);
            if (o.value.status === 'found') found.push(o.value.track);
          }
          if (found.length > 0) options.onTracks?.(found);
          done += result.outcomes.length;
          options.onProgress?.(done, unique.length);
        },
      },
    );
    void processor.addMany(toFetch);
    let result;
    try {
      result = await processor.close();
    } finally {
      options.signal?.removeEventListener('abort', onInterrupt);
    }
    for (const o of result.outcomes) {
      if (o.ok) lookups.set(o.item, o.value);
      else {
        const e = o.error;
        failed.push({ id: o.item, kind: e instanceof SpotifyError ? e.kind : 'internal', reason: this.client.redact(o.reason) });
      }
    }

    const tracks: FetchedTrack[] = [];
    const notFound: string[] = [];
    for (const id of unique) {
      const l = lookups.get(id);
      if (!l) continue;
      if (l.status === 'found') tracks.push(l.track);
      else if (l.status === 'not_found') notFound.push(id);
      else failed.push({ id, kind: 'invalid_response', reason: l.reason });
    }
    const fatalError = fatal;
    return {
      requested: unique.length,
      fromCache,
      tracks,
      notFound,
      failed,
      client: statsSince(before, this.client.stats),
      perTrackFallback: perTrack && !options.perTrack,
      fatal: fatalError ? { kind: fatalError.kind, message: this.client.redact(fatalError.message) } : undefined,
      interrupted: interrupted(),
      elapsedMs: performance.now() - started,
    };
  }
}
