// A soulspot process that reads (and writes) tracks through a CachedTrackReader: the in-process LRU
// and, with CACHE_URL, the shared Redis tier. Driven by lines on stdin, one JSON line per answer:
//   get <id>            → { id, title, l1, l2 }   (title null: no such track)
//   write <id> <title>  → { written: n }          (through the repository and the reader's hooks)
//   quit                → closes everything; the process must then exit on its own
// Runs the built code (dist/ of this checkout), as the CLI does.
import { createInterface } from 'node:readline';

const dist = new URL('../../dist/', import.meta.url);
const { loadConfig } = await import(new URL('config.js', dist));
const { createLogger } = await import(new URL('logger.js', dist));
const { withDatabase } = await import(new URL('db/client.js', dist));
const { LRUCache, SharedCacheTier, trackCacheNamespace } = await import(new URL('cache/index.js', dist));
const { createCachedTrackReader } = await import(new URL('cache/cached-track-reader.js', dist));

const config = loadConfig();
const logger = createLogger(config);
const out = (value) => process.stdout.write(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}\n`);

await withDatabase(config, async (db) => {
  const tier = config.cacheUrl ? await SharedCacheTier.connect({ url: config.cacheUrl, namespace: trackCacheNamespace(config.databaseUrl), logger }) : undefined;
  try {
    const { reader, repository } = createCachedTrackReader(db, new LRUCache({ maxSize: 1000 }), tier);
    out({ ready: true, shared: tier !== undefined });
    for await (const line of createInterface({ input: process.stdin })) {
      const [command, id, ...rest] = line.trim().split(' ');
      if (command === 'get') {
        const track = await reader.getById(id);
        out({ id, title: track?.title ?? null, ...reader.stats() });
      } else if (command === 'write') {
        const { updated } = await repository.updateBatch([{ id, title: rest.join(' ') }]);
        out({ written: updated });
      } else if (command === 'quit') {
        break;
      }
    }
  } finally {
    tier?.close();
  }
});
