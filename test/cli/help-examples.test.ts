import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main.js';
import { packageRoot } from '../../src/paths.js';
import { createMigratedDatabase, type TestDatabase } from '../helpers/db.js';
import { FakeSpotify } from '../helpers/fake-spotify.js';

// Every `$ soulspot …` example of every --help runs as written: through /bin/sh (pipes and
// environment assignments included) with `soulspot` on PATH as the built CLI (`npm run build`
// first), each in a folder of its own holding a freshly migrated ./soulspot.db and the files the
// examples name. A PostgreSQL URL in an example is swapped for a throwaway migrated database;
// the Spotify API is the bundled fake. Nothing else is changed, except in the tables below.

/** The example URL of a PostgreSQL database, swapped for a throwaway one. */
const EXAMPLE_POSTGRES_URL = 'postgresql://postgres@127.0.0.1/soulspot';

/**
 * Examples that run for minutes as written, and what runs instead: the same command with its work
 * cut down by options added at the end, or the placeholder of the program's help filled in.
 */
const SUBSTITUTIONS: Record<string, string> = {
  'soulspot <command> --help': 'soulspot migrate --help',
  'soulspot cache-bench': 'soulspot cache-bench --ops 20000 --repeat 1 --db-samples 100 --db-rows 100',
  'soulspot cache-bench --workload zipf --skew 1.0 --cache-size 1000 --keys 100000':
    'soulspot cache-bench --workload zipf --skew 1.0 --cache-size 1000 --keys 100000 --ops 20000 --repeat 1 --db-samples 100 --db-rows 100',
  'soulspot cache-bench --json --ops 100000 --no-db': 'soulspot cache-bench --json --ops 100000 --no-db --repeat 1',
  'soulspot pool-stats --probe --concurrency 20 --duration 30 --watch': 'soulspot pool-stats --probe --concurrency 20 --duration 1 --watch',
  'DATABASE_POOL_SIZE=10 soulspot pool-stats --probe --json': 'DATABASE_POOL_SIZE=10 soulspot pool-stats --probe --json --duration 1',
  'soulspot cache-bench --format openmetrics --no-db': 'soulspot cache-bench --format openmetrics --no-db --ops 20000 --repeat 1',
  'soulspot pool-stats --probe --duration 60 --listen 127.0.0.1:9464': 'soulspot pool-stats --probe --duration 1 --listen 127.0.0.1:0',
  'soulspot bench': 'soulspot bench --scale small --repetitions 1',
  'soulspot bench --scale small --only playlists,cache-hit --json': 'soulspot bench --scale small --only playlists,cache-hit --json --repetitions 1',
  [`DATABASE_URL=${EXAMPLE_POSTGRES_URL} soulspot bench`]: `DATABASE_URL=${EXAMPLE_POSTGRES_URL} soulspot bench --scale small --repetitions 1`,
};

/** What an example needs beyond a migrated database, as its help describes the situation. */
const SETUP: Record<string, (dir: string) => void> = {
  // Resolving is for a migration that failed: make the applied one look failed.
  'soulspot migrate resolve --rolled-back 20261128174650_init': (dir) => {
    const db = new Database(join(dir, 'soulspot.db'));
    db.prepare("UPDATE _prisma_migrations SET finished_at = NULL, logs = 'failed by the test' WHERE migration_name = ?").run('20261128174650_init');
    db.close();
  },
};

/** Every example line of every command's help, without the description after it. */
function helpExamples(program: Command): string[] {
  const examples = new Set<string>();
  const visit = (command: Command) => {
    let help = '';
    command.configureOutput({ writeOut: (text) => (help += text) });
    command.outputHelp();
    for (const match of help.matchAll(/^\s+\$ (.+)$/gm)) examples.add(match[1].split(/\s{2,}/)[0]);
    command.commands.forEach(visit);
  };
  visit(program);
  return [...examples];
}

const examples = helpExamples(buildProgram());
const FIXTURES = join(packageRoot, 'test', 'fixtures', 'import');

describe('every example in --help runs as written', () => {
  let root: string;
  let template: string;
  let fake: FakeSpotify;
  const databases: TestDatabase[] = [];

  function shell(line: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', line], { cwd, env: { ...env, PATH: `${join(root, 'bin')}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? '' } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end();
    });
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'soulspot-examples-'));
    mkdirSync(join(root, 'bin'));
    writeFileSync(join(root, 'bin', 'soulspot'), `#!/bin/sh\nexec "${process.execPath}" "${join(packageRoot, 'bin', 'soulspot.js')}" "$@"\n`);
    chmodSync(join(root, 'bin', 'soulspot'), 0o755);
    fake = await FakeSpotify.start();
    // One folder the way a user has it after the quick start: a migrated ./soulspot.db and files to import.
    template = join(root, 'template');
    mkdirSync(template);
    const migrated = await shell('soulspot migrate', template, {});
    expect(migrated.code).toBe(0);
    cpSync(join(packageRoot, 'examples'), join(template, 'examples'), { recursive: true });
    writeFileSync(
      join(template, 'library.ndjson'),
      [
        { title: 'Paranoid Android', artist: 'Radiohead', album: 'OK Computer', duration_ms: 387213, track_number: 2, isrc: 'GBAYE9700093' },
        { title: 'Karma Police', artist: 'Radiohead', album: 'OK Computer', duration_ms: 264066, track_number: 6, isrc: 'GBAYE9700099' },
      ]
        .map((record) => JSON.stringify(record))
        .join('\n'),
    );
    copyFileSync(join(FIXTURES, 'tracks.tsv'), join(template, 'export.tsv'));
    copyFileSync(join(packageRoot, 'examples', 'liked-songs.csv'), join(template, 'big.csv'));
    writeFileSync(join(template, 'ids.txt'), '4uLU6hMCjMI75M1A2tKUQC\nspotify:track:7ouMYWpwJ422jRcDASZB7P\nhttps://open.spotify.com/track/3n3Ppam7vgaVa1iaRUc9Lp\n');
  });

  afterAll(async () => {
    await fake?.close();
    for (const db of databases) await db.drop();
    rmSync(root, { recursive: true, force: true });
  });

  test('there are examples, and every substitution and setup names one of them', () => {
    expect(examples.length).toBeGreaterThan(20);
    for (const example of [...Object.keys(SUBSTITUTIONS), ...Object.keys(SETUP)]) expect(examples).toContain(example);
  });

  test.each(examples)('$ %s', async (example) => {
    const dir = join(root, `example-${examples.indexOf(example)}`);
    cpSync(template, dir, { recursive: true });
    SETUP[example]?.(dir);
    let line = SUBSTITUTIONS[example] ?? example;
    if (line.includes(EXAMPLE_POSTGRES_URL)) {
      const db = await createMigratedDatabase('postgresql');
      databases.push(db);
      line = line.replaceAll(EXAMPLE_POSTGRES_URL, db.url);
    }
    const run = await shell(line, dir, fake.env());
    expect({ line, code: run.code, stderr: run.code === 0 ? '' : run.stderr }).toEqual({ line, code: 0, stderr: '' });
  }, 180_000);
});
