import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WriteStream } from 'node:fs';
import { RejectsWriter } from '../../src/import/rejects.js';

const reject = { line: 2, reason: 'missing title', original: ',Nobody' };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'soulspot-rejects-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('RejectsWriter.check', () => {
  test('many imports checking one path at once all pass, and leave nothing behind', async () => {
    const path = join(dir, 'same.csv.rejects.csv');
    await Promise.all(Array.from({ length: 40 }, () => new RejectsWriter(path).check()));
    expect(readdirSync(dir)).toEqual([]);
  });

  test('an existing file is checked without being truncated', async () => {
    const path = join(dir, 'kept.csv');
    writeFileSync(path, 'line,reason,original\n');
    await new RejectsWriter(path).check();
    expect(existsSync(path)).toBe(true);
    expect(readdirSync(dir)).toEqual(['kept.csv']);
  });

  test('a directory, or a path below a regular file, is refused with what to do', async () => {
    await expect(new RejectsWriter(dir).check()).rejects.toThrow(/cannot create the rejects file .*is a directory; pass --rejects/);
    writeFileSync(join(dir, 'file'), '');
    await expect(new RejectsWriter(join(dir, 'file', 'r.csv')).check()).rejects.toThrow(/ENOTDIR/);
  });
});

describe('RejectsWriter.flush', () => {
  test('throws once a write failed, also before the stream has emitted its error', async () => {
    const writer = new RejectsWriter('/dev/full');
    await writer.write(reject).catch(() => {});
    const stream = (writer as unknown as { stream: WriteStream }).stream;
    while (!stream.destroyed) await new Promise((resolve) => setImmediate(resolve));
    await expect(writer.flush()).rejects.toThrow(/cannot write the rejects file \/dev\/full: .*ENOSPC/);
    await expect(writer.close()).rejects.toThrow(/ENOSPC/);
  });
});
