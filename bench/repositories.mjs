#!/usr/bin/env node
// Issue 3 targets, measured side by side in one run on SQLite and PostgreSQL (against dist/:
// run `npm run build` or `npx tsc -p tsconfig.json` first):
//   1. 100 playlists × 50 tracks: include-based loading (PlaylistRepository.listAll) ≥ 5× faster
//      than the N+1 loop (playlists, then one query per playlist for its ordered tracks).
//   2. 100 tracks: TrackRepository.addBatch ≥ 20× faster than 100 single prisma.track.create calls.
//   3. Tracks of one album among 100,000: ≥ 10× faster with the migrations' indexes than on a copy
//      of the same database without the two album indexes.
// Builds its own temp SQLite file and temp PostgreSQL database (BENCH_PG_URL, else TEST_PG_URL,
// else postgresql://postgres@127.0.0.1:5432/postgres names the server) and drops them, even on
// error or Ctrl-C. Options: --json (figures as JSON on stdout), --tracks N (default 100000),
// --rounds N (default 15), --only sqlite|postgresql.
// --pgbouncer: PostgreSQL only, side by side: every figure over a direct connection and through a
// real PgBouncer the script starts (transaction mode, --bouncer-pool N server connections, default
// 5; Debian's pgbouncer package), timed alternately on the same database; target: within 1.3×.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const [{ loadConfig }, { applyMigrations }, { openDatabase }, repos, { startPgBouncer }] = await Promise.all([
  load('config.js'),
  load('migrate/migrator.js'),
  load('db/client.js'),
  load('repositories/index.js'),
  load('bench/pgbouncer.js'),
]);
const { default: pg } = await import('pg');
const { default: Table } = await import('cli-table3');

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const json = args.includes('--json');
const TRACKS = Number(option('tracks', 100_000));
const ROUNDS = Number(option('rounds', 15));
const viaBouncer = args.includes('--pgbouncer');
const only = viaBouncer ? 'postgresql' : option('only', undefined);
const BOUNCER_POOL = Number(option('bouncer-pool', 5));
const PG_ADMIN = process.env.BENCH_PG_URL || process.env.TEST_PG_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const progress = (message) => process.stderr.write(`${message}\n`);

const cleanups = [];
async function cleanup() {
  while (cleanups.length) await cleanups.pop()().catch((e) => progress(`cleanup failed: ${e.message}`));
}
process.on('SIGINT', async () => {
  progress('interrupted: dropping the benchmark databases');
  await cleanup();
  process.exit(130);
});

