import { maskSecretsInText } from '../database-url.js';

/** What a failed fetch() was: a timeout, a refused/dropped connection, or an abort of the run. */
export function describeFetchError(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; name?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms (SPOTIFY_TIMEOUT_MS)`;
  const code = e?.cause?.code ?? e?.cause?.name;
  if (code) return `connection failed (${code})`;
  // fetch() puts the URL in some messages ("…includes credentials: http://user:pw@…").
  return `connection failed (${maskSecretsInText(e?.message ?? String(error))})`;
}

/** A whole HTTP exchange: the status, the Retry-After header and the body as text. */
export interface Exchange {
  status: number;
  retryAfter: string | null;
  text: string;
}

/**
 * fetch() and read the whole body, ending within `timeoutMs` (connection, headers and body
 * together) or as soon as `runSignal` aborts: rejects with a TimeoutError or the run's reason.
 * The timer is explicit and cleared when done: an AbortSignal.timeout() referenced only through
 * AbortSignal.any() can be garbage-collected before it fires (nodejs/node#57736), and the request
 * then waits forever.
 */
export async function fetchText(url: URL | string, init: RequestInit, timeoutMs: number, runSignal?: AbortSignal): Promise<Exchange> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`no complete answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  const onRunAbort = () => controller.abort(runSignal!.reason);
  if (runSignal?.aborted) onRunAbort();
  else runSignal?.addEventListener('abort', onRunAbort, { once: true });
  try {
    const res = await fetch(url, { ...init, signal: controller.signal });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() };
  } finally {
    clearTimeout(timer);
    runSignal?.removeEventListener('abort', onRunAbort);
  }
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
