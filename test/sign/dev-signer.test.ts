/**
 * The development signer: its CA, leaf certificates, local TSA and fake log, and the trusted
 * root they verify against. Bundles are checked with @sigstore/verify directly (offline), with
 * the SAN policy anchored and escaped, and the identity then compared exactly.
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleFromJSON, bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { DSSEBundleBuilder } from '@sigstore/sign';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEV_OIDC_ISSUER,
  devSignerDir,
  devTrustedRoot,
  isDevTrustedRoot,
  LEAF_VALIDITY_MS,
  loadOrCreateDevSigner,
  localDevIdentity,
  OID_FULCIO_ISSUER_V1,
  OID_FULCIO_ISSUER_V2,
  TRUSTED_ROOT_MEDIA_TYPE,
  type DevSigner,
  type TrustedRootJSON,
} from '../../pipeline/src/sign/dev-signer.ts';
import { x509 } from '../../pipeline/src/sign/dev-x509.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';

const WORKFLOW = 'https://github.com/brickyard-hpc/brickyard/.github/workflows/main.yml@refs/heads/main';
const PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT = {
  _type: 'https://in-toto.io/Statement/v1',
  subject: [{ name: 'img', digest: { sha256: 'ab'.repeat(32) } }],
  predicateType: 'https://example.com/p/v1',
  predicate: { x: 1 },
};

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** What the offline verifier does, in short: @sigstore/verify plus exact identity and issuer. */
function verify(
  json: unknown,
  root: TrustedRootJSON,
  expected: { identity: string; issuer: string },
  thresholds: { tlogThreshold: number; timestampThreshold: number } = { tlogThreshold: 1, timestampThreshold: 1 },
): { identity: string; issuer: string } {
  const trust = toTrustMaterial(TrustedRoot.fromJSON(root));
  const signer = new Verifier(trust, { ...thresholds, ctlogThreshold: 0 }).verify(toSignedEntity(bundleFromJSON(json)), {
    subjectAlternativeName: `^${escape(expected.identity)}$`,
    extensions: { issuer: expected.issuer },
  });
  const identity = signer.identity?.subjectAlternativeName ?? '';
  const issuer = signer.identity?.extensions?.issuer ?? '';
  if (identity !== expected.identity || issuer !== expected.issuer) throw new Error(`identity mismatch: ${identity} / ${issuer}`);
  return { identity, issuer };
}

async function sign(dev: DevSigner, data: object = STATEMENT): Promise<SerializedBundle> {
  const b = await new DSSEBundleBuilder({ signer: dev.signer, witnesses: dev.witnesses }).create({ data: Buffer.from(JSON.stringify(data)), type: PAYLOAD_TYPE });
  return bundleToJSON(b);
}

function failure(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return `${(e as { code?: string }).code ?? (e as Error).name}: ${(e as Error).message}`;
  }
  throw new Error('expected a failure, got success');
}

let state: string;
let dev: DevSigner;
beforeAll(async () => {
  state = tempDir('brickyard-sign-');
  dev = await loadOrCreateDevSigner(devSignerDir(state), { identity: WORKFLOW });
});

