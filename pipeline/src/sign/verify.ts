/**
 * Offline verification of one Sigstore bundle against a pinned `trusted_root.json`.
 *
 * `@sigstore/verify` does the cryptography (timestamps, certificate chain at each verified
 * timestamp, SCTs, transparency-log inclusion, signature); this module adds what that library
 * leaves to the caller or gets wrong (test/sign/vectors.test.ts shows each case):
 *
 * - the signer identity is compared exactly: the library's SAN policy is an unanchored regex,
 *   so we pass an anchored, escaped one and then compare the certificate's single SAN string
 *   ourselves; the OIDC issuer is decoded from the Fulcio extensions (1.3.6.1.4.1.57264.1.8,
 *   a DER UTF8String, else 1.3.6.1.4.1.57264.1.1, the raw string) and compared exactly;
 * - DSSE bundles: the library ignores the artifact, so the in-toto statement's subject digest
 *   must equal the digest of the artifact actually received (hashed as a stream);
 * - message signatures: the bundle's message digest must equal the artifact's digest, and the
 *   signature is checked over the artifact streamed through `crypto.createVerify`, never
 *   loading the file whole (given only a sha256 digest, ECDSA is checked over the digest,
 *   verify-ecdsa.ts);
 * - a root certificate inside the bundle, or an inclusion proof without a checkpoint, is
 *   refused by name (the library accepts the first and crashes on the second);
 * - a bundle with no verifiable timestamp is rejected with a clear error (the library crashes
 *   with a TypeError when its thresholds are 0);
 * - a trusted root whose log, CT log, CA or TSA lacks a validity start is rejected (the library
 *   treats the missing start as the beginning of time: conformance case
 *   trust-root-tlog-missing-validity-start_fail);
 * - checkpoints (Rekor v1 and v2): the library accepts a checkpoint when ANY signature line
 *   verifies under a log whose base URL merely contains the signature's name, never compares
 *   the checkpoint's origin with the log, never compares the checkpoint's size and root hash
 *   with the inclusion proof's, and never checks the log key's validity period for entries
 *   without an integrated time (Rekor v2). We parse the signed note strictly and require a
 *   signature by the log itself (name equal to the log's host, origin equal to that host or,
 *   for Rekor v1, `host - treeID`), the proof's tree size and root hash, and a log key valid
 *   at every verified timestamp.
 *
 * Never `sigstore.verify()`: it always goes to the network for TUF.
 *
 * Its pieces: cert-identity.ts (the signer identity and issuer), checkpoint.ts (log checkpoints),
 * artifact-read.ts (hashing the artifact), verify-error.ts (the error every check throws).
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { ASN1Obj, X509Certificate } from '@sigstore/core';
import { HashAlgorithm, TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier, type SignedEntity, type TrustMaterial } from '@sigstore/verify';
import { BrickyardError } from '../util/errors.ts';
import { arrayAt, objectAt, parseUnknownJson, stringAt } from '../util/untrusted-json.ts';
import { certificateExtensions, type FulcioExtensions } from './fulcio-extensions.ts';
import { readArtifact, type ArtifactInput, type Digests } from './artifact-read.ts';
import { checkCheckpoint } from './checkpoint.ts';
import { certificateIdentity, checkIdentity, decodeUtf8String } from './cert-identity.ts';
import { SignatureVerificationError, type VerificationCheck } from './verify-error.ts';

export type VerificationPolicy = { identity: string; issuer: string } | { publicKey: string /* PEM */ };

export interface VerifyInput {
  /** The parsed bundle JSON (a string or bytes are parsed here, so malformed JSON is a verification failure). */
  bundle: unknown;
  artifact: ArtifactInput;
  /** The parsed trusted_root.json the site pinned. */
  trustedRoot: unknown;
  policy: VerificationPolicy;
  /** Verified timestamps more than MAX_CLOCK_SKEW_MS after this are refused (default: the current time). */
  now?: Date;
  /** Transparency-log entries required (default 1; 0 for TSA-only bundles such as GitHub's private-repository ones). */
  tlogThreshold?: number;
  /** SCTs required in a signing certificate (default 1; 0 only for a CA without a CT log, such as a development CA). */
  ctlogThreshold?: number;
  /**
   * Domain separation: the bundle must be a DSSE envelope of exactly this payload type (a message
   * signature, or a DSSE envelope of any other type, is refused). For the in-toto type the
   * statement's subject is bound to the artifact; for any other type the payload itself must be
   * the artifact's bytes (a Brickyard manifest).
   */
  payloadType?: string;
}

