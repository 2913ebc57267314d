import { finding, ok, plural, type DoctorCheck, type DoctorContext } from './doctor-check.js';
import { IMPORT_LOOKUP_INDEXES, PERFORMANCE_INDEXES } from './doctor-indexes.js';

/**
 * Tables smaller than this are read by sequential scans on purpose (the planner's right choice),
 * and their indexes may rightly never be scanned: only larger tables are judged.
 */
export const LARGE_TABLE_ROWS = 10_000;
/** Sequential scans from which a large table read mostly that way is reported. */
const SEQ_SCANS_WORTH_A_LOOK = 100;
/** Statements shown by the slow-statements check. */
const SLOWEST = 3;

async function statsSince(ctx: DoctorContext): Promise<string> {
  const [row] = await ctx.conn.query<{ reset: Date | null }>(`SELECT stats_reset AS reset FROM pg_stat_database WHERE datname = current_database()`);
  return row?.reset ? `since the statistics were reset at ${row.reset.toISOString()}` : 'since the server started counting';
}

/**
 * Indexes of large tables that no query has used. Unique and primary keys enforce constraints,
 * the performance indexes serve queries the app runs on demand (their rows above check that the
 * planner uses them), and the import's lookup indexes serve an import whenever one runs: none is
 * reported.
 */
export async function checkUnusedIndexes(ctx: DoctorContext): Promise<DoctorCheck> {
  const id = 'unused-indexes';
  const check = 'indexes never scanned';
  const rows = await ctx.conn.query<{ index: string; table: string; rows: string; size: string }>(
    `SELECT s.indexrelname AS index, s.relname AS "table", t.n_live_tup AS rows, pg_size_pretty(pg_relation_size(s.indexrelid)) AS size
       FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
       JOIN pg_stat_user_tables t ON t.relid = s.relid
      WHERE s.schemaname = current_schema() AND s.idx_scan = 0 AND NOT i.indisunique AND t.n_live_tup >= $1
        AND NOT s.indexrelname = ANY($2)
      ORDER BY pg_relation_size(s.indexrelid) DESC`,
    [LARGE_TABLE_ROWS, [...PERFORMANCE_INDEXES.map((ix) => ix.name), ...IMPORT_LOOKUP_INDEXES]],
  );
  const since = await statsSince(ctx);
  if (rows.length === 0) return ok(id, check, `every index of a table of ${plural(LARGE_TABLE_ROWS, 'row')} or more has been scanned ${since}`);
  return finding(
    id,
    check,
    'warning',
    `${rows.map((r) => `${r.index} on ${r.table} (${r.size})`).join(', ')}: never scanned ${since}`,
    'if the app has run its usual work since then, each costs writes for nothing: DROP INDEX it',
  );
}

/** Large tables read mostly by sequential scans: a query the indexes do not serve. */
export async function checkSequentialScans(ctx: DoctorContext): Promise<DoctorCheck> {
  const id = 'sequential-scans';
  const check = 'large tables read mostly by sequential scans';
  const rows = await ctx.conn.query<{ table: string; seq: string; idx: string | null; rows: string }>(
    `SELECT relname AS "table", seq_scan AS seq, idx_scan AS idx, n_live_tup AS rows FROM pg_stat_user_tables
      WHERE schemaname = current_schema() AND n_live_tup >= $1 AND seq_scan >= $2 AND seq_scan > coalesce(idx_scan, 0)
      ORDER BY seq_tup_read DESC`,
    [LARGE_TABLE_ROWS, SEQ_SCANS_WORTH_A_LOOK],
  );
  const since = await statsSince(ctx);
  if (rows.length === 0) return ok(id, check, `no table of ${plural(LARGE_TABLE_ROWS, 'row')} or more is read mostly by sequential scans (${since})`);
  return finding(
    id,
    check,
    'warning',
    rows.map((r) => `${r.table}: ${plural(Number(r.seq), 'sequential scan')} against ${plural(Number(r.idx ?? 0), 'index scan')} (${plural(Number(r.rows), 'row')})`).join('; '),
    'find the statements (pg_stat_statements, or SLOW_QUERY_MS) and EXPLAIN them; an index on their WHERE columns helps',
  );
}

/**
 * The slowest statements of this database by mean time, from pg_stat_statements when the
 * extension is installed here and loaded by the server (shared_preload_libraries).
 */
export async function checkSlowStatements(ctx: DoctorContext): Promise<DoctorCheck> {
  const id = 'slow-statements';
  const check = 'slowest statements (pg_stat_statements)';
  const [ext] = await ctx.conn.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'`,
  );
  const [preload] = await ctx.conn.query<{ libs: string }>(`SELECT current_setting('shared_preload_libraries') AS libs`);
  const loaded = preload.libs.split(',').map((s) => s.trim().replace(/^"|"$/g, '')).includes('pg_stat_statements');
  if (!ext || !loaded) {
    const missing = [loaded ? '' : 'the server does not load it (shared_preload_libraries)', ext ? '' : 'the extension is not created in this database'].filter(Boolean);
    return finding(
      id,
      check,
      'skipped',
      `pg_stat_statements is not available: ${missing.join(', and ')}; the slowest statements cannot be shown`,
      `${loaded ? '' : "shared_preload_libraries = 'pg_stat_statements' in postgresql.conf, restart; "}CREATE EXTENSION pg_stat_statements`,
    );
  }
  const view = `"${ext.schema.replace(/"/g, '""')}".pg_stat_statements`;
  const rows = await ctx.conn.query<{ query: string; calls: string; mean: number; total: number }>(
    `SELECT query, calls, mean_exec_time AS mean, total_exec_time AS total FROM ${view}
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND calls > 0
      ORDER BY mean_exec_time DESC LIMIT ${SLOWEST}`,
  );
  if (rows.length === 0) return ok(id, check, 'pg_stat_statements has recorded no statement of this database yet');
  const shown = rows.map((r) => `${Number(r.mean).toFixed(1)} ms mean × ${plural(Number(r.calls), 'call')}: ${r.query.replace(/\s+/g, ' ').slice(0, 120)}`);
  const limit = ctx.config.slowQueryMs;
  const slow = limit > 0 && Number(rows[0].mean) >= limit;
  if (!slow) return ok(id, check, `slowest: ${shown.join(' | ')}`);
  return finding(id, check, 'warning', `above SLOW_QUERY_MS=${limit} on average: ${shown.join(' | ')}`, 'EXPLAIN (ANALYZE, BUFFERS) the first one; see the index rows above');
}
