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
 * Starts one fake Spotify API for the test file and resets it before each test (no faults, no
 * unknown ids, fresh counters; with `revokeTokens`, no valid token either). `use` receives it.
 */
export function useFakeSpotify(use: (fake: FakeSpotify) => void, options: { revokeTokens?: boolean } = {}): void {
  let fake: FakeSpotify;
  beforeAll(async () => {
    fake = await FakeSpotify.start();
    use(fake);
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.options = {};
    fake.setUnknownIds([]);
    if (options.revokeTokens) fake.revokeTokens();
    fake.resetStats();
  });
}
