/**
 * The air-gap bundle: writing (tar, directory, parts, delta), reading with verification, and
 * hostile bundles refused with nothing written outside the staging folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BundleError } from '../../pipeline/src/bundle/errors.ts';
import { type Manifest } from '../../pipeline/src/bundle/manifest.ts';
import { PARALLEL_HASH_MIN_BYTES } from '../../pipeline/src/bundle/hasher.ts';
import { readBundle, unsafePath } from '../../pipeline/src/bundle/read.ts';
import { SigstoreManifestSigner } from '../../pipeline/src/bundle/sigstore.ts';
import { writeBundle, type Inventory } from '../../pipeline/src/bundle/write.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';
import { craftTar, makeKeys, makeState, NOW, ReusingSigner, sha256, snapshot, SOURCE, type RawEntry } from './fixture.ts';

const keys = await makeKeys();
const otherCa = await makeKeys();
const PAIRS = [
  { recipe: 'demo', version: '1.0' },
  { recipe: 'osu', version: '7.4' },
];
const state = makeState('local', PAIRS);

async function bundle(out: string, extra: Partial<Parameters<typeof writeBundle>[0]> = {}) {
  return writeBundle({ stateDir: state, system: 'local', out, signer: keys.signer, serial: 1, source: SOURCE, now: NOW, ...extra });
}

/** Read into a staging folder inside a fresh parent; return the error (if any) and what the parent holds afterwards. */
async function tryRead(bundlePath: string, verifier = keys.verifier, limits = {}) {
  const parent = tempDir('brickyard-read-');
  const staging = join(parent, 'staging');
  let error: unknown;
  let result;
  try {
    result = await readBundle({ bundlePath, verifier, stagingDir: staging, limits });
  } catch (e) {
    error = e;
  }
  return { error: error as BundleError | undefined, result, left: readdirSync(parent), staging };
}

function craft(change: (files: RawEntry[], m: Manifest) => RawEntry[] | undefined, opts: { resign?: boolean; end?: boolean } = {}) {
  return craftTar({ stateDir: state, signer: keys.signer, source: SOURCE, now: NOW }, change, opts);
}

function addEntry(m: Manifest, path: string, data: string): void {
  m.entries.push({ path, size: Buffer.byteLength(data), sha256: sha256(data), role: 'source' });
}

