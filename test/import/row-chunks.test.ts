import { ChunkEncoder, decodeRows } from '../../src/import/row-chunks.js';
import type { AlbumRef, ArtistRef, TrackRow } from '../../src/import/parse/normalize.js';

// The parser thread's rows as the writing thread gets them: every field as normaliseRow made it,
// the artists and albums of a chunk sent once each and shared by the rows that name them.

const plain = (r: TrackRow) => ({
  line: r.line,
  original: r.original,
  title: r.title,
  artist: { ...r.artist },
  album: r.album && { ...r.album, artist: { ...r.album.artist } },
  durationMs: r.durationMs,
  trackNumber: r.trackNumber,
  discNumber: r.discNumber,
  spotifyUri: r.spotifyUri,
  isrc: r.isrc,
  musicbrainzId: r.musicbrainzId,
  filePath: r.filePath,
  fileSize: r.fileSize,
  audioBitrate: r.audioBitrate,
  audioFormat: r.audioFormat,
  audioSampleRate: r.audioSampleRate,
  addedAt: r.addedAt,
  credits: r.credits?.map((c) => ({ ...c })),
  playlist: r.playlist,
});

/** Drops the keys whose value is undefined (an absent field and an undefined one are the same row). */
const defined = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

function rows(): TrackRow[] {
  const beatles: ArtistRef = { name: 'The Beatles', spotifyUri: 'spotify:artist:3WrFJ7ztbogyGnTHbHJFl2' };
  const beatlesNamed: ArtistRef = { name: 'The Beatles' };
  const various: ArtistRef = { name: 'Various Artists' };
  const abbey: AlbumRef = { title: 'Abbey Road', spotifyUri: 'spotify:album:0ETFjACtuP2ADo6LFhL6HN', artist: beatles, releaseYear: 1969 };
  const out: TrackRow[] = [];
  let line = 2;
  const add = (r: Omit<TrackRow, 'line' | 'original'>) => out.push({ line, original: `row ${line++} as read, ünïcödé ✓`, ...r });
  add({ title: 'Come Together', artist: beatles, album: abbey, durationMs: 259946, trackNumber: 1, discNumber: 1, spotifyUri: 'spotify:track:2EqlS6tkEnglzr7tkKAAYD', isrc: 'GBAYE0601690' });
  // The same artist and album again, as new objects with the same texts (normaliseRow makes one a row).
  add({ title: 'Something', artist: { ...beatles }, album: { ...abbey, artist: { ...beatles } }, trackNumber: 2 });
  // Same name, no URI: another artist reference.
  add({ title: 'Yesterday', artist: beatlesNamed, album: { title: 'Help!', artist: beatlesNamed } });
  // The album's artist differs from the track's, and is new to the chunk.
  add({ title: 'Track on a compilation', artist: { name: 'Ελληνικά 歌手' }, album: { title: 'Now 1', artist: various, releaseYear: 1983 } });
  // The same album title and artist with another year: another album reference.
  add({ title: 'Other', artist: various, album: { title: 'Now 1', artist: various, releaseYear: 1984 } });
  // No album; credits; file fields; a playlist.
  add({
    title: 'Duet',
    artist: beatles,
    credits: [various, { name: 'Guest', spotifyUri: 'spotify:artist:0000000000000000000001' }],
    musicbrainzId: '00000000-0000-4000-8000-000000000001',
    filePath: '/music/duet.flac',
    fileSize: 123456789,
    audioBitrate: 1411,
    audioFormat: 'flac',
    audioSampleRate: 44100,
    addedAt: '2020-01-01T00:00:00Z',
    playlist: 3,
  });
  // The first album again, after others.
  add({ title: 'Here Comes the Sun', artist: beatles, album: abbey, trackNumber: 7 });
  // The same URIs under other texts, and a name that is another artist's URI: other references.
  add({ title: 'Misspelt', artist: { name: 'Beatles', spotifyUri: beatles.spotifyUri }, album: { ...abbey, title: 'Abbey Rd.' } });
  add({ title: 'Odd name', artist: { name: beatles.spotifyUri! }, album: { title: 'Help!', artist: { name: 'Beatles', spotifyUri: beatles.spotifyUri } } });
  add({ title: 'Misspelt again', artist: { name: 'Beatles', spotifyUri: beatles.spotifyUri }, album: { ...abbey, title: 'Abbey Rd.' } });
  return out;
}

describe('ChunkEncoder and decodeRows', () => {
  test('a chunk comes out as it went in, over three chunks that reuse the buffers (texts as read past Latin-1, then within it)', () => {
    const encoder = new ChunkEncoder();
    for (let round = 0; round < 3; round++) {
      // Rounds 1 and 2: every text as read fits in Latin-1 (one byte a character).
      const input = rows().map((r) => (round === 0 ? r : { ...r, original: r.original.replace(' ✓', '') }));
      expect(input.some((r) => [...r.original].some((c) => c.charCodeAt(0) > 0xff))).toBe(round === 0);
      for (const r of input) encoder.add(r);
      const chunk = encoder.take(1000);
      const output = decodeRows(chunk);
      expect(output.map((r) => defined(plain(r)))).toEqual(input.map((r) => defined(plain(r))));
      encoder.recycle(chunk.buffers);
    }
  });

  test('rows naming the same artist or album share one object; other texts, years or URIs make others', () => {
    const encoder = new ChunkEncoder();
    for (const r of rows()) encoder.add(r);
    const [come, something, yesterday, compilation, other, duet, sun, misspelt, odd, again] = decodeRows(encoder.take(1000));
    expect(misspelt.artist).not.toBe(come.artist);
    expect(misspelt.album).not.toBe(come.album);
    expect(again.artist).toBe(misspelt.artist);
    expect(again.album).toBe(misspelt.album);
    expect(odd.artist).not.toBe(come.artist);
    expect(odd.album!.artist).toBe(misspelt.artist);
    expect(odd.album).not.toBe(yesterday.album);
    expect(something.artist).toBe(come.artist);
    expect(something.album).toBe(come.album);
    expect(sun.album).toBe(come.album);
    expect(duet.artist).toBe(come.artist);
    // The album's artist is the track's artist when the texts are the same.
    expect(come.album!.artist).toBe(come.artist);
    expect(yesterday.artist).not.toBe(come.artist);
    expect(compilation.album!.artist).not.toBe(compilation.artist);
    expect(other.artist).toBe(compilation.album!.artist);
    expect(other.album).not.toBe(compilation.album);
    expect([other.album!.releaseYear, compilation.album!.releaseYear]).toEqual([1984, 1983]);
  });

  test('the next chunk names its artists afresh (a chunk does not lean on the one before)', () => {
    const encoder = new ChunkEncoder();
    const [first, ...rest] = rows();
    encoder.add(first);
    const one = encoder.take(10);
    for (const r of rest) encoder.add(r);
    const two = decodeRows(encoder.take(20));
    expect(decodeRows(one)[0].artist).toEqual(first.artist);
    expect(defined(plain(two[1]))).toEqual(defined(plain(rest[1])));
    expect(two[0].artist).toEqual({ name: 'The Beatles', spotifyUri: 'spotify:artist:3WrFJ7ztbogyGnTHbHJFl2' });
  });
});
