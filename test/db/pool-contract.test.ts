import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import type { PoolSettings } from '../../src/config.js';
import { createPgPool, type PoolTuning, type SoulspotPgPool } from '../../src/db/pool.js';
import { PG_ADMIN_URL } from '../helpers/db.js';

// pg.Pool's contract, as pg-pool's own tests state it (test/events.js, connection-timeout.js,
// timeout.js, error-handling.js, releasing-clients.js, sizing.js of pg-pool 3.x), checked against
// soulspot's pool on both of its paths: the fast path (pg-pool 3.14.0's internals) and plain
// pg-pool (another version). Read-only statements on the test server's own database.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const settings = (s: Partial<PoolSettings> = {}): PoolSettings => ({ size: 1, maxOverflow: 1, timeoutSeconds: 2, recycleSeconds: 0, prePing: true, ...s });

/** Counts a pool's events, and checks that no more connections were released than acquired at any time. */
function countEvents(pool: pg.Pool) {
  const counts = { connect: 0, acquire: 0, release: 0, releaseErrors: 0, remove: 0, error: 0, overReleased: false };
  pool.on('connect', () => (counts.connect += 1));
  pool.on('acquire', () => (counts.acquire += 1));
  pool.on('release', (err: unknown) => {
    counts.release += 1;
    if (err) counts.releaseErrors += 1;
    if (counts.release > counts.acquire) counts.overReleased = true;
  });
  pool.on('remove', () => (counts.remove += 1));
  pool.on('error', () => (counts.error += 1));
  return counts;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

async function terminate(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

const paths: Array<[string, PoolTuning]> = [
  ['fast path', {}],
  ['plain pg-pool path', { pgPoolVersion: '0.0.0-other' }],
];

describe.each(paths)('SoulspotPgPool keeps pg.Pool’s contract (%s)', (name, tuning) => {
  const pools: SoulspotPgPool[] = [];
  const make = (s: Partial<PoolSettings> = {}, url = PG_ADMIN_URL): SoulspotPgPool => {
    const pool = createPgPool(url, settings(s), tuning);
    expect(pool.fastPath).toBe(name === 'fast path');
    pools.push(pool);
    return pool;
  };
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => (p.ending ? Promise.resolve() : p.end())));
  });

  test('connect callbacks are always called asynchronously: a new connection, an idle one, an error after end()', async () => {
    const pool = make();
    const calledBack = (fn: (cb: () => void) => void) =>
      new Promise<boolean>((resolve) => {
        let returned = false;
        fn(() => resolve(returned));
        returned = true;
      });
    // A new connection, then the idle one (the fast path has it at once), with and without pre-ping.
    for (let i = 0; i < 3; i++) {
      expect(
        await calledBack((done) =>
          pool.connect((err, client, release) => {
            expect(err).toBeFalsy();
            release();
            done();
          }),
        ),
      ).toBe(true);
    }
    expect(await calledBack((done) => pool.query('SELECT 1', () => done()))).toBe(true);
    await pool.end();
    // pg-pool itself calls back at once here; pg.Pool's documented contract says asynchronously.
    let error: Error | undefined;
    expect(
      await calledBack((done) =>
        pool.connect((err) => {
          error = err;
          done();
        }),
      ),
    ).toBe(true);
    expect(error?.message).toMatch(/Cannot use a pool after calling end on the pool/);
  });

  test('every acquire has its release: single statements, checkouts, failed statements, killed and destroyed connections', async () => {
    const pool = make({ size: 2, maxOverflow: 2 });
    const events = countEvents(pool);
    // Single statements (the fast path when idle): one acquire and one release each, as pg-pool's query.
    await pool.query('SELECT 1');
    const before = events.acquire;
    for (let i = 0; i < 20; i++) await pool.query('SELECT $1::int AS n', [i]);
    expect(events.acquire - before).toBe(20);
    expect(events.release).toBe(events.acquire);
    // Concurrent checkouts, more than the pool holds.
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        const client = await pool.connect();
        await client.query('SELECT pg_sleep(0.01)');
        client.release();
      }),
    );
    // A statement the server refuses; one that kills its own connection; one node-postgres refuses.
    await expect(pool.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
    await expect(pool.query('SELECT pg_terminate_backend(pg_backend_pid())')).rejects.toThrow(/terminat/i);
    await expect(pool.query(null as unknown as string)).rejects.toThrow();
    // Released with an error, or destroyed (release(true)): closed, the release event carries it.
    const broken = await pool.connect();
    broken.release(new Error('broken by the caller'));
    const destroyed = await pool.connect();
    destroyed.release(true);
    // A connection killed while idle: pg-pool removes it ('error' on the pool); pre-ping replaces the next.
    const idle = await pool.connect();
    const pid = (await idle.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    idle.release();
    await terminate(pid);
    await sleep(600); // past the pre-ping bypass window (500 ms)
    await expect(pool.query('SELECT 1')).resolves.toBeDefined();
    await until(() => pool.idleCount + pool.waitingCount === pool.totalCount);
    expect(events.overReleased).toBe(false);
    expect(events.release).toBe(events.acquire);
    expect(events.releaseErrors).toBeGreaterThanOrEqual(3);
    expect(pool.snapshot().checked_out).toBe(0);
    await until(() => events.remove === events.connect - pool.totalCount);
  });

  test('a connection killed during a single statement on an idle connection: the statement fails, acquire and release stay balanced', async () => {
    const pool = make({ size: 1, maxOverflow: 0 });
    const events = countEvents(pool);
    const pid = (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    const slow = pool.query('SELECT pg_sleep(5)');
    await until(() => events.acquire === 2);
    await terminate(pid);
    await expect(slow).rejects.toThrow();
    await until(() => events.remove === 1);
    expect(events.release).toBe(events.acquire);
    expect(events.overReleased).toBe(false);
    expect(pool.snapshot().checked_out).toBe(0);
    await expect(pool.query('SELECT 1')).resolves.toBeDefined();
  });

  test('a checkout that times out says "timeout" (and soulspot’s wording), emits neither acquire nor release', async () => {
    const pool = make({ size: 1, maxOverflow: 0, timeoutSeconds: 1 });
    const held = await pool.connect();
    const events = countEvents(pool);
    const viaConnect = await pool.connect().then(
      () => undefined,
      (error: Error) => error,
    );
    const viaQuery = await pool.query('SELECT 1').then(
      () => undefined,
      (error: Error) => error,
    );
    const viaCallback = await new Promise<Error | undefined>((resolve) => pool.connect((err) => resolve(err)));
    for (const error of [viaConnect, viaQuery, viaCallback]) {
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).toContain('timeout'); // pg-pool's tests: expect(err.message).to.contain('timeout')
      expect(error!.message).toMatch(/timed out after 1 s \(DATABASE_POOL_TIMEOUT\) waiting for a PostgreSQL connection/);
      expect((error!.cause as Error).message).toBe('timeout exceeded when trying to connect');
    }
    expect(events).toMatchObject({ acquire: 0, release: 0 });
    held.release();
    expect(events).toMatchObject({ acquire: 0, release: 1 }); // the checkout made before counting began
    expect(pool.snapshot()).toMatchObject({ timeouts: 3, checked_out: 0 });
  });

  describe('a server that never answers the startup', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    let url: string;
    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `postgresql://postgres@127.0.0.1:${(server.address() as { port: number }).port}/postgres`;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    test('opening a connection that times out says "timeout" (and soulspot’s wording); no acquire, no release', async () => {
      const pool = make({ size: 0, maxOverflow: 1, timeoutSeconds: 1, prePing: false }, url);
      const events = countEvents(pool);
      const error = await pool.connect().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(error?.message).toContain('timeout');
      expect(error?.message).toMatch(/PostgreSQL did not accept a connection within 1 s \(DATABASE_POOL_TIMEOUT\)/);
      expect(events).toMatchObject({ connect: 0, acquire: 0, release: 0 });
      expect(pool.totalCount).toBe(0);
    });
  });

  test('events: connect before the first checkout, with the client; acquire on every checkout; release with the error', async () => {
    const pool = make({ size: 2, maxOverflow: 0 });
    const order: string[] = [];
    let connected: pg.PoolClient | undefined;
    pool.on('connect', (client) => {
      connected = client;
      order.push('connect');
    });
    pool.on('acquire', () => order.push('acquire'));
    let releasedWith: unknown = 'none';
    pool.on('release', (err: unknown) => (releasedWith = err));
    const client = await pool.connect();
    order.push('callback');
    expect(order).toEqual(['connect', 'acquire', 'callback']);
    expect(client).toBe(connected);
    const error = new Error('done with it');
    client.release(error);
    expect(releasedWith).toBe(error);
    // Ten checkouts in a row of the idle connection(s): ten acquires.
    const acquires = order.length;
    for (let i = 0; i < 10; i++) (await pool.connect()).release();
    expect(order.filter((e, i) => i >= acquires && e === 'acquire')).toHaveLength(10);
  });

  test('releasing twice throws as pg-pool does; a function as the first argument to query is refused', async () => {
    const pool = make();
    const client = await pool.connect();
    client.release();
    expect(() => client.release()).toThrow(/Release called on client which has already been released to the pool/);
    // pg-pool takes the function for the callback and calls it back with the refusal.
    const refused = await new Promise<Error>((resolve) => {
      const callback = (err: Error) => resolve(err);
      void (pool.query as unknown as (cb: typeof callback) => unknown)(callback);
    });
    expect(refused.message).toMatch(/Passing a function as the first parameter to pool.query is not supported/);
  });

  test('sizing: at most size + overflow connections, the rest wait, counts as pg-pool reports them', async () => {
    const pool = make({ size: 2, maxOverflow: 3 });
    const clients = await Promise.all(Array.from({ length: 5 }, () => pool.connect()));
    const waiting = Array.from({ length: 3 }, () => pool.connect());
    expect(pool.totalCount).toBe(5);
    expect(pool.waitingCount).toBe(3);
    expect(pool.idleCount).toBe(0);
    for (const c of clients) c.release();
    for (const c of await Promise.all(waiting)) c.release();
    expect(pool.waitingCount).toBe(0);
    expect(pool.idleCount).toBe(5);
  });

  test('query with callbacks, with and without values', async () => {
    const pool = make();
    const plain = await new Promise<unknown>((resolve, reject) => pool.query('SELECT 1 AS n', (err, res) => (err ? reject(err) : resolve(res.rows))));
    expect(plain).toEqual([{ n: 1 }]);
    const withValues = await new Promise<unknown>((resolve, reject) => pool.query('SELECT $1::int AS n', [7], (err, res) => (err ? reject(err) : resolve(res.rows))));
    expect(withValues).toEqual([{ n: 7 }]);
    const failed = await new Promise<Error>((resolve) => pool.query('SELECT 1 / 0', (err) => resolve(err)));
    expect(failed.message).toMatch(/division by zero/);
  });
});

