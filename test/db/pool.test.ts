import { readFileSync } from 'node:fs';
import pg from 'pg';
import { configFor, createMigratedDatabase, type TestDatabase } from '../helpers/db.js';
import { createPgPool, FAST_PATH_PG_POOL_VERSION, installedPgPoolVersion, SoulspotPgPool } from '../../src/db/pool.js';
import { openDatabase } from '../../src/db/client.js';
import { DatabaseError } from '../../src/errors.js';
import type { PoolSettings } from '../../src/config.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let db: TestDatabase;
let admin: pg.Client;

beforeAll(async () => {
  db = await createMigratedDatabase('postgresql');
  admin = new pg.Client({ connectionString: db.url, application_name: 'soulspot-test-admin' });
  await admin.connect();
});

afterAll(async () => {
  await admin?.end();
  await db?.drop();
});

const settings = (s: Partial<PoolSettings>): PoolSettings => ({ size: 2, maxOverflow: 3, timeoutSeconds: 5, recycleSeconds: 0, prePing: true, ...s });

/** Backend pids of the pool's connections, as the server sees them. */
async function serverPids(applicationName: string): Promise<number[]> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 ORDER BY pid`,
    [applicationName],
  );
  return rows.map((r) => r.pid);
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(50);
  }
}

test('openDatabase hands Prisma the instrumented pool, so Prisma queries are counted', async () => {
  const database = await openDatabase(db.config);
  try {
    expect(database.pgPool).toBeInstanceOf(SoulspotPgPool);
    const pool = database.pgPool as SoulspotPgPool;
    await database.prisma.track.count();
    await database.prisma.$transaction(async (tx) => tx.artist.count());
    const stats = pool.snapshot();
    expect(stats.acquired).toBeGreaterThanOrEqual(2);
    expect(stats.checked_out).toBe(0);
    expect(stats.connections_created).toBeGreaterThanOrEqual(1);
  } finally {
    await database.close();
  }
});

test('overflow connections open under load and close again once idle; pool_size stay open', async () => {
  const app = 'soulspot-overflow-test';
  const pool = createPgPool(db.url, settings({ size: 2, maxOverflow: 3 }), { overflowIdleMs: 300, applicationName: app });
  try {
    const clients = await Promise.all(Array.from({ length: 5 }, () => pool.connect()));
    let s = pool.snapshot();
    expect(s).toMatchObject({ pool_size: 2, max_overflow: 3, checked_out: 5, checked_in: 0, overflow: 3, connections: 5, utilization: 1, status: 'degraded' });
    expect(await serverPids(app)).toHaveLength(5);

    for (const c of clients) c.release();
    s = pool.snapshot();
    expect(s).toMatchObject({ checked_out: 0, checked_in: 5, utilization: 0, status: 'healthy' });

    // pg-pool counts a connection gone at once, and reports it closed once the socket is.
    await until(() => pool.totalCount === 2 && pool.snapshot().connections_closed === 3);
    s = pool.snapshot();
    expect(s).toMatchObject({ overflow: 0, connections: 2, checked_in: 2, connections_created: 5, connections_closed: 3 });
    await until(async () => (await serverPids(app)).length === 2);
    // The kept connections stay well past the idle time.
    await sleep(700);
    expect(pool.totalCount).toBe(2);
  } finally {
    await pool.end();
  }
});

test('an exhausted pool gives up after DATABASE_POOL_TIMEOUT with a one-line error naming the settings', async () => {
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 1, timeoutSeconds: 1 }));
  const database = await openDatabase(db.config, { pgPool: pool });
  try {
    const held = [await pool.connect(), await pool.connect()];
    const started = Date.now();
    const error = await pool.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    const waited = Date.now() - started;
    expect(error).toBeInstanceOf(DatabaseError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/timed out after 1 s/);
    expect(message).toContain('DATABASE_POOL_SIZE=1');
    expect(message).toContain('DATABASE_MAX_OVERFLOW=1');
    expect(message).toMatch(/raise DATABASE_POOL_SIZE or DATABASE_MAX_OVERFLOW/);
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(5000);

    // Prisma's queries wait in the same pool and get the same error.
    await expect(database.prisma.track.count()).rejects.toThrow(/DATABASE_POOL_TIMEOUT/);
    const s = pool.snapshot();
    expect(s).toMatchObject({ timeouts: 2, waiting: 0, checked_out: 2, utilization: 1, status: 'degraded' });
    expect(s.queued).toBeGreaterThanOrEqual(2);

    for (const c of held) c.release();
    await expect(database.prisma.track.count()).resolves.toBe(0);
  } finally {
    await database.close();
    await pool.end();
  }
});

test('connections are recycled after DATABASE_POOL_RECYCLE seconds', async () => {
  const app = 'soulspot-recycle-test';
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 0, recycleSeconds: 1 }), { applicationName: app });
  try {
    const first = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect((await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(first);
    await until(() => pool.snapshot().recycled === 1, 4000);
    const second = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect(second).not.toBe(first);
    await until(async () => (await serverPids(app)).join() === String(second));
    await until(() => pool.snapshot().connections_closed === 1);
    expect(pool.snapshot()).toMatchObject({ recycled: 1, connections_created: 2, connections_closed: 1 });
  } finally {
    await pool.end();
  }
});

/**
 * Terminates the backend behind the pool's idle connection and asks for a connection at once,
 * before node-postgres has noticed the termination. Returns the query's outcome.
 */
async function terminateAndQuery(prePing: boolean): Promise<{ ok: boolean; oldPid: number; newPid?: number; error?: string; prePingFailures: number }> {
  const app = `soulspot-preping-${prePing}`;
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 0, prePing }), { prePingBypassMs: 0, applicationName: app });
  pool.on('error', () => {}); // an idle connection noticing its termination is not a test failure
  try {
    const oldPid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect(await serverPids(app)).toEqual([oldPid]);
    await admin.query('SELECT pg_terminate_backend($1)', [oldPid]);
    try {
      const newPid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      return { ok: true, oldPid, newPid, prePingFailures: pool.snapshot().pre_ping_failures };
    } catch (error) {
      return { ok: false, oldPid, error: (error as Error).message, prePingFailures: pool.snapshot().pre_ping_failures };
    }
  } finally {
    await pool.end();
  }
}

test('pre-ping replaces a connection the server terminated (pg_terminate_backend)', async () => {
  // node-postgres sometimes notices the termination on its own first; then no ping is needed.
  // Every attempt must succeed on a new backend; at least one must be a pre-ping catch.
  let caught = 0;
  for (let attempt = 0; attempt < 6 && caught < 2; attempt += 1) {
    const result = await terminateAndQuery(true);
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.newPid).not.toBe(result.oldPid);
    caught += result.prePingFailures;
  }
  expect(caught).toBeGreaterThanOrEqual(1);
});

test('without pre-ping the terminated connection is handed out and the query fails (control)', async () => {
  let failures = 0;
  for (let attempt = 0; attempt < 4 && failures === 0; attempt += 1) {
    const result = await terminateAndQuery(false);
    expect(result.prePingFailures).toBe(0);
    if (!result.ok) {
      failures += 1;
      expect(result.error).toMatch(/terminat/i);
    }
  }
  expect(failures).toBe(1);
});

test('pre-ping applies to Prisma queries', async () => {
  const app = 'soulspot-preping-prisma';
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 0 }), { prePingBypassMs: 0, applicationName: app });
  const database = await openDatabase(db.config, { pgPool: pool });
  try {
    await database.prisma.artist.create({ data: { name: 'Nina Simone' } });
    for (let attempt = 0; attempt < 4; attempt += 1) {
      const [pid] = await serverPids(app);
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await expect(database.prisma.artist.count()).resolves.toBe(1);
      expect(await serverPids(app)).not.toContain(pid);
    }
    expect(pool.snapshot().pre_ping_failures).toBeGreaterThanOrEqual(1);
  } finally {
    await database.close();
    await pool.end();
  }
});

test('a connection used a moment ago skips the ping (bypass window); a fresh one is never pinged', async () => {
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 0 }), { prePingBypassMs: 60_000 });
  const seen: string[] = [];
  try {
    const client = await pool.connect();
    const original = client.query.bind(client);
    (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      seen.push(String(args[0]));
      return (original as (...a: unknown[]) => unknown)(...args);
    };
    client.release();
    const again = await pool.connect();
    expect(again).toBe(client);
    again.release();
    expect(seen).toEqual([]);
  } finally {
    await pool.end();
  }
  const pinging = createPgPool(db.url, settings({ size: 1, maxOverflow: 0 }), { prePingBypassMs: 0 });
  try {
    const client = await pinging.connect();
    const original = client.query.bind(client);
    const pings: string[] = [];
    (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      pings.push(String(args[0]));
      return (original as (...a: unknown[]) => unknown)(...args);
    };
    expect(pings).toEqual([]);
    client.release();
    (await pinging.connect()).release();
    expect(pings).toEqual(['SELECT 1']);
  } finally {
    await pinging.end();
  }
});

test('the pool settings come from the environment', () => {
  const config = configFor(db.url, { DATABASE_POOL_SIZE: '3', DATABASE_MAX_OVERFLOW: '4', DATABASE_POOL_TIMEOUT: '7', DATABASE_POOL_RECYCLE: '60' });
  const pool = createPgPool(config.databaseUrl, config.pool);
  try {
    expect(pool.options).toMatchObject({ min: 3, max: 7, connectionTimeoutMillis: 7000, maxLifetimeSeconds: 60, application_name: 'soulspot' });
    expect(pool.snapshot()).toMatchObject({ pool_size: 3, max_overflow: 4, connections: 0, status: 'healthy' });
  } finally {
    void pool.end();
  }
});

test('a statement that fails on the server keeps its connection; the error reaches the caller', async () => {
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 0 }));
  try {
    const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await expect(pool.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
    await expect(pool.query('SELECT * FROM no_such_table')).rejects.toThrow(/no_such_table/);
    expect((await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
    // An error inside a transaction someone opened with pool.query leaves the session aborted:
    // that connection is closed rather than handed to the next caller.
    await pool.query('BEGIN');
    await expect(pool.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
    const afterAbort = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect(afterAbort).not.toBe(pid);
    await expect(pool.query('SELECT 1')).resolves.toBeDefined();
    // A statement that kills its own connection closes it; the next one gets a new connection.
    await expect(pool.query('SELECT pg_terminate_backend(pg_backend_pid())')).rejects.toThrow(/terminat/i);
    const next = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect(next).not.toBe(afterAbort);
    await until(() => pool.snapshot().connections_closed === 2);
    expect(pool.snapshot()).toMatchObject({ checked_out: 0, connections: 1, connections_created: 3, connections_closed: 2 });
  } finally {
    await pool.end();
  }
});

test('a query node-postgres refuses outright fails without leaking the connection', async () => {
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 0, timeoutSeconds: 1 }));
  try {
    await pool.query('SELECT 1');
    await expect(pool.query(null as unknown as string)).rejects.toThrow();
    expect(pool.snapshot().checked_out).toBe(0);
    await expect(pool.query('SELECT 1')).resolves.toBeDefined();
  } finally {
    await pool.end();
  }
});

test('single statements on an idle connection skip pg-pool checkout and release, and the statistics still add up', async () => {
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 1 }));
  const fast = { taken: 0, declined: 0 };
  const internals = pool as unknown as { readyIdle(): unknown };
  const readyIdle = internals.readyIdle.bind(pool);
  internals.readyIdle = () => {
    const idle = readyIdle();
    if (idle) fast.taken += 1;
    else fast.declined += 1;
    return idle;
  };
  try {
    const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid; // opens the connection
    for (let i = 0; i < 20; i += 1) expect((await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
    expect(fast.taken).toBe(20);
    expect(pool.snapshot()).toMatchObject({ acquired: 21, checked_out: 0, connections: 1, connections_created: 1, timeouts: 0 });

    // A request queued behind a statement on the fast path gets the connection when it ends.
    const slow = pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.3)');
    const held = await pool.connect(); // the overflow connection
    const queued = pool.connect(); // waits: both connections are in use
    await sleep(50);
    expect(pool.snapshot()).toMatchObject({ checked_out: 2, waiting: 1 });
    expect((await slow).rows[0].pid).toBe(pid);
    const next = await queued;
    expect((await next.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
    next.release();
    held.release();
    expect(pool.snapshot()).toMatchObject({ checked_out: 0, waiting: 0, acquired: 24 });

    // Concurrent statements: the first takes the idle connection, the others the normal path.
    const results = await Promise.all(Array.from({ length: 8 }, () => pool.query('SELECT 1 AS one')));
    expect(results.every((r) => r.rows[0].one === 1)).toBe(true);
    expect(pool.snapshot()).toMatchObject({ checked_out: 0, acquired: 32, timeouts: 0 });
  } finally {
    await pool.end();
  }
});

test('a connection the server kills during a statement on the fast path: the statement fails, the pool replaces the connection', async () => {
  const app = 'soulspot-fast-path-kill';
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 0 }), { applicationName: app });
  try {
    const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const sleeping = pool.query('SELECT pg_sleep(5)'); // the fast path: idle, used a moment ago
    await until(async () => {
      const { rows } = await admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND query LIKE 'SELECT pg_sleep%'`, [pid]);
      return rows[0].n === 1;
    });
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    await expect(sleeping).rejects.toThrow(/terminat/i);
    const next = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    expect(next).not.toBe(pid);
    await until(() => pool.snapshot().connections_closed === 1);
    expect(pool.snapshot()).toMatchObject({ checked_out: 0, connections: 1, connections_created: 2, connections_closed: 1, acquired: 3 });
  } finally {
    await pool.end();
  }
});

