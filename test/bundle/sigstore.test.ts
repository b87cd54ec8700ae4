/**
 * The manifest signature with Sigstore (pipeline/src/bundle/sigstore.ts), with the development
 * CA and witnesses: a bundle v0.3 carrying the leaf certificate alone (as docs/site-admin.md
 * says), verified offline; and the signature container held to its one canonical form — an
 * unknown field, a duplicated certificate, a v0.2 chain with the leaf twice are each refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { checkCanonicalSignature, SigstoreManifestSigner, SigstoreManifestVerifier } from '../../pipeline/src/bundle/sigstore.ts';
import { devSignerDir, devTrustedRoot, loadOrCreateDevSigner, type DevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import { tempDir } from '../helpers/fixture.ts';

const IDENTITY = 'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/main';
const MANIFEST = Buffer.from('{"kind":"brickyard-bundle-manifest"}\n');

let dev: DevSigner;
let verifier: SigstoreManifestVerifier;
let signed: Record<string, unknown>;
beforeAll(async () => {
  dev = await loadOrCreateDevSigner(devSignerDir(tempDir('brickyard-sig-')), { identity: IDENTITY });
  verifier = new SigstoreManifestVerifier({ trustedRoot: devTrustedRoot(dev), ctlogThreshold: 0 });
  signed = (await new SigstoreManifestSigner(dev).sign(MANIFEST)).bundleJson as Record<string, unknown>;
});

const clone = (): Record<string, any> => structuredClone(signed) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('manifest signature', () => {
  it('is a Sigstore bundle v0.3 with the leaf certificate alone, and verifies offline', async () => {
    expect(signed['mediaType']).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    const vm = signed['verificationMaterial'] as Record<string, unknown>;
    expect(vm['certificate']).toBeDefined();
    expect(vm['x509CertificateChain']).toBeUndefined();
    expect((await verifier.verify(MANIFEST, signed)).identity).toBe(IDENTITY);
  });

  it('refuses one byte of the manifest changed', async () => {
    await expect(verifier.verify(Buffer.from(MANIFEST.toString().replace('bundle', 'bundlE')), signed)).rejects.toThrow();
  });

  it('refuses a container that is not canonical: unknown fields anywhere, a duplicated certificate', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a forgery edits any path of the bundle's JSON
    const forms: [string, (b: Record<string, any>) => void][] = [
      ['unknown top-level field', (b) => (b['extra'] = 'x')],
      ['unknown field in verificationMaterial', (b) => (b['verificationMaterial'].note = 'x')],
      ['unknown field in the DSSE envelope', (b) => (b['dsseEnvelope'].comment = 1)],
      [
        'the leaf twice as a v0.2 chain',
        (b) => {
          b['mediaType'] = 'application/vnd.dev.sigstore.bundle.v0.2+json';
          const leaf = b['verificationMaterial'].certificate;
          delete b['verificationMaterial'].certificate;
          b['verificationMaterial'].x509CertificateChain = { certificates: [leaf, leaf] };
        },
      ],
      [
        '60 copies of the leaf',
        (b) => {
          b['mediaType'] = 'application/vnd.dev.sigstore.bundle.v0.2+json';
          const leaf = b['verificationMaterial'].certificate;
          delete b['verificationMaterial'].certificate;
          b['verificationMaterial'].x509CertificateChain = { certificates: Array(60).fill(leaf) };
        },
      ],
    ];
    for (const [name, change] of forms) {
      const b = clone();
      change(b);
      expect(() => checkCanonicalSignature(b), name).toThrow(/canonical|same certificate twice/);
      await expect(verifier.verify(MANIFEST, b), name).rejects.toThrow(/canonical|same certificate twice/);
    }
    // the canonical form itself passes
    expect(() => checkCanonicalSignature(clone())).not.toThrow();
  });
});
