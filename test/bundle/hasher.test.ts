import { createHash, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PARALLEL_HASH_MIN_BYTES, sha256For } from '../../pipeline/src/bundle/hasher.ts';

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
