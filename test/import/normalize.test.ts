import { RowError, mapHeader, normaliseRow, parseSpotifyUri, splitList } from '../../src/services/import/normalize.js';

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
});
