/**
 * A commit's buffers reach its segment file in one writev; a short write goes
 * on from the first byte not written.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { unwritten, writeAll } from '../../src/store/duckdb/append.js';
import { removeDir, tempDir } from '../helpers/server.js';

const text = (buffers: Buffer[]): string => Buffer.concat(buffers).toString();

describe('segment appends', () => {
  it('what a short write leaves is exactly the bytes after it, at every cut', () => {
    const buffers = ['ab', '', 'cde', 'f', 'ghij'].map((s) => Buffer.from(s));
    const all = text(buffers);
    for (let n = 0; n <= all.length; n++) assert.equal(text(unwritten(buffers, n)), all.slice(n), `after ${n} bytes`);
    assert.deepEqual(unwritten(buffers, all.length), []);
    // The caller's list and buffers are left as they were.
    assert.equal(text(buffers), all);
  });

  it('appends every buffer in order after what the file held, more buffers than one writev takes included', async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, 's0.ndjson');
      fs.writeFileSync(file, 'first\n');
      // Linux takes at most 1,024 buffers in one writev (IOV_MAX).
      const lines = Array.from({ length: 3000 }, (_, i) => Buffer.from(`{"_seq":${i},"message":"${'x'.repeat((i * 37) % 2000)}"}\n`));
      const handle = await fs.promises.open(file, 'a');
      try {
        assert.equal(await writeAll(handle, lines), Buffer.concat(lines).length);
        assert.equal(await writeAll(handle, []), 0);
      } finally {
        await handle.close();
      }
      assert.equal(fs.readFileSync(file, 'utf8'), 'first\n' + text(lines));
    } finally {
      removeDir(dir);
    }
  });
});
