import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/client.js';
import { QueryLog } from '../../src/db/query-log.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { TrackRepository } from '../../src/repositories/track-repository.js';
import { ArtistRepository } from '../../src/repositories/artist-repository.js';
import { configFor, createMigratedDatabase, providers } from '../helpers/db.js';

type Line = { level: string; message: string; fields?: Record<string, unknown> };
function capturingLogger(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('QueryLog', () => {
  test('counts every statement; logs nothing without echo unless slow', () => {
    const logger = capturingLogger();
    const log = new QueryLog(logger, { echo: false, slowQueryMs: 100 });
    log.record({ query: 'SELECT 1', duration: 3 });
    log.record({ query: 'SELECT pg_sleep(1)', params: '[]', duration: 250.456 });
    expect(log.count).toBe(2);
    expect(log.snapshot()).toEqual({ statements: 2, slow: 1, totalDurationMs: 253.46 });
    expect(logger.lines).toEqual([
      { level: 'warn', message: 'slow query (250.46 ms, SLOW_QUERY_MS=100)', fields: { duration_ms: 250.46, sql: 'SELECT pg_sleep(1)' } },
    ]);
  });

  test('echo logs each statement with its duration and parameters, clipped to one bounded line', () => {
    const logger = capturingLogger();
    const log = new QueryLog(logger, { echo: true, slowQueryMs: 0, maxLength: 40 });
    log.record({ query: 'SELECT *\n  FROM tracks\n  WHERE id = ?', params: '["abc"]', duration: 0.123 });
    log.record({ query: `INSERT INTO t VALUES ${'(?),'.repeat(100)}`, duration: 12 });
    expect(logger.lines[0]).toEqual({ level: 'info', message: 'query', fields: { duration_ms: 0.12, sql: 'SELECT * FROM tracks WHERE id = ?', params: '["abc"]' } });
    expect(logger.lines[1].fields!.sql).toMatch(/^INSERT INTO t VALUES \(\?\),.*… \(421 chars\)$/);
    expect(logger.lines.every((l) => l.level === 'info')).toBe(true); // SLOW_QUERY_MS=0: no slow warnings
  });

  test('countDuring and subscribe', async () => {
    const log = new QueryLog(capturingLogger(), { echo: false, slowQueryMs: 100 });
    const seen: string[] = [];
    const stop = log.subscribe((e) => seen.push(e.query));
    const { result, statements } = await log.countDuring(async () => {
      log.record({ query: 'A', duration: 1 });
      log.record({ query: 'B', duration: 1 });
      return 'done';
    });
    stop();
    log.record({ query: 'C', duration: 1 });
    expect({ result, statements }).toEqual({ result: 'done', statements: 2 });
    expect(seen).toEqual(['A', 'B']);
  });
});

describe.each(providers)('query log on %s', (provider) => {
  test('DATABASE_ECHO=true logs the repository statements; slow statements warn without echo', async () => {
    const test = await createMigratedDatabase(provider);
    try {
      const echoLogger = capturingLogger();
      const echoDb = await openDatabase(configFor(test.url, { DATABASE_ECHO: 'true', SLOW_QUERY_MS: '0' }), { logger: echoLogger });
      try {
        await new TrackRepository(echoDb).findByFilePath('/music/a.flac');
        expect(echoDb.queryLog.count).toBeGreaterThan(0);
        const line = echoLogger.lines.find((l) => String(l.fields?.sql).includes('file_path'));
        expect(line).toMatchObject({ level: 'info', message: 'query', fields: { duration_ms: expect.any(Number), params: expect.stringContaining('/music/a.flac') } });
        // Batched writes skip Prisma (src/db/direct.ts) and are logged all the same.
        const [artist] = await new ArtistRepository(echoDb).getOrCreateBatch([{ name: 'Echo Artist' }]);
        await new TrackRepository(echoDb).addBatch([{ title: 'Echoed Title', artistId: artist.id, fileSize: 5n }]);
        const insert = echoLogger.lines.find((l) => /INSERT INTO "tracks"/.test(String(l.fields?.sql)));
        expect(insert).toMatchObject({ level: 'info', message: 'query', fields: { duration_ms: expect.any(Number), params: expect.stringContaining('Echoed Title') } });
      } finally {
        await echoDb.close();
      }
      const quietLogger = capturingLogger();
      const quietDb = await openDatabase(configFor(test.url, { SLOW_QUERY_MS: '50' }), { logger: quietLogger });
      try {
        await new TrackRepository(quietDb).findByFilePath('/music/a.flac');
        const slowSql =
          provider === 'postgresql'
            ? 'SELECT pg_sleep(0.12)::text AS slept'
            : 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT count(*) AS c FROM n';
        await quietDb.prisma.$queryRawUnsafe(slowSql);
        // Without echo only slow statements are logged (on a loaded machine the first may be slow too).
        for (const line of quietLogger.lines) {
          expect(line).toMatchObject({ level: 'warn', message: expect.stringMatching(/^slow query \([\d.]+ ms, SLOW_QUERY_MS=50\)$/) });
          expect(line.fields!.duration_ms as number).toBeGreaterThanOrEqual(50);
        }
        expect(quietLogger.lines.filter((l) => l.fields!.sql === slowSql)).toHaveLength(1);
        expect(quietDb.queryLog.slowCount).toBe(quietLogger.lines.length);
      } finally {
        await quietDb.close();
      }
    } finally {
      await test.drop();
    }
  });

  test('LOG_FORMAT=json writes one JSON object per statement on stderr (built CLI modules)', async () => {
    const test = await createMigratedDatabase(provider);
    try {
      const root = join(process.cwd());
      const script = `
        const { loadConfig } = await import(${JSON.stringify(join(root, 'dist/config.js'))});
        const { createLogger } = await import(${JSON.stringify(join(root, 'dist/logger.js'))});
        const { withDatabase } = await import(${JSON.stringify(join(root, 'dist/db/client.js'))});
        const config = loadConfig({}, process.env);
        await withDatabase(config, (db) => db.prisma.track.count(), { logger: createLogger(config) });
        process.stdout.write('ok');
      `;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, DATABASE_URL: test.url, DATABASE_ECHO: 'true', SLOW_QUERY_MS: '0', LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.stdout).toBe('ok');
      const lines = run.stderr.trim().split('\n');
      expect(lines.length).toBeGreaterThan(0);
      const objects = lines.map((l) => JSON.parse(l));
      const count = objects.find((o) => /count/i.test(String(o.sql)));
      expect(count).toMatchObject({ level: 30, msg: 'query', name: 'soulspot', duration_ms: expect.any(Number) });
    } finally {
      await test.drop();
    }
  });
});

test('text format puts the SQL and duration on one line', () => {
  const chunks: string[] = [];
  const logger = createLogger({ logLevel: 'info', logFormat: 'text' }, { write: (c: string) => chunks.push(c) } as never);
  new QueryLog(logger, { echo: true, slowQueryMs: 100 }).record({ query: 'SELECT 1', duration: 1.5 });
  expect(chunks).toEqual(['info: query duration_ms=1.5 sql=SELECT 1\n']);
});
