/**
 * Confidential bundles: layers encrypted with skopeo (ocicrypt, JWE) for one site's public key,
 * attestations about the plaintext digests, decrypted and checked at import. skopeo itself is
 * the independent reader: it decrypts our layout with the right key and refuses the wrong one.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../pipeline/src/bundle/manifest.ts';
import { writeBundle } from '../../pipeline/src/bundle/write.ts';
import { checkBundle, importBundle } from '../../pipeline/src/site/store.ts';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';
import { relist, resign } from '../site/forge.ts';
import { ISSUER, makeKeys, makeState, NOW, sha256, signState, snapshot, SOURCE } from './fixture.ts';

const skopeo = spawnSync('skopeo', ['--version']).status === 0;
const keys = await makeKeys();
const later = new Date(NOW.getTime() + 3600_000);

function keyPair(name: string): { priv: string; pub: string } {
  const dir = tempDir(`brickyard-${name}-`);
  const priv = join(dir, 'site-enc.pem');
  const pub = join(dir, 'site-enc.pub.pem');
  execFileSync('openssl', ['genrsa', '-out', priv, '2048'], { stdio: 'ignore' });
  execFileSync('openssl', ['rsa', '-in', priv, '-pubout', '-out', pub], { stdio: 'ignore' });
  return { priv, pub };
}

function policyFile(extra = ''): string {
  const ci = `{identity: {repository: example/brickyard, workflow: .github/workflows/main.yml, ref: refs/heads/main}, issuer: ${ISSUER}}`;
  const file = join(tempDir('brickyard-policy-'), 'site-policy.yaml');
  writeFileSync(
    file,
    `version: 2\nsystem: local\ntrustedRoot: {sha256: ${sha256(readFileSync(keys.trustedRoot))}, path: ${keys.trustedRoot}}\nsigners:\n  manifest: [${ci}]\n  provenance: [${ci}]\n  sbom: [${ci}]\n  testResult: [${ci}]\nrequire: {provenance: true, sbom: true, smoke: true}\nlicenses: [Apache-2.0]\nmaxAgeDays: 30\n${extra}`,
  );
  return file;
}

async function signedState(): Promise<string> {
  const s = makeState('local', [{ recipe: 'demo', version: '1.0' }], undefined, true);
  await signState(s, keys.dev);
  return s;
}

async function encryptedBundle(state: string, pub: string, serial = 1): Promise<string> {
  const out = join(tempDir('brickyard-enc-'), 'b');
  await writeBundle({ stateDir: state, system: 'local', out, signer: keys.signer, serial, source: SOURCE, now: NOW, encryptFor: pub });
  return out;
}

async function refusedImport(store: string, bundle: string, policy: string, decryptionKeyPath?: string): Promise<BrickyardError & { reason?: string }> {
  const before = snapshot(store);
  const err = await importBundle({
    bundlePath: bundle,
    policy: loadPolicy(policy),
    store,
    verifier: keys.verifier,
    now: later,
    ...(decryptionKeyPath ? { decryptionKeyPath } : {}),
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the import should have been refused').toBeInstanceOf(BrickyardError);
  expect(snapshot(store)).toEqual(before);
  return err as BrickyardError & { reason?: string };
}

describe.skipIf(!skopeo)('confidential bundles', () => {
  const site = skopeo ? keyPair('site') : { priv: '', pub: '' };
  const other = skopeo ? keyPair('other') : { priv: '', pub: '' };

  it('encrypts the layers for one site; the manifest lists the encrypted blobs and stays about the plaintext digests; import decrypts to the signed plaintext image', async () => {
    const state = await signedState();
    const plainIndex = JSON.parse(readFileSync(join(state, 'oci', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const plainManifest = JSON.parse(readFileSync(join(state, 'oci', 'blobs', 'sha256', plainIndex.manifests[0]!.digest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
    const plainLayers = plainManifest.layers.map((l) => l.digest.slice(7));
    const b = await encryptedBundle(state, site.pub);
    const m = parseManifest(readFileSync(join(b, 'manifest.json')));
    expect(m.encryption!.images[0]!.plaintext).toBe(plainIndex.manifests[0]!.digest);
    expect(m.encryption!.images[0]!.layers.map((l) => l.plaintext.slice(7))).toEqual(plainLayers);
    const blobs = m.entries.filter((e) => e.role === 'image-blob').map((e) => e.sha256);
    for (const l of plainLayers) expect(blobs, 'no plaintext layer travels').not.toContain(l);
    for (const l of m.encryption!.images[0]!.layers) expect(blobs).toContain(l.encrypted.slice(7));

    // Independent reader: skopeo decrypts our layout to the same layers with the key, and refuses without the right one.
    const dec = join(tempDir('brickyard-dec-'), 'oci');
    execFileSync('skopeo', ['copy', '--quiet', '--decryption-key', site.priv, `oci:${join(b, 'oci')}:demo_1.0-1_local-cpu`, `oci:${dec}:x`]);
    for (const l of plainLayers) expect(readdirSync(join(dec, 'blobs', 'sha256'))).toContain(l);
    const wrong = spawnSync('skopeo', ['copy', '--quiet', '--decryption-key', other.priv, `oci:${join(b, 'oci')}:demo_1.0-1_local-cpu`, `oci:${join(dec, '..', 'w')}:x`], {
      encoding: 'utf8',
    });
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/no suitable key|could be used for decryption/);

    const policy = policyFile(`encryption: {required: true, privateKey: ${site.priv}}\n`);
    const ok = await checkBundle({ bundlePath: b, policy: loadPolicy(policy), verifier: keys.verifier, now: later });
    expect(ok.images).toBe(1);
    const store = join(tempDir('brickyard-site-'), 'store');
    const r = await importBundle({ bundlePath: b, policy: loadPolicy(policy), store, verifier: keys.verifier, now: later });
    expect(r.admitted[0]!.manifestDigest).toBe(plainIndex.manifests[0]!.digest);
    expect(r.skipped).toEqual([]);
    const stored = readdirSync(join(store, 'oci', 'blobs', 'sha256'));
    for (const l of plainLayers) expect(stored).toContain(l);
    for (const l of m.encryption!.images[0]!.layers) expect(stored).not.toContain(l.encrypted.slice(7));
    const index = JSON.parse(readFileSync(join(store, 'oci', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests.map((d) => d.digest)).toEqual([plainIndex.manifests[0]!.digest]);
    execFileSync('skopeo', ['inspect', '--raw', `oci:${join(store, 'oci')}:demo_1.0-1_local-cpu`]);
  });

  it('encryption.atRest: keep: the store keeps the encrypted layers, checked against the signed plaintext; skopeo --decryption-key from the store gives the signed image', async () => {
    const state = await signedState();
    const plainIndex = JSON.parse(readFileSync(join(state, 'oci', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const plainDigest = plainIndex.manifests[0]!.digest;
    const plainManifest = JSON.parse(readFileSync(join(state, 'oci', 'blobs', 'sha256', plainDigest.slice(7)), 'utf8')) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    const plainLayers = plainManifest.layers.map((l) => l.digest.slice(7));
    const b = await encryptedBundle(state, site.pub);
    const m = parseManifest(readFileSync(join(b, 'manifest.json')));
    const img = m.encryption!.images[0]!;
    const policy = policyFile(`encryption: {required: true, privateKey: ${site.priv}, atRest: keep}\n`);
    const store = join(tempDir('brickyard-site-'), 'store');
    const ownLeftovers = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith(`brickyard-decrypt-${process.pid}-`));
    const r = await importBundle({ bundlePath: b, policy: loadPolicy(policy), store, verifier: keys.verifier, now: later });
    expect(r.admitted[0]!.manifestDigest).toBe(plainDigest); // the attested digest, as before
    expect(ownLeftovers(), 'the plaintext checked in a private temporary folder is gone').toEqual([]);
    const stored = readdirSync(join(store, 'oci', 'blobs', 'sha256'));
    for (const l of plainLayers) expect(stored, 'no plaintext layer rests in the store').not.toContain(l);
    for (const l of img.layers) expect(stored).toContain(l.encrypted.slice(7));
    expect(stored).toContain(plainDigest.slice(7)); // the signed plaintext manifest, beside the encrypted one
    const index = JSON.parse(readFileSync(join(store, 'oci', 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    expect(index.manifests.map((d) => d.digest)).toEqual([img.encrypted]);
    const inventory = JSON.parse(readFileSync(join(store, 'state.json'), 'utf8')) as { images: { manifestDigest: string }[] };
    expect(inventory.images.map((i) => i.manifestDigest)).toEqual([plainDigest]);

    // The independent reader: skopeo decrypts the store's image with the site key to the signed layers and config.
    const ref = `oci:${join(store, 'oci')}:demo_1.0-1_local-cpu`;
    const dec = join(tempDir('brickyard-dec-'), 'oci');
    execFileSync('skopeo', ['copy', '--quiet', '--decryption-key', site.priv, ref, `oci:${dec}:x`]);
    const decIndex = JSON.parse(readFileSync(join(dec, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const decManifest = JSON.parse(readFileSync(join(dec, 'blobs', 'sha256', decIndex.manifests[0]!.digest.slice(7)), 'utf8')) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    expect(decManifest.layers.map((l) => l.digest.slice(7))).toEqual(plainLayers);
    expect(decManifest.config.digest).toBe(plainManifest.config.digest);
    for (const l of plainLayers) expect(sha256(readFileSync(join(dec, 'blobs', 'sha256', l)))).toBe(l);
    // Without the key, or with another site's, the layers stay unreadable.
    const noKey = spawnSync('skopeo', ['copy', '--quiet', ref, `oci:${join(dec, '..', 'n')}:x`], { encoding: 'utf8' });
    const otherKey = spawnSync('skopeo', ['copy', '--quiet', '--decryption-key', other.priv, ref, `oci:${join(dec, '..', 'o')}:x`], { encoding: 'utf8' });
    expect(otherKey.status).not.toBe(0);
    // skopeo copies an encrypted image as it is when no key is given: still encrypted, so no plaintext layer comes out.
    if (noKey.status === 0) for (const l of plainLayers) expect(readdirSync(join(dec, '..', 'n', 'blobs', 'sha256'))).not.toContain(l);
  });

  it.each(['decrypt', 'keep'])(
    'atRest %s: refuses a bundle for another site, a missing key, a plaintext bundle where encryption is required, and altered ciphertext',
    async (atRest) => {
      const state = await signedState();
      const store = join(tempDir('brickyard-site-'), 'store');
      const policy = policyFile(`encryption: {required: true, privateKey: ${site.priv}, atRest: ${atRest}}\n`);
      const forOther = await encryptedBundle(state, other.pub);
      const e1 = await refusedImport(store, forOther, policy);
      expect(e1.reason).toBe('recipient');
      expect(e1.message).toMatch(/encrypted for [0-9a-f]{16}…, not for this site's key/);

      const mine = await encryptedBundle(state, site.pub);
      const e2 = await refusedImport(store, mine, policyFile());
      expect(e2.reason).toBe('encryption');
      expect(e2.message).toMatch(/no decryption key was given/);

      const plain = join(tempDir('brickyard-plain-'), 'b');
      await writeBundle({ stateDir: state, system: 'local', out: plain, signer: keys.signer, serial: 1, source: SOURCE, now: NOW });
      const e3 = await refusedImport(store, plain, policy);
      expect(e3.message).toMatch(/requires encrypted bundles for local/);

      // The signer packs what it is given: ciphertext altered before signing is caught by decryption.
      const altered = await encryptedBundle(state, site.pub);
      const m = parseManifest(readFileSync(join(altered, 'manifest.json')));
      const enc = m.encryption!.images[0]!.layers[1]!.encrypted.slice(7);
      const file = join(altered, 'oci', 'blobs', 'sha256', enc);
      const bytes = readFileSync(file);
      bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 1;
      writeFileSync(file, bytes);
      // keep the blob's name equal to its digest, as a forger must
      const hex = sha256(bytes);
      const index = readFileSync(join(altered, 'oci', 'index.json'), 'utf8');
      const manifestHex = JSON.parse(index).manifests[0].digest.slice(7) as string;
      const imageManifest = readFileSync(join(altered, 'oci', 'blobs', 'sha256', manifestHex), 'utf8')
        .replace(enc, hex)
        .replace(`"size":${bytes.length}`, `"size":${bytes.length}`);
      const newManifestHex = sha256(imageManifest);
      writeFileSync(join(altered, 'oci', 'blobs', 'sha256', hex), bytes);
      writeFileSync(join(altered, 'oci', 'blobs', 'sha256', newManifestHex), imageManifest);
      writeFileSync(join(altered, 'oci', 'index.json'), index.replace(manifestHex, newManifestHex).replace(/"size":\s*\d+/, `"size": ${Buffer.byteLength(imageManifest)}`));
      await resign(
        altered,
        (mm) => {
          const rename = (from: string, to: string, data: Buffer | string): void => {
            const e = mm.entries.find((x) => x.path === `oci/blobs/sha256/${from}`)!;
            e.path = `oci/blobs/sha256/${to}`;
            e.sha256 = to;
            e.size = Buffer.byteLength(data);
          };
          rename(enc, hex, bytes);
          rename(manifestHex, newManifestHex, imageManifest);
          mm.entries.sort((x, y) => (x.path < y.path ? -1 : 1));
          relist(altered, mm, 'oci/index.json');
          mm.encryption!.images[0]!.encrypted = `sha256:${newManifestHex}`;
          mm.encryption!.images[0]!.layers[1]!.encrypted = `sha256:${hex}`;
        },
        async (b) => (await keys.signer.sign(b)).bundleJson,
      );
      const { rmSync } = await import('node:fs');
      rmSync(file);
      rmSync(join(altered, 'oci', 'blobs', 'sha256', manifestHex));
      const e4 = await refusedImport(store, altered, policy);
      expect(e4.reason).toBe('decryption');
      expect(e4.message).toMatch(/do not decrypt with this site's key: .*could not properly decrypt/);
      // The wrong private key (another site's) named by the policy: refused before anything is decrypted.
      const e5 = await refusedImport(store, mine, policyFile(`encryption: {required: true, privateKey: ${other.priv}, atRest: ${atRest}}\n`));
      expect(e5.reason).toBe('recipient');
      expect(readdirSync(tmpdir()).filter((n) => n.startsWith(`brickyard-decrypt-${process.pid}-`))).toEqual([]);
    },
  );
});
