/**
 * Faults of a real disk, made as root (pipeline/src/site/faults.ts, layout.ts): a full disk (a
 * small tmpfs) under import and check-bundle, and a store that cannot be written (a read-only
 * bind mount, and chattr +i). Each is a typed error, never "internal error"; the store hashes the
 * same after, nothing is written outside it, nothing is left in $TMPDIR. In the e2e project: the
 * unit project runs without root (the faults that need none are in faults.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';
import { checkBundle } from '../../pipeline/src/site/store.ts';
import { tempDir } from '../helpers/fixture.ts';
import { sha256 } from '../bundle/fixture.ts';
import { expectRefusal, fillUp, importInto, isRoot, keys, later, makeBundle, PAIRS, policyFile, readOnly, smallTmpfs } from './site-fixture.ts';

describe.skipIf(!isRoot)('a full disk (tmpfs)', () => {
  it('import: DISK_FULL, the store as it was, and a new store on a full disk leaves nothing', async () => {
    const fs = smallTmpfs('2m');
    try {
      const store = join(fs.dir, 'store');
      await importInto(store, await makeBundle());
      const big = await makeBundle([{ recipe: 'demo', version: '1.0', layer: 'x'.repeat(600_000) }], { serial: 2 });
      fillUp(fs.dir, 200_000);
      const e = await expectRefusal('import, disk full mid-extract', 'DISK_FULL', [store, fs.dir], () => importInto(store, big));
      expect(e.hint).toMatch(/free space/);
      expect(readdirSync(store).filter((n) => n.startsWith('.staging'))).toEqual([]);
      // a store that did not exist: nothing of it is left
      const fresh = join(fs.dir, 'new', 'store');
      await expectRefusal('import into a new store, disk full', 'DISK_FULL', fs.dir, () => importInto(fresh, big));
      expect(existsSync(join(fs.dir, 'new'))).toBe(false);
      // space freed: the same import now succeeds
      rmSync(join(fs.dir, 'filler'));
      expect((await importInto(store, big)).generation).toBe(2);
    } finally {
      fs.unmount();
    }
  });

  it('import of a large entry (hashed and written by a worker, O_DIRECT where allowed): DISK_FULL mid-entry, then imported whole', async () => {
    const fs = smallTmpfs('64m');
    try {
      const store = join(fs.dir, 'store');
      // Over PARALLEL_HASH_MIN_BYTES (16 MiB), no whole number of 4 KiB blocks.
      const big = await makeBundle([{ recipe: 'demo', version: '1.0', layer: 'z'.repeat(20 * 2 ** 20 + 1234) }]);
      fillUp(fs.dir, 8 * 2 ** 20);
      const e = await expectRefusal('import, disk full inside a large entry', 'DISK_FULL', fs.dir, () => importInto(store, big));
      expect(e.hint).toMatch(/free space/);
      expect(existsSync(store)).toBe(false);
      rmSync(join(fs.dir, 'filler'));
      expect((await importInto(store, big)).generation).toBe(1);
      const blobs = join(store, 'oci', 'blobs', 'sha256');
      const names = readdirSync(blobs);
      expect(names.some((n) => statSync(join(blobs, n)).size > 20 * 2 ** 20)).toBe(true);
      for (const n of names) expect(sha256(readFileSync(join(blobs, n)))).toBe(n); // every byte as signed, no padding
    } finally {
      fs.unmount();
    }
  });

  it('check-bundle: DISK_FULL for a full $TMPDIR, its work folder removed', async () => {
    const fs = smallTmpfs('1m');
    const saved = process.env['TMPDIR'];
    try {
      const big = await makeBundle([{ recipe: 'demo', version: '1.0', layer: 'y'.repeat(600_000) }]);
      const policy = policyFile();
      fillUp(fs.dir, 100_000);
      process.env['TMPDIR'] = fs.dir;
      const e = await expectRefusal('check-bundle, $TMPDIR full', 'DISK_FULL', fs.dir, () =>
        checkBundle({ bundlePath: big, policy: loadPolicy(policy), verifier: keys.verifier, now: later }),
      );
      expect(e.message).toContain(fs.dir);
      expect(readdirSync(fs.dir)).toEqual(['filler']);
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
      fs.unmount();
    }
  });
});

describe.skipIf(!isRoot)('a store that cannot be written', () => {
  it('read-only bind mount: STORE_NOT_WRITABLE, store unchanged', async () => {
    const store = tempDir('brickyard-store-');
    await importInto(store, await makeBundle());
    const b2 = await makeBundle(PAIRS, { serial: 2 });
    const undo = readOnly(store);
    try {
      const e = await expectRefusal('import, store on a read-only mount', 'STORE_NOT_WRITABLE', store, () => importInto(store, b2));
      expect(e.message).toMatch(/read-only file system/);
    } finally {
      undo();
    }
  });

  it('chattr +i on the store folder: STORE_NOT_WRITABLE, store unchanged', async () => {
    const store = tempDir('brickyard-store-');
    await importInto(store, await makeBundle());
    const b2 = await makeBundle(PAIRS, { serial: 2 });
    execFileSync('chattr', ['+i', store]);
    try {
      const e = await expectRefusal('import, store folder immutable (chattr +i)', 'STORE_NOT_WRITABLE', store, () => importInto(store, b2));
      expect(e.message).toMatch(/permission denied/);
    } finally {
      execFileSync('chattr', ['-i', store]);
    }
    expect((await importInto(store, b2)).generation).toBe(2);
  });
});
