import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PARALLEL_HASH_MIN_BYTES, RangeHasher, sha256For } from '../../pipeline/src/bundle/hasher.ts';

const reference = (chunks: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
};

describe('sha256 on a second core', () => {
  it('gives the digest of node:crypto for a large entry fed in uneven chunks', () => {
    const data = randomBytes(PARALLEL_HASH_MIN_BYTES + 3 * 1048576 + 12345); // more than the ring holds
    const sizes = [1, 4096, 1048576, 1048577, 3 * 1048576 + 7, 65536];
    const chunks: Uint8Array[] = [];
    for (let off = 0, i = 0; off < data.length; i++) {
      const n = Math.min(sizes[i % sizes.length]!, data.length - off);
      chunks.push(data.subarray(off, off + n));
      off += n;
    }
    const h = sha256For(data.length);
    for (const c of chunks) h.update(c);
    expect(h.digestHex()).toBe(reference([data]));
  });

  it('matches node:crypto for any split of the bytes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3 * 1048576 }), { maxLength: 6 }), (chunks) => {
        const h = sha256For(PARALLEL_HASH_MIN_BYTES); // force the parallel path
        for (const c of chunks) h.update(c);
        expect(h.digestHex()).toBe(reference(chunks));
      }),
      { numRuns: 12 },
    );
  });

  it('hashes small entries inline, and an abandoned hash stops its worker', () => {
    const small = sha256For(10);
    small.update(Buffer.from('abc'));
    expect(small.digestHex()).toBe(reference([Buffer.from('abc')]));
    const big = sha256For(PARALLEL_HASH_MIN_BYTES);
    big.update(randomBytes(1000));
    big.dispose();
  });
});

describe('RangeHasher: entries hashed by a worker reading the file itself', () => {
  it('gives the digest of the bytes across parts, and how many it found when a part is shorter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'brickyard-range-'));
    try {
      const a = randomBytes(3 * 1048576 + 5);
      const b = randomBytes(700_001);
      writeFileSync(join(dir, 'a'), a);
      writeFileSync(join(dir, 'b'), b);
      const pool = new RangeHasher(2);
      const whole = await pool.hash([
        { path: join(dir, 'a'), offset: 1000, length: a.length - 1000 },
        { path: join(dir, 'b'), offset: 0, length: 500_000 },
      ]);
      expect(whole).toMatchObject({ hex: reference([a.subarray(1000), b.subarray(0, 500_000)]), bytes: a.length - 1000 + 500_000 });
      const short = await pool.hash([{ path: join(dir, 'b'), offset: 0, length: b.length + 10 }]);
      expect(short.bytes).toBe(b.length);
      const missing = await pool.hash([{ path: join(dir, 'gone'), offset: 0, length: 1 }]);
      expect(missing.error).toMatch(/ENOENT/);
      expect(missing).toMatchObject({ phase: 'read', code: 'ENOENT' });
      expect(missing.hex).toBeUndefined();
      pool.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('RangeHasher copying: an entry hashed and written into its file by the worker', () => {
  // Parts that cut the entry at odd offsets, and a size that is no whole number of blocks or pieces.
  const parts = (dir: string): { ranges: { path: string; offset: number; length: number }[]; bytes: Buffer } => {
    const a = randomBytes(9 * 1048576 + 4097);
    const b = randomBytes(5 * 1048576 + 333);
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    return {
      ranges: [
        { path: join(dir, 'a'), offset: 511, length: a.length - 511 },
        { path: join(dir, 'b'), offset: 0, length: b.length - 100 },
      ],
      bytes: Buffer.concat([a.subarray(511), b.subarray(0, b.length - 100)]),
    };
  };

  /** A folder of its own (on disk, `base`) and a one-worker pool for one test; both gone after. */
  const withCopyPool = async (fn: (dir: string, pool: RangeHasher) => Promise<void>, base = tmpdir()): Promise<void> => {
    const dir = mkdtempSync(join(base, 'brickyard-copy-'));
    const pool = new RangeHasher(1);
    try {
      await fn(dir, pool);
    } finally {
      pool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };

  for (const direct of [false, true]) {
    it(`writes exactly the bytes it hashed, durable when asked (${direct ? 'O_DIRECT' : 'buffered'})`, async (ctx) => {
      // On disk, also in the unit project (its $TMPDIR is in memory, and tmpfs refuses O_DIRECT)
      await withCopyPool(async (dir, pool) => {
        const { ranges, bytes } = parts(dir);
        const dest = join(dir, 'out');
        let fd: number;
        try {
          fd = openSync(dest, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (direct ? constants.O_DIRECT : 0), 0o644);
        } catch (e) {
          if (direct && (e as NodeJS.ErrnoException).code === 'EINVAL') ctx.skip(`${dir} refuses O_DIRECT`);
          throw e;
        }
        let progress = 0;
        const d = await pool.hash(ranges, { fd, sync: true, direct }, (n) => (progress += n));
        closeSync(fd);
        expect(d).toMatchObject({ hex: reference([bytes]), bytes: bytes.length });
        expect(progress).toBe(bytes.length);
        expect(statSync(dest).size).toBe(bytes.length); // the padding of the last direct block cut off
        expect(readFileSync(dest).equals(bytes)).toBe(true);
        // A second entry through the same worker (its aligned buffer reused).
        const dest2 = join(dir, 'out2');
        const fd2 = openSync(dest2, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (direct ? constants.O_DIRECT : 0), 0o644);
        const d2 = await pool.hash([ranges[1]!], { fd: fd2, sync: false, direct });
        closeSync(fd2);
        expect(d2.hex).toBe(reference([readFileSync(join(dir, 'b')).subarray(0, ranges[1]!.length)]));
        expect(readFileSync(dest2).equals(readFileSync(join(dir, 'b')).subarray(0, ranges[1]!.length))).toBe(true);
      }, process.env['BRICKYARD_TEST_DISK_TMPDIR']);
    });
  }

  it('a part that cannot be read, mid-copy, comes back as a read error; the worker then copies the next entry whole', async () => {
    await withCopyPool(async (dir, pool) => {
      const { ranges, bytes } = parts(dir);
      const fd = openSync(join(dir, 'out'), 'w');
      const broken = await pool.hash([ranges[0]!, { path: join(dir, 'gone'), offset: 0, length: 1 << 20 }], { fd, sync: false, direct: false });
      closeSync(fd);
      expect(broken).toMatchObject({ phase: 'read', code: 'ENOENT' });
      expect(broken.hex).toBeUndefined();
      const fd2 = openSync(join(dir, 'out2'), 'w');
      const whole = await pool.hash(ranges, { fd: fd2, sync: true, direct: false });
      closeSync(fd2);
      expect(whole).toMatchObject({ hex: reference([bytes]), bytes: bytes.length });
      expect(readFileSync(join(dir, 'out2')).equals(bytes)).toBe(true);
    });
  });

  it('a write that fails comes back as a write error with its errno (not as a digest)', async () => {
    await withCopyPool(async (dir, pool) => {
      const { ranges } = parts(dir);
      const readOnly = openSync(join(dir, 'a'), 'r'); // writing to it fails with EBADF
      const d = await pool.hash(ranges, { fd: readOnly, sync: true, direct: false });
      expect(d).toMatchObject({ phase: 'write', code: 'EBADF' });
      expect(d.hex).toBeUndefined();
      closeSync(readOnly); // the caller's to close
    });
  });
});
