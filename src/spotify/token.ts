import pRetry, { AbortError } from 'p-retry';
import { z } from 'zod';
import { maskUrl } from '../database-url.js';
import { SpotifyAuthError, SpotifyError, SpotifyUnavailableError } from './errors.js';
import { Transient, backoff, describeFetchError, errorDetail, fetchText } from './http.js';
import { realClock, type SpotifyClock } from './rate-limit.js';

export interface TokenProviderOptions {
  clientId: string;
  clientSecret: string;
  accountsUrl: string;
  timeoutMs: number;
  maxRetries: number;
  retryBaseMs: number;
  clock?: SpotifyClock;
}

const tokenResponse = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });


/**
 * Client-credentials access tokens: fetched once, shared by concurrent callers, refreshed shortly
 * before they expire, and on demand after a 401 (`invalidate`).
 */
export class TokenProvider {
  private token?: { value: string; refreshAt: number };
  private inflight?: Promise<string>;
  private fetched = 0;
  private readonly clock: SpotifyClock;

  constructor(private readonly options: TokenProviderOptions) {
    this.clock = options.clock ?? realClock;
  }

  /** Token requests made so far. */
  get requestCount(): number {
    return this.fetched;
  }

  /** Every access token handed out so far is a secret: the client masks these in messages. */
  get current(): string | undefined {
    return this.token?.value;
  }

  async getToken(signal?: AbortSignal): Promise<string> {
    if (this.token && this.clock.now() < this.token.refreshAt) return this.token.value;
    this.inflight ??= this.fetchToken(signal).finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** Drops `token` if it is still the current one (a 401 said it is no longer valid). */
  invalidate(token: string): void {
    if (this.token?.value === token) this.token = undefined;
  }

  private async fetchToken(signal?: AbortSignal): Promise<string> {
    const { clientId, clientSecret, accountsUrl, timeoutMs } = this.options;
    const url = `${accountsUrl}/api/token`;
    const shown = maskUrl(url);
    const credentials = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
    try {
      return await pRetry(
        async () => {
          this.fetched++;
          let status: number;
          let text: string;
          try {
            ({ status, text } = await fetchText(
              url,
              {
                method: 'POST',
                headers: { Authorization: `Basic ${credentials}`, 'Content-Type': 'application/x-www-form-urlencoded' },
                body: 'grant_type=client_credentials',
              },
              timeoutMs,
              signal,
            ));
          } catch (error) {
            if (signal?.aborted) throw new AbortError(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
            throw new Transient(describeFetchError(error, timeoutMs));
          }
          if (status >= 500 || status === 429) throw new Transient(`HTTP ${status}`);
          if (status !== 200) throw new AbortError(new SpotifyAuthError(`HTTP ${status} from ${shown}: ${errorDetail(text)}`));
          let parsed;
          try {
            parsed = tokenResponse.safeParse(JSON.parse(text));
          } catch {
            parsed = undefined;
          }
          if (!parsed?.success) throw new AbortError(new SpotifyAuthError(`${shown} answered 200 without an access_token`));
          const ttlMs = parsed.data.expires_in * 1000;
          // Refresh a little before expiry: a minute for Spotify's hour-long tokens, a tenth of short ones.
          const margin = Math.min(60_000, ttlMs / 10);
          this.token = { value: parsed.data.access_token, refreshAt: this.clock.now() + ttlMs - margin };
          return parsed.data.access_token;
        },
        backoff(this.options.maxRetries, this.options.retryBaseMs, signal),
      );
    } catch (error) {
      if (error instanceof SpotifyError) throw error;
      if (error instanceof Transient) {
        throw new SpotifyUnavailableError(
          `Spotify accounts service unreachable at ${shown} after ${this.options.maxRetries + 1} attempts: ${error.message}; check SPOTIFY_ACCOUNTS_URL and the network`,
          true,
        );
      }
      throw error;
    }
  }
}