describe('development CA and key storage', () => {
  it('persists its keys: a second load uses the same root', async () => {
    const again = await loadOrCreateDevSigner(devSignerDir(state), { identity: 'https://example.com/other' });
    expect(again.caCertificate).toBe(dev.caCertificate);
    expect(devTrustedRoot(again)).toEqual(devTrustedRoot(dev));
    // and what one load signs, the other's root verifies
    verify(await sign(again), devTrustedRoot(dev), { identity: 'https://example.com/other', issuer: DEV_OIDC_ISSUER });
  });

  it('keeps private keys 0600 in a 0700 folder, and writes trusted_root.json', () => {
    const dir = devSignerDir(state);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of ['ca.key.pem', 'tsa-root.key.pem', 'tsa.key.pem', 'tlog.key.pem']) {
      expect(statSync(join(dir, f)).mode & 0o777, f).toBe(0o600);
      expect(readFileSync(join(dir, f), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    }
    expect(JSON.parse(readFileSync(join(dir, 'trusted_root.json'), 'utf8'))).toEqual(devTrustedRoot(dev));
  });

  it('agrees on one root when two loads race to create it', async () => {
    const dir = join(tempDir(), 'dev-signer');
    const [a, b] = await Promise.all([loadOrCreateDevSigner(dir, { identity: WORKFLOW }), loadOrCreateDevSigner(dir, { identity: WORKFLOW })]);
    expect(a.caCertificate).toBe(b.caCertificate);
  });

  it('refuses an incomplete folder and a private key others can read', async () => {
    const partial = tempDir();
    writeFileSync(join(partial, 'ca.key.pem'), 'x');
    await expect(loadOrCreateDevSigner(partial)).rejects.toMatchObject({ code: 'SIGNER_STATE_INVALID' });

    const dir = join(tempDir(), 'dev-signer');
    await loadOrCreateDevSigner(dir);
    chmodSync(join(dir, 'ca.key.pem'), 0o644);
    const err = await loadOrCreateDevSigner(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrickyardError);
    expect(err).toMatchObject({ code: 'SIGNER_STATE_INVALID', hint: expect.stringContaining('chmod 600') });
  });

  it('takes over an empty folder', async () => {
    const dir = join(tempDir(), 'dev-signer');
    mkdirSync(dir);
    expect((await loadOrCreateDevSigner(dir)).caCertificate).toMatch(/BEGIN CERTIFICATE/);
  });

  it('has a local default identity and refuses a blank one', async () => {
    expect(localDevIdentity()).toMatch(/^brickyard-dev:\/\/[^/]+\/[^/]+$/);
    await expect(loadOrCreateDevSigner(devSignerDir(state), { identity: 'a b' })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(loadOrCreateDevSigner(devSignerDir(state), { issuer: 'not a url' })).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('trusted root', () => {
  it('is a valid TrustedRoot with the CA, the TSA chain and the log key', () => {
    const root = devTrustedRoot(dev);
    expect(root.mediaType).toBe(TRUSTED_ROOT_MEDIA_TYPE);
    const parsed = TrustedRoot.fromJSON(root);
    expect(TrustedRoot.toJSON(parsed)).toMatchObject({ mediaType: TRUSTED_ROOT_MEDIA_TYPE });
    expect(parsed.certificateAuthorities).toHaveLength(1);
    expect(parsed.certificateAuthorities[0]!.validFor?.start).toBeInstanceOf(Date);
    expect(parsed.timestampAuthorities[0]!.certChain?.certificates).toHaveLength(2);
    expect(parsed.tlogs[0]!.publicKey?.validFor?.start).toBeInstanceOf(Date);
    expect(parsed.ctlogs).toEqual([]);
    const ca = new x509.X509Certificate(Buffer.from(root.certificateAuthorities[0]!.certChain.certificates[0]!.rawBytes, 'base64'));
    expect(ca.subject).toContain('DEVELOPMENT');
    expect(ca.subject).toBe(ca.issuer); // self-signed root: @sigstore/verify needs the chain to end in one
    expect(new Date(root.certificateAuthorities[0]!.validFor.start).getTime()).toBe(ca.notBefore.getTime());
  });

  it('is recognisable as a development root; the public-good root is not', () => {
    expect(isDevTrustedRoot(devTrustedRoot(dev))).toBe(true);
    expect(isDevTrustedRoot({ ...devTrustedRoot(dev), certificateAuthorities: [], timestampAuthorities: [] })).toBe(true);
    const publicGood = {
      ...devTrustedRoot(dev),
      tlogs: [{ ...devTrustedRoot(dev).tlogs[0]!, baseUrl: 'https://rekor.sigstore.dev' }],
      certificateAuthorities: [
        { ...devTrustedRoot(dev).certificateAuthorities[0]!, subject: { organization: 'sigstore.dev', commonName: 'sigstore' }, uri: 'https://fulcio.sigstore.dev' },
      ],
      timestampAuthorities: [],
    };
    expect(isDevTrustedRoot(publicGood)).toBe(false);
    expect(isDevTrustedRoot(null)).toBe(false);
  });
});

describe('leaf certificates', () => {
  it('are Fulcio-shaped: SAN, both issuer extensions, code signing, 10 minutes, chained to the CA', async () => {
    const json = await sign(dev);
    const pem = Buffer.from((json.verificationMaterial as { certificate: { rawBytes: string } }).certificate.rawBytes, 'base64');
    const cert = new x509.X509Certificate(pem);
    const ca = new x509.X509Certificate(dev.caCertificate);

    expect(cert.subject).toBe('');
    expect(cert.issuer).toBe(ca.subject);
    expect(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(LEAF_VALIDITY_MS);

    const san = cert.getExtension(x509.SubjectAlternativeNameExtension)!;
    expect(san.critical).toBe(true);
    expect(san.names.toJSON()).toEqual([{ type: 'url', value: WORKFLOW }]);

    const v1 = cert.getExtension(OID_FULCIO_ISSUER_V1)!;
    expect(Buffer.from(v1.value).toString('utf8')).toBe(DEV_OIDC_ISSUER);
    const v2 = Buffer.from(cert.getExtension(OID_FULCIO_ISSUER_V2)!.value);
    expect(v2[0]).toBe(0x0c); // UTF8String
    expect(v2[1]).toBe(DEV_OIDC_ISSUER.length);
    expect(v2.subarray(2).toString('utf8')).toBe(DEV_OIDC_ISSUER);

    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension)!;
    expect(eku.usages).toEqual(['1.3.6.1.5.5.7.3.3']);
    const ku = cert.getExtension(x509.KeyUsagesExtension)!;
    expect(ku.critical).toBe(true);
    expect(ku.usages).toBe(x509.KeyUsageFlags.digitalSignature);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca ?? false).toBe(false);
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId);
  });

  it('use an e-mail SAN for an e-mail identity', async () => {
    const mail = await loadOrCreateDevSigner(devSignerDir(state), { identity: 'dev@example.org' });
    const json = await sign(mail);
    const cert = new x509.X509Certificate(Buffer.from((json.verificationMaterial as { certificate: { rawBytes: string } }).certificate.rawBytes, 'base64'));
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([{ type: 'email', value: 'dev@example.org' }]);
    verify(json, devTrustedRoot(dev), { identity: 'dev@example.org', issuer: DEV_OIDC_ISSUER });
  });

  it('use a fresh key for every signature', async () => {
    const a = await sign(dev);
    const b = await sign(dev);
    const key = (j: SerializedBundle): string =>
      new x509.X509Certificate(Buffer.from((j.verificationMaterial as { certificate: { rawBytes: string } }).certificate.rawBytes, 'base64')).publicKey.toString('base64');
    expect(key(a)).not.toBe(key(b));
  });
});

describe('DSSE bundles from the development signer', () => {
  let json: SerializedBundle;
  beforeAll(async () => {
    json = await sign(dev);
  });

  it('are bundle v0.3 with a certificate, a log entry and an RFC 3161 timestamp', () => {
    expect(json.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(json.verificationMaterial).toHaveProperty('certificate');
    expect(json.verificationMaterial.tlogEntries).toHaveLength(1);
    expect(json.verificationMaterial.tlogEntries[0]!.kindVersion).toEqual({ kind: 'dsse', version: '0.0.1' });
    expect(json.verificationMaterial.timestampVerificationData?.rfc3161Timestamps).toHaveLength(1);
    expect((json as { dsseEnvelope: { payloadType: string } }).dsseEnvelope.payloadType).toBe(PAYLOAD_TYPE);
  });

  it('verify offline against the development root, exact identity and issuer', () => {
    const root = devTrustedRoot(dev);
    const who = { identity: WORKFLOW, issuer: DEV_OIDC_ISSUER };
    expect(verify(json, root, who)).toEqual(who);
    // both witnesses count: the log (SET) and the TSA
    expect(verify(json, root, who, { tlogThreshold: 1, timestampThreshold: 2 })).toEqual(who);
    // and survive a trip through a file
    expect(verify(JSON.parse(JSON.stringify(json)), root, who)).toEqual(who);
  });

  it('verify with either witness alone', async () => {
    const root = devTrustedRoot(dev);
    const who = { identity: WORKFLOW, issuer: DEV_OIDC_ISSUER };
    const tsaOnly = await sign(await loadOrCreateDevSigner(devSignerDir(state), { identity: WORKFLOW, witnesses: ['tsa'] }));
    expect((tsaOnly.verificationMaterial.tlogEntries as unknown[] | undefined) ?? []).toEqual([]); // JSON may leave an empty list out
    expect(verify(tsaOnly, root, who, { tlogThreshold: 0, timestampThreshold: 1 })).toEqual(who);
    expect(failure(() => verify(tsaOnly, root, who))).toMatch(/TLOG_ERROR/);

    const tlogOnly = await sign(await loadOrCreateDevSigner(devSignerDir(state), { identity: WORKFLOW, witnesses: ['tlog'] }));
    expect(tlogOnly.verificationMaterial.timestampVerificationData?.rfc3161Timestamps ?? []).toEqual([]);
    expect(verify(tlogOnly, root, who)).toEqual(who);
  });

  it('fail against another root', async () => {
    const other = await loadOrCreateDevSigner(join(tempDir(), 'dev-signer'), { identity: WORKFLOW });
    expect(failure(() => verify(json, devTrustedRoot(other), { identity: WORKFLOW, issuer: DEV_OIDC_ISSUER }))).toMatch(/TIMESTAMP_ERROR|TLOG_INCLUSION|CERTIFICATE_ERROR/);
    // with only the CA swapped, the certificate chain is what fails
    const mixed = { ...devTrustedRoot(dev), certificateAuthorities: devTrustedRoot(other).certificateAuthorities };
    expect(failure(() => verify(json, mixed, { identity: WORKFLOW, issuer: DEV_OIDC_ISSUER }))).toMatch(/CERTIFICATE_ERROR/);
    // with only the TSA swapped, the timestamp is what fails
    const noTsa = { ...devTrustedRoot(dev), timestampAuthorities: devTrustedRoot(other).timestampAuthorities };
    expect(failure(() => verify(json, noTsa, { identity: WORKFLOW, issuer: DEV_OIDC_ISSUER }))).toMatch(/TIMESTAMP_ERROR/);
  });

  it('fail with a tampered payload', () => {
    const t = structuredClone(json) as SerializedBundle & { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(t.dsseEnvelope.payload, 'base64').toString('utf8')) as typeof STATEMENT;
    statement.subject[0]!.digest.sha256 = 'cd'.repeat(32);
    t.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const who = { identity: WORKFLOW, issuer: DEV_OIDC_ISSUER };
    expect(failure(() => verify(t, devTrustedRoot(dev), who))).toMatch(/TLOG_BODY_ERROR|SIGNATURE_ERROR/);
    expect(failure(() => verify(t, devTrustedRoot(dev), who, { tlogThreshold: 0, timestampThreshold: 1 }))).toMatch(/ERROR/);
  });

  it('fail with another identity, a prefix of the identity, or another issuer', () => {
    const root = devTrustedRoot(dev);
    expect(
      failure(() => verify(json, root, { identity: 'https://github.com/brickyard-hpc/brickyard/.github/workflows/main.yml@refs/heads/dev', issuer: DEV_OIDC_ISSUER })),
    ).toMatch(/UNTRUSTED_SIGNER_ERROR/);
    expect(failure(() => verify(json, root, { identity: 'https://github.com/brickyard-hpc/', issuer: DEV_OIDC_ISSUER }))).toMatch(/UNTRUSTED_SIGNER_ERROR/);
    expect(failure(() => verify(json, root, { identity: WORKFLOW, issuer: 'https://token.actions.githubusercontent.com' }))).toMatch(/UNTRUSTED_SIGNER_ERROR/);
  });

  it('fail when the timestamp falls after the 10-minute certificate', async () => {
    const t0 = Date.now();
    let calls = 0;
    // the first reading issues the certificate; the witnesses read 11 minutes later
    const late = await loadOrCreateDevSigner(devSignerDir(state), { identity: WORKFLOW, clock: () => new Date(calls++ === 0 ? t0 : t0 + 11 * 60_000) });
    const j = await sign(late);
    expect(failure(() => verify(j, devTrustedRoot(dev), { identity: WORKFLOW, issuer: DEV_OIDC_ISSUER }))).toMatch(/CERTIFICATE_ERROR/);
  });
});
