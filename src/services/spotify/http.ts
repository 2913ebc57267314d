import { maskSecretsInText } from '../../db/url.js';

/** What a failed fetch() was: a timeout, a refused/dropped connection, or an abort of the run. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; name?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms (SPOTIFY_TIMEOUT_MS)`;
  const code = e?.cause?.code ?? e?.cause?.name;
  if (code) return `connection failed (${code})`;
  // fetch() puts the URL in some messages ("…includes credentials: http://user:pw@…").
  return `connection failed (${maskSecretsInText(e?.message ?? String(error))})`;
}

/** A per-request timeout combined with the run's abort signal. */
export function requestSignal(timeoutMs: number, runSignal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  return runSignal ? AbortSignal.any([timeout, runSignal]) : timeout;
}

/** A short, printable excerpt of a response body (error messages). */
export function excerpt(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The `error.message` of a Spotify error body, else an excerpt of the body. */
export function errorDetail(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string; error_description?: string };
    if (typeof body.error === 'object' && body.error?.message) return body.error.message;
    if (typeof body.error === 'string') return body.error_description ? `${body.error}: ${body.error_description}` : body.error;
  } catch {
    // not JSON
  }
  return excerpt(text);
}

/** A failure worth retrying: a 5xx, a timeout or a dropped connection. */
export class Transient extends Error {}

/** p-retry options shared by the API and token requests: exponential backoff with jitter, only for Transient failures. */
export function backoff(retries: number, baseMs: number, signal?: AbortSignal) {
  return {
    retries,
    minTimeout: baseMs,
    factor: 2,
    randomize: true,
    maxTimeout: 30_000,
    signal,
    shouldRetry: ({ error }: { error: unknown }) => error instanceof Transient,
  };
}
