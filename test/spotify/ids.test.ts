import { parseTrackId, parseTrackIds } from '../../src/services/spotify/ids.js';
import { parseRetryAfter, RateLimitGate } from '../../src/services/spotify/rate-limit.js';
import { RateLimitBudgetError } from '../../src/services/spotify/errors.js';

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

  test('the gate counts wall time paused once, however many requests see the 429, and refuses past its budget', async () => {
    let now = 0;
    const slept: number[] = [];
    const clock = { now: () => now, sleep: async (ms: number) => { slept.push(ms); now += ms; } };
    const gate = new RateLimitGate(10, clock);
    gate.pause(4);
    gate.pause(4); // a concurrent request told the same: no extra wait
    gate.pause(2);
    expect(gate.totalWaitMs).toBe(4000);
    now += 1000;
    gate.pause(4); // 1 s later: extends the pause by 1 s only
    expect(gate.totalWaitMs).toBe(5000);
    await gate.wait();
    expect(slept).toEqual([4000]);
    expect(now).toBe(5000);
    gate.pause(5);
    expect(gate.totalWaitMs).toBe(10_000);
    expect(() => gate.pause(3600)).toThrow(RateLimitBudgetError);
    expect(() => gate.pause(3600)).toThrow(/asked to wait 3600 s .*SPOTIFY_MAX_RATE_LIMIT_WAIT=10 s/);
  });
});
