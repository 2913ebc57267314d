import { finding, ok, plural, type DoctorCheck, type DoctorContext } from './doctor-check.js';

/** Free pages worth a VACUUM: at least this share of the file … */
const FREE_SHARE = 0.1;
/** … and at least this many bytes. */
const FREE_BYTES = 8 * 1024 * 1024;

const SYNCHRONOUS = ['OFF', 'NORMAL', 'FULL', 'EXTRA'];

const pragma = async (ctx: DoctorContext, name: string): Promise<unknown> => Object.values((await ctx.conn.query(`PRAGMA ${name}`))[0] ?? {})[0];

/**
 * Journal mode of the file (WAL lets readers and the writer run side by side; `soulspot migrate`
 * sets it) and the synchronous level a new connection gets. synchronous is set per connection,
 * so this is what soulspot's connections (Prisma's, the importer's default) start with.
 */
export async function checkJournal(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const mode = String(await pragma(ctx, 'journal_mode')).toLowerCase();
  const level = Number(await pragma(ctx, 'synchronous'));
  const name = SYNCHRONOUS[level] ?? String(level);
  const journal =
    mode === 'wal'
      ? ok('journal-mode', 'journal mode WAL', 'journal_mode=wal: readers do not block the writer')
      : finding(
          'journal-mode',
          'journal mode WAL',
          'warning',
          `journal_mode=${mode}: every write locks out readers, and concurrent workers wait`,
          'sqlite3 <file> "PRAGMA journal_mode=WAL" (with no other process using the file)',
        );
  const id = 'synchronous';
  const check = 'synchronous level';
  let sync: DoctorCheck;
  if (level === 0) sync = finding(id, check, 'problem', 'synchronous=OFF: a power cut can corrupt the database', 'PRAGMA synchronous=NORMAL on each connection (WAL) or FULL');
  else if (level === 1 && mode !== 'wal') {
    sync = finding(id, check, 'warning', `synchronous=NORMAL with journal_mode=${mode}: a power cut can corrupt the database`, 'switch to WAL (above), or PRAGMA synchronous=FULL');
  } else sync = ok(id, check, `synchronous=${name} with journal_mode=${mode}: durable${level === 1 ? ' but for the last commits before a power cut' : ''}`);
  return [journal, sync];
}

/** PRAGMA quick_check: the b-trees and pages are sound (it skips comparing index contents to the tables). */
export async function checkIntegrity(ctx: DoctorContext): Promise<DoctorCheck> {
  const id = 'integrity';
  const check = 'quick integrity check';
  const rows = (await ctx.conn.query<{ quick_check: string }>('PRAGMA quick_check(20)')).map((r) => r.quick_check);
  if (rows.length === 1 && rows[0] === 'ok') return ok(id, check, 'PRAGMA quick_check: ok');
  return finding(
    id,
    check,
    'problem',
    `PRAGMA quick_check found ${rows.length >= 20 ? '20 or more problems' : plural(rows.length, 'problem')}: ${rows.slice(0, 3).join('; ')}`,
    'stop the writers; sqlite3 <file> ".recover" | sqlite3 repaired.db, or restore a backup',
  );
}

/** Pages freed by deletes stay in the file until VACUUM. */
export async function checkFreePages(ctx: DoctorContext): Promise<DoctorCheck> {
  const id = 'free-pages';
  const check = 'free pages worth a VACUUM';
  const free = Number(await pragma(ctx, 'freelist_count'));
  const pages = Number(await pragma(ctx, 'page_count'));
  const size = Number(await pragma(ctx, 'page_size'));
  const bytes = free * size;
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  const found = `${plural(free, 'free page')} of ${plural(pages, 'page')} (${mb(bytes)} of ${mb(pages * size)})`;
  if (bytes >= FREE_BYTES && free >= FREE_SHARE * pages) {
    return finding(id, check, 'warning', found, 'sqlite3 <file> "VACUUM" while no one writes (needs that much free disk again)');
  }
  return ok(id, check, found);
}