export interface VerifiedSignature {
  identity?: string;
  issuer?: string;
  keyHint?: string;
  mediaType: string;
  /** The verified times of signing: transparency-log integrated times and RFC 3161 timestamps. */
  signedAt: Date[];
  payloadType?: string;
  payload?: Uint8Array /* DSSE */;
  statement?: unknown /* parsed in-toto statement when DSSE */;
  /** The Fulcio extensions of the signing certificate (runner, repository, ref, workflow). */
  extensions?: FulcioExtensions;
}

// Its home is verify-error.ts (checkpoint.ts throws it too); re-exported for the importers.
export { SignatureVerificationError, type VerificationCheck };
// Its home is cert-identity.ts; re-exported for the importers.
export { certificateIdentity, decodeUtf8String };
// Its home is artifact-read.ts; re-exported for the importers.
export type { ArtifactInput };

const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const IN_TOTO_STATEMENT_TYPES = new Set(['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1']);
/** Allowed lead of a verified timestamp over `now` (clock drift between the TSA or log and us). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/**
 * A trusted root, parsed and checked, with its material (certificates parsed, keys imported),
 * made once per trusted_root.json content and reused for every bundle a site verifies with it:
 * a bundle's manifest and each of its attestations. Keyed by the JSON text, so an object changed
 * between two calls is parsed and checked afresh.
 */
interface TrustedRootEntry {
  root: TrustedRoot;
  /** Made on first use with a certificate policy (a key policy makes its own). */
  trust?: TrustMaterial;
}
const trustedRoots = new Map<string, TrustedRootEntry>();
/** The cache entry of this root: the parsed root, and the material once made. */
function parseTrustedRootOnce(raw: unknown): TrustedRootEntry {
  // Wrapped, so that every value (undefined too) has a text to be keyed by.
  const key = JSON.stringify({ raw });
  const known = trustedRoots.get(key);
  if (known) return known;
  const entry: TrustedRootEntry = { root: parseTrustedRoot(raw) };
  if (trustedRoots.size >= 8) trustedRoots.clear();
  trustedRoots.set(key, entry);
  return entry;
}
function trustMaterialOf(entry: TrustedRootEntry): TrustMaterial {
  entry.trust ??= toTrustMaterial(entry.root);
  return entry.trust;
}

/**
 * @sigstore/core re-encodes a certificate's whole ASN.1 tree to DER each time it compares two
 * certificates, takes a public key or checks a signature; @sigstore/verify compares every pair of
 * the trusted root's certificates for every bundle (most of a verification's time). The trees are
 * never changed once parsed (no code in @sigstore or here writes to one), so each node's encoding
 * is kept, and every caller gets its own copy of the bytes.
 */
const derOf = new WeakMap<ASN1Obj, Buffer>();
const encodeDer = ASN1Obj.prototype.toDER; // eslint-disable-line @typescript-eslint/unbound-method
ASN1Obj.prototype.toDER = function toDER(this: ASN1Obj): Buffer {
  let der = derOf.get(this);
  if (der === undefined) {
    der = encodeDer.call(this);
    derOf.set(this, der);
  }
  return Buffer.from(der);
};

/**
 * Likewise, building a chain checks the signature of every candidate issuer on every bundle: the
 * same certificates (the trusted root's, a TSA's) over and over. A signature check is a function
 * of the two certificates' bytes alone, so its result is kept under those bytes.
 */
const signatureChecks = new Map<string, boolean>();
const checkSignature = X509Certificate.prototype.verify; // eslint-disable-line @typescript-eslint/unbound-method
X509Certificate.prototype.verify = function verify(this: X509Certificate, issuer?: X509Certificate): boolean {
  const key = `${this.root.toDER().toString('base64')} ${issuer ? issuer.root.toDER().toString('base64') : ''}`;
  let ok = signatureChecks.get(key);
  if (ok === undefined) {
    ok = checkSignature.call(this, issuer);
    if (signatureChecks.size >= 1024) signatureChecks.clear();
    signatureChecks.set(key, ok);
  }
  return ok;
};

