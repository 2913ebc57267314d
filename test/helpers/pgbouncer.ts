import { startPgBouncer, type PgBouncer, type PgBouncerOptions } from '../../src/bench/pgbouncer.js';
import { PG_ADMIN_URL } from './db.js';

export type { PgBouncer };

/**
 * Starts one real PgBouncer (transaction mode, 3 server connections, a free port of 127.0.0.1) in
 * front of the test server for the test file, and stops it afterwards. `use` receives it. The
 * package must be installed (`.ci/run` installs it when missing); the tests fail, never skip,
 * without it.
 */
export function usePgBouncer(use: (bouncer: PgBouncer) => void, options: PgBouncerOptions = {}): void {
  let bouncer: PgBouncer | undefined;
  beforeAll(async () => {
    bouncer = await startPgBouncer(PG_ADMIN_URL, options);
    use(bouncer);
  }, 60_000);
  afterAll(async () => {
    await bouncer?.stop();
  });
}
