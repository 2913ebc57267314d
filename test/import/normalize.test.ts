import { RowError, mapHeader, normaliseRow, parseSpotifyUri, splitList } from '../../src/import/parse/normalize.js';

describe('parseSpotifyUri', () => {
  test('URIs and open.spotify.com links (intl, ?si=) give the canonical URI; local files give none', () => {
    expect(parseSpotifyUri('spotify:track:6QgjcU0zLnzq5OrUoSZ3OK', 'track', 'c')).toBe('spotify:track:6QgjcU0zLnzq5OrUoSZ3OK');
    expect(parseSpotifyUri('https://open.spotify.com/track/6QgjcU0zLnzq5OrUoSZ3OK?si=abc', 'track', 'c')).toBe('spotify:track:6QgjcU0zLnzq5OrUoSZ3OK');
    expect(parseSpotifyUri('open.spotify.com/intl-de/album/4I5zzKYd2SKDgZ9DRf5LVk', 'album', 'c')).toBe('spotify:album:4I5zzKYd2SKDgZ9DRf5LVk');
    expect(parseSpotifyUri('spotify:local:Artist:Album:Title:241', 'track', 'c')).toBeNull();
  });

  test.each(['spotify:track:short', 'spotify:album:4I5zzKYd2SKDgZ9DRf5LVk', 'https://example.com/track/6QgjcU0zLnzq5OrUoSZ3OK', 'nonsense'])('%s is rejected', (value) => {
    expect(() => parseSpotifyUri(value, 'track', 'track URI')).toThrow(RowError);
  });
});

