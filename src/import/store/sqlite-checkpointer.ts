/**
 * The SQLite import's checkpointer thread: its own connection copies the WAL back into the
 * database file (PRAGMA wal_checkpoint(PASSIVE)) each time the importer commits, while the
 * importer goes on writing. Without it the import's one checkpoint at the end (copying and
 * syncing the whole file) ran on the importer's thread. PASSIVE never blocks the writer and is
 * never blocked by it; what it cannot copy now, the next one (or the importer's final one) will.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const port = parentPort!;
const db = new Database((workerData as { path: string }).path, { fileMustExist: true, timeout: 0 });
// A checkpoint copies WAL frames straight to the file: no page cache needed here.
db.pragma('cache_size = -256');
port.on('message', (message: 'checkpoint' | 'close') => {
  if (message === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy (another checkpoint, or a lock): the next request or the final checkpoint does it.
  }
});
