import type { RawConnection } from '../db/raw.js';
import { finding, ok, type DoctorCheck, type DoctorContext } from './doctor-check.js';

/**
 * One of the guide's 11 performance indexes and the query it exists for: the shape the
 * repositories send (src/repositories; test/repositories/index-usage.test.ts checks those use it).
 * `$n` placeholders; SQLite gets `?` in their place (each is used once, in order).
 */
export interface PerformanceIndex {
  name: string;
  table: string;
  columns: string[];
  /** What the query is for, in the words of the guide. */
  purpose: string;
  sql: string;
  params: (provider: RawConnection['provider']) => unknown[];
}

const UUID = '00000000-0000-4000-8000-000000000000';
/** A recent moment, as each provider stores timestamps (SQLite: Prisma's ISO text with +00:00). */
const since = (provider: RawConnection['provider']) => {
  const d = new Date(Date.now() - 3_600_000);
  return provider === 'sqlite' ? d.toISOString().replace('Z', '+00:00') : d.toISOString();
};
const TRUE = (provider: RawConnection['provider']) => (provider === 'sqlite' ? 1 : true);

const index = (name: string, columns: string[], purpose: string, sql: string, params: PerformanceIndex['params']): PerformanceIndex => ({
  name,
  table: /FROM (\w+)/.exec(sql)![1],
  columns,
  purpose,
  sql,
  params,
});

export const PERFORMANCE_INDEXES: PerformanceIndex[] = [
  index('ix_tracks_album_track_number', ['album_id', 'track_number'], 'album track listing', 'SELECT * FROM tracks WHERE album_id = $1 ORDER BY track_number ASC NULLS LAST, id ASC', () => [UUID]),
  index('ix_tracks_album_disc_track', ['album_id', 'disc_number', 'track_number'], 'one disc of a multi-disc album', 'SELECT * FROM tracks WHERE album_id = $1 AND disc_number = $2 ORDER BY track_number ASC NULLS LAST, id ASC', () => [UUID, 2]),
  index('ix_tracks_file_path', ['file_path'], 'file-path lookup', 'SELECT * FROM tracks WHERE file_path = $1 LIMIT 1', () => ['/music/a.flac']),
  index('ix_tracks_updated_at', ['updated_at'], 'tracks changed since (sync)', 'SELECT * FROM tracks WHERE updated_at >= $1 ORDER BY updated_at ASC, id ASC LIMIT 100', (p) => [since(p)]),
  index('ix_tracks_last_scanned_at', ['last_scanned_at'], 'tracks not scanned since', 'SELECT * FROM tracks WHERE last_scanned_at < $1 ORDER BY last_scanned_at ASC, id ASC LIMIT 100', (p) => [since(p)]),
  index('ix_tracks_broken_updated', ['is_broken', 'updated_at'], 'broken files, latest first', 'SELECT * FROM tracks WHERE is_broken = $1 ORDER BY updated_at DESC LIMIT 100', (p) => [TRUE(p)]),
  index('ix_albums_artist_id', ['artist_id'], 'albums of an artist', 'SELECT * FROM albums WHERE artist_id = $1 ORDER BY release_year DESC, title ASC', () => [UUID]),
  index('ix_albums_updated_at', ['updated_at'], 'albums changed since (sync)', 'SELECT * FROM albums WHERE updated_at >= $1 ORDER BY updated_at ASC LIMIT 100', (p) => [since(p)]),
  index('ix_artists_updated_at', ['updated_at'], 'artists changed since (sync)', 'SELECT * FROM artists WHERE updated_at >= $1 ORDER BY updated_at ASC LIMIT 100', (p) => [since(p)]),
  index('ix_downloads_status_priority', ['status', 'priority'], 'download queue, highest priority first', 'SELECT * FROM downloads WHERE status = $1 ORDER BY priority DESC LIMIT 10', () => ['queued']),
  index('ix_downloads_completed_at', ['completed_at'], 'downloads completed since', 'SELECT * FROM downloads WHERE completed_at >= $1 ORDER BY completed_at ASC LIMIT 100', (p) => [since(p)]),
];

/**
 * The indexes the import's lookups use (src/import/store): it runs on demand, so they may go
 * unscanned for a long time and still be needed (without ix_artists_name every chunk of an import
 * reads the whole artists table).
 */
export const IMPORT_LOOKUP_INDEXES = ['ix_artists_name', 'ix_albums_title_artist', 'ix_tracks_title_artist'];

interface IndexFacts {
  table: string;
  columns: string[];
  valid: boolean;
}

