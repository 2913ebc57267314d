import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { openDatabase, withDatabase, type Database } from '../../src/db/client.js';
import { UsageError } from '../../src/errors.js';
import { openImportStore } from '../../src/import/store/index.js';
import { importTracks, type ImportOptions } from '../../src/import/import-service.js';
import { EXPORTER_HEADER, exporterRow } from '../../src/bench/sample-data.js';
import { createEmptyDatabase, createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { DatabaseError } from '../../src/errors.js';

const FIXTURES = join(process.cwd(), 'test/fixtures/import');

describe.each(providers)('import-tracks on %s', (provider) => {
  let tdb: TestDatabase;
  let work: string;
  const run = (options: Partial<ImportOptions> & { input: string }, db?: Database) =>
    db ? importTracks(db, { cwd: work, ...options }) : withDatabase(tdb.config, (d) => importTracks(d, { cwd: work, ...options }));
  const fixture = (name: string) => {
    const to = join(work, name);
    copyFileSync(join(FIXTURES, name), to);
    return to;
  };
  const counts = () =>
    withDatabase(tdb.config, async ({ prisma }) => ({
      artists: await prisma.artist.count(),
      albums: await prisma.album.count(),
      tracks: await prisma.track.count(),
      playlistTracks: await prisma.playlistTrack.count(),
    }));

  beforeEach(async () => {
    tdb = await createMigratedDatabase(provider);
    work = mkdtempSync(join(tmpdir(), 'soulspot-import-'));
  });
  afterEach(async () => {
    await tdb.drop();
    rmSync(work, { recursive: true, force: true });
  });

  test('exporter CSV: multiple artists, Unicode, a local file, a duplicate; Prisma reads the rows back', async () => {
    const s = await run({ input: fixture('exportify.csv') });
    // 16 artists: the 13 first-listed and three credited after them (Roddy Ricch, Playboi Carti, JAY-Z).
    expect(s).toMatchObject({ format: 'exportify', read: 14, inserted: 13, updated: 0, unchanged: 0, duplicates: 1, rejected: 0, artistsCreated: 16, albumsCreated: 13 });
    expect(s.read).toBe(s.inserted + s.updated + s.unchanged + s.duplicates + s.rejected);
    expect(s.rejectsFile).toBeUndefined();
    expect(existsSync(join(work, 'exportify.csv.rejects.csv'))).toBe(false);
    await withDatabase(tdb.config, async ({ prisma }) => {
      const earfquake = await prisma.track.findUniqueOrThrow({ where: { spotifyUri: 'spotify:track:6HSXNV0b4M4cLJ7ljgVVeh' }, include: { artist: true, album: { include: { artist: true } } } });
      expect(earfquake.artist.name).toBe('Tyler, The Creator');
      expect(earfquake.artist.spotifyUri).toBe('spotify:artist:4V8LLVI7PbaPR0K2TGSxFF');
      expect(earfquake).toMatchObject({ title: 'EARFQUAKE', durationMs: 190066, trackNumber: 2, discNumber: 1, isrc: 'USQX91900918' });
      expect(earfquake.album!.title).toBe('IGOR');
      // Every credited artist in order ("Tyler\, The Creator" is one name): the first is the
      // track's artist, the others track_artists positions 1, 2, …; only the three featuring tracks have any.
      const credits = await prisma.trackArtist.findMany({ where: { trackId: earfquake.id }, orderBy: { position: 'asc' }, include: { artist: true } });
      expect(credits.map((c) => [c.position, c.artist.name, c.artist.spotifyUri])).toEqual([[1, 'Playboi Carti', 'spotify:artist:0ONHkAv9pCAFxb0zJwDNTy']]);
      expect(await prisma.trackArtist.count()).toBe(3);
      expect(earfquake.album!.releaseYear).toBe(2019);
      // Timestamps written by the raw driver read back through Prisma as the same instant.
      expect(earfquake.createdAt).toBeInstanceOf(Date);
      expect(Math.abs(earfquake.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      expect(earfquake.updatedAt.getTime()).toBe(earfquake.createdAt.getTime());
      const sakamoto = await prisma.artist.findFirstOrThrow({ where: { name: '坂本龍一' } });
      expect(sakamoto.spotifyUri).toBe('spotify:artist:1tcgfoMTT1szjUeaikxRjA');
      const local = await prisma.track.findFirstOrThrow({ where: { title: 'Side A (live)' }, include: { artist: true } });
      expect(local).toMatchObject({ spotifyUri: null, trackNumber: null, discNumber: 1, durationMs: 241000 });
      expect(local.artist).toMatchObject({ name: 'Unknown Artist', spotifyUri: null });
      // The featured artist of a duet is not the track's artist, but is credited after it.
      const rockstar = await prisma.track.findUniqueOrThrow({
        where: { spotifyUri: 'spotify:track:7ytR5pFWmSjzHJIeQkgog4' },
        include: { artist: true, credits: { orderBy: { position: 'asc' }, include: { artist: true } } },
      });
      expect(rockstar.artist.name).toBe('DaBaby');
      expect(rockstar.credits.map((c) => [c.position, c.artist.name])).toEqual([[1, 'Roddy Ricch']]);
    });
  });

  test('messy generic CSV (BOM, CRLF, odd headers, quoted newlines, links), TSV, NDJSON and JSON array', async () => {
    const messy = await run({ input: fixture('messy.csv') });
    expect(messy).toMatchObject({ format: 'csv', read: 6, inserted: 6, rejected: 0 });
    const tsv = await run({ input: fixture('tracks.tsv') });
    expect(tsv).toMatchObject({ format: 'tsv', read: 4, inserted: 4, rejected: 0 });
    const nd = await run({ input: fixture('tracks.ndjson') });
    expect(nd).toMatchObject({ format: 'ndjson', read: 6, inserted: 3, rejected: 3 });
    expect(nd.firstRejects.map((r) => r.line)).toEqual([4, 5, 7]);
    const json = await run({ input: fixture('tracks.json') });
    expect(json).toMatchObject({ format: 'json', read: 4, inserted: 2, rejected: 2 });
    expect(json.firstRejects.map((r) => r.reason)).toEqual(['record 3: expected a JSON object, got string', 'record 4: duration_ms is negative: -5']);
    await withDatabase(tdb.config, async ({ prisma }) => {
      const multi = await prisma.track.findFirstOrThrow({ where: { title: 'Line one\r\nline two' }, include: { artist: true } });
      expect(multi.artist.name).toBe('Cœur de pirate');
      expect(multi.durationMs).toBe(192000);
      const quoted = await prisma.track.findFirstOrThrow({ where: { title: 'Song with "quotes", commas' } });
      expect(quoted.durationMs).toBe(245000);
      const teardrop = await prisma.track.findFirstOrThrow({ where: { title: 'Teardrop' }, include: { album: true } });
      expect(teardrop).toMatchObject({ spotifyUri: 'spotify:track:67Hna13dNDkZvBpTXRIaOJ', isrc: 'GBAAA9800314', durationMs: 330773 });
      expect(teardrop.album!.releaseYear).toBe(1998);
      const sigur = await prisma.track.findFirstOrThrow({ where: { title: 'Svefn-g-englar' } });
      expect(sigur.filePath).toBe('/music/Sigur Rós/Ágætis byrjun/02 Svefn-g-englar.flac');
      const heroes = await prisma.track.findFirstOrThrow({ where: { title: 'Heroes' }, include: { artist: true, album: true } });
      expect(heroes).toMatchObject({ isrc: 'USJT11700002', spotifyUri: 'spotify:track:7Jh1bpe76CNTCgdgAdBw4Z' });
      expect(heroes.artist.spotifyUri).toBe('spotify:artist:0oSGxfWSnnOXhD2fKuz2Gy');
      expect(heroes.album!.title).toBe('"Heroes" (2017 Remaster)');
      // Radiohead appears in the TSV and the NDJSON: one artist.
      expect(await prisma.artist.count({ where: { name: 'Radiohead' } })).toBe(1);
      expect(await prisma.album.count({ where: { title: 'OK Computer' } })).toBe(1);
    });
  });

  test('bad rows go to the rejects file with line, reason and original text; the good rows import', async () => {
    const input = fixture('bad-rows.csv');
    const s = await run({ input });
    expect(s).toMatchObject({ read: 11, inserted: 2, rejected: 9 });
    expect(s.rejectsFile).toBe(`${input}.rejects.csv`);
    const rejects = parse<{ line: string; reason: string; original: string }>(readFileSync(s.rejectsFile!), { columns: true });
    expect(rejects.map((r) => [Number(r.line), r.reason.replace(/:.*$/, '')])).toEqual([
      [3, 'wrong column count'],
      [4, 'missing title'],
      [5, 'missing artist'],
      [6, 'duration_ms is negative'],
      [7, 'duration_ms is not a whole number'],
      [8, 'track_number is negative'],
      [9, 'bad Spotify track URI in track URI'],
      [10, 'invalid UTF-8'],
      [12, 'unterminated quoted field'],
    ]);
    expect(rejects[0].original).toBe('Too,Many,Columns,1,2,,extra');
    expect(rejects[8].original).toBe('"Unterminated,Artist A,Album,1000,1,');
    expect((await counts()).tracks).toBe(2);
  });

  test('re-import is idempotent; changed fields are updated with a fresh updated_at, the rest left alone', async () => {
    const input = fixture('exportify.csv');
    await run({ input });
    const before = await withDatabase(tdb.config, ({ prisma }) => prisma.track.findMany({ orderBy: { id: 'asc' } }));
    const again = await run({ input });
    expect(again).toMatchObject({ read: 14, inserted: 0, updated: 0, unchanged: 13, duplicates: 1, artistsCreated: 0, albumsCreated: 0 });
    // Change one duration, retitle one track (matched by its Spotify URI).
    const text = readFileSync(input, 'utf8').replace(',305133,', ',305999,').replace('Feel It Still', 'Feel It Still (Remix)');
    writeFileSync(input, text);
    const later = new Date(Date.now() + 5000);
    const changed = await run({ input, clock: () => later });
    expect(changed).toMatchObject({ read: 14, inserted: 0, updated: 2, unchanged: 11, duplicates: 1 });
    const after = await withDatabase(tdb.config, ({ prisma }) => prisma.track.findMany({ orderBy: { id: 'asc' } }));
    expect(after).toHaveLength(13);
    for (const t of after) {
      const old = before.find((b) => b.id === t.id)!;
      if (t.spotifyUri === 'spotify:track:3MrRksHupTVEQ7YbA0FsZK') expect(t).toMatchObject({ durationMs: 305999, updatedAt: later });
      else if (t.spotifyUri === 'spotify:track:6QgjcU0zLnzq5OrUoSZ3OK') expect(t).toMatchObject({ title: 'Feel It Still (Remix)', updatedAt: later });
      else expect(t).toEqual(old);
    }
  });

  test('a re-import counts a row repeating a track it matched (unchanged or updated) as a duplicate: in the same chunk, a later chunk, a later batch', async () => {
    const base = join(work, 'base.csv');
    writeFileSync(base, `${EXPORTER_HEADER}\n${[0, 1, 2, 3, 4, 5].map(exporterRow).join('\n')}\n`);
    await run({ input: base });
    // Track 4 comes back with another duration (updated); the others as they were (unchanged).
    const changed = exporterRow(4).replace(`,${150_000 + ((4 * 7919) % 200_000)},`, ',123456,');
    const row = (n: number) => (n === 4 ? changed : exporterRow(n));
    // Chunks of 2 rows, batches of 4: [0 1] [0 2] | [3 4] [5 1] | [4 2] [3]
    const again = join(work, 'again.csv');
    writeFileSync(again, `${EXPORTER_HEADER}\n${[0, 1, 0, 2, 3, 4, 5, 1, 4, 2, 3].map(row).join('\n')}\n`);
    const expected = { read: 11, inserted: 0, updated: 1, unchanged: 5, duplicates: 5, rejected: 0 };
    expect(await run({ input: again, chunkRows: 2, batchSize: 4 })).toMatchObject(expected);
    // Once more, every row in one chunk: the same counts (track 4 is now unchanged too).
    expect(await run({ input: again })).toMatchObject({ ...expected, updated: 0, unchanged: 6 });
    expect((await counts()).tracks).toBe(6);
  });

  test('a row matched by its Spotify URI whose ISRC another track holds is rejected; that track is still found by the ISRC', async () => {
    const header = 'title,artist,spotify_uri,isrc,duration_ms';
    const base = join(work, 'base.csv');
    writeFileSync(base, `${header}\nSong A,Band,spotify:track:${'A'.repeat(22)},USAAA0000001,1000\nSong B,Band,spotify:track:${'B'.repeat(22)},USBBB0000001,2000\n`);
    await run({ input: base });
    const again = join(work, 'again.csv');
    // (The second row's new title keeps the title lookup from finding that track.)
    writeFileSync(again, `${header}\nSong A,Band,spotify:track:${'A'.repeat(22)},USBBB0000001,1000\nSong B (Remastered),Band,,USBBB0000001,2000\n`);
    const s = await run({ input: again });
    expect(s).toMatchObject({ read: 2, inserted: 0, updated: 1, unchanged: 0, rejected: 1 });
    expect(s.firstRejects.map((r) => [r.line, r.reason])).toEqual([[2, 'isrc USBBB0000001 already belongs to another track; fix the row or that track']]);
  });

  test('matching falls back to ISRC, then (title, artist, album)', async () => {
    const a = join(work, 'a.csv');
    writeFileSync(a, 'title,artist,album,isrc,duration_ms\nSong One,Band,LP,USAAA1111111,1000\nSong Two,Band,LP,,2000\n');
    await run({ input: a });
    const b = join(work, 'b.csv');
    writeFileSync(b, 'title,artist,album,isrc,spotify_uri,duration_ms\nSong 1 (renamed),Band,LP,USAAA1111111,spotify:track:0000000000000000000aa1,1000\nSong Two,Band,LP,,,2500\nSong Two,Band,Other LP,,,2500\n');
    const s = await run({ input: b });
    expect(s).toMatchObject({ inserted: 1, updated: 2, unchanged: 0 });
    await withDatabase(tdb.config, async ({ prisma }) => {
      expect(await prisma.track.findUniqueOrThrow({ where: { isrc: 'USAAA1111111' } })).toMatchObject({ title: 'Song 1 (renamed)', spotifyUri: 'spotify:track:0000000000000000000aa1' });
      expect(await prisma.track.count({ where: { title: 'Song Two' } })).toBe(2);
    });
  });

  test('--playlist keeps file order, the same track at each of its positions, and replaces the order on re-import', async () => {
    const input = fixture('exportify.csv');
    const s = await run({ input, playlist: 'Liked Songs' });
    // 14 entries: Jóga stands first and last (a playlist may hold a track twice).
    expect(s.playlist).toMatchObject({ name: 'Liked Songs', tracks: 14 });
    const order = () =>
      withDatabase(tdb.config, ({ prisma }) =>
        prisma.playlistTrack.findMany({ where: { playlist: { name: 'Liked Songs' } }, orderBy: { position: 'asc' }, include: { track: true } }),
      ).then((rows) => rows.map((r) => [r.position, r.track.title]));
    const first = await order();
    expect(first.slice(0, 3)).toEqual([[0, 'Jóga'], [1, 'Feel It Still'], [2, 'Blinding Lights']]);
    expect(first).toHaveLength(14);
    expect(first[13]).toEqual([13, 'Jóga']);
    // Re-import a reversed, shorter export: the playlist becomes exactly that, in that order.
    const lines = readFileSync(input, 'utf8').trim().split('\n');
    const reversed = join(work, 'reversed.csv');
    writeFileSync(reversed, [lines[0], ...lines.slice(1, 6).reverse()].join('\n') + '\n');
    const again = await run({ input: reversed, playlist: 'Liked Songs' });
    expect(again.playlist!.tracks).toBe(5);
    expect(await order()).toEqual([[0, 'bad guy'], [1, 'ROCKSTAR (feat. Roddy Ricch)'], [2, 'Blinding Lights'], [3, 'Feel It Still'], [4, 'Jóga']]);
    const c = await counts();
    expect(c.tracks).toBe(13);
    expect(await withDatabase(tdb.config, ({ prisma }) => prisma.playlist.count())).toBe(1);
  });

  test('--playlist: an interrupted run leaves the playlist as it was, a complete one replaces it whole; an entry keeps its added_at when the row gives none', async () => {
    const entries = () =>
      withDatabase(tdb.config, ({ prisma }) =>
        prisma.playlistTrack.findMany({ where: { playlist: { name: 'P' } }, orderBy: { position: 'asc' }, include: { track: true } }),
      ).then((rows) => rows.map((r) => ({ position: r.position, uri: r.track.spotifyUri, addedAt: r.addedAt.toISOString() })));
    await run({ input: fixture('exportify.csv'), playlist: 'P' });
    const before = await entries();
    expect(before).toHaveLength(14);
    expect(before[13]).toEqual({ position: 13, uri: 'spotify:track:3MrRksHupTVEQ7YbA0FsZK', addedAt: '2023-01-15T10:00:00.000Z' });
    expect(before[0]).toEqual({ position: 0, uri: 'spotify:track:3MrRksHupTVEQ7YbA0FsZK', addedAt: '2023-01-14T09:12:44.000Z' });

    const input = join(work, 'big.csv');
    writeFileSync(input, `${EXPORTER_HEADER}\n${Array.from({ length: 3000 }, (_, i) => exporterRow(i)).join('\n')}\n`);
    const controller = new AbortController();
    const cut = await run({ input, playlist: 'P', batchSize: 500, signal: controller.signal, onProgress: (p) => p.rows >= 1000 && controller.abort() });
    expect(cut.interrupted).toBe(true);
    expect(cut.inserted).toBeGreaterThan(0);
    expect(cut.playlist!.tracks).toBeUndefined();
    expect(await entries()).toEqual(before);

    // Two of the first tracks again, in the other order, without added_at; and a new one.
    const plain = join(work, 'plain.csv');
    writeFileSync(plain, 'title,artist,spotify_uri\nFeel It Still,Portugal. The Man,spotify:track:6QgjcU0zLnzq5OrUoSZ3OK\nJóga,Björk,spotify:track:3MrRksHupTVEQ7YbA0FsZK\nNew,Someone,\n');
    const again = await run({ input: plain, playlist: 'P', clock: () => new Date('2030-01-02T03:04:05.000Z') });
    expect(again.playlist!.tracks).toBe(3);
    const after = await entries();
    expect(after.slice(0, 2)).toEqual([
      { position: 0, uri: 'spotify:track:6QgjcU0zLnzq5OrUoSZ3OK', addedAt: before[1].addedAt },
      { position: 1, uri: 'spotify:track:3MrRksHupTVEQ7YbA0FsZK', addedAt: before[0].addedAt },
    ]);
    expect(after[2]).toEqual({ position: 2, uri: null, addedAt: '2030-01-02T03:04:05.000Z' });
  });

  test('a batch of many chunks plans as one: rows see what earlier chunks of the batch created, changed and matched', async () => {
    // Each row of the second file in its own chunk, all in one batch: on PostgreSQL the chunks
    // overlap and their lookups cannot see the batch's uncommitted writes (UnseenWrites fills in).
    const uri = (kind: string, tag: string) => `spotify:${kind}:${tag.padEnd(22, '0')}`;
    const mbid = '11111111-1111-4111-8111-111111111111';
    const header = 'title,artist,artist_uri,album,album_uri,spotify_uri,isrc,musicbrainz_id,duration_ms';
    const base = [
      header,
      `Old Song,Old Band,,Old LP,,${uri('track', 'A1')},USAAA0000001,,1000`,
      'Keep,Old Band,,Old LP,,,,,2000',
      'Named Only,Solo,,,,,,,3000',
      `Renamed,Old Band,,Old LP,,${uri('track', 'T1')},USTTT0000001,,5000`,
      'Twin,Old Band,,Old LP,,,,,6000',
    ];
    const tricky = [
      header,
      `New One,New Band,,New LP,,${uri('track', 'B1')},USBBB0000001,${mbid},1000`,
      `New Two,New Band,${uri('artist', 'NB')},New LP,${uri('album', 'NL')},${uri('track', 'B2')},,,1100`,
      `New One again,New Band,,New LP,,${uri('track', 'B1')},,,1000`,
      'Same ISRC,Whoever,,,,,USBBB0000001,,1000',
      'New One,New Band,,New LP,,,,,1000',
      `Old Song,Old Band,,Old LP,,${uri('track', 'A1')},USAAA0000001,,1500`,
      `Old Song,Old Band,,Old LP,,${uri('track', 'A1')},,,1600`,
      `Mbid Clash,Other,,,,${uri('track', 'B3')},,${mbid},1000`,
      `Solo Track,Solo,${uri('artist', 'SOLO')},,,,,,4000`,
      `Solo Two,Solo,${uri('artist', 'SOLO')},,,,,,4100`,
      'Solo Three,Solo,,,,,,,4200',
      `Keep,Old Band,,Old LP,,${uri('track', 'A2')},,,2000`,
      `Keep,Old Band,,Old LP,,${uri('track', 'A2')},,,2000`,
      // Matched by ISRC, the track gets another URI; its old URI is then free, so the next row
      // (which has it) matches by title: a track that held the URI when looked up no longer does.
      `Renamed,Old Band,,Old LP,,${uri('track', 'T2')},USTTT0000001,,5000`,
      `Twin,Old Band,,Old LP,,${uri('track', 'T1')},,,6000`,
    ];
    const basePath = join(work, 'base.csv');
    const trickyPath = join(work, 'tricky.csv');
    writeFileSync(basePath, base.join('\n') + '\n');
    writeFileSync(trickyPath, tricky.join('\n') + '\n');
    const snapshot = (config: TestDatabase['config']) =>
      withDatabase(config, async ({ prisma }) => ({
        artists: (await prisma.artist.findMany()).map((a) => `${a.name}|${a.spotifyUri}`).sort(),
        albums: (await prisma.album.findMany({ include: { artist: true } })).map((a) => `${a.title}|${a.spotifyUri}|${a.artist.name}`).sort(),
        tracks: (await prisma.track.findMany({ include: { artist: true, album: true } }))
          .map((t) => [t.title, t.artist.name, t.album?.title, t.spotifyUri, t.isrc, t.musicbrainzId, t.durationMs].join('|'))
          .sort(),
        playlist: (await prisma.playlistTrack.findMany({ orderBy: { position: 'asc' }, include: { track: true } })).map((p) => `${p.position}|${p.track.title}|${p.track.spotifyUri}`),
      }));
    const counted = ({ read, inserted, updated, unchanged, duplicates, rejected, artistsCreated, albumsCreated }: Awaited<ReturnType<typeof run>>) =>
      ({ read, inserted, updated, unchanged, duplicates, rejected, artistsCreated, albumsCreated });

    const other = await createMigratedDatabase(provider);
    try {
      const results = [];
      for (const [config, chunkRows] of [
        [tdb.config, 1],
        [other.config, undefined],
      ] as const) {
        await withDatabase(config, (d) => importTracks(d, { cwd: work, input: basePath }));
        const s = await withDatabase(config, (d) => importTracks(d, { cwd: work, input: trickyPath, playlist: 'P', chunkRows, batchSize: 100 }));
        results.push({ summary: counted(s), rejects: s.firstRejects.map((r) => [r.line, r.reason]), db: await snapshot(config) });
      }
      expect(results[0].summary).toEqual({ read: 15, inserted: 5, updated: 4, unchanged: 0, duplicates: 5, rejected: 1, artistsCreated: 3, albumsCreated: 1 });
      expect(results[0].rejects).toEqual([[9, `musicbrainz_id ${mbid} already belongs to another track; fix the row or that track`]]);
      expect(results[0].db.artists).toContain(`New Band|${uri('artist', 'NB')}`);
      expect(results[0].db.artists).toContain(`Solo|${uri('artist', 'SOLO')}`);
      expect(results[0].db.albums).toContain(`New LP|${uri('album', 'NL')}|New Band`);
      expect(results[0].db.tracks).toContain(`Old Song|Old Band|Old LP|${uri('track', 'A1')}|USAAA0000001||1500`);
      expect(results[0].db.tracks).toContain(`Keep|Old Band|Old LP|${uri('track', 'A2')}|||2000`);
      expect(results[0].db.tracks.filter((t) => t.startsWith('Solo|') || t.includes('|Solo|'))).toHaveLength(4);
      expect(results[0].db.tracks).toContain(`Renamed|Old Band|Old LP|${uri('track', 'T2')}|USTTT0000001||5000`);
      expect(results[0].db.tracks).toContain(`Twin|Old Band|Old LP|${uri('track', 'T1')}|||6000`);
      expect(results[0].db.tracks.filter((t) => t.startsWith('Twin|'))).toHaveLength(1);
      // Every row but the rejected one is an entry, duplicates included.
      expect(results[0].db.playlist).toHaveLength(14);
      expect(results[1]).toEqual(results[0]);
    } finally {
      await other.drop();
    }
  });

  (provider === 'postgresql' ? test : test.skip)('a pool of one connection: lookups share the writer\'s connection, with the same result', async () => {
    const small = await createMigratedDatabase(provider, { DATABASE_POOL_SIZE: '1', DATABASE_MAX_OVERFLOW: '0' });
    try {
      await withDatabase(small.config, async (db) => {
        const store = await openImportStore(db, { busyTimeoutMs: 1000 });
        expect(store.separateReader).toBe(false);
        await store.close();
        const s = await importTracks(db, { cwd: work, input: fixture('exportify.csv'), playlist: 'P' });
        expect(s).toMatchObject({ read: 14, inserted: 13, duplicates: 1, artistsCreated: 16, albumsCreated: 13, playlist: { name: 'P', tracks: 14 } });
        const again = await importTracks(db, { cwd: work, input: fixture('exportify.csv'), playlist: 'P' });
        expect(again).toMatchObject({ read: 14, inserted: 0, unchanged: 13, duplicates: 1, playlist: { tracks: 14 } });
      });
      await withDatabase(tdb.config, async (db) => {
        const store = await openImportStore(db, { busyTimeoutMs: 1000 });
        expect(store.separateReader).toBe(true);
        await store.close();
      });
    } finally {
      await small.drop();
    }
  });

  (provider === 'postgresql' ? test : test.skip)('the import\'s reader connection, with its session state, is closed after the import, not pooled', async () => {
    await withDatabase(tdb.config, async (db) => {
      const pool = db.pgPool!;
      const before = pool.totalCount;
      await importTracks(db, { cwd: work, input: fixture('exportify.csv') });
      // The import took two connections, writer and reader; the reader (temporary table, planner
      // settings, 256 MB of temporary buffers) was closed, not pooled. Every connection the pool
      // holds has the server's defaults and no temporary table.
      expect(pool.totalCount).toBeLessThanOrEqual(Math.max(before, 1));
      const SETTINGS = "SELECT current_setting('temp_buffers') AS t, current_setting('random_page_cost') AS r, to_regclass('pg_temp.import_seen') AS seen";
      const fresh = new pg.Client({ connectionString: tdb.url });
      await fresh.connect();
      const defaults = (await fresh.query(SETTINGS)).rows[0];
      await fresh.end();
      expect(defaults.seen).toBeNull();
      const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
      try {
        for (const c of clients) expect((await c.query(SETTINGS)).rows[0]).toEqual(defaults);
      } finally {
        for (const c of clients) c.release();
      }
    });
  });

  test('--dry-run counts exactly what a real run would do and writes nothing', async () => {
    const input = fixture('bad-rows.csv');
    const dry = await run({ input, dryRun: true, playlist: 'P' });
    expect(dry).toMatchObject({ dryRun: true, read: 11, inserted: 2, rejected: 9 });
    expect(dry.rejectsFile).toBeUndefined();
    expect(existsSync(`${input}.rejects.csv`)).toBe(false);
    expect(await counts()).toEqual({ artists: 0, albums: 0, tracks: 0, playlistTracks: 0 });
    expect(await withDatabase(tdb.config, ({ prisma }) => prisma.playlist.count())).toBe(0);
  });

  test('stdin ("-"): streamed input, rejects beside the working directory', async () => {
    const csv = `${EXPORTER_HEADER}\n${exporterRow(1)}\n${exporterRow(2)}\nbroken,row\n`;
    const s = await run({ input: '-', stdin: Readable.from([Buffer.from(csv)]) });
    expect(s).toMatchObject({ input: 'stdin', format: 'exportify', read: 3, inserted: 2, rejected: 1 });
    expect(s.rejectsFile).toBe(join(work, 'stdin.rejects.csv'));
  });

  test('missing, empty, header-only, unknown-format and title-less inputs: a usage error and nothing written', async () => {
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['empty.csv', '', /is empty/],
      ['bom-only.csv', '\ufeff\r\n', /is empty/],
      ['header-only.csv', 'title,artist\n', /no track rows/],
      ['no-title.csv', 'name_of_band,year\nX,1999\n', /has no a title column/],
      ['binary.dat', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 1]), /looks binary/],
      ['object.json', '{"title": "x"}', /expected a JSON array/],
    ];
    for (const [name, content, message] of cases) {
      writeFileSync(join(work, name), content);
      await expect(run({ input: join(work, name) })).rejects.toThrow(message);
      await expect(run({ input: join(work, name) })).rejects.toBeInstanceOf(UsageError);
    }
    await expect(run({ input: join(work, 'nope.csv') })).rejects.toThrow(/no such file/);
    await expect(run({ input: work })).rejects.toThrow(/is a directory/);
    expect(await counts()).toEqual({ artists: 0, albums: 0, tracks: 0, playlistTracks: 0 });
  });

  test('the input is checked while the database opens: its problem is the one reported, then the rejects path, then the database', async () => {
    // An unmigrated database: opening the import's store fails (no tracks table).
    const empty = await createEmptyDatabase(provider);
    try {
      const good = join(work, 'good.csv');
      writeFileSync(good, `${EXPORTER_HEADER}\n${exporterRow(1)}\n`);
      const inEmpty = (options: Partial<ImportOptions> & { input: string }) => withDatabase(empty.config, (d) => importTracks(d, { cwd: work, ...options }));
      const missing = inEmpty({ input: join(work, 'nope.csv'), rejectsPath: join(work, 'no-such-dir', 'r.csv') });
      await expect(missing).rejects.toThrow(/no such file/);
      await expect(missing).rejects.toBeInstanceOf(UsageError);
      const rejectsPath = inEmpty({ input: good, rejectsPath: join(work, 'no-such-dir', 'r.csv') });
      await expect(rejectsPath).rejects.toThrow(/cannot create the rejects file/);
      await expect(rejectsPath).rejects.toBeInstanceOf(UsageError);
      const database = inEmpty({ input: good });
      await expect(database).rejects.toThrow(/cannot (open the SQLite database .* for import|prepare the PostgreSQL import)/);
      await expect(database).rejects.toBeInstanceOf(DatabaseError);
      // Nothing left behind: no rejects file, no probe of the rejects path.
      expect(readdirSync(work).sort()).toEqual(['good.csv']);
    } finally {
      await empty.drop();
    }
  });

  test('two imports at once create every artist, album and track once', async () => {
    const rows = Array.from({ length: 600 }, (_, i) => exporterRow(i));
    const a = join(work, 'a.csv');
    const b = join(work, 'b.csv');
    writeFileSync(a, `${EXPORTER_HEADER}\n${rows.join('\n')}\n`);
    writeFileSync(b, `${EXPORTER_HEADER}\n${[...rows].reverse().join('\n')}\n`);
    // Artists by name only (no URIs) too: strip the artist URI columns in a third file.
    const c = join(work, 'c.csv');
    writeFileSync(c, `title,artist,album\n${Array.from({ length: 300 }, (_, i) => `Plain ${i},Name Only ${i % 17},Plain Album ${i % 5}`).join('\n')}\n`);
    const dbs = await Promise.all([openDatabase(tdb.config), openDatabase(tdb.config), openDatabase(tdb.config), openDatabase(tdb.config)]);
    try {
      const results = await Promise.all([
        run({ input: a, batchSize: 50 }, dbs[0]),
        run({ input: b, batchSize: 70 }, dbs[1]),
        run({ input: c, batchSize: 20 }, dbs[2]),
        run({ input: c, batchSize: 30 }, dbs[3]),
      ]);
      expect(results[0].inserted + results[1].inserted).toBe(600);
      expect(results[2].inserted + results[3].inserted).toBe(300);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
    await withDatabase(tdb.config, async ({ prisma }) => {
      expect(await prisma.track.count()).toBe(900);
      const artists = await prisma.artist.findMany();
      expect(new Set(artists.map((x) => x.name)).size).toBe(artists.length);
      const albums = await prisma.album.findMany();
      expect(new Set(albums.map((x) => `${x.artistId}/${x.title}`)).size).toBe(albums.length);
      expect(artists.filter((x) => x.name.startsWith('Name Only'))).toHaveLength(17);
    });
  });

  test('an abort while stdin sits idle returns at once: the rows handed over are committed, the summary adds up', async () => {
    const stdin = new PassThrough();
    // More than the 4 KB format detection reads; then the stream stays open and idle until the abort.
    const rows = Array.from({ length: 40 }, (_, i) => exporterRow(i));
    stdin.write(`${EXPORTER_HEADER}\n${rows.join('\n')}\nbroken,row\n`);
    const controller = new AbortController();
    const s = await run({
      input: '-',
      stdin,
      batchSize: 10,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.rows >= 40) setTimeout(() => controller.abort(), 100);
      },
    });
    expect(s).toMatchObject({ interrupted: true, read: 40, inserted: 40, rejected: 0 });
    expect((await counts()).tracks).toBe(40);
  }, 20_000);

  test('a problem found by the parser later in the file fails the import as bad input; the batches before it stay', async () => {
    const input = join(work, 'junk.json');
    const objects = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ title: `Song ${i}`, artist: `Artist ${i % 10}`, note: 'x'.repeat(100) }));
    writeFileSync(input, `[${objects.join(',\n')}] trailing`);
    await expect(run({ input, batchSize: 100 })).rejects.toThrow(UsageError);
    const { tracks } = await counts();
    expect(tracks).toBeGreaterThan(0);
    expect(tracks % 100).toBe(0);
    expect(tracks).toBeLessThan(3000);
  });

  test('an abort (Ctrl-C) stops after the current batch: committed rows stay, the summary adds up', async () => {
    const input = join(work, 'big.csv');
    writeFileSync(input, `${EXPORTER_HEADER}\n${Array.from({ length: 5000 }, (_, i) => exporterRow(i)).join('\n')}\n`);
    const controller = new AbortController();
    const s = await run({
      input,
      batchSize: 500,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.rows >= 1500) controller.abort();
      },
    });
    expect(s.interrupted).toBe(true);
    expect(s.read).toBeGreaterThanOrEqual(1500);
    expect(s.read).toBeLessThan(5000);
    expect(s.read).toBe(s.inserted + s.updated + s.unchanged + s.duplicates + s.rejected);
    expect((await counts()).tracks).toBe(s.inserted);
    const rest = await run({ input, batchSize: 500 });
    expect(rest).toMatchObject({ inserted: 5000 - s.inserted, unchanged: s.inserted });
  });
});
