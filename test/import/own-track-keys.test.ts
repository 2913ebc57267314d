import { keyHash } from '../../src/import/key-filter.js';
import { OwnTrackKeys, tracksOfKeys, tracksOfTitles } from '../../src/import/store/own-track-keys.js';
import { trackFromRow } from '../../src/import/store/types.js';

// The SQLite store's keys of the tracks a bulk load into an empty table wrote (its key indexes
// deferred): a superset of rowids by hash, then the rows whose column is equal.

const track = (n: number) => ({ spotifyUri: `spotify:track:${n}`, isrc: `QZ${String(n).padStart(10, '0')}`, musicbrainzId: n % 2 ? null : `mbid-${n}`, title: `Song ${n}`, artistId: `artist-${n % 7}` });
const row = (rowid: number, n: number) => {
  const t = track(n);
  return { rowid, id: `id-${rowid}`, title: t.title, artist_id: t.artistId, album_id: null, duration_ms: 0, track_number: null, disc_number: 1, spotify_uri: t.spotifyUri, isrc: t.isrc, musicbrainz_id: t.musicbrainzId, file_path: null, file_size: null, audio_bitrate: null, audio_format: null, audio_sample_rate: null };
};

describe('OwnTrackKeys', () => {
  test('every key of 100,000 tracks finds its rowid (the table grows many times); an unknown key finds no more than a stray hash', () => {
    const keys = new OwnTrackKeys();
    for (let n = 1; n <= 100_000; n++) keys.add(track(n), n);
    for (let n = 1; n <= 100_000; n += 997) {
      const t = track(n);
      expect(keys.byKeys([t.spotifyUri], [], [])).toContain(n);
      expect(keys.byKeys([], [t.isrc], [])).toContain(n);
      if (t.musicbrainzId) expect(keys.byKeys([], [], [t.musicbrainzId])).toContain(n);
      expect(keys.byTitles([[t.title, t.artistId]])).toContain(n);
    }
    expect(keys.byKeys(['spotify:track:none'], ['QZ-none'], []).size).toBeLessThanOrEqual(1);
  });

  test('an updated track keeps its old keys and gains its new ones, under the same rowid', () => {
    const keys = new OwnTrackKeys();
    keys.add(track(1), 1);
    keys.add({ ...track(1), spotifyUri: 'spotify:track:new' }, 1);
    expect([...keys.byKeys(['spotify:track:1', 'spotify:track:new'], [], [])]).toEqual([1]);
  });

  test('two keys of one hash: both rowids come back (the store then keeps the equal ones)', () => {
    // Two texts with one 30-bit hash (a birthday search: about 40k tries).
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const text = `spotify:track:${i}`;
      const h = keyHash(1, text);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, text];
      else seen.set(h, text);
    }
    const keys = new OwnTrackKeys();
    keys.add({ ...track(1), spotifyUri: pair[0] }, 1);
    keys.add({ ...track(2), spotifyUri: pair[1] }, 2);
    expect([...keys.byKeys([pair[0]], [], [])].sort()).toEqual([1, 2]);
    const rows = [{ ...row(1, 1), spotify_uri: pair[0] }, { ...row(2, 2), spotify_uri: pair[1] }];
    expect(tracksOfKeys(rows, [pair[0]], [], [], trackFromRow).map((t) => t.rowid)).toEqual([1]);
  });
});

describe('what the finds return from the rows read', () => {
  test('tracksOfKeys: the rows of each kind of key in turn, in key order, a row found by two keys twice (two objects); other rows left out', () => {
    const rows = [row(1, 30), row(2, 10), row(3, 20), row(4, 40)];
    const found = tracksOfKeys(rows, ['spotify:track:20', 'spotify:track:10', 'spotify:track:99'], [track(20).isrc], [], trackFromRow);
    expect(found.map((t) => t.rowid)).toEqual([2, 3, 3]);
    expect(found[1]).not.toBe(found[2]);
    expect(found[1]).toEqual(found[2]);
    expect(tracksOfKeys(rows, [], [], [track(40).musicbrainzId!], trackFromRow).map((t) => t.rowid)).toEqual([4]);
  });

  test('tracksOfTitles: for each (title, artist) asked, in that order, its tracks in rowid order; the same title of another artist left out', () => {
    const same = (rowid: number, artistId: string) => ({ ...row(rowid, 5), artist_id: artistId });
    const rows = [same(9, 'artist-5'), row(2, 3), same(4, 'artist-5'), same(6, 'artist-x')];
    const found = tracksOfTitles(rows, [[track(3).title, track(3).artistId], ['Song 5', 'artist-5']], trackFromRow);
    expect(found.map((t) => t.rowid)).toEqual([2, 4, 9]);
  });
});