export async function verifySigstoreBundle(input: VerifyInput): Promise<VerifiedSignature> {
  const bundle = parseBundle(input.bundle);
  const rootEntry = parseTrustedRootOnce(input.trustedRoot);
  const root = rootEntry.root;
  const policyKey = 'publicKey' in input.policy ? parsePolicyKey(input.policy.publicKey) : undefined;
  checkPolicyFitsBundle(input, bundle, policyKey);
  const material = bundle.verificationMaterial.content;

  let trust: TrustMaterial;
  try {
    trust = policyKey ? toTrustMaterial(root, () => ({ publicKey: policyKey, validFor: () => true })) : trustMaterialOf(rootEntry);
  } catch (e) {
    throw new SignatureVerificationError('trusted root', `cannot use it: ${(e as Error).message}`, { cause: e });
  }

  let entity: SignedEntity;
  let signerKey: KeyObject | undefined = policyKey;
  try {
    entity = toSignedEntity(bundle, Buffer.alloc(0));
    if (entity.key.$case === 'certificate') signerKey = createPublicKey({ key: entity.key.certificate.publicKey, format: 'der', type: 'spki' });
  } catch (e) {
    throw new SignatureVerificationError('bundle', `cannot read its signature material: ${(e as Error).message}`, { cause: e });
  }

  checkBundleMaterial(bundle);

  const untimedKeySignature = requireVerifiableTimestamp(input, entity);

  // The artifact: hashed (and, for message signatures, signature-checked) in one streaming pass.
  const content = bundle.content;
  const message = content.$case === 'messageSignature' ? content.messageSignature : undefined;
  // A message signature with its digest's algorithm, one we can hash with.
  const signed = message ? { message, hash: hashName(message.messageDigest.algorithm) } : undefined;
  if (signed && !signed.hash) throw new SignatureVerificationError('message digest', `unsupported digest algorithm ${String(signed.message.messageDigest.algorithm)}`);
  const messageHash = signed?.hash;
  const art = await readArtifact(input.artifact, message && signerKey && messageHash ? { key: signerKey, hash: messageHash, signature: message.signature } : undefined);

  if (message && messageHash) {
    const artifactDigest = art.digests[messageHash];
    if (artifactDigest === undefined || art.signatureValid === undefined) {
      throw new BrickyardError(
        'USAGE',
        `this bundle is a message signature (${messageHash}, key type ${signerKey?.asymmetricKeyType ?? 'unknown'}); its signature can be checked over a sha256 digest only for ECDSA P-256/P-384 keys: give the artifact itself`,
      );
    }
    entity = { ...entity, signature: streamedMessageSignature(entity.signature, art.signatureValid) };
  }

  verifyWithLibrary(input, trust, entity, untimedKeySignature);

  // What the library does not check (or checks loosely).
  const signedAt = verifiedTimes(entity);
  checkNotInFuture(signedAt, input.now ?? new Date());
  for (const entry of bundle.verificationMaterial.tlogEntries) checkCheckpoint(entry, trust, signedAt);

  const result: VerifiedSignature = { mediaType: bundle.mediaType, signedAt };
  if (entity.key.$case === 'certificate') {
    const { identity, issuer } = checkIdentity(entity.key.certificate, input.policy as { identity: string; issuer: string });
    result.identity = identity;
    result.issuer = issuer;
    const { extensions, malformed } = certificateExtensions(entity.key.certificate, decodeUtf8String);
    if (malformed.length) throw new SignatureVerificationError('certificate', `the certificate extension(s) ${malformed.join(', ')} are not DER UTF8Strings`);
    result.extensions = extensions;
  } else if (material.$case === 'publicKey') {
    result.keyHint = material.publicKey.hint;
  }

  if (content.$case === 'dsseEnvelope') {
    const env = content.dsseEnvelope;
    result.payloadType = env.payloadType;
    result.payload = new Uint8Array(env.payload);
    if (input.payloadType === undefined || input.payloadType === IN_TOTO_PAYLOAD_TYPE) result.statement = checkSubject(env.payloadType, env.payload, art.digests);
    else checkPayloadIsArtifact(env.payload, art.digests);
  } else if (message && messageHash) {
    const claimed = Buffer.from(message.messageDigest.digest).toString('hex');
    if (claimed !== art.digests[messageHash]) {
      throw new SignatureVerificationError('message digest', `the bundle's ${messageHash} message digest ${claimed} is not the artifact's (${art.digests[messageHash]})`);
    }
  }
  return result;
}