describe('writeBundle', () => {
  it('collects every image (shared blobs once), rendered files, sources, attestations, and signs the manifest', async () => {
    const out = join(tempDir(), 'b.tar');
    const r = await bundle(out, { trustedRoot: keys.trustedRoot });
    expect(r.form).toBe('tar');
    expect(r.manifest.entries.find((e) => e.path === 'trusted_root.json')?.role).toBe('trusted-root');
    expect(r.images).toBe(2);
    const roles = new Set(r.manifest.entries.map((e) => e.role));
    for (const role of ['image-blob', 'image-index', 'oci-layout', 'rendered', 'lock', 'source', 'attestation', 'sbom', 'build-record', 'smoke-report'])
      expect(roles).toContain(role);
    // 2 images × (manifest, config, own layer) + the shared base layer once
    expect(r.manifest.entries.filter((e) => e.role === 'image-blob')).toHaveLength(7);
    expect(r.manifest.entries.some((e) => e.path.endsWith('build.log'))).toBe(false);
    const index = JSON.parse(readFileSync(join(state, 'oci', 'index.json'), 'utf8'));
    expect(index.manifests).toHaveLength(2);
    const seen: number[] = [];
    const v = await readBundle({ bundlePath: out, verifier: keys.verifier, onProgress: (done, total) => seen.push(done / total) });
    expect(v.identity).toBe(keys.dev.identity);
    expect(seen.at(-1)).toBe(1);
    expect(v.manifest.bundleId).toBe(r.manifest.bundleId);
  });

  it('writes a deterministic tar: same inputs and signature → the same bytes; uid/gid 0, fixed mtime, sorted, manifest first', async () => {
    const signer = new ReusingSigner(keys.signer);
    const a = join(tempDir(), 'a.tar');
    const b = join(tempDir(), 'b.tar');
    await bundle(a, { signer });
    await bundle(b, { signer });
    expect(sha256(readFileSync(a))).toBe(sha256(readFileSync(b)));
    const listing = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvf', a], { encoding: 'utf8' }).trim().split('\n');
    expect(listing[0]).toBe(listing[0]!.replace(/ \S+ \S+ manifest\.json$/, '') + ' ' + NOW.toISOString().replace('T', ' ').slice(0, 19) + ' manifest.json');
    expect(listing[0]).toMatch(/^-rw-r--r-- 0\/0 /);
    expect(listing[1]).toMatch(/manifest\.sigstore\.json$/);
    expect(listing[2]).toMatch(/checksums\.txt$/);
    const names = listing.slice(3).map((l) => l.split(/\s+/).at(-1)!);
    expect(names).toEqual([...names].sort());
    expect(listing.find((l) => l.endsWith('job.sh'))).toMatch(/^-rwxr-xr-x 0\/0 /);
    expect(listing.every((l) => l.includes(' 0/0 '))).toBe(true);
  });

  it('checksums.txt passes the real `sha256sum -c` (directory form, and the tar extracted by GNU tar)', async () => {
    const dir = join(tempDir(), 'd');
    await bundle(dir);
    expect(execFileSync('sha256sum', ['-c', '--strict', 'checksums.txt'], { cwd: dir, encoding: 'utf8' })).toMatch(/manifest\.json: OK/);
    const tarFile = join(tempDir(), 'b.tar');
    await bundle(tarFile);
    const x = tempDir();
    execFileSync('tar', ['-xf', tarFile, '-C', x]);
    const out = execFileSync('sha256sum', ['-c', '--strict', 'checksums.txt'], { cwd: x, encoding: 'utf8' });
    expect(out.split('\n').filter((l) => l.endsWith(': OK')).length).toBeGreaterThan(20);
    // and the directory form reads back
    expect((await readBundle({ bundlePath: dir, verifier: keys.verifier })).form).toBe('dir');
  });

  it('splits into parts beside the signed manifest; each part checked before reassembly and a bad one named', async () => {
    const out = join(tempDir(), 'parts');
    const r = await bundle(out, { chunkSize: 4096 });
    expect(r.form).toBe('parts');
    expect(r.parts!.length).toBeGreaterThan(3);
    expect(readdirSync(out).sort()).toEqual(['checksums.txt', 'manifest.json', 'manifest.sigstore.json', ...r.parts!.map((p) => p.name)].sort());
    execFileSync('sha256sum', ['-c', '--strict', 'checksums.txt'], { cwd: out });
    const ok = await tryRead(out);
    expect(ok.error).toBeUndefined();
    expect(existsSync(join(ok.staging, 'oci', 'index.json'))).toBe(true);

    // corrupt one part
    const bad = join(tempDir(), 'bad');
    execFileSync('cp', ['-r', out, bad]);
    const p2 = join(bad, r.parts![2]!.name);
    const bytes = readFileSync(p2);
    bytes[100] = bytes[100]! ^ 1;
    writeFileSync(p2, bytes);
    const e1 = await tryRead(bad);
    expect(e1.error).toBeInstanceOf(BundleError);
    expect(e1.error!.code).toBe('BUNDLE_PART_INVALID');
    expect(e1.error!.entry).toBe(r.parts![2]!.name);
    expect(e1.error!.message).toMatch(/part 3 of/);
    expect(e1.left).toEqual([]);

    // swap two parts
    const sw = join(tempDir(), 'swapped');
    execFileSync('cp', ['-r', out, sw]);
    renameSync(join(sw, r.parts![0]!.name), join(sw, 'tmp'));
    renameSync(join(sw, r.parts![1]!.name), join(sw, r.parts![0]!.name));
    renameSync(join(sw, 'tmp'), join(sw, r.parts![1]!.name));
    const e2 = await tryRead(sw);
    expect(e2.error!.code).toBe('BUNDLE_PART_INVALID');
    expect(e2.error!.entry).toBe(r.parts![0]!.name);

    // a missing part
    const miss = join(tempDir(), 'missing');
    execFileSync('cp', ['-r', out, miss]);
    rmSync(join(miss, r.parts!.at(-1)!.name));
    const e3 = await tryRead(miss);
    expect(e3.error!.code).toBe('BUNDLE_PART_INVALID');
    expect(e3.error!.message).toMatch(/is missing/);
  });

  it('a delta leaves out the blobs the inventory holds, lists them as prerequisites, and is smaller', async () => {
    const full = await bundle(join(tempDir(), 'full.tar'));
    const blobs = full.manifest.entries.filter((e) => e.role === 'image-blob').map((e) => `sha256:${e.path.split('/').at(-1)}`);
    const base = blobs.find((b) => full.manifest.entries.find((e) => e.path.endsWith(b.slice(7)))!.size === 3000)!;
    const inventory: Inventory = {
      kind: 'brickyard-inventory',
      version: 1,
      blobs: [base],
      images: [],
      bundles: [{ bundleId: full.manifest.bundleId, serial: 1, repository: SOURCE.repository, commit: SOURCE.commit, imported: NOW.toISOString() }],
      lastSerial: { [SOURCE.repository]: 1 },
    };
    const delta = await bundle(join(tempDir(), 'delta.tar'), { inventory, serial: 2 });
    expect(delta.manifest.prerequisites).toEqual([base.slice(7)]);
    expect(delta.manifest.base).toEqual({ bundleId: full.manifest.bundleId, serial: 1 });
    expect(delta.sizes.bundleBytes).toBe(full.sizes.bundleBytes - 3000);
    expect(delta.sizes.fullBytes).toBe(full.sizes.fullBytes);
    expect(delta.sizes.leftOutBytes).toBe(3000);
  });

  it('refuses to bundle a system with nothing built', async () => {
    await expect(bundle(join(tempDir(), 'x.tar'), { system: 'alps' })).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
  });
});

