import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { configFor } from '../helpers/db.js';
import { applyMigrations } from '../../src/migrate/migrator.js';
import { runDoctor } from '../../src/diagnostics/doctor.js';

/*
 * The slow-statements check needs a server that loads pg_stat_statements, which the shared test
 * server does not (and must not be restarted for): this test starts a PostgreSQL of its own, from
 * the same installation, on a free port, with shared_preload_libraries = pg_stat_statements.
 * PostgreSQL refuses to run as root: as root (CI) the cluster runs as the user postgres.
 */

const bin = join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort().pop()!, 'bin');
const asPostgres = (command: string, args: string[]) =>
  userInfo().uid === 0 ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], { stdio: 'pipe' }) : execFileSync(join(bin, command), args, { stdio: 'pipe' });

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('doctor: slowest statements from pg_stat_statements (a server of its own)', () => {
  let dir: string;
  let port: number;
  const url = () => `postgresql://postgres@127.0.0.1:${port}/soulspot`;

  async function sql(statements: string[], database = 'soulspot'): Promise<void> {
    const client = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/${database}` });
    await client.connect();
    try {
      for (const s of statements) await client.query(s);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'soulspot-pgss-'));
    if (userInfo().uid === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
    port = await freePort();
    asPostgres('initdb', ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres']);
    asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c shared_preload_libraries=pg_stat_statements`, 'start']);
    await sql(['CREATE DATABASE soulspot'], 'postgres');
    await applyMigrations(configFor(url()));
  }, 120_000);

  afterAll(() => {
    if (dir) {
      try {
        asPostgres('pg_ctl', ['-D', join(dir, 'data'), '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  const check = async (env: Record<string, string> = {}) => (await runDoctor(configFor(url(), env))).checks.find((c) => c.id === 'slow-statements')!;

  test('loaded but not created in this database: said plainly, with the one step left', async () => {
    expect(await check()).toMatchObject({
      status: 'skipped',
      found: 'pg_stat_statements is not available: the extension is not created in this database; the slowest statements cannot be shown',
      fix: 'CREATE EXTENSION pg_stat_statements',
    });
  });

  test('available: the slowest statements by mean time; a warning when above SLOW_QUERY_MS', async () => {
    await sql(['CREATE EXTENSION pg_stat_statements', 'SELECT pg_sleep(0.3)', 'SELECT count(*) FROM tracks']);
    const slow = await check({ SLOW_QUERY_MS: '100' });
    expect(slow.status).toBe('warning');
    expect(slow.found).toMatch(/^above SLOW_QUERY_MS=100 on average: 3\d\d\.\d ms mean × 1 call: SELECT pg_sleep\(\$1\)/);
    expect(slow.fix).toMatch(/^EXPLAIN \(ANALYZE, BUFFERS\)/);

    const relaxed = await check({ SLOW_QUERY_MS: '5000' });
    expect(relaxed).toMatchObject({ status: 'ok', fix: null, found: expect.stringMatching(/^slowest: 3\d\d\.\d ms mean × 1 call: SELECT pg_sleep\(\$1\) \| /) });
  });
});