test('the fast path is written for the pg-pool version package.json pins, and that is the one installed', () => {
  const pinned = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> }).dependencies['pg-pool'];
  expect(FAST_PATH_PG_POOL_VERSION).toBe(pinned);
  expect(installedPgPoolVersion()).toBe(pinned);
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 0 }));
  try {
    expect(pool.fastPath).toBe(true);
  } finally {
    void pool.end();
  }
});

test('on another pg-pool version the pool runs plain pg-pool (said once at debug level): it works and the statistics add up', async () => {
  const logged: string[] = [];
  const logger = { debug: (m: string) => logged.push(m), info() {}, warn() {}, error() {} };
  const other = '3.15.0';
  const pool = createPgPool(db.url, settings({ size: 1, maxOverflow: 1 }), { pgPoolVersion: other, logger });
  // The fast paths: a statement run on an idle connection directly, a connection taken from the idle list.
  const internals = pool as unknown as { runOnIdle: (...args: unknown[]) => unknown; takeIdle: (...args: unknown[]) => boolean };
  let fastUses = 0;
  const runOnIdle = internals.runOnIdle.bind(pool);
  internals.runOnIdle = (...args) => {
    fastUses += 1;
    return runOnIdle(...args);
  };
  const takeIdle = internals.takeIdle.bind(pool);
  internals.takeIdle = (...args) => {
    const taken = takeIdle(...args);
    if (taken) fastUses += 1;
    return taken;
  };
  const second = createPgPool(db.url, settings({ size: 1, maxOverflow: 0 }), { pgPoolVersion: other, logger });
  try {
    expect(pool.fastPath).toBe(false);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(`pg-pool ${other} is not ${FAST_PATH_PG_POOL_VERSION}`);

    const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    for (let i = 0; i < 20; i += 1) expect((await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
    await expect(pool.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
    expect(pool.snapshot()).toMatchObject({ acquired: 22, checked_out: 0, connections: 1, connections_created: 1, timeouts: 0 });

    // A request queued behind a statement gets the connection when it ends.
    const slow = pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid, pg_sleep(0.3)');
    const held = await pool.connect(); // the overflow connection
    const queued = pool.connect(); // waits: both connections are in use
    await sleep(50);
    expect(pool.snapshot()).toMatchObject({ checked_out: 2, waiting: 1 });
    expect((await slow).rows[0].pid).toBe(pid);
    const next = await queued;
    expect((await next.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
    next.release();
    held.release();
    expect(pool.snapshot()).toMatchObject({ checked_out: 0, waiting: 0, acquired: 25 });

    const results = await Promise.all(Array.from({ length: 8 }, () => pool.query('SELECT 1 AS one')));
    expect(results.every((r) => r.rows[0].one === 1)).toBe(true);
    expect(pool.snapshot()).toMatchObject({ checked_out: 0, acquired: 33, timeouts: 0 });

    // Prisma through the plain pool.
    const database = await openDatabase(db.config, { pgPool: pool });
    try {
      await expect(database.prisma.track.count()).resolves.toBe(0);
      const artists = (await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM artists')).rows[0].n;
      await expect(database.prisma.$transaction(async (tx) => tx.artist.count())).resolves.toBe(artists);
    } finally {
      await database.close();
    }
    expect(pool.snapshot()).toMatchObject({ checked_out: 0, timeouts: 0 });
    expect(pool.snapshot().acquired).toBeGreaterThanOrEqual(35);
    expect(fastUses).toBe(0);
  } finally {
    await pool.end();
    await second.end();
  }
});