/** The library's checks: the signature, the certificate chain, the logs and timestamps to their thresholds, and the identity. */
function verifyWithLibrary(input: VerifyInput, trust: TrustMaterial, entity: SignedEntity, untimedKeySignature: boolean): void {
  const verifier = new Verifier(trust, {
    tlogThreshold: threshold(input.tlogThreshold, 'tlogThreshold'),
    ctlogThreshold: entity.key.$case === 'certificate' ? threshold(input.ctlogThreshold, 'ctlogThreshold') : 0,
    timestampThreshold: untimedKeySignature ? 0 : 1,
  });
  const libPolicy =
    'identity' in input.policy ? { subjectAlternativeName: new RegExp(`^${escapeRegExp(input.policy.identity)}$`), extensions: { issuer: input.policy.issuer } } : undefined;
  try {
    verifier.verify(entity, libPolicy);
  } catch (e) {
    // A policy failure: name it with our exact comparison's words, not the library's regex.
    if ((e as { code?: string }).code === 'UNTRUSTED_SIGNER_ERROR' && entity.key.$case === 'certificate' && 'identity' in input.policy) {
      checkIdentity(entity.key.certificate, input.policy);
    }
    throw fromLibraryError(e);
  }
}

/** The policy asks for what the bundle is: an identity or a key as signed, and the payload type it names. */
function checkPolicyFitsBundle(input: VerifyInput, bundle: Bundle, policyKey: KeyObject | undefined): void {
  if ('identity' in input.policy) {
    const { identity, issuer } = input.policy;
    if (typeof identity !== 'string' || identity === '' || typeof issuer !== 'string' || issuer === '') {
      throw new BrickyardError('USAGE', 'the verification policy needs a non-empty identity and issuer (or a public key)');
    }
  }
  if (input.payloadType !== undefined) {
    const content = bundle.content;
    if (content.$case !== 'dsseEnvelope') {
      throw new SignatureVerificationError('payload type', `expected a DSSE envelope of type ${input.payloadType}; this bundle is a message signature, made for another purpose`);
    }
    if (content.dsseEnvelope.payloadType !== input.payloadType) {
      throw new SignatureVerificationError(
        'payload type',
        `the DSSE payload type is ${JSON.stringify(content.dsseEnvelope.payloadType)}; expected exactly ${JSON.stringify(input.payloadType)} (a signature made for another purpose)`,
      );
    }
  }
  const material = bundle.verificationMaterial.content;
  if (material.$case === 'publicKey' && !policyKey) {
    throw new SignatureVerificationError('public key', 'the bundle is signed with a key, but the policy expects a certificate identity (give the public key)');
  }
  if (material.$case !== 'publicKey' && policyKey) {
    throw new SignatureVerificationError('public key', 'the policy expects a key-signed bundle, but this bundle carries a certificate');
  }
}

/** Refuses material the library would trip over (TypeError) or accept. */
function checkBundleMaterial(bundle: Bundle): void {
  const material = bundle.verificationMaterial.content;
  // A root certificate inside the bundle (roots come only from the trusted root), an inclusion
  // proof without its checkpoint.
  if (material.$case === 'x509CertificateChain') {
    for (const c of material.x509CertificateChain.certificates) {
      let selfSigned: boolean;
      try {
        selfSigned = X509Certificate.parse(Buffer.from(c.rawBytes)).verify();
      } catch (e) {
        throw new SignatureVerificationError('certificate', `unreadable certificate in the bundle: ${(e as Error).message}`, { cause: e });
      }
      if (selfSigned)
        throw new SignatureVerificationError(
          'certificate',
          "the bundle's certificate chain contains a self-signed root certificate; trust anchors come only from the trusted root",
        );
    }
  }
  for (const entry of bundle.verificationMaterial.tlogEntries) {
    if (entry.inclusionProof && !entry.inclusionProof.checkpoint?.envelope) {
      throw new SignatureVerificationError('checkpoint', 'a transparency-log inclusion proof has no checkpoint');
    }
  }
}

