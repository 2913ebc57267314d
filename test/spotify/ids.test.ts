import { parseTrackId, parseTrackIds } from '../../src/spotify/ids.js';
import { parseRetryAfter, RateLimitGate } from '../../src/spotify/rate-limit.js';
import { RateLimitBudgetError, RateLimitStreakError } from '../../src/spotify/errors.js';

const id = '4uLU6hMCjMI75M1A2tKUQC';

describe('track id parsing', () => {
  test.each([
    [id, id],
    [`  ${id} `, id],
    [`spotify:track:${id}`, id],
    [`https://open.spotify.com/track/${id}`, id],
    [`https://open.spotify.com/track/${id}?si=1a2b3c`, id],
    [`http://open.spotify.com/intl-de/track/${id}/`, id],
    [`open.spotify.com/embed/track/${id}#x`, id],
    [`https://open.spotify.com/intl-pt-br/track/${id}`, id],
  ])('%s → the id', (input, expected) => {
    expect(parseTrackId(input)).toBe(expected);
  });

  test.each([
    'short',
    `${id}X`,
    `spotify:album:${id}`,
    `https://open.spotify.com/album/${id}`,
    `https://evil.example/track/${id}`,
    `spotify:track:${id.slice(1)}!`,
    '4uLU6hMCjMI75M1A2tKUQ-',
  ])('%s is malformed', (input) => {
    expect(parseTrackId(input)).toBeUndefined();
  });

  test('many inputs: unique ids in first-seen order, malformed listed, blanks skipped', () => {
    const other = '7ouMYWpwJ422jRcDASZB7P';
    expect(parseTrackIds([other, `spotify:track:${id}`, '', 'bad', id, other, ' nope '])).toEqual({
      ids: [other, id],
      malformed: ['bad', 'nope'],
      duplicates: 2,
    });
  });
});

describe('rate limits', () => {
  test('Retry-After: seconds, an HTTP date, or 1 s when absent or unreadable', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(null)).toBe(1);
    expect(parseRetryAfter('soon')).toBe(1);
    expect(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 30)).toUTCString(), Date.UTC(2030, 0, 1, 0, 0, 0))).toBe(30);
  });

  test('the gate counts wall time paused once, however many requests in flight together see the 429, and refuses past its budget', async () => {
    let now = 0;
    const slept: number[] = [];
    const clock = { now: () => now, sleep: async (ms: number) => { slept.push(ms); now += ms; } };
    const gate = new RateLimitGate({ budgetSeconds: 10, maxInARow: 10 }, clock);
    const sentTogether = gate.ticket;
    expect(gate.rateLimited(sentTogether, 4)).toBe(4);
    expect(gate.rateLimited(sentTogether, 4)).toBe(0); // sent before that pause: no extra wait
    expect(gate.rateLimited(sentTogether, 2)).toBe(0);
    expect(gate.totalWaitMs).toBe(4000);
    now += 1000;
    gate.rateLimited(sentTogether, 4); // 1 s later: extends the pause by 1 s only
    expect(gate.totalWaitMs).toBe(5000);
    await gate.wait();
    expect(slept).toEqual([4000]);
    expect(now).toBe(5000);
    gate.rateLimited(gate.ticket, 5);
    expect(gate.totalWaitMs).toBe(10_000);
    expect(() => gate.rateLimited(gate.ticket, 3600)).toThrow(RateLimitBudgetError);
    expect(() => gate.rateLimited(gate.ticket, 3600)).toThrow(/asked to wait 3600 s .*SPOTIFY_MAX_RATE_LIMIT_WAIT=10 s/);
  });

  test.each([['0', 0], ['-5', 0], [null, 1], ['garbage', 1]])('Retry-After %p: pauses of at least 1 s, doubling per 429 in a row up to 30 s', (header, parsed) => {
    let now = 0;
    const gate = new RateLimitGate({ budgetSeconds: 86_400, maxInARow: 100 }, { now: () => now, sleep: async () => {} });
    expect(parseRetryAfter(header)).toBe(parsed);
    const pauses: number[] = [];
    for (let i = 0; i < 8; i++) {
      pauses.push(gate.rateLimited(gate.ticket, parseRetryAfter(header)));
      now += pauses[i] * 1000;
    }
    expect(pauses).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);
    // Any other answer ends the streak: the next 429 starts again at the floor.
    gate.answered(gate.ticket);
    expect(gate.rateLimited(gate.ticket, parsed)).toBe(1);
  });

  test('429s in a row stop the run at the limit, with how many and what to do; 429s of requests sent together count once', () => {
    let now = 0;
    const gate = new RateLimitGate({ budgetSeconds: 86_400, maxInARow: 3 }, { now: () => now, sleep: async () => {} });
    for (let i = 0; i < 2; i++) {
      const ticket = gate.ticket;
      for (let k = 0; k < 5; k++) gate.rateLimited(ticket, 0); // five requests in flight together
      now += 60_000;
    }
    let error: unknown;
    try {
      gate.rateLimited(gate.ticket, 0);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RateLimitStreakError);
    expect((error as Error).message).toBe(
      'Spotify rate limit: HTTP 429 3 times in a row (11 in all) although the run paused longer after each; the run stopped; rerun later, lower SPOTIFY_CONCURRENCY, or raise SPOTIFY_MAX_RATE_LIMITS',
    );
  });
});
