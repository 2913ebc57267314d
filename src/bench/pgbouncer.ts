import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A real PgBouncer (Debian's `pgbouncer` package), started for a benchmark or a test run: transaction
 * pooling, trust authentication, on a free port of 127.0.0.1, in front of the PostgreSQL server of
 * `serverUrl`; every database of that server is reachable through it under its own name.
 */
export interface PgBouncer {
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  /** `url` with its host and port replaced by the bouncer's, and `?pgbouncer=true` added. */
  urlFor(url: string): string;
  /** Stops the bouncer (SIGTERM, then SIGKILL after 5 s) and removes its folder. */
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** Server connections per database and user (`default_pool_size`; default 3, as in issue 17's measurement). */
  poolSize?: number;
  /** `pool_mode` (default transaction). */
  poolMode?: 'session' | 'transaction' | 'statement';
  /**
   * Startup parameters PgBouncer accepts and drops (`ignore_startup_parameters`; default
   * extra_float_digits and options, so that clients that send `options` connect to PgBouncer 1.18).
   */
  ignoreStartupParameters?: string[];
  /** The pgbouncer executable (default: `pgbouncer` on the PATH, or /usr/sbin/pgbouncer). */
  binary?: string;
}

/** The pgbouncer executable, or undefined when it is not installed. */
export function findPgBouncer(): string | undefined {
  for (const candidate of ['pgbouncer', '/usr/sbin/pgbouncer']) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** The uid and gid of a system user, from /etc/passwd (undefined when there is none). */
function systemUser(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Starts a PgBouncer in front of the server of `serverUrl` and waits until it answers a query.
 * PgBouncer refuses to run as root: as root it is started with `-u postgres`, its files owned by
 * that user. Throws one line naming what is missing when the package is not installed.
 */
export async function startPgBouncer(serverUrl: string, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  const binary = options.binary ?? findPgBouncer();
  if (!binary) throw new Error('PgBouncer is not installed: expected the pgbouncer executable on the PATH; install it (apt-get install -y pgbouncer)');
  const server = new URL(serverUrl);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'soulspot-pgbouncer-'));
  const user = decodeURIComponent(server.username || 'postgres');
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(
    ini,
    [
      '[databases]',
      // Any database name: forwarded to the same name on the server.
      `* = host=${server.hostname.replace(/^\[|\]$/g, '')} port=${server.port || 5432}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      "unix_socket_dir = ''",
      `pool_mode = ${options.poolMode ?? 'transaction'}`,
      `default_pool_size = ${options.poolSize ?? 3}`,
      'min_pool_size = 0',
      'reserve_pool_size = 0',
      'max_client_conn = 500',
      'max_db_connections = 0',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      // Before 1.20 PgBouncer refuses a client that sends the `options` startup parameter.
      `ignore_startup_parameters = ${(options.ignoreStartupParameters ?? ['extra_float_digits', 'options']).join(', ')}`,
      'server_reset_query = DISCARD ALL',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      'admin_users = postgres',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'userlist.txt'), `"${user.replace(/"/g, '""')}" "${decodeURIComponent(server.password)}"\n`);
  const args = [ini];
  if (process.getuid?.() === 0) {
    const owner = systemUser('postgres');
    if (!owner) throw new Error('PgBouncer refuses to run as root and there is no postgres user to run it as; run as another user');
    for (const file of [dir, ini, join(dir, 'userlist.txt')]) chownSync(file, owner.uid, owner.gid);
    args.unshift('-u', 'postgres');
  }
  chmodSync(dir, 0o700);
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const urlFor = (url: string): string => {
    const through = new URL(url);
    through.hostname = '127.0.0.1';
    through.port = String(port);
    through.searchParams.set('pgbouncer', 'true');
    return through.toString();
  };
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(urlFor(serverUrl), child);
  } catch (error) {
    const log = (() => {
      try {
        return readFileSync(join(dir, 'pgbouncer.log'), 'utf8');
      } catch {
        return '';
      }
    })();
    await stop();
    throw new Error(`PgBouncer did not start on 127.0.0.1:${port}: ${(error as Error).message}${stderr || log ? `\n${stderr}${log}` : ''}`, { cause: error });
  }
  return { port, urlFor, stop };
}

async function waitUntilAnswering(url: string, child: ChildProcess): Promise<void> {
  const through = new URL(url);
  through.searchParams.delete('pgbouncer');
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`pgbouncer exited with code ${child.exitCode}`);
    const client = new pg.Client({ connectionString: through.toString(), connectionTimeoutMillis: 2000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      await client.end().catch(() => {});
    }
  }
}
