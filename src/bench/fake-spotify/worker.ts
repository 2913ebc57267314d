import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { FakeSpotify, type FakeSpotifyStats } from './server.js';

/**
 * The fake Spotify API on its own thread (same process, its own event loop), for benchmarks: a
 * real Spotify's latency does not wait for the client's JSON parsing, but a fake sharing the
 * client's event loop only starts a request's latency timer once the client yields. Only
 * plain-data options cross the thread boundary (a fixed latency; no fault scripts).
 */
export interface FakeWorkerOptions {
  /** The client id it accepts (the shared Spotify budget is keyed by it). */
  clientId?: string;
  latencyMs?: number;
  tokenTtlSeconds?: number;
  forbidSeveral?: boolean;
}

type Command = { id: number; cmd: 'stats' | 'reset' | 'close' | 'arrivals' } | { id: number; cmd: 'set'; options: FakeWorkerOptions };

export class FakeSpotifyWorker {
  private seq = 0;
  private readonly waiting = new Map<number, (value: unknown) => void>();

  private constructor(
    private readonly worker: Worker,
    readonly url: string,
    readonly clientId: string,
    readonly clientSecret: string,
  ) {
    worker.on('message', (m: { id: number; value: unknown }) => {
      this.waiting.get(m.id)?.(m.value);
      this.waiting.delete(m.id);
    });
  }

  static async start(options: FakeWorkerOptions = {}): Promise<FakeSpotifyWorker> {
    const worker = new Worker(new URL(import.meta.url), { workerData: options });
    const ready = await new Promise<{ url: string; clientId: string; clientSecret: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    return new FakeSpotifyWorker(worker, ready.url, ready.clientId, ready.clientSecret);
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    return { SPOTIFY_CLIENT_ID: this.clientId, SPOTIFY_CLIENT_SECRET: this.clientSecret, SPOTIFY_ACCOUNTS_URL: this.url, SPOTIFY_API_URL: this.url, ...extra };
  }

  private call<T>(command: Omit<Command, 'id'>): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve) => {
      this.waiting.set(id, resolve as (v: unknown) => void);
      this.worker.postMessage({ ...command, id });
    });
  }

  stats(): Promise<FakeSpotifyStats> {
    return this.call({ cmd: 'stats' });
  }

  /** When each API request arrived (the worker's performance.now(), ms), in arrival order. */
  arrivals(): Promise<number[]> {
    return this.call({ cmd: 'arrivals' });
  }

  resetStats(): Promise<void> {
    return this.call({ cmd: 'reset' });
  }

  set(options: FakeWorkerOptions): Promise<void> {
    return this.call({ cmd: 'set', options } as Omit<Command, 'id'>);
  }

  async close(): Promise<void> {
    await this.call({ cmd: 'close' });
    await this.worker.terminate();
  }
}

if (!isMainThread && parentPort) {
  const port = parentPort;
  const fake = await FakeSpotify.start(workerData as FakeWorkerOptions);
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- a failed close ends the worker with its error, which reaches the bench
  port.on('message', async (m: Command) => {
    let value: unknown;
    if (m.cmd === 'stats') value = { ...fake.stats };
    else if (m.cmd === 'arrivals') value = fake.log.map((r) => r.at);
    else if (m.cmd === 'reset') fake.resetStats();
    else if (m.cmd === 'set') Object.assign(fake.options, m.options);
    else if (m.cmd === 'close') await fake.close();
    port.postMessage({ id: m.id, value });
  });
  port.postMessage({ url: fake.url, clientId: fake.clientId, clientSecret: fake.clientSecret });
}