describe('normaliseRow', () => {
  const row = (values: Record<string, unknown>) => normaliseRow(values, 2, 'original');

  test('exporter lists: the first artist is the track artist; "\\," keeps a comma inside a name', () => {
    expect(splitList('Tyler\\, The Creator, Playboi Carti')).toEqual(['Tyler, The Creator', 'Playboi Carti']);
    const r = row({
      title: 'EARFQUAKE',
      artists: 'Tyler\\, The Creator, Playboi Carti',
      artistUris: 'spotify:artist:4V8LLVI7PbaPR0K2TGSxFF, spotify:artist:0ONHkAv9pCAFxb0zJwDNTy',
      album: 'IGOR',
      releaseDate: '2019-05-17',
      trackNumber: '2',
      durationMs: '190066',
    });
    expect(r.artist).toEqual({ name: 'Tyler, The Creator', spotifyUri: 'spotify:artist:4V8LLVI7PbaPR0K2TGSxFF' });
    expect(r.album).toEqual({ title: 'IGOR', artist: r.artist, releaseYear: 2019 });
    expect([r.trackNumber, r.durationMs]).toEqual([2, 190066]);
    expect(r.credits).toEqual([{ name: 'Playboi Carti', spotifyUri: 'spotify:artist:0ONHkAv9pCAFxb0zJwDNTy' }]);
  });

  test('every credited artist is kept in order; one artist URI makes a name with a plain comma one artist', () => {
    const three = row({ title: 't', artists: 'A, B\\, C, D', artistUris: 'spotify:artist:AAAAAAAAAAAAAAAAAAAAAA, spotify:artist:BBBBBBBBBBBBBBBBBBBBBB, spotify:artist:DDDDDDDDDDDDDDDDDDDDDD' });
    expect([three.artist, ...(three.credits ?? [])].map((a) => [a.name, a.spotifyUri])).toEqual([
      ['A', 'spotify:artist:AAAAAAAAAAAAAAAAAAAAAA'],
      ['B, C', 'spotify:artist:BBBBBBBBBBBBBBBBBBBBBB'],
      ['D', 'spotify:artist:DDDDDDDDDDDDDDDDDDDDDD'],
    ]);
    // An exporter that did not escape the comma: one URI says one artist.
    const one = row({ title: 't', artists: 'Tyler, The Creator', artistUris: 'spotify:artist:4V8LLVI7PbaPR0K2TGSxFF' });
    expect(one.artist).toEqual({ name: 'Tyler, The Creator', spotifyUri: 'spotify:artist:4V8LLVI7PbaPR0K2TGSxFF' });
    expect(one.credits).toBeUndefined();
    // Without URIs (a local file) the list is split as written.
    expect([row({ title: 't', artists: 'X, Y' }).artist.name, row({ title: 't', artists: 'X, Y' }).credits]).toEqual(['X', [{ name: 'Y' }]]);
    // The Spotify API shape: artists as objects.
    const api = row({ title: 't', artists: [{ name: 'P', uri: 'spotify:artist:PPPPPPPPPPPPPPPPPPPPPP' }, { name: 'Q' }] });
    expect([api.artist.name, api.credits]).toEqual(['P', [{ name: 'Q' }]]);
  });

  test('the album artist comes from the album-artist column, by the same rules', () => {
    const r = row({
      title: 'EARFQUAKE',
      artists: 'Tyler\\, The Creator, Playboi Carti',
      album: 'IGOR',
      albumArtists: 'Tyler, The Creator',
      albumArtistUris: 'spotify:artist:4V8LLVI7PbaPR0K2TGSxFF',
    });
    expect(r.album!.artist).toEqual({ name: 'Tyler, The Creator', spotifyUri: 'spotify:artist:4V8LLVI7PbaPR0K2TGSxFF' });
    const various = row({ title: 't', artist: 'Someone', album: 'Hits', albumArtist: 'Various Artists' });
    expect(various.album!.artist).toEqual({ name: 'Various Artists' });
  });

  test('a single artist column is never split', () => {
    expect(row({ title: 't', artist: 'Earth, Wind & Fire' }).artist.name).toBe('Earth, Wind & Fire');
  });

  test('header names in any case and style map to the same fields', () => {
    const map = mapHeader(['Track Name', 'artist_name', 'albumTitle', 'Track Duration (ms)', 'ISRC', 'spotify_uri', 'releaseYear']);
    expect([...map.keys()]).toEqual(['title', 'artist', 'album', 'durationMs', 'isrc', 'spotifyUri', 'releaseDate']);
  });

  test.each([
    [{ title: '', artist: 'a' }, /missing title/],
    [{ title: 't', artist: ' ' }, /missing artist/],
    [{ title: 't', artist: 'a', durationMs: '-1' }, /negative/],
    [{ title: 't', artist: 'a', trackNumber: 'seven' }, /not a whole number/],
    [{ title: 't', artist: 'a', spotifyUri: 'spotify:track:nope' }, /bad Spotify track URI/],
    [{ title: 't', artist: 'a', isrc: 'XX' }, /bad ISRC/],
    [{ title: 't', artist: 'a', album: 'x', releaseDate: '1850' }, /outside 1900/],
    [{ title: 'x'.repeat(256), artist: 'a' }, /longer than 255/],
  ])('%j is rejected: %s', (values, reason) => {
    expect(() => row(values)).toThrow(reason);
  });

  test('durations as m:ss or seconds; ISRC normalised; 0 track number of local files means unknown', () => {
    expect(row({ title: 't', artist: 'a', duration: '4:05' }).durationMs).toBe(245000);
    expect(row({ title: 't', artist: 'a', duration: '1:02:03.5' }).durationMs).toBe(3723500);
    expect(row({ title: 't', artist: 'a', duration: '388' }).durationMs).toBe(388000);
    expect(row({ title: 't', artist: 'a', isrc: 'gb-aaa-98-00314' }).isrc).toBe('GBAAA9800314');
    const local = row({ title: 't', artist: 'a', trackNumber: '0', discNumber: '0', spotifyUri: 'spotify:local:a:b:t:1' });
    expect([local.trackNumber, local.discNumber, local.spotifyUri]).toEqual([undefined, undefined, undefined]);
  });

  // Each of these reached the database before: PostgreSQL refused the batch (NUL, year 0, an
  // INTEGER overflow) or both stored something else than the file said (a rolled-over date).
  test.each([
    [{ title: 'a\0b', artist: 'a' }, /title contains NUL characters/],
    [{ title: 't', artist: [{ name: 'x\0' }] }, /artist contains NUL characters/],
    [{ title: 't', artist: 'a', album: 'b\0' }, /album contains NUL/],
    [{ title: 't\ud800', artist: 'a' }, /unpaired UTF-16 surrogates/],
    [{ title: 't', artist: 'a', addedAt: '0000-01-01T00:00:00Z' }, /added_at year 0 is outside 1900–2100/],
    [{ title: 't', artist: 'a', addedAt: '10000-01-01' }, /not an ISO 8601 date/],
    [{ title: 't', artist: 'a', addedAt: '2100-12-31T23:00:00-05:00' }, /outside 1900–2100 in UTC/],
    [{ title: 't', artist: 'a', addedAt: '2024-02-30' }, /day 30 does not exist in 2024-02/],
    [{ title: 't', artist: 'a', addedAt: '2023-02-29T10:00:00Z' }, /day 29 does not exist/],
    [{ title: 't', artist: 'a', addedAt: '2024-13-01' }, /month 13 does not exist/],
    [{ title: 't', artist: 'a', addedAt: '2024-01-01T24:00:00Z' }, /time of day does not exist/],
    [{ title: 't', artist: 'a', addedAt: '1' }, /added_at is not an ISO 8601 date/],
    [{ title: 't', artist: 'a', addedAt: 'April 14, 2020' }, /added_at is not an ISO 8601 date/],
    [{ title: 't', artist: 'a', addedAt: 1586889211000 }, /added_at is not an ISO 8601 date/],
    [{ title: 't', artist: 'a', duration: '99999999999' }, /duration is too long/],
    [{ title: 't', artist: 'a', duration: '99:99' }, /not a valid m:ss time/],
    [{ title: 't', artist: 'a', duration: '1:60:00' }, /not a valid h:mm:ss time/],
    [{ title: 't', artist: 'a', duration: [1] }, /duration must be text or a number, got \[1\]/],
    [{ title: 't', artist: 'a', durationMs: '2147483648' }, /duration_ms is too large/],
    [{ title: 't', artist: 'a', durationMs: 1e21 }, /duration_ms is not a whole number/],
    [{ title: 't', artist: 'a', trackNumber: 2147483648 }, /track_number is too large/],
    [{ title: 't', artist: 'a', trackNumber: [3] }, /track_number must be text or a number/],
    [{ title: 't', artist: 'a', audioSampleRate: '1e10' }, /not a whole number/],
    [{ title: 't', artist: 'a', fileSize: '9007199254740993' }, /file_size is too large/],
    [{ title: ['t'], artist: 'a' }, /title must be text or a number/],
    [{ title: true, artist: 'a' }, /title must be text or a number, got true/],
    [{ title: 't', artist: 'a', isrc: ['USRC17607839'] }, /isrc must be text or a number/],
    [{ title: 't', artist: 'a', album: 'x', releaseDate: '2019-02-30' }, /day 30 does not exist/],
    [{ title: 't', artist: 'a', releaseDate: '2019-13' }, /month 13 does not exist/],
  ])('%j is rejected: %s', (values, reason) => {
    expect(() => row(values)).toThrow(reason);
  });

  test('lengths count characters as PostgreSQL VARCHAR does: 255 emoji fit, 256 are "256 characters"', () => {
    const emoji = '\u{1F3B5}';
    expect(row({ title: emoji.repeat(255), artist: emoji.repeat(255) }).title).toBe(emoji.repeat(255));
    expect(() => row({ title: emoji.repeat(256), artist: 'a' })).toThrow('title longer than 255 characters (256)');
  });

  test('dates and durations as exports write them', () => {
    const added = (addedAt: string) => row({ title: 't', artist: 'a', addedAt }).addedAt;
    expect(added('2020-04-14T18:33:31Z')).toBe('2020-04-14T18:33:31.000Z');
    expect(added('2020-04-14')).toBe('2020-04-14T00:00:00.000Z');
    expect(added('2020-04-14T20:33:31+02:00')).toBe('2020-04-14T18:33:31.000Z');
    expect(added('2020-04-14 18:33:31.123456')).toBe('2020-04-14T18:33:31.123Z');
    expect(added('2024-02-29T23:59:59-0100')).toBe('2024-03-01T00:59:59.000Z');
    const ms = (values: Record<string, unknown>) => row({ title: 't', artist: 'a', ...values }).durationMs;
    expect(ms({ duration: '59:59' })).toBe(3_599_000);
    expect(ms({ duration: '1:59:59' })).toBe(7_199_000);
    expect(ms({ duration: 215 })).toBe(215_000);
    expect(ms({ durationMs: '215000.0' })).toBe(215_000);
    expect(ms({ durationMs: 190066.6 })).toBe(190_067);
    expect(ms({ durationMs: '2147483647' })).toBe(2_147_483_647);
    expect(row({ title: 1979, artist: 'a' }).title).toBe('1979');
  });

  test('added_at in the exporters\' shape (read without a Date) gives what Date gives, and refuses what it would roll over', () => {
    const added = (addedAt: string) => row({ title: 't', artist: 'a', addedAt }).addedAt;
    const valid = ['1900-01-01T00:00:00Z', '1900-02-28T12:00:00Z', '2000-02-29T23:59:59Z', '2024-02-29T00:00:01Z', '2100-12-31T23:59:59Z', '2023-04-30T10:20:30Z', '2023-12-31T23:59:59Z'];
    // Every day of a leap year and of a common one, at a time that changes with the day.
    for (const year of [2023, 2024]) {
      for (let day = 0; day < 366; day++) {
        const d = new Date(Date.UTC(year, 0, 1 + day, day % 24, day % 60, (day * 7) % 60));
        if (d.getUTCFullYear() === year) valid.push(d.toISOString().replace('.000Z', 'Z'));
      }
    }
    for (const text of valid) expect(added(text)).toBe(new Date(text).toISOString());
    for (const text of ['1900-02-29T00:00:00Z', '2100-02-29T00:00:00Z', '2023-04-31T00:00:00Z', '2023-01-01T23:60:00Z', '2023-01-01T00:00:60Z', '2023-00-10T00:00:00Z']) {
      expect(() => added(text)).toThrow(/does not exist/);
    }
  });
});