/** At least one verifiable timestamp, unless a pinned key's signature is asked for with no log entry; whether it is that untimed case. */
function requireVerifiableTimestamp(input: VerifyInput, entity: SignedEntity): boolean {
  // Zero verifiable timestamps: refuse clearly instead of the library's crash (trap 1).
  const verifiable = entity.timestamps.filter((t) => t.$case === 'timestamp-authority' || t.tlogEntry.inclusionPromise !== undefined);
  // A signature by a pinned key needs no time when the caller asks for no log entry either:
  // the key itself is the trust (a site's own admission records).
  const untimedKeySignature = 'publicKey' in input.policy && input.tlogThreshold === 0 && verifiable.length === 0;
  if (verifiable.length === 0 && !untimedKeySignature) {
    throw new SignatureVerificationError(
      'timestamps',
      'the bundle has no verifiable timestamp (no transparency-log entry with an inclusion promise and no RFC 3161 timestamp), so the certificate cannot be checked',
      {
        hint: 'Rekor v2 entries carry no time: such bundles need an RFC 3161 timestamp from a TSA in the trusted root',
      },
    );
  }
  return untimedKeySignature;
}

/** Refuses a verified timestamp later than now (beyond the allowed clock skew). */
function checkNotInFuture(signedAt: Date[], now: Date): void {
  for (const t of signedAt) {
    if (t.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) {
      throw new SignatureVerificationError('timestamps', `a verified timestamp (${t.toISOString()}) lies after the current time (${now.toISOString()})`);
    }
  }
}

