import { APP_TABLES, finding, ok, plural, type DoctorCheck, type DoctorContext } from './doctor-check.js';

const ID = 'statistics';
const CHECK = 'planner statistics fresh';

/**
 * Rows changed since the last ANALYZE from which a table's statistics count as stale: the
 * autovacuum default threshold (50) plus twice its default scale factor (0.1) of the table. By
 * then autovacuum should have analyzed the table itself; when it has not, it is off or behind.
 */
const STALE_BASE = 50;
const STALE_SHARE = 0.2;

/** A table this small plans the same with or without statistics. */
const SQLITE_SMALL_TABLE = 1000;

interface PgTableStats {
  table: string;
  live: number;
  modified: number;
  analyzed: Date | null;
}

async function checkPostgres(ctx: DoctorContext): Promise<DoctorCheck> {
  const rows = await ctx.conn.query<{ table: string; live: string; modified: string; analyzed: Date | null }>(
    `SELECT relname AS "table", n_live_tup AS live, n_mod_since_analyze AS modified, greatest(last_analyze, last_autoanalyze) AS analyzed
       FROM pg_stat_user_tables WHERE schemaname = current_schema() AND relname = ANY($1) ORDER BY relname`,
    [[...APP_TABLES]],
  );
  const tables: PgTableStats[] = rows.map((r) => ({ table: r.table, live: Number(r.live), modified: Number(r.modified), analyzed: r.analyzed }));
  const stale = tables.filter((t) => t.modified > STALE_BASE + STALE_SHARE * t.live);
  if (stale.length === 0) {
    const oldest = tables.filter((t) => t.analyzed).sort((a, b) => a.analyzed!.getTime() - b.analyzed!.getTime())[0];
    return ok(ID, CHECK, `${tables.length} tables, none changed much since its last ANALYZE${oldest ? ` (oldest: ${oldest.table} at ${oldest.analyzed!.toISOString()})` : ''}`);
  }
  const found = stale
    .map((t) => `${t.table}: ${plural(t.modified, 'row')} changed since ${t.analyzed ? `ANALYZE at ${t.analyzed.toISOString()}` : 'never analyzed'} (${plural(t.live, 'live row')})`)
    .join('; ');
  return finding(ID, CHECK, 'warning', found, `ANALYZE ${stale.map((t) => t.table).join(', ')}; then check that autovacuum is on (SHOW autovacuum)`);
}

/**
 * SQLite plans without statistics until ANALYZE writes sqlite_stat1. Stale: a table whose row
 * count moved more than a fifth from the count ANALYZE recorded. `PRAGMA optimize` in its
 * debugging mode (0x10003: every table, ANALYZE only, do nothing) says what it would refresh.
 */
async function checkSqlite(ctx: DoctorContext): Promise<DoctorCheck> {
  const { conn } = ctx;
  const counts = new Map<string, number>();
  const present = new Set((await conn.query<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`)).map((r) => r.name));
  for (const table of ['artists', 'albums', 'tracks', 'downloads'].filter((t) => present.has(t))) {
    counts.set(table, Number((await conn.query<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0].n));
  }
  const big = [...counts].filter(([, n]) => n >= SQLITE_SMALL_TABLE);
  const hasStat1 = present.has('sqlite_stat1');
  if (!hasStat1) {
    if (big.length === 0) return ok(ID, CHECK, `no sqlite_stat1 yet; every table has fewer than ${plural(SQLITE_SMALL_TABLE, 'row')}, so none needs it`);
    return finding(
      ID,
      CHECK,
      'warning',
      `no sqlite_stat1: the planner guesses; ${big.map(([t, n]) => `${t} has ${plural(n, 'row')}`).join(', ')}`,
      `sqlite3 <file> "PRAGMA optimize=0x10002" (or ANALYZE) once, then PRAGMA optimize on closing connections`,
    );
  }
  // The first number of every row of a table is its row count when ANALYZE ran.
  const recorded = await conn.query<{ tbl: string; stat: string }>(`SELECT tbl, stat FROM sqlite_stat1`);
  const atAnalyze = new Map(recorded.map((r) => [r.tbl, Number(r.stat.split(' ')[0])]));
  const stale = big.filter(([table, n]) => {
    const then = atAnalyze.get(table);
    return then === undefined || Math.abs(n - then) > STALE_BASE + STALE_SHARE * then;
  });
  const advice = (await conn.query<{ optimize: string }>('PRAGMA optimize(0x10003)')).map((r) => r.optimize.replace(/"main"\./g, '').replace(/"/g, ''));
  if (stale.length === 0 && advice.length === 0) return ok(ID, CHECK, `sqlite_stat1 present and within ${STALE_SHARE * 100}% of the row counts; PRAGMA optimize has nothing to do`);
  const parts = [
    ...stale.map(([table, n]) => `${table}: ${plural(n, 'row')} now, ${atAnalyze.has(table) ? plural(atAnalyze.get(table)!, 'row') : 'none'} at the last ANALYZE`),
    advice.length ? `PRAGMA optimize would run ${advice.join(', ')}` : '',
  ].filter(Boolean);
  return finding(ID, CHECK, 'warning', parts.join('; '), `sqlite3 <file> "PRAGMA optimize=0x10002" (or ANALYZE ${stale.map(([t]) => t).join(', ') || 'the tables above'})`);
}

export function checkStatistics(ctx: DoctorContext): Promise<DoctorCheck> {
  return ctx.conn.provider === 'sqlite' ? checkSqlite(ctx) : checkPostgres(ctx);
}
