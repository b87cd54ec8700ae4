/**
 * The offline Sigstore verifier: the checks it adds to @sigstore/verify, the errors it gives,
 * and the `brickyard verify` command (run as a child process; with no network at all in
 * verify-offline.e2e.test.ts).
 * Data: real bundles from test/fixtures/ (sigstore-conformance and cli/cli fixtures, see its README).
 */
import { createHash, verify as cryptoVerify, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { p256, p384 } from '@noble/curves/nist.js';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { describe, expect, it } from 'vitest';
import { parseCheckpoint } from '../../pipeline/src/sign/checkpoint.ts';
import { decodeUtf8String, escapeRegExp, SignatureVerificationError, verifySigstoreBundle, type VerifyInput } from '../../pipeline/src/sign/verify.ts';
import { canVerifyDigest, verifyEcdsaDigest } from '../../pipeline/src/sign/verify-ecdsa.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';
import { brickyardInProcess } from '../helpers/cli.ts';
import { exitCodeFor } from '../../pipeline/src/cli/exit-codes.ts';
import { A_TXT, C, caseArgs, IDENTITY, ISSUER, PUBLIC_GOOD, spawnedVerify } from './conformance-cases.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a forgery edits any path of these vectors' JSON
type Forgeable = Record<string, any>;
const json = (p: string): Forgeable => JSON.parse(readFileSync(p, 'utf8')) as Forgeable;
const dsse = () => json(join(C, 'happy-path-intoto-in-dsse-v3/bundle.sigstore.json'));
const msg = () => json(join(C, 'happy-path-v0.3/bundle.sigstore.json'));

function input(over: Partial<VerifyInput> = {}): VerifyInput {
  return { bundle: dsse(), artifact: { path: A_TXT }, trustedRoot: json(PUBLIC_GOOD), policy: { identity: IDENTITY, issuer: ISSUER }, ...over };
}

/** The failure, asserted to be a SignatureVerificationError naming `check`. */
async function failure(p: Promise<unknown>, check: string): Promise<SignatureVerificationError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, 'verification must fail').toBeInstanceOf(SignatureVerificationError);
  const err = e as SignatureVerificationError;
  expect(err.check).toBe(check);
  expect(err.code).toBe('SIGNATURE_INVALID');
  expect(exitCodeFor(err.code)).toBe(1);
  expect(err.message).toContain(`: ${check}: `);
  return err;
}

/** @sigstore/verify used directly, as a plain caller would: to show what it lets through. */
function libraryAlone(bundle: unknown, root: unknown, artifact: Buffer): boolean {
  try {
    new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root))).verify(toSignedEntity(bundleFromJSON(bundle), artifact), {
      subjectAlternativeName: new RegExp(`^${escapeRegExp(IDENTITY)}$`),
      extensions: { issuer: ISSUER },
    });
    return true;
  } catch {
    return false;
  }
}

