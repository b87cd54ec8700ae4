/**
 * Hashing a bundle's large entries before it is read (pipeline/src/bundle/prehash.ts): the scan
 * finds exactly the large regular files of a real bundle and stops at anything unexpected; a
 * digest is taken once, for the very byte range asked; check-bundle with it gives the same answer,
 * takes the digests, and still refuses an image blob with one byte changed.
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { largeEntries, Prehash } from '../../pipeline/src/bundle/prehash.ts';
import { directIoWorks, PARALLEL_HASH_MIN_BYTES, type ByteRange } from '../../pipeline/src/bundle/hasher.ts';
import { siteTrust, siteVerifier } from '../../pipeline/src/transfer/site-trust.ts';
import { checkBundle } from '../../pipeline/src/site/store.ts';
import { makeSiteBundle } from '../../scripts/lib/bench-state.ts';
import { tempDir } from '../helpers/fixture.ts';

let tar: string;
let policy: string;

beforeAll(async () => {
  const work = tempDir('brickyard-prehash-');
  ({ tar, policy } = await makeSiteBundle(work, { baseMiB: 20, images: 1 }));
}, 120_000);

const sha256Of = (path: string, r: ByteRange): string => {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(r.length);
    readSync(fd, b, 0, r.length, r.offset);
    return createHash('sha256').update(b).digest('hex');
  } finally {
    closeSync(fd);
  }
};

async function check(path: string, prehash?: Prehash) {
  const trust = await siteTrust(policy);
  const verifier = await siteVerifier(trust.trustedRootPath, trust.pinned);
  return checkBundle({ bundlePath: path, policy: trust.policy, verifier, now: new Date(), trustedRootPath: trust.trustedRootPath, ...(prehash ? { prehash } : {}) });
}

describe('the scan of a tar', () => {
  it("finds the bundle's large blobs, each at the bytes its OCI name is the digest of", () => {
    const found = largeEntries(tar);
    expect(found.length).toBeGreaterThan(0);
    const listing = readFileSync(tar).toString('latin1');
    for (const r of found) {
      expect(r.length).toBeGreaterThanOrEqual(PARALLEL_HASH_MIN_BYTES);
      expect(r.offset % 512).toBe(0);
      expect(listing).toContain(`oci/blobs/sha256/${sha256Of(tar, r)}`);
    }
  });

  it('finds nothing in what is not a plain tar, and stops at a header that fails its checksum', () => {
    const dir = tempDir('brickyard-prehash-');
    writeFileSync(join(dir, 'garbage'), Buffer.alloc(4096, 7));
    writeFileSync(join(dir, 'gzip'), Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.alloc(2048)]));
    mkdirSync(join(dir, 'folder'));
    for (const p of ['garbage', 'gzip', 'folder', 'missing']) expect(largeEntries(join(dir, p)), p).toEqual([]);
    // The first header's checksum broken: the scan trusts nothing after it.
    const bytes = readFileSync(tar);
    bytes[0] = bytes[0]! ^ 1;
    writeFileSync(join(dir, 'bad.tar'), bytes);
    expect(largeEntries(join(dir, 'bad.tar'))).toEqual([]);
  });
});

describe('Prehash', () => {
  it('leaves a bundle under the size where it pays to the reader', () => {
    const p = Prehash.start(tar);
    expect(p.size).toBe(0);
    p.close();
  });

  it('gives a digest once, for exactly the range it hashed', async () => {
    const p = Prehash.start(tar, 0);
    try {
      const [r] = largeEntries(tar);
      expect(p.size).toBe(largeEntries(tar).length);
      expect(p.take([{ ...r!, length: r!.length - 1 }])).toBeUndefined();
      expect(p.take([{ ...r!, offset: r!.offset + 512 }])).toBeUndefined();
      expect(p.take([{ ...r!, path: `${tar}.other` }])).toBeUndefined();
      expect(p.take([r!, r!])).toBeUndefined();
      const d = await p.take([r!]);
      expect(d).toMatchObject({ hex: sha256Of(tar, r!), bytes: r!.length });
      expect(p.take([r!])).toBeUndefined();
      expect(p.taken).toBe(1);
    } finally {
      p.close();
    }
  });

  it("copies ahead for an import: the copy takes the reader's file's mode and place, once complete; a hash-only job gives the reader no copy", async () => {
    const dir = tempDir('brickyard-prehash-');
    const ahead = join(dir, 'ahead');
    mkdirSync(ahead);
    const p = Prehash.start(tar, 0, undefined, { dir: ahead, sync: true, direct: directIoWorks(ahead) });
    const hashOnly = Prehash.start(tar, 0);
    try {
      const [r] = largeEntries(tar);
      const into = join(dir, 'layer');
      writeFileSync(into, '', { mode: 0o755 }); // the reader's own new file, an executable entry's mode
      chmodSync(into, 0o755);
      expect(hashOnly.take([r!], undefined, into)).toBeUndefined();
      expect(p.take([{ ...r!, offset: r!.offset + 512 }], undefined, into)).toBeUndefined();
      const d = await p.take([r!], undefined, into);
      expect(d).toMatchObject({ hex: sha256Of(tar, r!), bytes: r!.length });
      expect(createHash('sha256').update(readFileSync(into)).digest('hex')).toBe(d!.hex);
      expect(statSync(into).mode & 0o7777).toBe(0o755);
      expect(readdirSync(ahead)).toEqual([]); // moved, not copied again
    } finally {
      p.close();
      hashOnly.close();
    }
  });

  it('check-bundle takes its digests and answers as without it; a blob with one byte changed is still refused', async () => {
    const plain = await check(tar);
    const p = Prehash.start(tar, 0);
    try {
      const ahead = await check(tar, p);
      expect({ ...ahead, admitted: ahead.admitted.length }).toEqual({ ...plain, admitted: plain.admitted.length });
      expect(p.taken).toBe(largeEntries(tar).length);
    } finally {
      p.close();
    }
    const forged = join(tempDir('brickyard-prehash-'), 'forged.tar');
    const bytes = readFileSync(tar);
    const [r] = largeEntries(tar);
    const at = r!.offset + Math.floor(r!.length / 2);
    bytes[at] = bytes[at]! ^ 1;
    writeFileSync(forged, bytes);
    const q = Prehash.start(forged, 0);
    try {
      await expect(check(forged, q)).rejects.toMatchObject({ reason: 'digest' });
      expect(q.taken).toBe(1);
    } finally {
      q.close();
    }
  });
});