/** A bundle given as text or bytes is parsed here; a parsed object is checked by @sigstore/bundle. */
function parseBundle(raw: unknown): Bundle {
  let json = raw;
  if (typeof raw === 'string' || raw instanceof Uint8Array) {
    try {
      json = JSON.parse(typeof raw === 'string' ? raw : Buffer.from(raw).toString('utf8'));
    } catch (e) {
      throw new SignatureVerificationError('bundle', `not valid JSON: ${(e as Error).message}`, { cause: e });
    }
  }
  try {
    return bundleFromJSON(json);
  } catch (e) {
    throw new SignatureVerificationError('bundle', `not a valid Sigstore bundle: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The trusted root, refusing entries without a validity start: the spec requires one, and
 * the library would treat a missing start as "valid since the beginning of time".
 */
function parseTrustedRoot(raw: unknown): TrustedRoot {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new SignatureVerificationError('trusted root', 'not a JSON object');
  const r = raw as Record<string, unknown>;
  const list = (k: string): Record<string, unknown>[] => (Array.isArray(r[k]) ? (r[k] as Record<string, unknown>[]) : []);
  const start = (v: unknown): unknown => (v as { start?: unknown } | undefined)?.start;
  const missing: string[] = [];
  for (const k of ['tlogs', 'ctlogs']) {
    for (const t of list(k)) if (!start((t['publicKey'] as { validFor?: unknown } | undefined)?.validFor)) missing.push(`${k} ${String(t['baseUrl'])}`);
  }
  for (const k of ['certificateAuthorities', 'timestampAuthorities']) {
    for (const c of list(k)) if (!start(c['validFor'])) missing.push(`${k} ${String(c['uri'])}`);
  }
  if (missing.length > 0) {
    throw new SignatureVerificationError('trusted root', `malformed: no validity start for ${missing.join(', ')}`, {
      hint: 'every log, CT log, CA and TSA in trusted_root.json needs validFor.start; re-export the trusted root',
    });
  }
  try {
    return TrustedRoot.fromJSON(raw);
  } catch (e) {
    throw new SignatureVerificationError('trusted root', `malformed: ${(e as Error).message}`, { cause: e });
  }
}

function parsePolicyKey(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (e) {
    throw new SignatureVerificationError('public key', `the policy's public key is not a readable PEM public key: ${(e as Error).message}`, { cause: e });
  }
}

function threshold(v: number | undefined, name: string): number {
  if (v === undefined) return 1;
  if (!Number.isInteger(v) || v < 0) throw new BrickyardError('USAGE', `${name} must be a whole number >= 0, got ${String(v)}`);
  return v;
}

function hashName(alg: HashAlgorithm | undefined): 'sha256' | 'sha384' | 'sha512' | undefined {
  switch (alg) {
    case HashAlgorithm.SHA2_256:
    case HashAlgorithm.HASH_ALGORITHM_UNSPECIFIED:
    case undefined:
      return 'sha256';
    case HashAlgorithm.SHA2_384:
      return 'sha384';
    case HashAlgorithm.SHA2_512:
      return 'sha512';
    default:
      return undefined;
  }
}

/** The library's message-signature content, with the signature check done over the streamed artifact. */
function streamedMessageSignature(base: SignedEntity['signature'], valid: ((key: KeyObject) => boolean) | undefined): SignedEntity['signature'] {
  return {
    signature: base.signature,
    compareSignature: (s) => base.compareSignature(s),
    compareDigest: (d) => base.compareDigest(d),
    compareSignedDigest: (d) => base.compareSignedDigest(d),
    verifySignature: (key) => valid?.(key) ?? false,
  };
}

function verifiedTimes(entity: SignedEntity): Date[] {
  const out: Date[] = [];
  for (const t of entity.timestamps) {
    if (t.$case === 'timestamp-authority') out.push(t.timestamp.signingTime);
    else if (t.tlogEntry.inclusionPromise !== undefined) out.push(new Date(Number(t.tlogEntry.integratedTime) * 1000));
  }
  return out;
}

const LIB_CHECKS: Record<string, VerificationCheck> = {
  TIMESTAMP_ERROR: 'timestamps',
  CERTIFICATE_ERROR: 'certificate',
  PUBLIC_KEY_ERROR: 'public key',
  SIGNATURE_ERROR: 'signature',
  TLOG_ERROR: 'transparency log',
  TLOG_BODY_ERROR: 'transparency log',
  TLOG_INCLUSION_PROMISE_ERROR: 'transparency log',
  TLOG_INCLUSION_PROOF_ERROR: 'checkpoint',
  TLOG_MISSING_INCLUSION_ERROR: 'transparency log',
};

function fromLibraryError(e: unknown): SignatureVerificationError {
  const err = e as { code?: string; message?: string; cause?: unknown };
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  if (err.code === 'UNTRUSTED_SIGNER_ERROR') {
    const check: VerificationCheck = /extension|issuer/.test(err.message ?? '') ? 'issuer' : 'identity';
    return new SignatureVerificationError(check, err.message ?? String(e), { cause: e });
  }
  const check = (err.code && LIB_CHECKS[err.code]) || 'signature';
  const code = err.code && LIB_CHECKS[err.code] ? `${err.code}: ` : `${e instanceof Error ? e.name : 'error'}: `;
  return new SignatureVerificationError(check, `${code}${err.message ?? String(e)}${cause}`, { cause: e });
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A non-in-toto DSSE payload (a Brickyard manifest) binds by being the artifact itself. */
function checkPayloadIsArtifact(payload: Buffer, digests: Digests): void {
  const got = createHash('sha256').update(payload).digest('hex');
  if (got !== digests.sha256) {
    throw new SignatureVerificationError(
      'subject digest',
      `the signed payload (sha256 ${got.slice(0, 16)}…) is not the artifact received (sha256 ${String(digests.sha256).slice(0, 16)}…)`,
    );
  }
}

/** Bind the DSSE in-toto statement to the artifact: some subject's digest must equal the artifact's. */
function checkSubject(payloadType: string, payload: Buffer, digests: Digests): unknown {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new SignatureVerificationError(
      'subject digest',
      `the DSSE payload type is ${JSON.stringify(payloadType)}, not ${IN_TOTO_PAYLOAD_TYPE}, so it cannot be bound to the artifact`,
    );
  }
  let statement: unknown;
  try {
    statement = parseUnknownJson(payload.toString('utf8'));
  } catch (e) {
    throw new SignatureVerificationError('subject digest', `the DSSE payload is not JSON: ${(e as Error).message}`, { cause: e });
  }
  const type = stringAt(statement, '_type');
  const subjects = arrayAt(statement, 'subject');
  if (type === undefined || !IN_TOTO_STATEMENT_TYPES.has(type) || !subjects) {
    throw new SignatureVerificationError('subject digest', 'the DSSE payload is not an in-toto statement with subjects');
  }
  const ours = Object.entries(digests)
    .map(([k, v]) => `${k}:${v}`)
    .join(', ');
  for (const s of subjects) {
    const d = objectAt(s, 'digest');
    if (d === undefined) continue;
    let matched = 0;
    let conflicting = false;
    for (const [alg, hex] of Object.entries(d)) {
      const mine = digests[alg as keyof Digests];
      if (mine === undefined) continue;
      if (typeof hex === 'string' && hex.toLowerCase() === mine) matched++;
      else conflicting = true;
    }
    if (matched > 0 && !conflicting) return statement;
  }
  throw new SignatureVerificationError('subject digest', `no subject of the in-toto statement has the artifact's digest (${ours})`, {
    hint: 'the bundle attests a different artifact than the one given',
  });
}
