import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEmptyDatabase, providers, type TestDatabase } from '../helpers/db.js';
import { describeSchema, listTables } from '../helpers/catalog.js';
import { addMigration, copyMigrations } from '../helpers/migrations-dir.js';
import { applyMigrations, getMigrationStatus, resolveMigration, rollbackMigrations } from '../../src/migrate/migrator.js';
import { readMigrations, checksumOf } from '../../src/migrate/migrations.js';
import { openRawConnection } from '../../src/db/raw.js';
import { noFilters, toMigrationList, withSchemaEngine } from '../../src/migrate/schema-engine.js';
import { DatabaseError, UsageError } from '../../src/errors.js';

const MODEL_TABLES = ['albums', 'artists', 'downloads', 'playlist_tracks', 'playlists', 'track_artists', 'tracks'];
const PERFORMANCE_INDEXES = [
  'ix_tracks_album_track_number',
  'ix_tracks_album_disc_track',
  'ix_tracks_file_path',
  'ix_tracks_updated_at',
  'ix_tracks_last_scanned_at',
  'ix_tracks_broken_updated',
  'ix_albums_artist_id',
  'ix_albums_updated_at',
  'ix_artists_updated_at',
  'ix_downloads_status_priority',
  'ix_downloads_completed_at',
];

describe.each(providers)('migrator on %s', (provider) => {
  const dbs: TestDatabase[] = [];
  const fresh = async (env: Record<string, string> = {}) => {
    const db = await createEmptyDatabase(provider, env);
    dbs.push(db);
    return db;
  };
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
  });

  test('applies every migration once; a second run applies nothing', async () => {
    const db = await fresh();
    const first = await applyMigrations(db.config);
    expect(first.applied.map((m) => m.name)).toEqual(readMigrations(provider).migrations.map((m) => m.name));
    const second = await applyMigrations(db.config);
    expect(second.applied).toEqual([]);
    const status = await getMigrationStatus(db.config);
    expect(status.upToDate).toBe(true);
    expect(status.rows.every((r) => r.state === 'applied' && r.appliedAt instanceof Date)).toBe(true);
    const tables = await listTables(db.config);
    expect(tables.sort()).toEqual(['_prisma_migrations', ...MODEL_TABLES].sort());
  });

  test('creates the 11 performance indexes under their exact names', async () => {
    const db = await fresh();
    await applyMigrations(db.config);
    const schema = await describeSchema(db.config);
    const names = JSON.stringify(schema);
    for (const index of PERFORMANCE_INDEXES) expect(names).toContain(`"${index}"`);
  });

  test('records migrations exactly as Prisma does: its own engine finds no drift in the history', async () => {
    const db = await fresh();
    await applyMigrations(db.config);
    const set = readMigrations(provider);
    const conn = await openRawConnection(db.config);
    const rows = await conn.query<{ migration_name: string; checksum: string; finished_at: unknown; applied_steps_count: number | bigint }>(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations',
    );
    await conn.close();
    expect(rows.map((r) => [r.migration_name, r.checksum])).toEqual(set.migrations.map((m) => [m.name, checksumOf(readFileSync(join(set.dir, m.name, 'migration.sql'), 'utf8'))]));
    expect(rows.every((r) => r.finished_at !== null && Number(r.applied_steps_count) === 1)).toBe(true);
    const diagnosis = await withSchemaEngine(db.config, ({ engine }) =>
      engine.diagnoseMigrationHistory({ migrationsList: toMigrationList(set), optInToShadowDatabase: false, filters: noFilters }),
    );
    expect(diagnosis).toMatchObject({ editedMigrationNames: [], failedMigrationNames: [], hasMigrationsTable: true, history: null });
  });

  test('applying all migrations yields exactly the schema (no drift)', async () => {
    const migrated = await fresh();
    await applyMigrations(migrated.config);
    // The schema itself, straight from Prisma's engine (empty → schema.prisma), in another database.
    const direct = await fresh();
    const script = await withSchemaEngine(direct.config, async ({ engine, schema }) =>
      (await engine.diff({ from: { tag: 'empty' }, to: { tag: 'schemaDatamodel', files: [schema] }, script: true, exitCode: null, filters: noFilters })).stdout!,
    );
    const conn = await openRawConnection(direct.config);
    await conn.runInTransaction(script);
    await conn.close();
    expect(await describeSchema(migrated.config)).toEqual(await describeSchema(direct.config));
  });

  test('rolling every migration back yields an empty database', async () => {
    const db = await fresh();
    await applyMigrations(db.config);
    const { rolledBack } = await rollbackMigrations(db.config, { all: true });
    expect(rolledBack.map((m) => m.name)).toEqual(readMigrations(provider).migrations.map((m) => m.name).reverse());
    expect(await listTables(db.config)).toEqual(['_prisma_migrations']);
    const status = await getMigrationStatus(db.config);
    expect(status.rows.every((r) => r.state === 'pending')).toBe(true);
    // and it migrates up again
    expect((await applyMigrations(db.config)).applied.length).toBe(readMigrations(provider).migrations.length);
  });

  test('--dry-run reports the pending SQL and changes nothing', async () => {
    const db = await fresh();
    const report = await applyMigrations(db.config, { dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(report.applied[0].sql).toMatch(/CREATE TABLE "artists"/);
    // SQLite: not even the file is created.
    if (provider === 'sqlite') expect(existsSync(db.url.slice('file:'.length))).toBe(false);
    else expect(await listTables(db.config)).toEqual([]);
  });

  test('--to applies up to a migration; down --steps and --to roll back in order', async () => {
    const dir = copyMigrations(provider);
    addMigration(dir, '20990101000000_add_notes', 'CREATE TABLE "notes" ("id" INTEGER NOT NULL PRIMARY KEY, "body" TEXT);\n', 'DROP TABLE "notes";\n');
    addMigration(dir, '20990102000000_add_tags', 'CREATE TABLE "tags" ("id" INTEGER NOT NULL PRIMARY KEY);\n', 'DROP TABLE "tags";\n');
    const db = await fresh({ SOULSPOT_MIGRATIONS_DIR: dir });
    const first = await applyMigrations(db.config, { to: 'add_notes' });
    expect(first.applied.map((m) => m.name).at(-1)).toBe('20990101000000_add_notes');
    expect((await getMigrationStatus(db.config)).rows.at(-1)).toMatchObject({ name: '20990102000000_add_tags', state: 'pending' });
    await applyMigrations(db.config);
    expect(await listTables(db.config)).toEqual(expect.arrayContaining(['notes', 'tags']));

    const one = await rollbackMigrations(db.config, { steps: 1 });
    expect(one.rolledBack.map((m) => m.name)).toEqual(['20990102000000_add_tags']);
    expect(await listTables(db.config)).not.toContain('tags');
    await applyMigrations(db.config);
    const toInit = await rollbackMigrations(db.config, { to: readMigrations(provider).migrations.at(-1)!.name });
    expect(toInit.rolledBack.map((m) => m.name)).toEqual(['20990102000000_add_tags', '20990101000000_add_notes']);
    expect(await listTables(db.config)).toEqual(expect.not.arrayContaining(['notes', 'tags']));
    expect(await listTables(db.config)).toEqual(expect.arrayContaining(MODEL_TABLES));
    await expect(applyMigrations(db.config, { to: 'no_such_migration' })).rejects.toThrow(UsageError);
  });

  test('down refuses, changing nothing, when a reverse script is missing', async () => {
    const dir = copyMigrations(provider);
    addMigration(dir, '20990101000000_no_reverse', 'CREATE TABLE "irreversible" ("id" INTEGER NOT NULL PRIMARY KEY);\n');
    const db = await fresh({ SOULSPOT_MIGRATIONS_DIR: dir });
    await applyMigrations(db.config);
    const before = await describeSchema(db.config, { includeMigrationsTable: true });
    await expect(rollbackMigrations(db.config, { all: true })).rejects.toThrow(/down\.sql.*20990101000000_no_reverse|20990101000000_no_reverse.*nothing was rolled back/);
    expect(await describeSchema(db.config, { includeMigrationsTable: true })).toEqual(before);
    expect((await getMigrationStatus(db.config)).upToDate).toBe(true);
  });

  test('a failing migration is rolled back, recorded as failed, blocks later runs until resolved', async () => {
    const dir = copyMigrations(provider);
    const name = '20990101000000_broken';
    addMigration(dir, name, 'CREATE TABLE "half_done" ("id" INTEGER NOT NULL PRIMARY KEY);\nINSERT INTO "no_such_table" VALUES (1);\n', 'DROP TABLE "half_done";\n');
    const db = await fresh({ SOULSPOT_MIGRATIONS_DIR: dir });
    const error = await applyMigrations(db.config).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as Error).message).toContain(name);
    expect((error as Error).message).toMatch(/no_such_table/);
    expect((error as Error).message).not.toContain('\n');
    const tables = await listTables(db.config);
    expect(tables).toEqual(expect.arrayContaining(MODEL_TABLES)); // the good migration stays
    expect(tables).not.toContain('half_done'); // the failed one left nothing behind
    const status = await getMigrationStatus(db.config);
    expect(status.rows.find((r) => r.name === name)?.state).toBe('failed');
    expect(status.upToDate).toBe(false);
    await expect(applyMigrations(db.config)).rejects.toThrow(/failed earlier.*migrate resolve --rolled-back 20990101000000_broken/);

    await resolveMigration(db.config, name, 'rolled-back');
    // the operator fixes the script, then migrates again
    const fixed = 'CREATE TABLE "half_done" ("id" INTEGER NOT NULL PRIMARY KEY);\n';
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, name, 'migration.sql'), fixed);
    const report = await applyMigrations(db.config);
    expect(report.applied.map((m) => m.name)).toEqual([name]);
    expect(await listTables(db.config)).toContain('half_done');
    expect((await getMigrationStatus(db.config)).upToDate).toBe(true);
  });

  test('resolve --applied marks a failed migration applied without running it', async () => {
    const dir = copyMigrations(provider);
    const name = '20990101000000_fails';
    addMigration(dir, name, 'INSERT INTO "no_such_table" VALUES (1);\n', '');
    const db = await fresh({ SOULSPOT_MIGRATIONS_DIR: dir });
    await expect(applyMigrations(db.config)).rejects.toThrow(DatabaseError);
    await resolveMigration(db.config, name, 'applied');
    const status = await getMigrationStatus(db.config);
    expect(status.rows.find((r) => r.name === name)?.state).toBe('applied');
    expect(status.upToDate).toBe(true);
  });

  test('an applied migration whose file was edited is reported, never re-applied', async () => {
    const dir = copyMigrations(provider);
    const db = await fresh({ SOULSPOT_MIGRATIONS_DIR: dir });
    await applyMigrations(db.config);
    const first = readMigrations(provider, dir).migrations[0].name;
    appendFileSync(join(dir, first, 'migration.sql'), '\n-- edited after it was applied\n');
    const status = await getMigrationStatus(db.config);
    expect(status.rows[0]).toMatchObject({ name: first, state: 'edited' });
    expect(status.upToDate).toBe(false);
    const report = await applyMigrations(db.config);
    expect(report.applied).toEqual([]);
    expect(report.edited).toEqual([first]);
  });
});