describe('readBundle refuses hostile bundles, naming the entry, and leaves nothing behind', () => {
  const cases: [string, () => Promise<string>, string, string?][] = [
    ['a path leaving the target (../)', () => craft((f) => [...f, { path: '../evil', data: 'x' }]), 'path-escape', '../evil'],
    ['an absolute path', () => craft((f, m) => (addEntry(m, 'etc/passwd', 'x'), [...f, { path: '/etc/passwd', data: 'x' }])), 'path-escape', '/etc/passwd'],
    ['a symbolic link', () => craft((f) => [...f, { path: 'builds/link', type: 'SymbolicLink', linkpath: '/etc/passwd' }]), 'link', 'builds/link'],
    ['a hard link', () => craft((f) => [...f, { path: 'builds/hard', type: 'Link', linkpath: 'manifest.json' }]), 'link', 'builds/hard'],
    ['a device file', () => craft((f) => [...f, { path: 'builds/dev', type: 'CharacterDevice' }]), 'device', 'builds/dev'],
    ['a FIFO', () => craft((f) => [...f, { path: 'builds/fifo', type: 'FIFO' }]), 'device', 'builds/fifo'],
    ['a duplicate entry', () => craft((f) => [...f, f.find((e) => e.path === 'oci/index.json')!]), 'duplicate', 'oci/index.json'],
    ['an entry not in the manifest', () => craft((f) => [...f, { path: 'extra.txt', data: 'surprise' }]), 'unlisted', 'extra.txt'],
    ['a manifest entry missing', () => craft((f) => f.filter((e) => e.path !== 'oci/oci-layout')), 'missing', 'oci/oci-layout'],
    [
      'one byte changed in an entry',
      () =>
        craft((f) => f.map((e) => (e.path === 'oci/index.json' ? { ...e, data: Buffer.from(String(e.data).replace('"schemaVersion": 2', '"schemaVersion": 3')) } : e)), {
          resign: false,
        }),
      'digest',
      'oci/index.json',
    ],
    [
      'a size mismatch',
      () => craft((f) => f.map((e) => (e.path === 'oci/oci-layout' ? { ...e, data: Buffer.concat([Buffer.from(e.data!), Buffer.from(' ')]) } : e)), { resign: false }),
      'size',
      'oci/oci-layout',
    ],
    ['the manifest not first', () => craft((f) => [f[1]!, f[0]!, ...f.slice(2)], { resign: false }), 'layout'],
    [
      'a manifest re-signed by another key',
      async () => {
        const file = await craft(() => undefined);
        return file;
      },
      'signature',
    ],
  ];

  for (const [name, make, reason, entry] of cases) {
    it(`refuses ${name}`, async () => {
      const file = await make();
      const verifier = name.includes('another key') ? otherCa.verifier : keys.verifier;
      const r = await tryRead(file, verifier);
      expect(r.error, String(r.error)).toBeInstanceOf(BundleError);
      expect(r.error!.reason).toBe(reason);
      if (entry) expect(r.error!.entry).toBe(entry);
      expect(r.left).toEqual([]); // staging removed, nothing else written
    });
  }

  it('refuses one byte changed in any entry of the tar, naming that entry', async () => {
    const file = join(tempDir(), 'b.tar');
    const r = await bundle(file);
    const good = readFileSync(file);
    // Find each entry's data offset by walking the headers.
    const offsets = new Map<string, number>();
    for (let at = 0; at + 512 <= good.length;) {
      const name = good
        .subarray(at, at + 100)
        .toString('latin1')
        .replace(/\0.*$/s, '');
      const prefix = good
        .subarray(at + 345, at + 500)
        .toString('latin1')
        .replace(/\0.*$/s, '');
      if (!name) break;
      const size = parseInt(
        good
          .subarray(at + 124, at + 136)
          .toString('latin1')
          .trim(),
        8,
      );
      offsets.set(prefix ? `${prefix}/${name}` : name, at + 512);
      at += 512 + Math.ceil(size / 512) * 512;
    }
    for (const e of r.manifest.entries.filter((x) => x.size > 0)) {
      const bytes = Buffer.from(good);
      const at = offsets.get(e.path)! + Math.floor(e.size / 2);
      bytes[at] = bytes[at]! ^ 0x01;
      const f = join(tempDir(), 'one.tar');
      writeFileSync(f, bytes);
      const res = await tryRead(f);
      expect(res.error?.reason, e.path).toBe('digest');
      expect(res.error?.entry).toBe(e.path);
      expect(res.left).toEqual([]);
    }
    // and in the manifest or its signature
    for (const name of ['manifest.json', 'manifest.sigstore.json']) {
      const bytes = Buffer.from(good);
      bytes[offsets.get(name)! + 40] = bytes[offsets.get(name)! + 40]! ^ 0x01;
      const f = join(tempDir(), 'one.tar');
      writeFileSync(f, bytes);
      const res = await tryRead(f);
      expect(res.error, name).toBeInstanceOf(BrickyardError);
      expect(res.left).toEqual([]);
    }
  });

  it('refuses links and unlisted files in a directory bundle', async () => {
    const dir = join(tempDir(), 'd');
    await bundle(dir);
    symlinkSync('/etc/passwd', join(dir, 'builds', 'evil'));
    const r = await tryRead(dir);
    expect(r.error!.reason).toBe('link');
    expect(r.error!.entry).toBe('builds/evil');
    rmSync(join(dir, 'builds', 'evil'));
    writeFileSync(join(dir, 'extra'), 'x');
    expect((await tryRead(dir)).error!.reason).toBe('unlisted');
  });

  it('refuses a truncated tar', async () => {
    const file = join(tempDir(), 'b.tar');
    await bundle(file);
    const bytes = readFileSync(file);
    for (const cut of [bytes.length - 1024, bytes.length - 5000, 2000]) {
      writeFileSync(file + '.cut', bytes.subarray(0, cut));
      const r = await tryRead(file + '.cut');
      expect(r.error?.reason, String(r.error)).toMatch(/truncated|missing/);
      expect(r.left).toEqual([]);
    }
  });

  it('refuses compressed input (only plain tar is accepted: no decompression bombs)', async () => {
    const file = join(tempDir(), 'b.tar');
    await bundle(file);
    writeFileSync(file + '.gz', gzipSync(readFileSync(file)));
    const r = await tryRead(file + '.gz');
    expect(r.error!.reason).toBe('compressed');
    expect(r.left).toEqual([]);
  });

  it('refuses an entry over the size limit before reading it', async () => {
    const file = join(tempDir(), 'b.tar');
    await bundle(file);
    const r = await tryRead(file, keys.verifier, { maxEntryBytes: 2000 });
    expect(r.error!.reason).toBe('oversize');
    expect(r.error!.message).toMatch(/over the limit of 2000/);
  });

  it('refuses a bundle whose key the verifier does not trust', async () => {
    const evil = 'https://github.com/evil/brickyard/.github/workflows/main.yml@refs/heads/main';
    const file = join(tempDir(), 'b.tar');
    await bundle(file, { signer: new SigstoreManifestSigner(await otherCa.other({ identity: evil })) });
    const r = await tryRead(file);
    expect(r.error!.code).toBe('SIGNATURE_INVALID');
    expect(r.left).toEqual([]);
    // and the same CA trusted passes, naming the identity its certificate carries
    const ok = await readBundle({ bundlePath: file, verifier: otherCa.verifier });
    expect(ok.identity).toBe(evil);
  });

  it('unsafePath', () => {
    for (const p of ['../x', 'a/../../x', '/abs', 'a//b', './a', 'a\\b', 'C:x', 'a\nb', '']) expect(unsafePath(p), p).toBeDefined();
    for (const p of ['a', 'a/b.c', 'oci/blobs/sha256/ab']) expect(unsafePath(p)).toBeUndefined();
  });

  it('property: random corruption never crashes the reader unexpectedly and never writes outside staging', async () => {
    const file = join(tempDir(), 'b.tar');
    await bundle(file);
    const good = readFileSync(file);
    const root = tempDir('brickyard-prop-');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat({ max: good.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat({ max: good.length }), { nil: undefined }),
        async (edits, cut) => {
          const bytes = Buffer.from(good);
          for (const e of edits) bytes[e.at] = e.value;
          const data = cut === undefined ? bytes : bytes.subarray(0, cut);
          const parent = join(root, 'p');
          mkdirSync(parent);
          writeFileSync(join(root, 'in.tar'), data);
          try {
            await readBundle({ bundlePath: join(root, 'in.tar'), verifier: keys.verifier, stagingDir: join(parent, 'staging') });
            // Accepted: only when every listed byte is intact (corruption hit padding or the trailer).
            expect(readdirSync(parent)).toEqual(['staging']);
          } catch (e) {
            if (!(e instanceof BrickyardError)) throw e;
            expect(readdirSync(parent)).toEqual([]);
          } finally {
            rmSync(parent, { recursive: true, force: true });
          }
          expect(readdirSync(root).sort()).toEqual(['in.tar']);
        },
      ),
      { numRuns: 150 },
    );
  });
});

