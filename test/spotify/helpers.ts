import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logger.js';
import { loadSpotifyConfig, type SpotifyConfig } from '../../src/spotify/config.js';
import { FakeSpotify } from '../../src/bench/fake-spotify/server.js';

/** `n` distinct valid track ids (22 base62 characters), deterministic. */
export function makeIds(n: number, prefix = 't'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(22 - prefix.length, '0')}`);
}

/** Config pointing at the fake, with fast retries for tests. */
export function configFor(fake: FakeSpotify, extra: Record<string, string> = {}): SpotifyConfig {
  return loadSpotifyConfig(fake.env({ SPOTIFY_RETRY_BASE_MS: '1', SPOTIFY_TIMEOUT_MS: '10000', SPOTIFY_CONCURRENCY: '4', ...extra }));
}

/** A debug-level text logger whose output the test can read. */
export function capturingLogger(): { logger: Logger; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk, _enc, cb) {
      out += String(chunk);
      cb();
    },
  });
  return { logger: createLogger({ logLevel: 'debug', logFormat: 'text' }, stream), text: () => out };
}

/** A 127.0.0.1 port with nothing listening (bound once, then released). */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Gives each test a fake Spotify API of its own, on a new port, and closes it after the test.
 * One fake shared by the whole file let the previous test leak into the next: a run stopped by a
 * fatal error aborts its requests in flight, but the ones already written to a socket are parsed
 * by the (in-process) fake only later, after the next test has reset it, where they took request
 * numbers (`n`) and counters that test's scripted faults and assertions rely on. A closed fake on
 * another port never sees them. `use` receives the fake before each test.
 */
export function useFakeSpotify(use: (fake: FakeSpotify) => void): void {
  let fake: FakeSpotify | undefined;
  beforeEach(async () => {
    fake = await FakeSpotify.start();
    use(fake);
  });
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });
}
