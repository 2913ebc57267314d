import pLimit, { type LimitFunction } from 'p-limit';
import pRetry, { AbortError } from 'p-retry';
import { silentLogger, type Logger } from '../logger.js';
import type { SpotifyConfig } from './config.js';
import { QuotaExceededError, SpotifyAuthError, SpotifyError, SpotifyHttpError, SpotifyUnavailableError } from './errors.js';
import { Transient, backoff, describeFetchError, errorDetail, excerpt, fetchText, type Exchange } from './http.js';
import { parseRetryAfter, RateLimitGate, realClock, type SpotifyClock } from './rate-limit.js';
import type { RequestBudget } from './shared-budget.js';
import { TokenProvider } from './token.js';
import { toLookup, type TrackLookup } from './types.js';

/** Spotify's limit of ids per several-tracks request. */
export const MAX_IDS_PER_REQUEST = 50;

export interface SpotifyClientOptions {
  clock?: SpotifyClock;
  logger?: Logger;
  /** Requests per second and 429 pauses, shared with the other processes of the app (shared-budget.ts). */
  budget?: RequestBudget;
}

export interface RequestOptions {
  market?: string;
  /** The run's signal: aborting it (with the fatal error as reason) stops every request. */
  signal?: AbortSignal;
}

/** Counters of one client (one run). */
export interface ClientStats {
  /** HTTP requests sent to the Web API, retries included. */
  requests: number;
  /** Several-tracks requests (GET /v1/tracks?ids=…), retries included. */
  batchRequests: number;
  /** Single-track requests (GET /v1/tracks/{id}), retries included. */
  singleRequests: number;
  /** Requests sent again after a 429, 5xx, timeout, dropped connection or 401. */
  retries: number;
  rateLimitPauses: number;
  rateLimitWaitMs: number;
  tokenRequests: number;
}

/** Internal: a 5xx, timeout or dropped connection, worth a retry with backoff. */

/**
 * The Spotify Web API client: several-tracks and single-track lookups with a client-credentials
 * token, a run-wide 429 pause (Retry-After, at least a floor that doubles per 429 in a row;
 * bounded by SPOTIFY_MAX_RATE_LIMIT_WAIT and SPOTIFY_MAX_RATE_LIMITS), stop on
 * QUOTA_EXCEEDED, bounded retries with backoff and jitter for 5xx, timeouts and dropped
 * connections, and one token refresh per request on a 401.
 */
export class SpotifyClient {
  readonly tokens: TokenProvider;
  readonly gate: RateLimitGate;
  private readonly logger: Logger;
  private readonly requestLimit: LimitFunction;
  private readonly counters = { requests: 0, batchRequests: 0, singleRequests: 0, retries: 0 };
  private readonly secrets: string[];
  private readonly budget: RequestBudget | undefined;

  constructor(
    private readonly config: SpotifyConfig,
    options: SpotifyClientOptions = {},
  ) {
    const clock = options.clock ?? realClock;
    this.logger = options.logger ?? silentLogger;
    this.tokens = new TokenProvider({ ...config, clock });
    this.gate = new RateLimitGate({ budgetSeconds: config.maxRateLimitWaitSeconds, maxInARow: config.maxRateLimitsInARow }, clock);
    this.requestLimit = pLimit(config.concurrency);
    this.budget = options.budget;
    this.secrets = [config.clientSecret, Buffer.from(`${config.clientId}:${config.clientSecret}`).toString('base64')];
  }

  get stats(): ClientStats {
    return {
      ...this.counters,
      rateLimitPauses: this.gate.pauseCount,
      rateLimitWaitMs: this.gate.totalWaitMs,
      tokenRequests: this.tokens.requestCount,
    };
  }

  /** `text` with the client secret, the Basic credentials and the current access token masked. */
  redact(text: string): string {
    let out = text;
    for (const s of [...this.secrets, this.tokens.current]) if (s) out = out.split(s).join('****');
    return out;
  }

  /**
   * GET /v1/tracks?ids=… (at most 50 ids): one lookup per id, in order. Throws SpotifyHttpError
   * (403 when the endpoint is refused to the app), SpotifyUnavailableError, or a fatal SpotifyError.
   */
  async getSeveralTracks(ids: readonly string[], options: RequestOptions = {}): Promise<TrackLookup[]> {
    if (ids.length === 0) return [];
    if (ids.length > MAX_IDS_PER_REQUEST) throw new RangeError(`at most ${MAX_IDS_PER_REQUEST} ids per request, got ${ids.length}`);
    const url = new URL(`${this.config.apiUrl}/v1/tracks`);
    url.searchParams.set('ids', ids.join(','));
    if (options.market) url.searchParams.set('market', options.market);
    const { status, text } = await this.request(url, 'batch', options.signal);
    if (status !== 200) throw new SpotifyHttpError(status, errorDetail(text));
    let tracks: unknown;
    try {
      tracks = (JSON.parse(text) as { tracks?: unknown }).tracks;
    } catch {
      tracks = undefined;
    }
    if (!Array.isArray(tracks) || tracks.length !== ids.length) {
      const reason = `unexpected answer from Spotify: expected ${ids.length} tracks, got ${excerpt(text, 80)}`;
      return ids.map(() => ({ status: 'invalid', reason }));
    }
    return tracks.map((t) => toLookup(t));
  }