async function pgAdmin(sql) {
  const client = new pg.Client({ connectionString: PG_ADMIN });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
function pgUrl(name) {
  const url = new URL(PG_ADMIN);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A fresh migrated database; returns its url and a `copyWithout(indexes)` that makes an index-less copy. */
async function createDatabase(provider) {
  if (provider === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'soulspot-bench-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const url = `file:${join(dir, 'bench.db')}`;
    await applyMigrations(loadConfig({ databaseUrl: url }, {}));
    return {
      url,
      async copyWithout(indexes) {
        const copy = join(dir, 'bench-no-index.db');
        copyFileSync(join(dir, 'bench.db'), copy);
        const url2 = `file:${copy}`;
        const db = await openDatabase(loadConfig({ databaseUrl: url2 }, {}));
        for (const index of indexes) await db.prisma.$executeRawUnsafe(`DROP INDEX "${index}"`);
        await db.close();
        return url2;
      },
    };
  }
  const name = `soulspot_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await pgAdmin(`CREATE DATABASE ${name}`);
  cleanups.push(() => pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  const url = pgUrl(name);
  await applyMigrations(loadConfig({ databaseUrl: url }, {}));
  return {
    url,
    async copyWithout(indexes) {
      const copy = `${name}_noidx`;
      // A template must have no other session: PgBouncer (--pgbouncer) keeps its server connections open.
      await pgAdmin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}' AND pid <> pg_backend_pid()`);
      await pgAdmin(`CREATE DATABASE ${copy} TEMPLATE ${name}`);
      cleanups.push(() => pgAdmin(`DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`));
      const url2 = pgUrl(copy);
      const db = await openDatabase(loadConfig({ databaseUrl: url2 }, {}));
      for (const index of indexes) await db.prisma.$executeRawUnsafe(`DROP INDEX "${index}"`);
      await db.prisma.$executeRawUnsafe('ANALYZE');
      await db.close();
      return url2;
    },
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
async function timeIt(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * The benchmark's operations on one open database (the timed calls are the same whichever
 * connection `db` uses).
 */
function operations(db, artistId) {
  const tracks = new repos.TrackRepository(db);
  const playlists = new repos.PlaylistRepository(db);
  let n = 0;
  return {
    tracks,
    include: () => playlists.listAll({ pageSize: 100 }),
    nPlusOne: async () => {
      const list = await db.prisma.playlist.findMany({ orderBy: [{ name: 'asc' }, { id: 'asc' }], take: 100 });
      const out = [];
      for (const p of list) {
        const entries = await db.prisma.playlistTrack.findMany({ where: { playlistId: p.id }, orderBy: { position: 'asc' } });
        const withTracks = [];
        for (const e of entries) withTracks.push({ ...e, track: await db.prisma.track.findUnique({ where: { id: e.trackId } }) });
        out.push({ ...p, tracks: withTracks });
      }
      return out;
    },
    nPlusOneJoined: async () => {
      const list = await db.prisma.playlist.findMany({ orderBy: [{ name: 'asc' }, { id: 'asc' }], take: 100 });
      const out = [];
      for (const p of list) out.push({ ...p, tracks: await db.prisma.playlistTrack.findMany({ where: { playlistId: p.id }, orderBy: { position: 'asc' }, include: { track: true } }) });
      return out;
    },
    /** 100 new track rows, unique to this handle (`tag`) and call. */
    batch: (tag) =>
      Array.from({ length: 100 }, () => ({ title: `new ${tag}${n}`, artistId, spotifyUri: `spotify:track:bench${tag}${n++}`, durationMs: 200_000, trackNumber: 1 })),
  };
}

/**
 * Runs the three benchmarks on a fresh database of `provider`. `targets` are the connections to
 * time side by side on that database, alternately, round by round: `direct` always, `pgbouncer`
 * through `bouncer` too. Returns the figures of each target.
 */
async function benchProvider(provider, bouncer) {
  const created = await createDatabase(provider);
  const targets = bouncer ? ['direct', 'pgbouncer'] : ['direct'];
  const urlOf = (target, url) => (target === 'pgbouncer' ? bouncer.urlFor(url) : url);
  const open = (target, url) => openDatabase(loadConfig({ databaseUrl: urlOf(target, url) }, {}));
  const results = Object.fromEntries(targets.map((t) => [t, {}]));
  let handles = {};
  const closeAll = async () => {
    for (const db of Object.values(handles)) await db.close();
    handles = {};
  };
  try {
    for (const t of targets) handles[t] = await open(t, created.url);
    const db = handles.direct;
    const [artist] = await new repos.ArtistRepository(db).getOrCreateBatch([{ name: 'Bench Artist' }]);
    const ops = Object.fromEntries(targets.map((t) => [t, operations(handles[t], artist.id)]));

    // 1. 100 playlists × 50 tracks: include vs N+1.
    progress(`${provider}: 100 playlists × 50 tracks`);
    const playlistTrackIds = await ops.direct.tracks.addBatchReturningIds(Array.from({ length: 5000 }, (_, i) => ({ title: `playlist track ${i}`, artistId: artist.id, durationMs: 180_000 })));
    const playlistRows = Array.from({ length: 100 }, (_, p) => ({ id: randomUUID(), name: `Playlist ${String(p).padStart(3, '0')}` }));
    await db.prisma.playlist.createMany({ data: playlistRows });
    await db.prisma.playlistTrack.createMany({
      data: playlistRows.flatMap((p, i) => Array.from({ length: 50 }, (_, position) => ({ playlistId: p.id, trackId: playlistTrackIds[i * 50 + position], position }))),
    });
    for (const t of targets) {
      const check = await ops[t].include();
      if (check.length !== 100 || check.some((p) => p.tracks.length !== 50)) throw new Error(`include returned the wrong shape (${t})`);
      const count = async (fn) => (await handles[t].queryLog.countDuring(fn)).statements;
      results[t].playlists = {
        includeStatements: await count(ops[t].include),
        nPlusOneStatements: await count(ops[t].nPlusOne),
        perPlaylistStatements: await count(ops[t].nPlusOneJoined),
        includeMs: [],
        nPlusOneMs: [],
        perPlaylistMs: [],
      };
    }
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const t of targets) {
        const r = results[t].playlists;
        r.includeMs.push(await timeIt(ops[t].include));
        r.perPlaylistMs.push(await timeIt(ops[t].nPlusOneJoined));
        if (round < 3) r.nPlusOneMs.push(await timeIt(ops[t].nPlusOne)); // 5,101 statements a round: 3 rounds are enough
      }
    }

    // 2. 100 tracks: addBatch vs 100 single creates (createMany shown for reference).
    progress(`${provider}: 100 tracks, addBatch vs single creates`);
    for (const t of targets) {
      results[t].insert = { addBatchMs: [], singleMs: [], createManyMs: [] };
      await ops[t].tracks.addBatch(ops[t].batch(t)); // warm-up
    }
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const t of targets) {
        const r = results[t].insert;
        const rowsA = ops[t].batch(t);
        r.addBatchMs.push(await timeIt(() => ops[t].tracks.addBatch(rowsA)));
        const rowsB = ops[t].batch(t);
        r.singleMs.push(
          await timeIt(async () => {
            for (const row of rowsB) await handles[t].prisma.track.create({ data: row });
          }),
        );
        const rowsC = ops[t].batch(t);
        r.createManyMs.push(await timeIt(() => handles[t].prisma.track.createMany({ data: rowsC })));
      }
    }

    // 3. Tracks of one album among TRACKS tracks: with vs without the album indexes.
    progress(`${provider}: ${TRACKS.toLocaleString('en-US')} tracks for the album listing`);
    const existing = await db.prisma.track.count();
    const toAdd = Math.max(1000, TRACKS - existing); // the table holds TRACKS tracks in all (10 per album)
    const albums = await new repos.AlbumRepository(db).getOrCreateBatch(
      Array.from({ length: Math.ceil(toAdd / 10) }, (_, i) => ({ title: `Album ${i}`, artistId: artist.id, releaseYear: 2000 + (i % 25) })),
    );
    for (let start = 0; start < toAdd; start += 10_000) {
      const size = Math.min(10_000, toAdd - start);
      await ops.direct.tracks.addBatch(
        Array.from({ length: size }, (_, j) => {
          const i = start + j;
          return { title: `Album track ${i}`, artistId: artist.id, albumId: albums[i % albums.length].id, discNumber: 1 + (i % 2), trackNumber: 1 + Math.floor(i / albums.length) };
        }),
      );
    }
    await db.prisma.$executeRawUnsafe('ANALYZE'); // planner statistics, as a maintained database has
    const trackCount = await db.prisma.track.count();
    await closeAll();
    const unindexedUrl = await created.copyWithout(['ix_tracks_album_track_number', 'ix_tracks_album_disc_track']);
    // A listing takes about a millisecond: side by side, more calls keep the median steady on a loaded machine.
    const picks = Array.from({ length: viaBouncer ? 300 : 60 }, (_, i) => albums[(i * 7919) % albums.length].id);
    const listers = {};
    for (const t of targets) {
      handles[t] = await open(t, created.url);
      handles[`${t}-bare`] = await open(t, unindexedUrl);
      listers[t] = { withIndex: new repos.TrackRepository(handles[t]), withoutIndex: new repos.TrackRepository(handles[`${t}-bare`]) };
      const first = await listers[t].withIndex.listByAlbum(picks[0]);
      const second = await listers[t].withoutIndex.listByAlbum(picks[0]);
      if (first.length === 0 || first.map((x) => x.id).join() !== second.map((x) => x.id).join()) throw new Error('the two databases disagree');
      results[t].album = { tracks: trackCount, tracksPerAlbum: first.length, indexed: [], unindexed: [] };
    }
    // --pgbouncer: the listing's statement through bare node-postgres too, for what the bouncer
    // itself costs: unnamed (parsed and planned each call, as through PgBouncer 1.18) on both, and
    // prepared by name on the direct connection (as soulspot does there).
    const bare = {};
    if (bouncer) {
      for (const t of targets) {
        // Values left as text: the driver's and the server's cost, not JavaScript's type parsing.
        bare[t] = new pg.Pool({ connectionString: urlOf(t, created.url).replace(/[?&]pgbouncer=true/, ''), max: 1, types: { getTypeParser: () => (text) => text } });
        results[t].bare = { unnamed: [], named: [] };
      }
      cleanups.push(() => Promise.all(Object.values(bare).map((p) => p.end())));
    }
    const LISTING = 'SELECT * FROM tracks WHERE album_id = $1 ORDER BY disc_number ASC, track_number ASC NULLS LAST, id ASC';
    for (const albumId of picks) {
      for (const t of targets) {
        results[t].album.indexed.push(await timeIt(() => listers[t].withIndex.listByAlbum(albumId)));
        results[t].album.unindexed.push(await timeIt(() => listers[t].withoutIndex.listByAlbum(albumId)));
        if (bare[t]) {
          results[t].bare.unnamed.push(await timeIt(() => bare[t].query(LISTING, [albumId])));
          if (t === 'direct') results[t].bare.named.push(await timeIt(() => bare[t].query({ name: 'bench_listing', text: LISTING, values: [albumId] })));
        }
      }
    }
  } finally {
    await closeAll();
  }
  return results;
}

