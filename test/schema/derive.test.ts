import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot, schemaPath } from '../../src/paths.js';

/** model → field → type (without native @db types), as written in a schema file. */
function models(text: string): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const [, name, body] of text.matchAll(/^model (\w+) \{\n([\s\S]*?)^\}/gm)) {
    out[name] = {};
    for (const line of body.split('\n')) {
      const m = /^\s+(\w+)\s+(\S+)(.*)$/.exec(line);
      if (m && !m[1].startsWith('@@')) out[name][m[1]] = `${m[2]}${m[3].replace(/\s+@db\.\w+(\([^)]*\))?/g, '').replace(/\s+/g, ' ')}`;
    }
  }
  return out;
}

test('the SQLite schema is derived from prisma/schema.prisma and up to date', () => {
  expect(() => execFileSync(process.execPath, [join(packageRoot, 'scripts', 'derive-schemas.mjs'), '--check'], { stdio: 'pipe' })).not.toThrow();
});

test('both providers declare the same models, fields, relations and indexes', () => {
  const pg = readFileSync(schemaPath('postgresql'), 'utf8');
  const sqlite = readFileSync(schemaPath('sqlite'), 'utf8');
  expect(Object.keys(models(pg)).sort()).toEqual(['Album', 'Artist', 'Download', 'Playlist', 'PlaylistTrack', 'Track', 'TrackArtist']);
  expect(models(sqlite)).toEqual(models(pg));
  const indexes = (t: string) => [...t.matchAll(/map: "(ix_\w+)"/g)].map((m) => m[1]).sort();
  expect(indexes(sqlite)).toEqual(indexes(pg));
  expect(indexes(pg)).toEqual(expect.arrayContaining([
    'ix_tracks_album_track_number', 'ix_tracks_album_disc_track', 'ix_tracks_file_path', 'ix_tracks_updated_at',
    'ix_tracks_last_scanned_at', 'ix_tracks_broken_updated', 'ix_albums_artist_id', 'ix_albums_updated_at',
    'ix_artists_updated_at', 'ix_downloads_status_priority', 'ix_downloads_completed_at',
  ]));
});

test('each migrations folder names its provider in migration_lock.toml', () => {
  expect(readFileSync(join(packageRoot, 'prisma', 'migrations', 'migration_lock.toml'), 'utf8')).toMatch(/provider = "postgresql"/);
  expect(readFileSync(join(packageRoot, 'prisma', 'sqlite', 'migrations', 'migration_lock.toml'), 'utf8')).toMatch(/provider = "sqlite"/);
});