  /** GET /v1/tracks/{id}: the lookup (404 = not found); other 4xx throw SpotifyHttpError. */
  async getTrack(id: string, options: RequestOptions = {}): Promise<TrackLookup> {
    const url = new URL(`${this.config.apiUrl}/v1/tracks/${encodeURIComponent(id)}`);
    if (options.market) url.searchParams.set('market', options.market);
    const { status, text } = await this.request(url, 'single', options.signal);
    if (status === 404) return { status: 'not_found' };
    if (status !== 200) throw new SpotifyHttpError(status, errorDetail(text));
    try {
      return toLookup(JSON.parse(text));
    } catch {
      return { status: 'invalid', reason: `unexpected answer from Spotify: ${excerpt(text, 80)}` };
    }
  }

  /** One GET with every retry rule; resolves with a 2xx or a non-retryable 4xx status and its body. */
  private async request(url: URL, kind: 'batch' | 'single', signal?: AbortSignal): Promise<{ status: number; text: string }> {
    const { maxRetries, retryBaseMs } = this.config;
    const state = { refreshedAfter401: false, lastTransient: '', sent: 0 };
    try {
      return await pRetry(
        // The concurrency slot is taken per attempt, so a request waiting out a backoff does not hold one.
        () => this.requestLimit(() => this.send(url, kind, state, signal)),
        backoff(maxRetries, retryBaseMs, signal),
      );
    } catch (error) {
      if (error instanceof SpotifyError) throw error;
      if (error instanceof Transient) {
        throw new SpotifyUnavailableError(`Spotify API unavailable after ${maxRetries + 1} attempts: ${state.lastTransient}`);
      }
      if (signal?.aborted && signal.reason instanceof SpotifyError) throw signal.reason;
      throw error;
    }
  }

  /**
   * Sends the request until it gets an answer that is not a 429 or a first 401 (those two are
   * re-sent here, after the run-wide pause or a token refresh, without using up a retry).
   * Throws Transient for 5xx, timeouts and dropped connections (p-retry backs off and retries).
   */
  private async send(
    url: URL,
    kind: 'batch' | 'single',
    state: { refreshedAfter401: boolean; lastTransient: string; sent: number },
    signal?: AbortSignal,
  ): Promise<{ status: number; text: string }> {
    const { timeoutMs } = this.config;
    const waitForGate = () =>
      this.gate.wait(signal).catch((reason) => {
        throw new AbortError(reason instanceof Error ? reason : new Error(String(reason)));
      });
    for (;;) {
      await waitForGate();
      let token: string;
      try {
        token = await this.tokens.getToken(signal);
      } catch (error) {
        throw new AbortError(error instanceof Error ? error : new Error(String(error)));
      }
      // A 429 may have paused the run while the token was being fetched.
      await waitForGate();
      if (this.budget) {
        await this.budget.take(signal, (ms) => this.gate.sharedPause(ms)).catch((reason) => {
          throw new AbortError(reason instanceof Error ? reason : new Error(String(reason)));
        });
      }
      if (state.sent++ > 0) this.counters.retries++;
      this.counters.requests++;
      if (kind === 'batch') this.counters.batchRequests++;
      else this.counters.singleRequests++;
      const started = performance.now();
      const ticket = this.gate.ticket;
      let exchange: Exchange;
      try {
        exchange = await fetchText(url, { headers: { Authorization: `Bearer ${token}` } }, timeoutMs, signal);
      } catch (error) {
        if (signal?.aborted) throw new AbortError(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
        state.lastTransient = describeFetchError(error, timeoutMs);
        this.logger.debug(`spotify ${kind} request failed: ${state.lastTransient}`);
        throw new Transient(state.lastTransient);
      }
      const { status, text, retryAfter } = exchange;
      this.logger.debug(`spotify ${kind} request`, { status, ms: Math.round(performance.now() - started) });
      if (status === 429) {
        if (text.includes('QUOTA_EXCEEDED')) throw new AbortError(new QuotaExceededError());
        let paused: number;
        try {
          paused = this.gate.rateLimited(ticket, parseRetryAfter(retryAfter));
        } catch (error) {
          throw new AbortError(error as Error);
        }
        if (paused > 0) {
          this.logger.warn(`Spotify rate limit (HTTP 429, Retry-After: ${retryAfter ?? 'none'}): pausing every request for ${paused} s`);
          await this.budget?.pause(paused * 1000);
        }
        continue;
      }
      this.gate.answered(ticket);
      if (status === 401) {
        if (state.refreshedAfter401) throw new AbortError(new SpotifyAuthError(`HTTP 401 again after a token refresh: ${errorDetail(text)}`));
        state.refreshedAfter401 = true;
        this.tokens.invalidate(token);
        this.logger.debug('spotify HTTP 401: refreshing the access token once');
        continue;
      }
      if (status >= 500) {
        state.lastTransient = `HTTP ${status}`;
        this.logger.debug(`spotify ${kind} request: HTTP ${status}, will retry`);
        throw new Transient(state.lastTransient);
      }
      return { status, text };
    }
  }
}