const providers = ['sqlite', 'postgresql'].filter((p) => !only || p === only);
const results = {};
let sideBySide;
try {
  if (viaBouncer) {
    progress(`starting PgBouncer (transaction mode, ${BOUNCER_POOL} server connections)`);
    const bouncer = await startPgBouncer(PG_ADMIN, { poolSize: BOUNCER_POOL });
    cleanups.push(() => bouncer.stop());
    sideBySide = await benchProvider('postgresql', bouncer);
  } else {
    for (const provider of providers) results[provider] = (await benchProvider(provider)).direct;
  }
} finally {
  await cleanup();
}

const fmtMs = (ms) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const rows = [
  {
    what: `100 playlists × 50 tracks: listAll (include) vs N+1 loop (lazy, per row)`,
    target: 5,
    get: (r) => ({ ours: median(r.playlists.includeMs), base: median(r.playlists.nPlusOneMs), note: `${r.playlists.includeStatements} vs ${r.playlists.nPlusOneStatements} statements` }),
  },
  {
    what: `  (for reference: 1 + 2N loop, one include per playlist)`,
    target: null,
    get: (r) => ({ ours: median(r.playlists.includeMs), base: median(r.playlists.perPlaylistMs), note: `${r.playlists.includeStatements} vs ${r.playlists.perPlaylistStatements} statements` }),
  },
  { what: '100 tracks: addBatch vs 100 × prisma.track.create', target: 20, get: (r) => ({ ours: median(r.insert.addBatchMs), base: median(r.insert.singleMs) }) },
  { what: '  (for reference: prisma.track.createMany)', target: null, get: (r) => ({ ours: median(r.insert.addBatchMs), base: median(r.insert.createManyMs) }) },
  {
    what: `tracks of one album among ${TRACKS.toLocaleString('en-US')}: indexed vs no album index`,
    target: 10,
    get: (r) => ({ ours: median(r.album.indexed), base: median(r.album.unindexed), note: `${r.album.tracksPerAlbum} tracks/album` }),
  },
];

