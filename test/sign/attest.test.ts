/**
 * attest(): in-toto Statements as DSSE Sigstore bundles, the choice of keyless back end (the
 * keyless path itself needs Fulcio and an OIDC token, so only its construction is tested), bundle
 * files, and the site key.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON, type SerializedBundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { FulcioSigner, RekorWitness, TSAWitness } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { attest, BUNDLE_MEDIA_TYPE, bundlePathFor, IN_TOTO_PAYLOAD_TYPE, writeBundle } from '../../pipeline/src/sign/attest.ts';
import { GITHUB_INSTANCE, keylessPlan, keylessSigner, PUBLIC_GOOD, type KeylessSigner } from '../../pipeline/src/sign/keyless.ts';
import {
  DEV_OIDC_ISSUER,
  devSignerDir,
  devTrustedRoot,
  loadOrCreateDevSigner,
  TRUSTED_ROOT_MEDIA_TYPE,
  type DevSigner,
  type TrustedRootJSON,
} from '../../pipeline/src/sign/dev-signer.ts';
import { keyIdOf, loadOrCreateSiteKey, siteAttest, siteKeyFinder, sitePublicKey, verifySiteBundle, type SiteKey } from '../../pipeline/src/sign/site-key.ts';
import { inTotoStatement } from '../../pipeline/src/model/statement.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';

const IDENTITY = 'https://github.com/brickyard-hpc/brickyard/.github/workflows/main.yml@refs/heads/main';
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function verifyDev(json: unknown, root: TrustedRootJSON, identity = IDENTITY): Record<string, unknown> {
  const bundle = bundleFromJSON(json);
  const signer = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root)), { tlogThreshold: 1, ctlogThreshold: 0, timestampThreshold: 1 }).verify(toSignedEntity(bundle), {
    subjectAlternativeName: `^${escape(identity)}$`,
    extensions: { issuer: DEV_OIDC_ISSUER },
  });
  expect(signer.identity?.subjectAlternativeName).toBe(identity);
  expect(signer.identity?.extensions?.issuer).toBe(DEV_OIDC_ISSUER);
  if (bundle.content.$case !== 'dsseEnvelope') throw new Error('not DSSE');
  expect(bundle.content.dsseEnvelope.payloadType).toBe(IN_TOTO_PAYLOAD_TYPE);
  return JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8')) as Record<string, unknown>;
}

let dev: DevSigner;
let artifact: string;
let artifactSha: string;
beforeAll(async () => {
  const state = tempDir('brickyard-attest-');
  dev = await loadOrCreateDevSigner(devSignerDir(state), { identity: IDENTITY });
  artifact = join(state, 'image.tar');
  writeFileSync(artifact, 'not really an image\n');
  artifactSha = createHash('sha256').update(readFileSync(artifact)).digest('hex');
});

describe('attest with the development signer', () => {
  it('signs the statement as DSSE in a bundle v0.3 that verifies, and binds the subject digest', async () => {
    const statement = inTotoStatement({ name: 'image.tar', digest: { sha256: artifactSha } }, 'https://example.com/predicate/v1', { ok: true });
    const bundle = await attest(statement, dev);
    expect(bundle.mediaType).toBe(BUNDLE_MEDIA_TYPE);
    const signed = verifyDev(bundle, devTrustedRoot(dev));
    expect(signed).toEqual(statement);
    // the verifier's own job (the library does not bind DSSE to the artifact): the subject digest
    const held = createHash('sha256').update(readFileSync(artifact)).digest('hex');
    expect((signed['subject'] as { digest: { sha256: string } }[]).map((s) => s.digest.sha256)).toContain(held);
  });

  it('refuses what is not an in-toto Statement v1 with digests', async () => {
    const good = inTotoStatement({ name: 'x', digest: { sha256: artifactSha } }, 'https://example.com/p', {});
    const cases: [string, object][] = [
      ['_type', { ...good, _type: 'https://in-toto.io/Statement/v0.1' }],
      ['no subject', { ...good, subject: [] }],
      ['no digest', { ...good, subject: [{ name: 'x', digest: {} }] }],
      ['short sha256', { ...good, subject: [{ name: 'x', digest: { sha256: 'abc' } }] }],
      ['upper-case', { ...good, subject: [{ name: 'x', digest: { sha256: artifactSha.toUpperCase() } }] }],
      ['predicateType', { ...good, predicateType: 'not a uri' }],
      ['predicate', { ...good, predicate: null }],
    ];
    for (const [what, s] of cases) {
      await expect(attest(s, dev), what).rejects.toMatchObject({ code: 'SIGNING_FAILED' });
    }
  });

  it('reports a failing signer as SIGNER_FAILED (exit 1, unlike a refusal to sign), naming the back end', async () => {
    const broken: KeylessSigner = {
      kind: 'keyless',
      plan: keylessPlan({ visibility: 'public' }),
      signer: { sign: () => Promise.reject(new Error('fulcio unreachable')) },
      witnesses: [],
    };
    const err = await attest(inTotoStatement({ name: 'x', digest: { sha256: artifactSha } }, 'https://example.com/p', {}), broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrickyardError);
    expect(err).toMatchObject({ code: 'SIGNER_FAILED', message: expect.stringContaining('public-good') });
    expect((err as Error).message).toContain('fulcio unreachable');
  });

  it('property: any predicate round-trips and verifies; flipping any payload byte breaks it', async () => {
    const root = devTrustedRoot(dev);
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }), fc.nat(), async (predicate, at) => {
        const statement = inTotoStatement({ name: 'a', digest: { sha256: artifactSha } }, 'https://example.com/p', predicate);
        const bundle = await attest(statement, dev);
        expect(verifyDev(bundle, root)).toEqual(JSON.parse(JSON.stringify(statement)));
        const t = structuredClone(bundle) as SerializedBundle & { dsseEnvelope: { payload: string } };
        const payload = Buffer.from(t.dsseEnvelope.payload, 'base64');
        const i = at % payload.length;
        payload[i] = payload[i]! ^ 0x01;
        t.dsseEnvelope.payload = payload.toString('base64');
        expect(() => verifyDev(t, root)).toThrow();
      }),
      { numRuns: 15 },
    );
  });
});

describe('bundle files', () => {
  it('writes <artifact>.sigstore.json that reads back and verifies', async () => {
    const bundle = await attest(inTotoStatement({ name: 'image.tar', digest: { sha256: artifactSha } }, 'https://example.com/p', {}), dev);
    const path = bundlePathFor(artifact);
    expect(path).toBe(`${artifact}.sigstore.json`);
    writeBundle(path, bundle);
    expect(statSync(path).mode & 0o777).toBe(0o644);
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    verifyDev(JSON.parse(text), devTrustedRoot(dev));
    // and into a folder that does not exist yet
    const nested = join(tempDir(), 'a', 'b', 'x.sigstore.json');
    writeBundle(nested, bundle);
    expect(JSON.parse(readFileSync(nested, 'utf8'))).toEqual(bundle);
  });
});

describe('keyless back end selection', () => {
  const TOKEN_ENV = { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://example.invalid/token', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 't' };

  it('public repositories: public-good Fulcio and Rekor', () => {
    expect(keylessPlan({ visibility: 'public' })).toEqual({
      instance: 'public-good',
      fulcioURL: PUBLIC_GOOD.fulcioURL,
      witnesses: [{ kind: 'rekor', url: PUBLIC_GOOD.rekorURL }],
    });
    expect(keylessPlan({ visibility: 'public', tsaURL: 'https://tsa.example.org/' }).witnesses).toEqual([
      { kind: 'rekor', url: PUBLIC_GOOD.rekorURL },
      { kind: 'tsa', url: 'https://tsa.example.org' },
    ]);
    expect(keylessPlan({ visibility: 'public', fulcioURL: 'https://fulcio.example.org' }).instance).toBe('custom');
  });

  it('private and internal repositories: GitHub Fulcio and TSA, never a public log', () => {
    for (const visibility of ['private', 'internal'] as const) {
      expect(keylessPlan({ visibility })).toEqual({ instance: 'github', fulcioURL: GITHUB_INSTANCE.fulcioURL, witnesses: [{ kind: 'tsa', url: GITHUB_INSTANCE.tsaURL }] });
    }
    expect(() => keylessPlan({ visibility: 'private', rekorURL: PUBLIC_GOOD.rekorURL })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('refuses unknown visibility and non-https services', () => {
    expect(() => keylessPlan({ visibility: 'secret' as 'public' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => keylessPlan({ visibility: 'public', rekorURL: 'http://rekor.example.org' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => keylessPlan({ visibility: 'private', fulcioURL: 'not a url' })).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('builds FulcioSigner with the matching witness, offline', () => {
    const pub = keylessSigner({ visibility: 'public' }, TOKEN_ENV);
    expect(pub.kind).toBe('keyless');
    expect(pub.signer).toBeInstanceOf(FulcioSigner);
    expect(pub.witnesses).toHaveLength(1);
    expect(pub.witnesses[0]).toBeInstanceOf(RekorWitness);
    const priv = keylessSigner({ visibility: 'private' }, { SIGSTORE_ID_TOKEN: 'jwt' });
    expect(priv.witnesses.map((w) => w.constructor)).toEqual([TSAWitness]);
    const both = keylessSigner({ visibility: 'public', tsaURL: 'https://tsa.example.org' }, TOKEN_ENV);
    expect(both.witnesses.map((w) => w.constructor)).toEqual([RekorWitness, TSAWitness]);
  });

  it('fails early, with the fix, without an OIDC token', () => {
    let err: unknown;
    try {
      keylessSigner({ visibility: 'public' }, {});
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'SIGNING_FAILED', hint: expect.stringContaining('id-token: write') });
    // only the request URL is not enough
    expect(() => keylessSigner({ visibility: 'public' }, { ACTIONS_ID_TOKEN_REQUEST_URL: 'https://x.invalid' })).toThrow(expect.objectContaining({ code: 'SIGNING_FAILED' }));
    // an explicit identity provider needs no environment
    expect(keylessSigner({ visibility: 'public', identityProvider: { getToken: () => Promise.resolve('jwt') } }, {}).signer).toBeInstanceOf(FulcioSigner);
  });
});

describe('site key', () => {
  let site: SiteKey;
  let dir: string;
  beforeAll(() => {
    dir = join(tempDir('brickyard-site-'), 'keys');
    site = loadOrCreateSiteKey(dir);
  });

  it('is created once, 0600, with its public key beside it', () => {
    expect(statSync(join(dir, 'site-key.pem')).mode & 0o777).toBe(0o600);
    const pub = readFileSync(join(dir, 'site-key.pub.pem'), 'utf8');
    expect(pub).toBe(site.publicKey);
    expect(keyIdOf(pub)).toBe(site.keyId);
    expect(site.keyId).toMatch(/^[0-9a-f]{64}$/);
    expect(loadOrCreateSiteKey(dir).keyId).toBe(site.keyId);
  });

  it('signs a bundle v0.3 with publicKey.hint (no certificate, no timestamps) that verifies with the pinned key', async () => {
    const statement = inTotoStatement({ name: 'image', digest: { sha256: artifactSha } }, 'https://slsa.dev/verification_summary/v1', { verificationResult: 'PASSED' });
    const bundle = await siteAttest(statement, site);
    expect(bundle.mediaType).toBe(BUNDLE_MEDIA_TYPE);
    expect(bundle.verificationMaterial.publicKey).toEqual({ hint: site.keyId });
    expect(bundle.verificationMaterial).not.toHaveProperty('certificate');
    expect((bundle.verificationMaterial.tlogEntries as unknown[] | undefined) ?? []).toEqual([]); // JSON may leave an empty list out
    expect(bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []).toEqual([]);
    const v = verifySiteBundle(JSON.parse(JSON.stringify(bundle)), [sitePublicKey(site)]);
    expect(v.keyId).toBe(site.keyId);
    expect(v.statement).toEqual(statement);

    // the same check spelled out with @sigstore/verify alone
    const empty = TrustedRoot.fromJSON({ mediaType: TRUSTED_ROOT_MEDIA_TYPE, tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
    const signer = new Verifier(toTrustMaterial(empty, siteKeyFinder([sitePublicKey(site)])), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
      toSignedEntity(bundleFromJSON(bundle)),
    );
    expect(signer.key.export({ type: 'spki', format: 'pem' })).toBe(site.publicKey);
  });

  it('fails with a wrong key, a tampered payload, or a development-signed bundle', async () => {
    const statement = inTotoStatement({ name: 'image', digest: { sha256: artifactSha } }, 'https://example.com/p', {});
    const bundle = await siteAttest(statement, site);
    const other = loadOrCreateSiteKey(join(tempDir(), 'k'));
    expect(() => verifySiteBundle(bundle, [sitePublicKey(other)])).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
    // another key under this key's id: the signature check, not the lookup, fails
    expect(() => verifySiteBundle(bundle, [{ keyId: site.keyId, publicKey: other.publicKey }])).toThrow(/signature/i);

    const t = structuredClone(bundle) as SerializedBundle & { dsseEnvelope: { payload: string } };
    t.dsseEnvelope.payload = Buffer.from(JSON.stringify({ ...statement, predicate: { forged: true } })).toString('base64');
    expect(() => verifySiteBundle(t, [sitePublicKey(site)])).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));

    const devBundle = await attest(statement, dev);
    expect(() => verifySiteBundle(devBundle, [sitePublicKey(site)])).toThrow(/site key/);
    expect(() => verifySiteBundle({ nope: true }, [sitePublicKey(site)])).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
  });
});
