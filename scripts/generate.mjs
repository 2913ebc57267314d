#!/usr/bin/env node
// Offline Prisma client generation for both providers (run by `npm run build`, hence by `npm ci`),
// and the cache bench's LRU without metrics, derived from src/cache.
// `prisma generate` does not use the schema-engine binary but insists it exists; pointing
// PRISMA_SCHEMA_ENGINE_BINARY at any existing file stops it from downloading one (no network here).
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts', 'derive-schemas.mjs')], { stdio: 'inherit' });
execFileSync(process.execPath, [join(root, 'scripts', 'derive-lru-without-metrics.mjs')], { stdio: 'inherit' });
const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || join(root, 'package.json'),
  CHECKPOINT_DISABLE: '1',
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
};
const prismaCli = join(root, 'node_modules', 'prisma', 'build', 'index.js');
for (const schema of ['prisma/schema.prisma', 'prisma/sqlite/schema.prisma']) {
  execFileSync(process.execPath, [prismaCli, 'generate', '--schema', schema], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
}