it('snapshot helper sees links and files', () => {
  const d = tempDir();
  writeFileSync(join(d, 'f'), 'x');
  expect(snapshot(d)).toEqual({ f: sha256('x') });
});

describe('large entries only verified (check-bundle): hashed by workers reading the bundle', () => {
  const big = Buffer.alloc(PARALLEL_HASH_MIN_BYTES + 12345, 7);
  const withBig = (data: Buffer) =>
    craft((f, m) => {
      m.entries.push({ path: 'sources/big.bin', size: big.length, sha256: sha256(big), role: 'source' });
      return [...f, { path: 'sources/big.bin', data }];
    });
  const check = (file: string, whileHashing?: () => Promise<void>) =>
    readBundle({
      bundlePath: file,
      verifier: keys.verifier,
      stagingDir: join(tempDir('brickyard-check-'), 'staging'),
      stage: (e) => e.path !== 'sources/big.bin',
      ...(whileHashing ? { whileHashing } : {}),
    });

  it('accepts the entry as written, and runs the content checks before the verdict', async () => {
    let ran = false;
    const v = await check(await withBig(big), () => {
      ran = true;
      return Promise.resolve();
    });
    expect(ran).toBe(true);
    expect(v.bytes).toBeGreaterThan(big.length);
    expect(existsSync(join(v.stagingDir!, 'sources', 'big.bin'))).toBe(false); // verified, not kept
  });

  it('refuses one byte changed in it, and the digest decides before the content checks’ own refusal', async () => {
    const bad = Buffer.from(big);
    bad[big.length - 3] = bad[big.length - 3]! ^ 1;
    const file = await withBig(bad);
    const e1 = await check(file).catch((e: unknown) => e as BundleError);
    expect(e1).toBeInstanceOf(BundleError);
    expect((e1 as BundleError).reason).toBe('digest');
    expect((e1 as BundleError).entry).toBe('sources/big.bin');
    const e2 = await check(file, () => Promise.reject(new Error('the policy refuses it'))).catch((e: unknown) => e as BundleError);
    expect((e2 as BundleError).reason).toBe('digest');
  });

  it('refuses it cut short, naming it', async () => {
    const file = await withBig(big);
    const bytes = readFileSync(file);
    let header = bytes.indexOf(Buffer.from('sources/big.bin'));
    while (header % 512 !== 0) header = bytes.indexOf(Buffer.from('sources/big.bin'), header + 1); // the tar header, not the manifest's mention
    const at = header + 512 + 1000;
    writeFileSync(file, bytes.subarray(0, at));
    const e = await check(file).catch((x: unknown) => x as BundleError);
    expect((e as BundleError).reason).toBe('truncated');
    expect((e as BundleError).message).toContain('sources/big.bin');
  });
});
