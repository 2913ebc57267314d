import pg from 'pg';

/** Polls `condition` every 50 ms, for at most 30 s (a loaded machine), then fails naming `what`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/**
 * Two sessions on a PostgreSQL database: one to hold a table lock (so a run under test waits on
 * the database, where the first Ctrl-C cannot end it), one to watch and count (pg_stat_activity
 * holds still inside the locker's transaction, so the watcher must be another session).
 */
export class TableLock {
  private constructor(
    private readonly locker: pg.Client,
    private readonly watcher: pg.Client,
  ) {}

  static async open(url: string): Promise<TableLock> {
    const locker = new pg.Client({ connectionString: url });
    const watcher = new pg.Client({ connectionString: url });
    await Promise.all([locker.connect(), watcher.connect()]);
    return new TableLock(locker, watcher);
  }

  async lock(table: string): Promise<void> {
    await this.locker.query('BEGIN');
    await this.locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  }

  async release(): Promise<void> {
    await this.locker.query('ROLLBACK');
  }

  /** Some session of this database waits for a lock. */
  async someoneWaits(): Promise<boolean> {
    const { rows } = await this.watcher.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    return rows[0].n > 0;
  }

  async count(table: string): Promise<number> {
    return (await this.watcher.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
  }

  async close(): Promise<void> {
    await Promise.all([this.locker.end(), this.watcher.end()]);
  }
}
