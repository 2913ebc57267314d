import { LRUCache } from '../../src/cache/lru-cache.js';
import { FakeSpotify, generatedTrack } from '../../src/bench/fake-spotify/server.js';
import { SpotifyFetcher, type Answer, type FetchReport } from '../../src/spotify/fetcher.js';
import { acceleratedClock } from '../../src/spotify/rate-limit.js';
import { capturingLogger, closedPort, configFor, makeIds, useFakeSpotify } from './helpers.js';

let fake: FakeSpotify;
useFakeSpotify((f) => (fake = f));

/** Every id ends exactly once as fetched, not found or failed. */
function expectAccounted(report: FetchReport, ids: string[]): void {
  const seen = [...report.tracks.map((t) => t.id), ...report.notFound, ...report.failed.map((f) => f.id)];
  expect(seen.sort()).toEqual([...new Set(ids)].sort());
}

describe('SpotifyFetcher against the fake API', () => {
  test.each([1, 49, 50, 51, 120, 1000])('%i unique ids cost exactly ceil(N/50) requests of at most 50 ids', async (n) => {
    const ids = makeIds(n);
    const report = await new SpotifyFetcher(configFor(fake)).fetchTracks(ids);
    expect(fake.stats.batchRequests).toBe(Math.ceil(n / 50));
    expect(fake.stats.singleRequests).toBe(0);
    expect(fake.stats.tokenRequests).toBe(1);
    expect(Math.max(...fake.log.map((r) => r.ids.length))).toBeLessThanOrEqual(50);
    expect(report.client.requests).toBe(Math.ceil(n / 50));
    expect(report.tracks).toHaveLength(n);
    expect(report.tracks.map((t) => t.id)).toEqual(ids);
    expect(fake.stats.maxInFlight).toBeLessThanOrEqual(4);
  });

  test('duplicate ids are asked for once; the market is passed on', async () => {
    const ids = makeIds(60);
    const report = await new SpotifyFetcher(configFor(fake)).fetchTracks([...ids, ...ids.slice(0, 30)], { market: 'DE' });
    expect(report.requested).toBe(60);
    expect(fake.stats.idsRequested).toBe(60);
    expect(fake.stats.batchRequests).toBe(2);
    expect(fake.log.every((r) => r.market === 'DE')).toBe(true);
  });

  test('the normalized track carries artist, album, ISRC and release year', async () => {
    const [id] = makeIds(1);
    const report = await new SpotifyFetcher(configFor(fake)).fetchTracks([id]);
    const t = report.tracks[0];
    expect(t.spotifyUri).toBe(`spotify:track:${id}`);
    expect(t.durationMs).toBeGreaterThanOrEqual(120_000);
    expect(t.isrc).toMatch(/^QZ[A-Z0-9]{3}\d{7}$/);
    expect(t.artist.spotifyUri).toMatch(/^spotify:artist:/);
    expect(t.album?.releaseYear).toBeGreaterThanOrEqual(1960);
    expect(t.album?.artist.name).toBe(t.artist.name);
  });

  test('ids that come back null are reported as not found', async () => {
    const ids = makeIds(75);
    fake.setUnknownIds([ids[3], ids[60]]);
    const report = await new SpotifyFetcher(configFor(fake)).fetchTracks(ids);
    expect(report.notFound).toEqual([ids[3], ids[60]]);
    expect(report.tracks).toHaveLength(73);
    expect(report.failed).toEqual([]);
  });

  test('429: waits Retry-After (one run-wide pause), then retries without losing an id', async () => {
    fake.queueFaults({ type: 'rate-limit', retryAfter: 3 });
    const ids = makeIds(200);
    // 1000× faster clock: a 3 s Retry-After takes 3 ms of real time but is accounted as 3 s.
    const report = await new SpotifyFetcher(configFor(fake), { clock: acceleratedClock(1000) }).fetchTracks(ids);
    expect(report.tracks).toHaveLength(200);
    expect(report.client.rateLimitPauses).toBe(1);
    expect(report.client.rateLimitWaitMs).toBeGreaterThanOrEqual(2999);
    expect(report.client.rateLimitWaitMs).toBeLessThanOrEqual(3001);
    expect(report.client.retries).toBe(1);
    expect(fake.stats.batchRequests).toBe(5);
  });

  test('429 for real seconds: the pause is honoured in wall time', async () => {
    fake.queueFaults({ type: 'rate-limit', retryAfter: 1 });
    const started = performance.now();
    const report = await new SpotifyFetcher(configFor(fake)).fetchTracks(makeIds(10));
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(report.tracks).toHaveLength(10);
  });

  test('a request that was getting a new token when a 429 arrived waits out the pause too', async () => {
    fake.options.tokenLatencyMs = 300;
    // Two batches sent together: one gets a 401 (and refreshes the token for 300 ms), the other a 429.
    fake.queueFaults({ type: 'unauthorized' }, { type: 'rate-limit', retryAfter: 2 });
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_CONCURRENCY: '2' })).fetchTracks(makeIds(100));
    expect(report.tracks).toHaveLength(100);
    const limited = fake.log[1];
    const after = fake.log.slice(2);
    expect(after).toHaveLength(2);
    // By the server's clock: nothing was sent during the 2 s pause (margin for timer granularity).
    for (const r of after) expect(r.at - limited.at).toBeGreaterThanOrEqual(1800);
  });

  test('a Retry-After past SPOTIFY_MAX_RATE_LIMIT_WAIT stops the run at once instead of hanging', async () => {
    fake.queueFaults({ type: 'rate-limit', retryAfter: 3600 });
    const ids = makeIds(300);
    const started = performance.now();
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_MAX_RATE_LIMIT_WAIT: '60', SPOTIFY_CONCURRENCY: '1' })).fetchTracks(ids);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(report.fatal?.kind).toBe('rate_limit');
    expect(report.fatal?.message).toMatch(/3600 s.*SPOTIFY_MAX_RATE_LIMIT_WAIT=60/);
    expectAccounted(report, ids);
    expect(report.failed.filter((f) => f.kind === 'rate_limit')).toHaveLength(50);
    expect(report.failed.filter((f) => f.kind === 'stopped')).toHaveLength(250);
  });

  test('429 with Retry-After 0 forever: the run backs off and stops after SPOTIFY_MAX_RATE_LIMITS in a row, not a request storm', async () => {
    fake.options.faultFor = () => ({ type: 'rate-limit', retryAfter: 0 });
    const ids = makeIds(400);
    const config = configFor(fake, { SPOTIFY_MAX_RATE_LIMITS: '5', SPOTIFY_CONCURRENCY: '4' });
    const report = await new SpotifyFetcher(config, { clock: acceleratedClock(1000) }).fetchTracks(ids);
    expect(report.fatal?.kind).toBe('rate_limit');
    expect(report.fatal?.message).toMatch(/^Spotify rate limit: HTTP 429 5 times in a row \(\d+ in all\)/);
    expectAccounted(report, ids);
    // Requests in flight together share one pause: at most one round of 4 per 429 in a row.
    expect(fake.stats.apiRequests).toBeLessThanOrEqual(5 * 4);
    // Paused 1 + 2 + 4 + 8 s (the floor, doubling), as accounted by the clock.
    expect(report.client.rateLimitWaitMs).toBeGreaterThanOrEqual(15_000 - 1);
  });

  test('QUOTA_EXCEEDED stops the run without retrying; every id is reported', async () => {
    const ids = makeIds(500);
    fake.options.faultFor = (r) => (r.n === 3 ? { type: 'quota' } : undefined);
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_CONCURRENCY: '1' })).fetchTracks(ids);
    expect(report.fatal?.kind).toBe('quota');
    expect(report.fatal?.message).toMatch(/quota exceeded/i);
    expect(report.client.retries).toBe(0);
    expect(fake.stats.apiRequests).toBe(3);
    expect(report.tracks).toHaveLength(100);
    expectAccounted(report, ids);
    expect(report.failed.filter((f) => f.kind === 'quota')).toHaveLength(50);
    expect(report.failed.filter((f) => f.kind === 'stopped')).toHaveLength(350);
  });

  test('the caller\'s signal (Ctrl-C) stops the run: no further request, answered batches kept, the rest interrupted', async () => {
    fake.options.latencyMs = 200;
    const ids = makeIds(500);
    const controller = new AbortController();
    const fetched: string[] = [];
    const run = new SpotifyFetcher(configFor(fake, { SPOTIFY_CONCURRENCY: '2' })).fetchTracks(ids, {
      signal: controller.signal,
      onTracks: (tracks) => fetched.push(...tracks.map((t) => t.id)),
    });
    while (fake.stats.apiRequests < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error('Ctrl-C'));
    const report = await run;
    expect(report.interrupted).toBe(true);
    expect(report.fatal).toBeUndefined();
    expect(report.tracks.map((t) => t.id)).toEqual(fetched);
    expect(report.tracks.length).toBeGreaterThanOrEqual(50);
    expect(report.failed.length).toBe(500 - report.tracks.length);
    expect(report.failed.every((f) => f.kind === 'interrupted' && /interrupted \(Ctrl-C\)/.test(f.reason))).toBe(true);
    expectAccounted(report, ids);
    // Every request the run made, counted by the client as it sent it. A request sent just before
    // the abort may reach the fake (on its own thread) after the run returned, so the fake's count
    // at that moment is no bound; none may arrive beyond what the run sent.
    const sent = report.client.requests;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fake.stats.apiRequests).toBeGreaterThanOrEqual(3);
    expect(fake.stats.apiRequests).toBeLessThanOrEqual(sent);
    expect(sent).toBeLessThan(10);
  });

  test('a signal aborted before the run sends nothing, not even a token request', async () => {
    const report = await new SpotifyFetcher(configFor(fake)).fetchTracks(makeIds(120), { signal: AbortSignal.abort() });
    expect(report).toMatchObject({ interrupted: true, tracks: [] });
    expect(report.failed.map((f) => f.kind)).toEqual(Array(120).fill('interrupted'));
    expect(fake.stats.apiRequests + fake.stats.tokenRequests).toBe(0);
  });

  test('5xx, dropped connections and timeouts are retried with backoff', async () => {
    fake.queueFaults({ type: 'status', status: 500 }, { type: 'drop' }, { type: 'hang' }, { type: 'status', status: 503 });
    const ids = makeIds(100);
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_TIMEOUT_MS: '300', SPOTIFY_CONCURRENCY: '1' })).fetchTracks(ids);
    expect(report.tracks).toHaveLength(100);
    expect(report.failed).toEqual([]);
    expect(report.client.retries).toBe(4);
    expect(fake.stats.batchRequests).toBe(6);
  });

  test('a batch that keeps failing is reported per id after a bounded number of attempts; the rest is fetched', async () => {
    const ids = makeIds(150);
    fake.options.faultFor = (r) => (r.ids.includes(ids[60]) ? { type: 'status', status: 502 } : undefined);
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_MAX_RETRIES: '2' })).fetchTracks(ids);
    expect(report.tracks).toHaveLength(100);
    expect(report.failed).toHaveLength(50);
    expect(report.failed.every((f) => f.kind === 'unavailable' && f.reason === 'Spotify API unavailable after 3 attempts: HTTP 502')).toBe(true);
    expect(fake.stats.batchRequests).toBe(2 + 3);
    expectAccounted(report, ids);
  });

  test('a request that never answers times out (SPOTIFY_TIMEOUT_MS) and is reported after the retries', async () => {
    fake.options.faultFor = () => ({ type: 'hang' });
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_TIMEOUT_MS: '150', SPOTIFY_MAX_RETRIES: '1' })).fetchTracks(makeIds(3));
    expect(report.failed.map((f) => f.reason)).toEqual(Array(3).fill('Spotify API unavailable after 2 attempts: no answer within 150 ms (SPOTIFY_TIMEOUT_MS)'));
  });

  test('a connection closed in the middle of the body is retried, then reported as unavailable', async () => {
    const ids = makeIds(100);
    fake.options.faultFor = (r) => (r.ids.includes(ids[0]) ? { type: 'cut' } : undefined);
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_MAX_RETRIES: '2' })).fetchTracks(ids);
    expect(report.tracks).toHaveLength(50);
    expect(report.failed).toHaveLength(50);
    expect(report.failed[0].reason).toMatch(/^Spotify API unavailable after 3 attempts: connection failed \(UND_ERR_SOCKET\)$/);
    expect(fake.stats.batchRequests).toBe(1 + 3);
  });

  test('a fatal error stops a request whose body is still trickling in, without waiting for its timeout', async () => {
    const ids = makeIds(100);
    fake.options.faultFor = (r) => (r.ids.includes(ids[0]) ? { type: 'trickle', intervalMs: 5000 } : { type: 'quota' });
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_TIMEOUT_MS: '120000', SPOTIFY_CONCURRENCY: '2' })).fetchTracks(ids);
    expect(report.fatal?.kind).toBe('quota');
    expectAccounted(report, ids);
    expect(report.elapsedMs).toBeLessThan(30_000); // the 13-byte trickle alone takes 65 s, the timeout is 120 s
  });

  test('403 on the several-tracks endpoint falls back to one request per track, within the concurrency limit', async () => {
    fake.options.forbidSeveral = true;
    fake.options.latencyMs = 2;
    const ids = makeIds(130);
    fake.setUnknownIds([ids[7]]);
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_CONCURRENCY: '3' })).fetchTracks(ids);
    expect(report.perTrackFallback).toBe(true);
    expect(report.tracks).toHaveLength(129);
    expect(report.notFound).toEqual([ids[7]]);
    expect(fake.stats.singleRequests).toBe(130);
    expect(fake.stats.batchRequests).toBeLessThanOrEqual(3);
    expect(fake.stats.maxInFlight).toBeLessThanOrEqual(3);
  });

  test('other 4xx answers are reported per id', async () => {
    const ids = makeIds(60);
    fake.options.faultFor = (r) => (r.ids.includes(ids[55]) ? { type: 'status', status: 400, body: '{"error":{"status":400,"message":"invalid id"}}' } : undefined);
    const report = await new SpotifyFetcher(configFor(fake)).fetchTracks(ids);
    expect(report.tracks).toHaveLength(50);
    expect(report.failed).toHaveLength(10);
    expect(report.failed[0]).toEqual({ id: ids[50], kind: 'http', reason: 'Spotify answered HTTP 400: invalid id' });
  });

  test('a malformed track object or a non-JSON body is reported per id as invalid_response', async () => {
    const ids = makeIds(60, 'v');
    fake.options.catalog = (id) => (id === ids[4] ? { id, name: 'no artists', duration_ms: 1, artists: [] } : generatedTrack(id));
    fake.options.faultFor = (r) => (r.ids.includes(ids[55]) ? { type: 'garbage' } : undefined);
    const report = await new SpotifyFetcher(configFor(fake)).fetchTracks(ids);
    expect(report.tracks).toHaveLength(49);
    expect(report.failed.find((f) => f.id === ids[4])).toEqual({
      id: ids[4],
      kind: 'invalid_response',
      reason: 'unexpected track object from Spotify (artists: expected at least one artist)',
    });
    const garbage = report.failed.filter((f) => f.id !== ids[4]);
    expect(garbage).toHaveLength(10);
    expect(garbage.every((f) => f.kind === 'invalid_response' && f.reason.includes('upstream proxy error'))).toBe(true);
  });

  test('a token close to expiry is refreshed before it is used', async () => {
    fake.options.tokenTtlSeconds = 1;
    const fetcher = new SpotifyFetcher(configFor(fake));
    await fetcher.fetchTracks(makeIds(10, 'a'));
    await new Promise((r) => setTimeout(r, 950)); // past 90% of the TTL, before the fake expires it
    const report = await fetcher.fetchTracks(makeIds(10, 'b'));
    expect(report.tracks).toHaveLength(10);
    expect(fake.stats.tokenRequests).toBe(2);
    expect(fake.stats.unauthorized).toBe(0);
  });

  test('a 401 (token revoked or expired early) refreshes the token once and goes on', async () => {
    const fetcher = new SpotifyFetcher(configFor(fake, { SPOTIFY_CONCURRENCY: '1' }));
    await fetcher.fetchTracks(makeIds(10, 'a'));
    fake.revokeTokens();
    const report = await fetcher.fetchTracks(makeIds(100, 'b'));
    expect(report.tracks).toHaveLength(100);
    expect(fake.stats.tokenRequests).toBe(2);
    expect(fake.stats.unauthorized).toBe(1);
  });

  test('a 401 again after the refresh is an auth failure that stops the run', async () => {
    fake.queueFaults({ type: 'unauthorized' }, { type: 'unauthorized' });
    const ids = makeIds(120);
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_CONCURRENCY: '1' })).fetchTracks(ids);
    expect(report.fatal?.kind).toBe('auth');
    expectAccounted(report, ids);
    expect(report.tracks).toHaveLength(0);
  });

  test('wrong credentials: one clear auth error, and the secret appears nowhere', async () => {
    const secret = 'wrong-secret-do-not-print-42';
    const { logger, text } = capturingLogger();
    const config = { ...configFor(fake), clientSecret: secret };
    const ids = makeIds(70);
    const report = await new SpotifyFetcher(config, { logger }).fetchTracks(ids);
    expect(report.fatal?.kind).toBe('auth');
    expect(report.fatal?.message).toMatch(/SPOTIFY_CLIENT_SECRET/);
    expectAccounted(report, ids);
    const everything = `${text()}\n${JSON.stringify(report)}`;
    expect(everything).toContain('refused the credentials');
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(Buffer.from(`${config.clientId}:${secret}`).toString('base64'));
    expect(fake.stats.apiRequests).toBe(0);
  });

  test('secrets and access tokens never appear in debug logs of a run with faults', async () => {
    const { logger, text } = capturingLogger();
    fake.queueFaults({ type: 'unauthorized' }, { type: 'status', status: 500 }, { type: 'drop' });
    const fetcher = new SpotifyFetcher(configFor(fake), { logger });
    const report = await fetcher.fetchTracks(makeIds(120));
    const token = fetcher.client.tokens.current!;
    expect(token).toMatch(/^fake-token-/);
    const everything = `${text()}\n${JSON.stringify(report)}`;
    expect(everything).toContain('spotify batch request');
    expect(everything).not.toContain(fake.clientSecret);
    expect(everything).not.toContain(token);
  });

  test('the API unreachable: every id reported unavailable after bounded retries', async () => {
    const config = { ...configFor(fake, { SPOTIFY_MAX_RETRIES: '1' }), apiUrl: `http://127.0.0.1:${await closedPort()}` };
    const ids = makeIds(60);
    const report = await new SpotifyFetcher(config).fetchTracks(ids);
    expect(report.tracks).toEqual([]);
    expect(report.failed).toHaveLength(60);
    expect(report.failed[0].reason).toMatch(/unavailable after 2 attempts: connection failed \(ECONNREFUSED\)/);
  });

  test('the accounts service unreachable stops the run', async () => {
    const config = { ...configFor(fake, { SPOTIFY_MAX_RETRIES: '1' }), accountsUrl: `http://127.0.0.1:${await closedPort()}` };
    const ids = makeIds(60);
    const report = await new SpotifyFetcher(config).fetchTracks(ids);
    expect(report.fatal?.kind).toBe('unavailable');
    expect(report.fatal?.message).toMatch(/accounts service unreachable.*SPOTIFY_ACCOUNTS_URL/);
    expectAccounted(report, ids);
  });

  test('responses go through the cache: a repeated id costs no request', async () => {
    const cache = new LRUCache<string, Answer>({ maxSize: 1000 });
    const fetcher = new SpotifyFetcher(configFor(fake), { cache });
    const ids = makeIds(100);
    fake.setUnknownIds([ids[0]]);
    await fetcher.fetchTracks(ids.slice(0, 60));
    expect(fake.stats.batchRequests).toBe(2);
    const again = await fetcher.fetchTracks(ids);
    expect(again.fromCache).toBe(60);
    expect(fake.stats.batchRequests).toBe(3); // only the 40 new ids
    expect(fake.stats.idsRequested).toBe(100);
    expect(again.tracks).toHaveLength(99);
    expect(again.notFound).toEqual([ids[0]]); // "not found" is cached too
    const third = await fetcher.fetchTracks(ids);
    expect(third.fromCache).toBe(100);
    expect(third.client.requests).toBe(0); // counters are per call
    expect(fake.stats.batchRequests).toBe(3);
  });

  test('a run with every kind of fault ends with every id fetched or reported', async () => {
    const ids = makeIds(1000);
    fake.setUnknownIds(ids.filter((_, i) => i % 97 === 0));
    fake.options.latencyMs = 1;
    const script: Array<Parameters<FakeSpotify['queueFaults']>[0] | undefined> = [
      { type: 'status', status: 500 }, undefined, { type: 'rate-limit', retryAfter: 2 }, { type: 'drop' }, undefined,
      { type: 'hang' }, { type: 'status', status: 503 }, undefined, undefined, { type: 'status', status: 400 },
    ];
    fake.options.faultFor = (r) => {
      if (r.ids.includes(ids[500])) return { type: 'status', status: 502 };
      if (r.n === 8) return { type: 'unauthorized' }; // once: a second 401 in a row is an auth failure
      return script[r.n % script.length];
    };
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_TIMEOUT_MS: '500', SPOTIFY_MAX_RETRIES: '6' }), { clock: acceleratedClock(1000) }).fetchTracks(ids);
    expectAccounted(report, ids);
    expect(report.fatal).toBeUndefined();
    expect(report.notFound.length + report.tracks.length + report.failed.length).toBe(1000);
    // The batch holding ids[500] always answers 502: reported unavailable after the retries.
    const batchOf500 = ids.slice(500, 550);
    expect(report.failed.filter((f) => batchOf500.includes(f.id)).every((f) => f.kind === 'unavailable')).toBe(true);
    // The scripted 400s fail their own batches only, reported per id with the status.
    expect(report.failed.every((f) => (f.kind === 'http' && f.reason.includes('HTTP 400')) || f.kind === 'unavailable')).toBe(true);
    expect(report.notFound.every((id) => ids.indexOf(id) % 97 === 0)).toBe(true);
    expect(report.tracks.length).toBeGreaterThan(600);
    expect(report.client.retries).toBeGreaterThan(0);
  });
});