async function readIndexes(conn: RawConnection): Promise<Map<string, IndexFacts>> {
  const names = PERFORMANCE_INDEXES.map((i) => i.name);
  const facts = new Map<string, IndexFacts>();
  if (conn.provider === 'sqlite') {
    const rows = await conn.query<{ name: string; tbl_name: string }>(
      `SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name IN (${names.map(() => '?').join(', ')})`,
      names,
    );
    for (const row of rows) {
      // An expression column has no name (cid -2): it cannot serve a query on the plain column.
      const cols = await conn.query<{ name: string | null }>(`SELECT name FROM pragma_index_info(?) ORDER BY seqno`, [row.name]);
      facts.set(row.name, { table: row.tbl_name, columns: cols.map((c) => c.name ?? '(expression)'), valid: true });
    }
    return facts;
  }
  const rows = await conn.query<{ name: string; table: string; valid: boolean; ready: boolean; columns: string[] }>(
    `SELECT c.relname AS name, t.relname AS "table", i.indisvalid AS valid, i.indisready AS ready,
            array(SELECT coalesce(a.attname::text, '(expression)') FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)
                   LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS columns
       FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relname = ANY($1)`,
    [names],
  );
  for (const row of rows) facts.set(row.name, { table: row.table, columns: row.columns, valid: row.valid && row.ready });
  return facts;
}

/**
 * The plan of `sql`: SQLite's EXPLAIN QUERY PLAN; PostgreSQL's EXPLAIN with sequential scans
 * disabled for that transaction only. On a small table PostgreSQL rightly prefers a sequential
 * scan, which says nothing about the index; with `enable_seqscan = off` the question becomes
 * "can the planner use the index for this query", which a missing, invalid or wrong index fails
 * (the plan then still falls back to a sequential scan, at a disabled cost).
 */
export async function explain(conn: RawConnection, sql: string, params: unknown[]): Promise<string> {
  if (conn.provider === 'sqlite') {
    const rows = await conn.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql.replace(/\$\d+/g, '?')}`, params);
    return rows.map((r) => r.detail).join('\n');
  }
  await conn.query('BEGIN');
  try {
    await conn.query('SET LOCAL enable_seqscan = off');
    const rows = await conn.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  } finally {
    await conn.query('ROLLBACK');
  }
}

/** The indexes a plan reads, in plan order. */
export function indexesInPlan(provider: RawConnection['provider'], plan: string): string[] {
  const pattern =
    provider === 'sqlite' ? /(?:SEARCH|SCAN) \S+ USING (?:COVERING )?INDEX (\w+)/g : /(?:Index (?:Only )?Scan(?: Backward)? using (\w+) on|Bitmap Index Scan on (\w+))/g;
  return [...plan.matchAll(pattern)].map((m) => m[1] ?? m[2]);
}

const sameColumns = (a: string[], b: string[]) => a.length === b.length && a.every((c, i) => c === b[i]);

/** One row per performance index: present, valid, on the expected columns, and used by its query. */
export async function checkIndexes(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const { conn } = ctx;
  const facts = await readIndexes(conn);
  const recreate = (ix: PerformanceIndex) => `DROP INDEX IF EXISTS ${ix.name}; CREATE INDEX ${ix.name} ON ${ix.table} (${ix.columns.join(', ')})`;
  const checks: DoctorCheck[] = [];
  for (const ix of PERFORMANCE_INDEXES) {
    const id = `index:${ix.name}`;
    const check = `index ${ix.name} (${ix.purpose})`;
    const fact = facts.get(ix.name);
    if (!fact) {
      checks.push(finding(id, check, 'problem', `missing from ${ix.table}`, `CREATE INDEX ${ix.name} ON ${ix.table} (${ix.columns.join(', ')}) — or soulspot migrate status`));
      continue;
    }
    if (!fact.valid) {
      checks.push(finding(id, check, 'problem', 'present but INVALID (a failed CREATE INDEX CONCURRENTLY leaves one): the planner never uses it', `REINDEX INDEX ${ix.name}`));
      continue;
    }
    const plan = await explain(conn, ix.sql, ix.params(conn.provider));
    const used = indexesInPlan(conn.provider, plan);
    const on = `on ${fact.table} (${fact.columns.join(', ')})`;
    if (used.includes(ix.name)) {
      checks.push(ok(id, check, `present, valid, used by its query (${on})`));
      continue;
    }
    const wrongShape = fact.table !== ix.table || !sameColumns(fact.columns, ix.columns);
    // Two performance indexes lead with album_id: for a small album the planner may serve the
    // listing with either, rightly. The other one, present and valid, does the job this one exists for.
    const sibling = used.map((name) => PERFORMANCE_INDEXES.find((p) => p.name === name)).find((p) => p && p.table === ix.table && p.columns[0] === ix.columns[0]);
    if (!wrongShape && sibling && facts.get(sibling.name)?.valid) {
      checks.push(ok(id, check, `present and valid ${on}; the planner serves its query with ${sibling.name} (same leading column ${ix.columns[0]}), as good here`));
      continue;
    }
    const planned = used.length ? `the plan uses ${used.join(', ')} instead` : 'the plan scans the whole table';
    if (wrongShape) {
      checks.push(finding(id, check, 'problem', `present ${on}, expected on ${ix.table} (${ix.columns.join(', ')}); ${planned}`, recreate(ix)));
    } else if (used.length) {
      checks.push(finding(id, check, 'warning', `present and valid ${on}, but ${planned}`, `ANALYZE ${ix.table}; if it persists, compare with EXPLAIN ${ix.sql}`));
    } else {
      checks.push(finding(id, check, 'problem', `present ${on}, but the planner cannot use it: ${planned}`, recreate(ix)));
    }
  }
  return checks;
}