describe('identity is compared exactly', () => {
  it('the real signer identity passes', async () => {
    const v = await verifySigstoreBundle(input());
    expect(v.identity).toBe(IDENTITY);
    expect(v.issuer).toBe(ISSUER);
    expect(v.mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(v.signedAt).toHaveLength(1);
    expect((v.statement as { _type: string })._type).toMatch(/in-toto/);
  });

  const tricks: [string, string][] = [
    ['a prefix (up to the ref)', IDENTITY.slice(0, IDENTITY.indexOf('@') + 1)],
    ['a prefix of the ref', IDENTITY.slice(0, -2)],
    ['the repository only', 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/'],
    ['a suffix', 'extremely-dangerous-oidc-beacon.yml@refs/heads/main'],
    ['a longer ref', `${IDENTITY}-evil`],
    ['another ref', IDENTITY.replace('refs/heads/main', 'refs/tags/v1')],
    ['a regex wildcard', 'https://github.com/sigstore-conformance/.*'],
    ['a regex matching anything', '.*'],
    ['a different case', IDENTITY.toUpperCase()],
  ];
  for (const [what, identity] of tricks) {
    it(`${what} fails`, async () => {
      const e = await failure(verifySigstoreBundle(input({ policy: { identity, issuer: ISSUER } })), 'identity');
      expect(e.message).toContain('requires exactly');
      expect(e.message).toContain(JSON.stringify(IDENTITY));
    });
  }

  it('the library alone lets a prefix through (unanchored regex), which is why we anchor and compare', () => {
    const root = json(PUBLIC_GOOD);
    const bundle = dsse();
    const prefixPolicy = { subjectAlternativeName: IDENTITY.slice(0, -2), extensions: { issuer: ISSUER } };
    expect(() => new Verifier(toTrustMaterial(TrustedRoot.fromJSON(root))).verify(toSignedEntity(bundleFromJSON(bundle)), prefixPolicy)).not.toThrow();
  });

  it('escapeRegExp makes the identity literal', () => {
    expect(new RegExp(`^${escapeRegExp('a.b*c')}$`).test('a.b*c')).toBe(true);
    expect(new RegExp(`^${escapeRegExp('a.b*c')}$`).test('axbbbc')).toBe(false);
  });
});

describe('issuer is compared exactly', () => {
  const wrong: [string, string][] = [
    ['another issuer', 'https://accounts.google.com'],
    ['a trailing slash', `${ISSUER}/`],
    ['a prefix', 'https://token.actions.githubusercontent'],
    ['a longer path', `${ISSUER}/hammer-time`],
  ];
  for (const [what, issuer] of wrong) {
    it(`${what} fails`, async () => {
      const e = await failure(verifySigstoreBundle(input({ policy: { identity: IDENTITY, issuer } })), 'issuer');
      expect(e.message).toContain(JSON.stringify(ISSUER));
    });
  }

  it('decodes the v2 issuer extension as a DER UTF8String, strictly', () => {
    const der = Buffer.concat([Buffer.from([0x0c, ISSUER.length]), Buffer.from(ISSUER)]);
    expect(decodeUtf8String(der)).toBe(ISSUER);
    expect(decodeUtf8String(Buffer.from(ISSUER))).toBeUndefined(); // raw bytes are not DER
    expect(decodeUtf8String(Buffer.concat([der, Buffer.from([0])]))).toBeUndefined(); // trailing byte
    expect(decodeUtf8String(Buffer.from([0x13, 1, 0x41]))).toBeUndefined(); // PrintableString, not UTF8String
    const long = 'x'.repeat(300);
    expect(decodeUtf8String(Buffer.concat([Buffer.from([0x0c, 0x82, 0x01, 0x2c]), Buffer.from(long)]))).toBe(long);
    // BER that is not DER, and bytes that are not UTF-8:
    expect(decodeUtf8String(Buffer.from([0x0c, 0x81, 0x01, 0x41]))).toBeUndefined(); // long-form length for a short string
    expect(decodeUtf8String(Buffer.from([0x2c, 0x03, 0x0c, 0x01, 0x41]))).toBeUndefined(); // constructed UTF8String
    expect(decodeUtf8String(Buffer.from([0x2c, 0x80, 0x0c, 0x01, 0x41, 0x00, 0x00]))).toBeUndefined(); // indefinite length
    expect(decodeUtf8String(Buffer.from([0x0c, 0x02, 0xc3, 0x28]))).toBeUndefined(); // invalid UTF-8
    expect(decodeUtf8String(Buffer.from([0x0c, 0x05, 0x41]))).toBeUndefined(); // length beyond the bytes
    expect(decodeUtf8String(Buffer.from([0x0c, 0x00]))).toBe('');
    expect(decodeUtf8String(Buffer.from([0x0c, 0x02, 0xc3, 0xa9]))).toBe('é');
  });
});

describe('the artifact is bound', () => {
  it('DSSE: a different artifact fails on the subject digest (the library alone accepts it)', async () => {
    const other = Buffer.from('not the attested artifact\n');
    expect(libraryAlone(dsse(), json(PUBLIC_GOOD), other)).toBe(true);
    const e = await failure(verifySigstoreBundle(input({ artifact: { bytes: other } })), 'subject digest');
    expect(e.message).toContain(createHash('sha256').update(other).digest('hex'));
  });

  it('DSSE: the artifact by its sha256 digest', async () => {
    const hex = createHash('sha256').update(readFileSync(A_TXT)).digest('hex');
    await expect(verifySigstoreBundle(input({ artifact: { digest: { algorithm: 'sha256', hex } } }))).resolves.toMatchObject({ identity: IDENTITY });
    await failure(verifySigstoreBundle(input({ artifact: { digest: { algorithm: 'sha256', hex: hex.replace(/^./, hex.startsWith('0') ? '1' : '0') } } })), 'subject digest');
  });

  it('message signature: verifies from the file (streamed) and from bytes', async () => {
    await expect(verifySigstoreBundle(input({ bundle: msg() }))).resolves.toMatchObject({ identity: IDENTITY, mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.3' });
    await expect(verifySigstoreBundle(input({ bundle: msg(), artifact: { bytes: readFileSync(A_TXT) } }))).resolves.toMatchObject({ identity: IDENTITY });
  });

  it('message signature: another artifact fails', async () => {
    const dir = tempDir('verify-');
    const other = join(dir, 'b.txt');
    writeFileSync(other, 'not a.txt\n');
    await failure(verifySigstoreBundle(input({ bundle: msg(), artifact: { path: other } })), 'signature');
  });

  it('message signature: by its sha256 digest alone (ECDSA checked over the digest)', async () => {
    const hex = createHash('sha256').update(readFileSync(A_TXT)).digest('hex');
    await expect(verifySigstoreBundle(input({ bundle: msg(), artifact: { digest: { algorithm: 'sha256', hex } } }))).resolves.toMatchObject({ identity: IDENTITY });
    const other = createHash('sha256').update('not a.txt\n').digest('hex');
    await failure(verifySigstoreBundle(input({ bundle: msg(), artifact: { digest: { algorithm: 'sha256', hex: other } } })), 'signature');
  });

  it('a missing artifact file is a clear input error naming the file', async () => {
    const missing = join(tempDir('verify-'), 'no-such-artifact.sif');
    const e = await verifySigstoreBundle(input({ artifact: { path: missing } })).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BrickyardError);
    expect(e).not.toBeInstanceOf(SignatureVerificationError);
    expect((e as BrickyardError).code).toBe('FILE_UNREADABLE');
    expect(exitCodeFor((e as BrickyardError).code)).toBe(2);
    expect((e as Error).message).toContain(missing);
  });
});

describe('timestamps, trusted root, keys', () => {
  it('a bundle with zero timestamps is refused clearly (no TypeError)', async () => {
    const b = msg();
    b.verificationMaterial.tlogEntries = [];
    const e = await failure(verifySigstoreBundle(input({ bundle: b })), 'timestamps');
    expect(e.message).toContain('no verifiable timestamp');
  });

  it('a timestamp after `now` is refused', async () => {
    await failure(verifySigstoreBundle(input({ now: new Date('2020-01-01T00:00:00Z') })), 'timestamps');
  });

  it('a trusted-root log without a validity start is refused', async () => {
    const root = json(PUBLIC_GOOD);
    delete root.tlogs[0].publicKey.validFor.start;
    const e = await failure(verifySigstoreBundle(input({ trustedRoot: root })), 'trusted root');
    expect(e.message).toContain('https://rekor.sigstore.dev');
  });

  it('a trusted root verified with once and then changed in place is parsed and checked afresh (what is kept per process is keyed by content)', async () => {
    const root = json(PUBLIC_GOOD);
    await verifySigstoreBundle(input({ trustedRoot: root }));
    await verifySigstoreBundle(input({ trustedRoot: root })); // the kept material serves again
    delete root.tlogs[0].publicKey.validFor.start;
    await failure(verifySigstoreBundle(input({ trustedRoot: root })), 'trusted root');
    const other = json(PUBLIC_GOOD);
    other.certificateAuthorities = [];
    await failure(verifySigstoreBundle(input({ trustedRoot: other })), 'certificate');
  });

  it('a bundle from another instance fails on the certificate chain', async () => {
    await failure(verifySigstoreBundle(input({ bundle: json(join(C, 'bundle-from-wrong-instance_fail/bundle.sigstore.json')) })), 'certificate');
  });

  it('malformed bundle JSON is a verification failure naming the bundle', async () => {
    await failure(verifySigstoreBundle(input({ bundle: '{"mediaType": ' })), 'bundle');
  });

  const managed = join(C, 'managed-key-happy-path');
  it('key policy: the managed key verifies, reporting the key hint', async () => {
    const v = await verifySigstoreBundle(input({ bundle: json(join(managed, 'bundle.sigstore.json')), policy: { publicKey: readFileSync(join(managed, 'key.pub'), 'utf8') } }));
    expect(v.keyHint).toBe('TLMsSDfG3ajPsWge+z/vX5T/zluXnmvbkTkwLIV68Tk=');
    expect(v.identity).toBeUndefined();
  });

  it('key policy: another key fails on the signature', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await failure(verifySigstoreBundle(input({ bundle: json(join(managed, 'bundle.sigstore.json')), policy: { publicKey: other } })), 'signature');
  });

  it('key policy against a certificate bundle (and the reverse) fails on the public key', async () => {
    await failure(verifySigstoreBundle(input({ policy: { publicKey: readFileSync(join(managed, 'key.pub'), 'utf8') } })), 'public key');
    await failure(verifySigstoreBundle(input({ bundle: json(join(managed, 'bundle.sigstore.json')) })), 'public key');
  });
});

describe('checkpoints (Rekor v2), stricter than the library', () => {
  const dir = join(C, 'rekor2-happy-path');
  const rekor2 = () => json(join(dir, 'bundle.sigstore.json'));
  const root = () => json(join(dir, 'trusted_root.json'));
  const run = (bundle: unknown, trustedRoot: unknown = root()) => verifySigstoreBundle(input({ bundle, trustedRoot }));

  it('the happy path verifies, with the TSA time as the signing time', async () => {
    const v = await run(rekor2());
    expect(v.signedAt).toHaveLength(1);
  });

  it('a log signature under a name that is only part of the log host is refused (the library accepts it)', async () => {
    const b = rekor2();
    const proof = b.verificationMaterial.tlogEntries[0].inclusionProof;
    proof.checkpoint.envelope = proof.checkpoint.envelope.replace('\u2014 log2025-alpha1.rekor.sigstage.dev ', '\u2014 rekor.sigstage.dev ');
    expect(libraryAlone(b, root(), readFileSync(A_TXT))).toBe(true);
    const e = await failure(run(b), 'checkpoint');
    expect(e.message).toContain('log2025-alpha1.rekor.sigstage.dev');
  });

  it("an inclusion proof whose tree size is not the checkpoint's is refused (the library ignores it)", async () => {
    const b = rekor2();
    b.verificationMaterial.tlogEntries[0].inclusionProof.treeSize = '737';
    expect(libraryAlone(b, root(), readFileSync(A_TXT))).toBe(true);
    await failure(run(b), 'checkpoint');
  });

  it("an inclusion proof whose root hash is not the checkpoint's is refused (the library ignores it)", async () => {
    const b = rekor2();
    b.verificationMaterial.tlogEntries[0].inclusionProof.rootHash = Buffer.alloc(32, 7).toString('base64');
    expect(libraryAlone(b, root(), readFileSync(A_TXT))).toBe(true);
    await failure(run(b), 'checkpoint');
  });

  it('a Rekor v2 log whose key expired before the signing time is refused (the library never checks)', async () => {
    const r = root();
    const log = r.tlogs.find((t: { baseUrl: string }) => t.baseUrl === 'https://log2025-alpha1.rekor.sigstage.dev');
    log.publicKey.validFor.end = '2025-04-17T00:00:00Z';
    expect(libraryAlone(rekor2(), r, readFileSync(A_TXT))).toBe(true);
    await failure(run(rekor2(), r), 'transparency log');
  });

  it('parses signed notes strictly', () => {
    const sig = Buffer.alloc(40, 1).toString('base64');
    const ok = `log.example\n5\n${Buffer.alloc(32).toString('base64')}\n\n\u2014 log.example ${sig}\n`;
    expect(parseCheckpoint(ok)).toMatchObject({ origin: 'log.example', size: 5n });
    expect(() => parseCheckpoint(ok.replace('\n5\n', '\n05\n'))).toThrow(/tree size/);
    expect(() => parseCheckpoint(ok.replace('log.example\n5', '5'))).toThrow(/checkpoint/);
    expect(() => parseCheckpoint(ok.replace(`\u2014 log.example ${sig}\n`, ''))).toThrow(/checkpoint/);
    expect(() => parseCheckpoint(ok.replace(`\u2014 log.example ${sig}`, `- log.example ${sig}`))).toThrow(/signature line/);
  });
});

describe('ECDSA over a digest (verify-ecdsa.ts), cross-checked with node:crypto', () => {
  for (const [curve, hash] of [
    ['P-256', 'sha256'],
    ['P-384', 'sha384'],
    ['P-384', 'sha256'],
  ] as const) {
    it(`${curve} with ${hash}`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const other = generateKeyPairSync('ec', { namedCurve: curve }).publicKey;
      expect(canVerifyDigest(publicKey)).toBe(true);
      for (let i = 0; i < 8; i++) {
        const data = randomBytes(1 + i * 37);
        const sig = sign(hash, data, privateKey);
        const digest = createHash(hash).update(data).digest();
        expect(verifyEcdsaDigest(publicKey, digest, sig)).toBe(true);
        // The same signature with the other S (n - s): node:crypto accepts both, so must we (no low-S rule in X.509).
        const lib = curve === 'P-256' ? p256 : p384;
        const parsed = lib.Signature.fromBytes(sig, 'der');
        const otherS = new lib.Signature(parsed.r, lib.Point.CURVE().n - parsed.s).toBytes('der');
        expect(cryptoVerify(hash, data, publicKey, otherS)).toBe(true);
        expect(verifyEcdsaDigest(publicKey, digest, otherS)).toBe(true);
        expect(verifyEcdsaDigest(other, digest, sig)).toBe(false);
        const badDigest = Buffer.from(digest);
        badDigest[i] = badDigest[i]! ^ 1;
        expect(verifyEcdsaDigest(publicKey, badDigest, sig)).toBe(false);
        const badSig = Buffer.from(sig);
        badSig[badSig.length - 1] = badSig[badSig.length - 1]! ^ 1;
        expect(verifyEcdsaDigest(publicKey, digest, badSig)).toBe(false);
        expect(verifyEcdsaDigest(publicKey, digest, Buffer.concat([sig, Buffer.from([0])]))).toBe(false);
      }
    });
  }

  it('refuses other key types and r or s out of range', () => {
    expect(canVerifyDigest(generateKeyPairSync('ed25519').publicKey)).toBe(false);
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const zero = Buffer.from([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x01]);
    expect(verifyEcdsaDigest(publicKey, Buffer.alloc(32), zero)).toBe(false);
    expect(canVerifyDigest(generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey)).toBe(false);
    expect(verifyEcdsaDigest(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey, Buffer.alloc(64), zero)).toBe(false);
    expect(verifyEcdsaDigest(publicKey, Buffer.alloc(32), Buffer.alloc(0))).toBe(false);
  });
});

describe('brickyard verify (CLI)', () => {
  /** A real `brickyard` process (for what is about the process: no network). */
  const spawned = (args: string[]) => spawnedVerify(args);
  /** The same command in this process: the same exit status and words, without starting Node each time. */
  const run = (args: string[]) => brickyardInProcess(['verify', ...args]);

  it('a passing conformance case exits 0 (a real process, and in process)', async () => {
    const p = spawned(caseArgs('rekor2-happy-path'));
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    expect(p.stdout).toContain(`signed by ${IDENTITY}`);
    const r = await run(caseArgs('rekor2-happy-path'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`signed by ${IDENTITY}`);
  });

  it('--json on a passing case', async () => {
    const r = await run([...caseArgs('rekor2-happy-path'), '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, identity: IDENTITY, issuer: ISSUER });
  });

  it('a failing conformance case exits 1 and names the failed check', async () => {
    const r = await run(caseArgs('rekor2-checkpoint-no-matching-signature_fail'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/signature verification failed: checkpoint: .*\[SIGNATURE_INVALID\]/);
  });

  it('a near-miss identity exits 1 (and --json says which check)', async () => {
    const r = await run([...caseArgs('rekor2-happy-path', `${IDENTITY}-evil`), '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, check: 'identity' });
  });

  it('--key verifies a key-signed bundle', async () => {
    const dir = join(C, 'managed-key-happy-path');
    const r = await run(['--sigstore-bundle', join(dir, 'bundle.sigstore.json'), '--artifact', A_TXT, '--trusted-root', PUBLIC_GOOD, '--key', join(dir, 'key.pub'), '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, identity: null, keyHint: 'TLMsSDfG3ajPsWge+z/vX5T/zluXnmvbkTkwLIV68Tk=' });
  });

  it('usage and unreadable input exit 2', async () => {
    expect((await run([])).status).toBe(2);
    expect((await run(caseArgs('rekor2-happy-path').slice(0, 6))).status).toBe(2); // no identity/issuer
    expect((await run([...caseArgs('rekor2-happy-path'), '--key', A_TXT])).status).toBe(2); // both policies
    expect((await run(['some-bundle-dir'])).status).toBe(2); // the air-gap bundle form is not there yet
    const missing = await run(caseArgs('rekor2-happy-path').map((a) => (a === A_TXT ? '/nonexistent/a.txt' : a)));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('/nonexistent/a.txt');
  });
});
