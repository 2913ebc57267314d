import type { FakeSpotify } from '../../src/bench/fake-spotify/server.js';
import { SpotifyFetcher } from '../../src/spotify/fetcher.js';
import { configFor, makeIds, useFakeSpotify } from './helpers.js';

// Regression: "QUOTA_EXCEEDED stops the run…" (fetcher.test.ts) failed now and then with 50 tracks
// instead of 100. Its fault is scripted on the third API request (`n === 3`), and the fake was shared
// by the file: the previous test's run, stopped with requests in flight, had written requests the
// in-process fake parsed only after this test had reset it, so they took numbers 1 and 2. Each test
// now gets its own fake on its own port; what the previous test left in flight goes to a closed one.

let fake: FakeSpotify;
useFakeSpotify((f) => (fake = f));

let previousUrl = '';

describe('useFakeSpotify: each test has a fake of its own', () => {
  test('a run stopped by a fatal error with requests in flight (they reach a fake late, when at all)', async () => {
    fake.options.faultFor = (r) => (r.n === 3 ? { type: 'quota' } : undefined);
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_CONCURRENCY: '4' })).fetchTracks(makeIds(500));
    expect(report.fatal?.kind).toBe('quota');
    previousUrl = fake.url;
  });

  test("what the previous test's run still sends never reaches this test's fake", async () => {
    expect(previousUrl).not.toBe('');
    // A request of the previous run, parsed late, goes where that run was sent: the previous fake.
    const late = await fetch(`${previousUrl}/v1/tracks?ids=${makeIds(1)[0]}`).then(
      (res) => `HTTP ${res.status}`,
      () => 'refused',
    );
    expect(late).toBe('refused');
    expect(fake.stats.apiRequests).toBe(0);
    // And the numbering this test's faults are scripted on starts at its own first request.
    fake.options.faultFor = (r) => (r.n === 3 ? { type: 'quota' } : undefined);
    const report = await new SpotifyFetcher(configFor(fake, { SPOTIFY_CONCURRENCY: '1' })).fetchTracks(makeIds(500));
    expect(report.tracks).toHaveLength(100);
    expect(fake.stats.apiRequests).toBe(3);
  });
});
