import { cpSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { withDatabase } from '../../src/db/client.js';
import { UsageError } from '../../src/errors.js';
import { importTracks, type ImportOptions } from '../../src/import/import-service.js';
import { parseLocalUri } from '../../src/import/parse/account-export.js';
import { jsonEvents, type JsonEvent } from '../../src/import/parse/account-json.js';
import { createMigratedDatabase, providers, type TestDatabase } from '../helpers/db.js';

// A Spotify account data export in the shapes Spotify writes: test/fixtures/account/export is the
// unpacked folder, my_spotify_data.zip the same folder zipped (zip -qrX my_spotify_data.zip
// "Spotify Account Data"): YourLibrary.json, Playlist1.json (Unicode names, the same track twice,
// a local file, an episode, an audiobook, an item without a title, an empty playlist),
// Playlist2.json (the older format: no trackUri, no addedDate), and files that are not about the
// library (streaming history, user data, a PDF).
const FIXTURES = join(process.cwd(), 'test/fixtures/account');
const FOLDER = 'Spotify Account Data';

describe('parseLocalUri', () => {
  test('URL-encoded parts, + for a space, %3A for a colon inside a part; empty parts unknown', () => {
    expect(parseLocalUri('spotify:local:Unknown+Artist:Tape+Rips:Side+A+%28live%29%3A+take+2:241')).toEqual({
      artist: 'Unknown Artist',
      album: 'Tape Rips',
      title: 'Side A (live): take 2',
      durationMs: 241000,
    });
    expect(parseLocalUri('spotify:local:::Caf%C3%A9+del+Mar:')).toEqual({ artist: undefined, album: undefined, title: 'Café del Mar', durationMs: undefined });
    expect(parseLocalUri('spotify:local:only:three')).toBeUndefined();
  });
});

describe('jsonEvents', () => {
  const collect = async (chunks: string[]) => {
    const out: JsonEvent[] = [];
    const wanted = (p: ReadonlyArray<string | number>) => (p[0] === 'playlists' && p.length === 4 && p[2] === 'items') || (p.length === 3 && p[2] === 'name');
    for await (const e of jsonEvents(Readable.from(chunks.map((c) => Buffer.from(c))), wanted)) out.push(e);
    return out;
  };
  test('only the values asked for, with their paths, whatever the chunks; playlists announced as they open', async () => {
    const text = JSON.stringify({ x: [1, { y: 2 }], playlists: [{ items: [{ a: 'ü"\\' }, null], name: 'Ünï', skip: { items: [3] } }, { name: 'two', items: [] }] });
    const whole = await collect([text]);
    // Containers deeper than two levels are not announced; nothing inside a value taken is looked into.
    expect(whole).toEqual([
      { type: 'open', path: ['x'] },
      { type: 'open', path: ['x', 1] },
      { type: 'open', path: ['playlists'] },
      { type: 'open', path: ['playlists', 0] },
      { type: 'value', path: ['playlists', 0, 'items', 0], value: { a: 'ü"\\' } },
      { type: 'value', path: ['playlists', 0, 'items', 1], value: null },
      { type: 'value', path: ['playlists', 0, 'name'], value: 'Ünï' },
      { type: 'open', path: ['playlists', 1] },
      { type: 'value', path: ['playlists', 1, 'name'], value: 'two' },
    ]);
    // One byte a chunk (a multi-byte character cut in two): the same.
    const bytes = Buffer.from(text);
    const split: Buffer[] = [];
    for (let i = 0; i < bytes.length; i++) split.push(bytes.subarray(i, i + 1));
    const out: JsonEvent[] = [];
    for await (const e of jsonEvents(Readable.from(split), (p) => (p[0] === 'playlists' && p.length === 4 && p[2] === 'items') || (p.length === 3 && p[2] === 'name'))) out.push(e);
    expect(out).toEqual(whole);
    await expect(collect(['{"playlists": [{"items": [1,'])).rejects.toThrow();
  });
});

describe.each(providers)('Spotify account export on %s', (provider) => {
  let tdb: TestDatabase;
  let work: string;
  const run = (options: Partial<ImportOptions> & { input: string }) => withDatabase(tdb.config, (d) => importTracks(d, { cwd: work, ...options }));
  /** Every playlist with its entries in order, and every track with its credits: the library as a reader sees it. */
  const library = () =>
    withDatabase(tdb.config, async ({ prisma }) => ({
      playlists: (
        await prisma.playlist.findMany({ orderBy: { name: 'asc' }, include: { tracks: { orderBy: { position: 'asc' }, include: { track: true } } } })
      ).map((p) => ({
        name: p.name,
        description: p.description,
        source: p.source,
        entries: p.tracks.map((e) => `${e.position}|${e.track.title}|${e.addedAt.toISOString().slice(0, 10)}`),
      })),
      tracks: (await prisma.track.findMany({ include: { artist: true, credits: { include: { artist: true }, orderBy: { position: 'asc' } }, album: true } }))
        .map((t) => [t.title, [t.artist, ...t.credits.map((c) => c.artist)].map((a) => a.name).join('+'), t.album?.title, t.spotifyUri, t.durationMs].join('|'))
        .sort(),
    }));

  beforeEach(async () => {
    tdb = await createMigratedDatabase(provider);
    work = mkdtempSync(join(tmpdir(), 'soulspot-account-'));
  });
  afterEach(async () => {
    await tdb.drop();
    rmSync(work, { recursive: true, force: true });
  });

  test('the zip, read in place: Liked Songs and every playlist, entries in order, the summary per playlist, rejects named by playlist and item', async () => {
    const zip = join(work, 'my_spotify_data.zip');
    copyFileSync(join(FIXTURES, 'my_spotify_data.zip'), zip);
    const s = await run({ input: zip });
    expect(s).toMatchObject({ format: 'spotify-account', read: 9, inserted: 5, updated: 0, unchanged: 0, duplicates: 3, rejected: 1 });
    expect(s.read).toBe(s.inserted + s.updated + s.unchanged + s.duplicates + s.rejected);
    // Only the library files are read; the streaming history, user data and PDF are ignored.
    expect(s.files).toEqual([`${FOLDER}/YourLibrary.json`, `${FOLDER}/Playlist1.json`, `${FOLDER}/Playlist2.json`]);
    expect(s.playlists!.map(({ id: _id, ...p }) => p)).toEqual([
      { name: 'Liked Songs', file: `${FOLDER}/YourLibrary.json`, entries: 3, created: 3, matched: 0, skipped: 0, rejected: 0 },
      { name: 'Road trip 🚗', file: `${FOLDER}/Playlist1.json`, entries: 3, created: 1, matched: 2, skipped: 2, rejected: 1 },
      { name: 'Nothing yet', file: `${FOLDER}/Playlist1.json`, entries: 0, created: 0, matched: 0, skipped: 0, rejected: 0 },
      { name: 'Old times', file: `${FOLDER}/Playlist2.json`, entries: 2, created: 1, matched: 1, skipped: 0, rejected: 0 },
    ]);
    expect(s.playlists!.every((p) => typeof p.id === 'string')).toBe(true);

    const lib = await library();
    const today = new Date().toISOString().slice(0, 10);
    expect(lib.playlists).toEqual([
      { name: 'Liked Songs', description: null, source: 'spotify', entries: [`0|Jóga|${today}`, `1|Hoppípolla|${today}`, `2|Merry Christmas Mr. Lawrence|${today}`] },
      { name: 'Nothing yet', description: null, source: 'spotify', entries: [] },
      // An old item without URI matched Hoppípolla by title and artist: the same track as Liked Songs'.
      { name: 'Old times', description: null, source: 'spotify', entries: [`0|Hoppípolla|${today}`, `1|Svefn-g-englar|${today}`] },
      {
        name: 'Road trip 🚗',
        description: 'Songs for the road — ünïcödé',
        source: 'spotify',
        // The same track at two positions, each with its added date; the local file between them.
        entries: ['0|Jóga|2024-04-01', '1|Side A (live): take 2|2024-04-03', '2|Jóga|2024-04-04'],
      },
    ]);
    expect(lib.tracks).toEqual([
      'Hoppípolla|Sigur Rós|Takk...|spotify:track:1tJ0NzYBqGDvGWs0G1Bj0a|0',
      'Jóga|Björk|Homogenic|spotify:track:3MrRksHupTVEQ7YbA0FsZK|0',
      'Merry Christmas Mr. Lawrence|坂本龍一|Merry Christmas Mr. Lawrence (Original Motion Picture Soundtrack)|spotify:track:0aWMVrwxPNYkKmFthzmpRi|0',
      // A local file: no Spotify URI; artist, album, title and duration from its spotify:local URI.
      'Side A (live): take 2|Unknown Artist|Tape Rips||241000',
      'Svefn-g-englar|Sigur Rós|Ágætis byrjun||0',
    ]);

    const rejects = parse<{ line: string; reason: string; original: string }>(readFileSync(`${zip}.rejects.csv`, "utf8"), { columns: true });
    expect(rejects).toHaveLength(1);
    expect(rejects[0].reason).toBe('Playlist1.json, playlist "Road trip 🚗", item 6: missing title');
    expect(Number(rejects[0].line)).toBeGreaterThan(1);
    expect(JSON.parse(rejects[0].original)).toMatchObject({ track: { artistName: 'Nobody' } });

    // Again: nothing new, every playlist the same.
    const again = await run({ input: zip });
    expect(again).toMatchObject({ read: 9, inserted: 0, unchanged: 5, duplicates: 3, rejected: 1, artistsCreated: 0, albumsCreated: 0 });
    expect(await library()).toEqual(lib);
  });

  test('the unpacked folder and one PlaylistN.json give the same library; re-importing a playlist replaces its entries, matched by name', async () => {
    cpSync(join(FIXTURES, 'export'), join(work, 'export'), { recursive: true });
    const folder = await run({ input: join(work, 'export') });
    expect(folder).toMatchObject({ format: 'spotify-account', read: 9, inserted: 5, duplicates: 3, rejected: 1 });
    expect(folder.files!.map((f) => f.slice(join(work, 'export').length + 1))).toEqual([`${FOLDER}/YourLibrary.json`, `${FOLDER}/Playlist1.json`, `${FOLDER}/Playlist2.json`]);
    const lib = await library();
    expect(lib.playlists.map((p) => [p.name, p.entries.length])).toEqual([['Liked Songs', 3], ['Nothing yet', 0], ['Old times', 2], ['Road trip 🚗', 3]]);

    // Road trip edited on Spotify: Jóga once, a new track first; the export's Playlist1.json alone.
    const edited = join(work, 'Playlist1.json');
    writeFileSync(
      edited,
      JSON.stringify({
        playlists: [
          {
            name: 'Road trip 🚗',
            lastModifiedDate: '2024-06-01',
            items: [
              { track: { trackName: 'Glósóli', artistName: 'Sigur Rós', albumName: 'Takk...', trackUri: 'spotify:track:4T9ULTCGRvGdnMLo4nfcUX' }, episode: null, audiobook: null, localTrack: null, addedDate: '2024-06-01' },
              { track: { trackName: 'Jóga', artistName: 'Björk', albumName: 'Homogenic', trackUri: 'spotify:track:3MrRksHupTVEQ7YbA0FsZK' }, episode: null, audiobook: null, localTrack: null, addedDate: '2024-04-01' },
            ],
            description: null,
            numberOfFollowers: 0,
          },
        ],
      }),
    );
    const s = await run({ input: edited });
    expect(s).toMatchObject({ format: 'spotify-account', read: 2, inserted: 1, unchanged: 1 });
    const after = await library();
    expect(after.playlists.find((p) => p.name === 'Road trip 🚗')).toEqual({ name: 'Road trip 🚗', description: null, source: 'spotify', entries: ['0|Glósóli|2024-06-01', '1|Jóga|2024-04-01'] });
    expect(after.playlists).toHaveLength(4);
    expect(after.playlists.filter((p) => p.name !== 'Road trip 🚗')).toEqual(lib.playlists.filter((p) => p.name !== 'Road trip 🚗'));
  });

  test('bad inputs: --playlist with an account export, a folder without one, a broken file; a usage error and nothing written', async () => {
    const zip = join(work, 'my_spotify_data.zip');
    copyFileSync(join(FIXTURES, 'my_spotify_data.zip'), zip);
    await expect(run({ input: zip, playlist: 'P' })).rejects.toThrow(/--playlist does not apply to a Spotify account export/);
    mkdirSync(join(work, 'empty'));
    writeFileSync(join(work, 'empty', 'notes.txt'), 'x');
    await expect(run({ input: join(work, 'empty') })).rejects.toThrow(/it is a directory without the library files of a Spotify account data export/);
    const broken = join(work, 'Playlist9.json');
    writeFileSync(broken, '{"playlists": [{"name": "cut", "items": [');
    const error = await run({ input: broken }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(/cannot read Playlist9.json: not the JSON of a Spotify account export/);
    const notZip = join(work, 'fake.zip');
    writeFileSync(notZip, 'PK\u0003\u0004 but nothing more');
    await expect(run({ input: notZip })).rejects.toThrow(/cannot read .*fake.zip as a zip/);
    await withDatabase(tdb.config, async ({ prisma }) => {
      expect(await prisma.track.count()).toBe(0);
      expect(await prisma.playlist.count()).toBe(0);
    });
  });
});