if (sideBySide) {
  // Each figure direct and through the bouncer; the target applies to soulspot's own figures.
  const figures = [
    { what: 'listAll (include), 100 playlists × 50 tracks', ours: true, get: (r) => r.playlists.includeMs },
    { what: 'addBatch, 100 tracks', ours: true, get: (r) => r.insert.addBatchMs },
    { what: `listByAlbum, indexed (${TRACKS.toLocaleString('en-US')} tracks)`, ours: true, get: (r) => r.album.indexed },
    { what: 'baseline: N+1 loop (5,101 statements)', ours: false, get: (r) => r.playlists.nPlusOneMs },
    { what: 'baseline: 1 + 2N loop (201 statements)', ours: false, get: (r) => r.playlists.perPlaylistMs },
    { what: 'baseline: 100 × prisma.track.create', ours: false, get: (r) => r.insert.singleMs },
    { what: 'baseline: prisma.track.createMany, 100 tracks', ours: false, get: (r) => r.insert.createManyMs },
    { what: 'baseline: listByAlbum without the album index', ours: false, get: (r) => r.album.unindexed },
    { what: "context: the listing's statement, bare node-postgres, unnamed", ours: false, get: (r) => r.bare.unnamed },
  ].map((f) => {
    const direct = median(f.get(sideBySide.direct));
    const bounced = median(f.get(sideBySide.pgbouncer));
    return { ...f, direct, bounced, ratio: bounced / direct };
  });
  // The same statement prepared by name (direct only): what soulspot's direct connection does
  // and PgBouncer 1.18 cannot (see docs/benchmarks.md).
  const namedDirect = median(sideBySide.direct.bare.named);
  if (json) {
    process.stdout.write(`${JSON.stringify(figures.map(({ what, ours, direct, bounced, ratio }) => ({ benchmark: what, soulspot: ours, direct_ms: direct, pgbouncer_ms: bounced, ratio, target: ours ? 1.3 : null })), null, 2)}\n`);
  } else {
    const table = new Table({ head: ['PostgreSQL (median ms)', 'direct', 'via PgBouncer', 'ratio', 'target'], style: { head: [], border: [] } });
    for (const f of figures) table.push([f.what, fmtMs(f.direct), fmtMs(f.bounced), `${f.ratio.toFixed(2)}×`, f.ours ? '≤ 1.3×' : '']);
    console.log(`soulspot repositories benchmark, direct vs PgBouncer (transaction mode, ${BOUNCER_POOL} server connections) — ${cpus().length} cores, node ${process.version}, ${ROUNDS} rounds`);
    console.log(table.toString());
    console.log(figures.filter((f) => f.ours).map((f) => `${f.what}: ${f.ratio.toFixed(2)}× (target ≤ 1.3×) ${f.ratio <= 1.3 ? 'met' : 'NOT met'}`).join('\n'));
    console.log(
      `the listing's statement, bare node-postgres (median ms): prepared by name, direct ${fmtMs(namedDirect)}; unnamed, direct ${fmtMs(figures.at(-1).direct)}, ` +
        `through PgBouncer ${fmtMs(figures.at(-1).bounced)} (soulspot prepares it by name on a direct connection; through PgBouncer 1.18 nothing can be)`,
    );
  }
} else if (json) {
  process.stdout.write(
    `${JSON.stringify(
      rows.map((row) => ({
        benchmark: row.what.trim(),
        target: row.target,
        ...Object.fromEntries(providers.map((p) => {
          const { ours, base, note } = row.get(results[p]);
          return [p, { ours_ms: ours, baseline_ms: base, speedup: base / ours, note }];
        })),
      })),
      null,
      2,
    )}\n`,
  );
} else {
  const head = ['benchmark (median ms)'];
  for (const p of providers) head.push(`${p}\nbaseline`, `${p}\nours`, `${p}\nspeed-up`);
  head.push('target');
  const table = new Table({ head, style: { head: [], border: [] } });
  const verdicts = [];
  for (const row of rows) {
    const line = [row.what];
    for (const p of providers) {
      const { ours, base, note } = row.get(results[p]);
      const speedup = base / ours;
      line.push(fmtMs(base), fmtMs(ours), `${speedup.toFixed(1)}×`);
      verdicts.push(`${p}: ${row.what.trim()}: ${speedup.toFixed(1)}×${row.target ? ` (target ≥ ${row.target}×) ${speedup >= row.target ? 'met' : 'NOT met'}` : ''}${note ? `; ${note}` : ''}`);
    }
    line.push(row.target ? `≥ ${row.target}×` : '');
    table.push(line);
  }
  console.log(`soulspot repositories benchmark — ${cpus().length} cores, node ${process.version}, ${ROUNDS} rounds`);
  console.log(table.toString());
  console.log(verdicts.join('\n'));
}
