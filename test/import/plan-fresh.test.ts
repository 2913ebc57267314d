import { planFreshTracks, planTracks, type ResolvedRow, type TrackPlan, type TrackValues } from '../../src/import/plan.js';
import { mulberry32 } from '../../src/bench/cache-bench/traces.js';

// planFreshTracks (a chunk of a load into a tracks table that was empty when its batch began)
// plans the rows that hold no key of another track or earlier row without planTracks' maps. It
// must give the plan planTracks gives over all the rows: the same inserts, updates, duplicates,
// rejects, playlist entries, in file order.

const pick = <T>(next: () => number, items: T[]): T => items[Math.floor(next() * items.length)];
/** One of `pool` keys, or none (`absent` of the time); a larger pool, fewer repeats. */
const key = (next: () => number, prefix: string, pool: number, absent: number) => (next() < absent ? undefined : `${prefix}${Math.floor(next() * pool)}`);

function row(next: () => number, line: number, pool: number): ResolvedRow {
  const artistId = pick(next, ['a1', 'a2', 'a3']);
  return {
    line,
    original: `line ${line}`,
    title: `t${Math.floor(next() * pool)}`,
    artist: { name: artistId },
    artistId,
    albumId: next() < 0.3 ? null : pick(next, ['b1', 'b2']),
    album: undefined,
    durationMs: next() < 0.5 ? 1000 : undefined,
    spotifyUri: key(next, 'spotify:track:', pool, 0.3),
    isrc: key(next, 'ISRC', pool, 0.4),
    musicbrainzId: key(next, 'mbid', pool, 0.8),
    creditIds: '',
  };
}

function track(next: () => number, n: number, pool: number): TrackValues {
  return {
    id: `existing-${n}`,
    title: `t${Math.floor(next() * pool)}`,
    artistId: pick(next, ['a1', 'a2', 'a3']),
    albumId: next() < 0.3 ? null : pick(next, ['b1', 'b2']),
    durationMs: 1000,
    trackNumber: null,
    discNumber: 1,
    spotifyUri: key(next, 'spotify:track:', pool, 0.3) ?? null,
    isrc: key(next, 'ISRC', pool, 0.4) ?? null,
    musicbrainzId: key(next, 'mbid', pool, 0.8) ?? null,
    filePath: null,
    fileSize: null,
    audioBitrate: null,
    audioFormat: null,
    audioSampleRate: null,
    credits: '',
  };
}

/** The rows none of whose keys an earlier row or a candidate holds: what BatchImporter's filter marks sure (it may mark fewer, never more). */
function sureRows(rows: ResolvedRow[], candidates: TrackValues[], next: () => number): Uint8Array {
  const held = new Set<string>();
  const put = (t: { spotifyUri?: string | null; isrc?: string | null; musicbrainzId?: string | null; title: string; artistId: string }) => {
    const keys = [`T${t.artistId}\u0000${t.title}`];
    if (t.spotifyUri) keys.push(`U${t.spotifyUri}`);
    if (t.isrc) keys.push(`I${t.isrc}`);
    if (t.musicbrainzId) keys.push(`M${t.musicbrainzId}`);
    const hit = keys.some((k) => held.has(k));
    for (const k of keys) held.add(k);
    return hit;
  };
  for (const c of candidates) put(c);
  // A Bloom filter's false positives: now and then a row that could be sure is not.
  return Uint8Array.from(rows, (r) => (!put(r) && next() > 0.1 ? 1 : 0));
}

/** A plan with each new track's id replaced by the line of the row that made it (the two plans draw ids in another order). */
function normalised(plan: TrackPlan) {
  const made = new Map<string, string>();
  for (const { track, row } of plan.accepted) if (plan.inserts.includes(track)) made.set(track.id, `new@${row.line}`);
  const id = (x: string) => made.get(x) ?? x;
  const values = (t: TrackValues) => ({ ...t, id: id(t.id) });
  return {
    inserts: plan.inserts.map(values),
    updates: plan.updates.map(values),
    unchanged: plan.unchanged,
    duplicates: plan.duplicates,
    rejects: plan.rejects.map((r) => `${r.line}: ${r.reason}`),
    accepted: plan.accepted.map((a) => [a.row.line, id(a.track.id), a.changed]),
    placed: plan.placed.map((p) => [p.row.line, id(p.trackId), p.created]),
    untitled: plan.untitled.map((r) => r.line),
  };
}

describe('planFreshTracks', () => {
  test('gives the plan planTracks gives, on 3,000 random chunks with repeated keys, candidates and seen tracks', () => {
    let differing = 0;
    let mixed = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      // Seeded, so that a failure can be replayed.
      const next = mulberry32(seed);
      const pool = 3 + Math.floor(next() * 40);
      const rows = Array.from({ length: 1 + Math.floor(next() * 30) }, (_, i) => row(next, i + 2, pool));
      const candidates = Array.from({ length: Math.floor(next() * 4) }, (_, i) => track(next, i, pool));
      const seen = new Set(candidates.filter(() => next() < 0.3).map((c) => c.id));
      const sure = sureRows(rows, candidates, next);
      if (sure.some((s) => s === 1) && sure.some((s) => s === 0)) mixed += 1;
      let n = 0;
      const ids = () => `id-${(n += 1)}`;
      // Each gets its own copies: planTracks changes the rows' tracks it updates.
      const copy = () => candidates.map((c) => ({ ...c }));
      const expected = normalised(planTracks(rows, copy(), seen, ids));
      const got = normalised(planFreshTracks(rows, sure, copy(), seen, ids));
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        differing += 1;
        if (differing === 1) expect({ seed, got }).toEqual({ seed, got: expected });
      }
    }
    expect(differing).toBe(0);
    // The chunks mix rows planned apart with rows planned in full.
    expect(mixed).toBeGreaterThan(1000);
  });

  test('a chunk of sure rows only: every row a new track, in file order', () => {
    const rows: ResolvedRow[] = [2, 3, 4].map((line) => ({ line, original: '', title: `t${line}`, artist: { name: 'x' }, artistId: 'a', albumId: null, creditIds: '' }));
    let n = 0;
    const plan = planFreshTracks(rows, Uint8Array.from([1, 1, 1]), [], new Set(), () => `id-${(n += 1)}`);
    expect(plan.inserts.map((t) => [t.id, t.title])).toEqual([
      ['id-1', 't2'],
      ['id-2', 't3'],
      ['id-3', 't4'],
    ]);
    expect(plan.placed.map((p) => [p.row.line, p.trackId, p.created])).toEqual([
      [2, 'id-1', true],
      [3, 'id-2', true],
      [4, 'id-3', true],
    ]);
    expect([plan.updates.length, plan.unchanged, plan.duplicates, plan.rejects.length]).toEqual([0, 0, 0, 0]);
  });
});
