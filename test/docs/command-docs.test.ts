import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/paths.js';

const run = promisify(execFile);

/** Where two texts first differ, as "line N: committed … / generated …", for the failure message. */
function firstDifference(committed: string, generated: string): string {
  const a = committed.split('\n');
  const b = generated.split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  const n = line === -1 ? a.length : line;
  return `line ${n + 1}: committed ${JSON.stringify(a[n] ?? '<end of file>')}, generated ${JSON.stringify(b[n] ?? '<end of file>')}`;
}

test('docs/commands.md is the current --help of every command', async () => {
  // The generator reads the built program (dist/); `npm test` builds first.
  const { stdout: generated } = await run(process.execPath, [join(packageRoot, 'scripts', 'gen-command-docs.mjs'), '--stdout'], {
    cwd: packageRoot,
    env: { PATH: process.env.PATH ?? '', FORCE_COLOR: '1' },
  });
  const path = join(packageRoot, 'docs', 'commands.md');
  const committed = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const verdict =
    committed === generated
      ? 'fresh'
      : `docs/commands.md is stale (${firstDifference(committed, generated)}); run \`npm run build && npm run docs:commands\` and commit it`;
  expect(verdict).toBe('fresh');
});