describe('deliberate differences from pg.Pool (docs/pool-and-health.md)', () => {
  test('a statement the server refuses keeps a healthy connection (pg.Pool closes it)', async () => {
    const ours = createPgPool(PG_ADMIN_URL, settings({ size: 1, maxOverflow: 0 }));
    const plain = new pg.Pool({ connectionString: PG_ADMIN_URL, max: 1 });
    try {
      for (const pool of [ours, plain]) {
        const events = countEvents(pool);
        const pid = async () => (await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
        const first = await pid();
        await expect(pool.query('SELECT 1 / 0')).rejects.toThrow(/division by zero/);
        const second = await pid();
        if (pool === ours) {
          expect(second).toBe(first);
          expect(events.remove).toBe(0);
        } else {
          expect(second).not.toBe(first);
          await until(() => events.remove === 1);
        }
        expect(events.release).toBe(events.acquire);
      }
    } finally {
      await Promise.all([ours.end(), plain.end()]);
    }
  });

  test('a pool error with no listener of the caller does not end the process (pg.Pool would throw it)', async () => {
    const pool = createPgPool(PG_ADMIN_URL, settings({ size: 1, maxOverflow: 0 }));
    try {
      const client = await pool.connect();
      const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      client.release();
      const removed = new Promise<void>((resolve) => pool.once('remove', () => resolve()));
      await terminate(pid); // the idle connection breaks: pg-pool emits 'error' on the pool
      await removed;
      expect(pool.listenerCount('error')).toBeGreaterThan(0);
      await expect(pool.query('SELECT 1')).resolves.toBeDefined();
    } finally {
      await pool.end();
    }
  });
});
