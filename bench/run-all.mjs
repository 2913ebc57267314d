#!/usr/bin/env node
// Runs every benchmark script in turn (after `npm run build`), each printing its own figures
// side by side with the baseline its issue names. PostgreSQL ones use 127.0.0.1:5432.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const scripts = ['cli.mjs', 'repositories.mjs', 'import.mjs', 'spotify.mjs', 'spotify-budget.mjs', 'pool.mjs', 'cache.mjs', 'doctor.mjs'];
let failed = 0;
for (const script of scripts) {
  console.log(`\n=== bench/${script} ===`);
  const run = spawnSync(process.execPath, [join(here, script), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.log(`bench/${script} exited ${run.status}`);
  }
}
process.exitCode = failed ? 1 : 0;
