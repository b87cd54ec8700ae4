/**
 * The DEVELOPMENT signer: signing with no Sigstore service, for local builds and tests.
 *
 * - A local CA (ECDSA P-256, self-signed, "Brickyard DEVELOPMENT CA") issues a short-lived
 *   (10 minute), Fulcio-shaped leaf certificate for a fresh key on every signature: empty
 *   subject, critical SAN (the identity: a URI such as a GitHub workflow ref or
 *   `brickyard-dev://<host>/<user>`, or an e-mail address), the OIDC issuer both as
 *   1.3.6.1.4.1.57264.1.1 (raw string, Fulcio v1) and 1.3.6.1.4.1.57264.1.8 (DER UTF8String,
 *   Fulcio v2), key usage digitalSignature, EKU codeSigning, SKI/AKI.
 * - Two local timestamp witnesses, both on by default so that a verifier may require either:
 *   an RFC 3161 timestamp authority (its own two-certificate chain: a TSA root and a TSA
 *   signing certificate, listed under `timestampAuthorities`), and a fake transparency log
 *   that answers like Rekor v1 with a `dsse`/`hashedrekord` entry carrying a SET, a signed
 *   checkpoint and a one-leaf inclusion proof (its key under `tlogs`). A certificate bundle
 *   needs at least one verifiable timestamp; with none, @sigstore/verify cannot check the chain.
 * - `devTrustedRoot()` lists exactly these keys, with no CT logs (so verify with
 *   `ctlogThreshold: 0`). No default site policy trusts it.
 *
 * Keys live in one folder (`devSignerDir(stateDir)` = `<stateDir>/dev-signer/`): private keys as
 * PKCS#8 PEM with mode 0600, certificates and the trusted root 0644, the folder 0700. It is
 * created atomically (written to a sibling temporary folder, then renamed), so concurrent first
 * runs agree on one root, and later runs load the same root.
 */
import { FULCIO_EXTENSION_OIDS, type FulcioExtensionName, type FulcioExtensions } from './fulcio-extensions.ts';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject, randomBytes, sign as nodeSign, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { stateLayout } from '../state/layout.ts';
import { parseUnknownJson, stringAt } from '../util/untrusted-json.ts';
import { json as sigJson } from '@sigstore/core';
import type { SignatureBundle, Signer, VerificationMaterial, Witness } from '@sigstore/sign';
import { BrickyardError } from '../util/errors.ts';
import { timeStampResponse, utf8 } from './dev-asn1.ts';
import { x509 } from './dev-x509.ts';
import { TRUSTED_ROOT_MEDIA_TYPE } from './payload-types.ts';

export const DEV_OIDC_ISSUER = 'https://brickyard.invalid/dev-oidc';
export const DEV_TLOG_ORIGIN = 'brickyard-dev-tlog.invalid';
export const DEV_TLOG_BASE_URL = `https://${DEV_TLOG_ORIGIN}`;
export { TRUSTED_ROOT_MEDIA_TYPE };
/** The `uri` of the development CA and TSA in a trusted root: how a policy recognises (and refuses) them. */
export const DEV_CA_URI = 'https://brickyard.invalid/dev-ca';
export const DEV_TSA_URI = 'https://brickyard.invalid/dev-tsa';
/** Lifetime of a leaf certificate, as Fulcio's. */
export const LEAF_VALIDITY_MS = 10 * 60 * 1000;

export const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
export const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const OID_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const OID_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';
/** TSA policy: an OID under the UUID arc (ITU-T X.667), generated once for Brickyard's dev TSA. */
const OID_DEV_TSA_POLICY = '2.25.236143541960917465925283393315432733719';

export type DevWitnessKind = 'tsa' | 'tlog';

export interface DevSignerOptions {
  /** The signer identity, written as the certificate's SAN (default: `localDevIdentity()`). */
  identity?: string;
  /** The OIDC issuer written into the certificate (default DEV_OIDC_ISSUER). */
  issuer?: string;
  /** Which local witnesses timestamp each signature (default both). */
  witnesses?: DevWitnessKind[];
  /** Time source, for tests (default: the system clock). */
  clock?: () => Date;
  /**
   * Fulcio extensions written into every certificate, as GitHub's Fulcio writes them for a
   * workflow run (runner environment, source repository, ref, signing workflow), so that site
   * policies that pin them are exercised offline.
   */
  extensions?: FulcioExtensions;
}

/** What `attest()` needs from any signing back end: a Signer and its witnesses. */
export interface SigningBackend {
  signer: Signer;
  witnesses: Witness[];
}

export interface DevSigner extends SigningBackend {
  kind: 'dev';
  dir: string;
  identity: string;
  issuer: string;
  /** The CA certificate (PEM). */
  caCertificate: string;
  /** The trusted root that verifies this signer's bundles. */
  trustedRoot(): TrustedRootJSON;
  /** A leaf certificate (PEM) for `publicKey`, valid from `now` for 10 minutes. */
  issueCertificate(publicKey: webcrypto.CryptoKey, now?: Date): Promise<string>;
}

/** trusted_root.json as @sigstore/protobuf-specs `TrustedRoot.fromJSON` reads it. */
export interface TrustedRootJSON {
  mediaType: string;
  tlogs: TransparencyLogInstanceJSON[];
  certificateAuthorities: CertificateAuthorityJSON[];
  ctlogs: TransparencyLogInstanceJSON[];
  timestampAuthorities: CertificateAuthorityJSON[];
}
interface TransparencyLogInstanceJSON {
  baseUrl: string;
  hashAlgorithm: 'SHA2_256';
  publicKey: { rawBytes: string; keyDetails: 'PKIX_ECDSA_P256_SHA_256'; validFor: { start: string } };
  logId: { keyId: string };
}
interface CertificateAuthorityJSON {
  subject: { organization: string; commonName: string };
  uri: string;
  certChain: { certificates: { rawBytes: string }[] };
  validFor: { start: string };
}

const EC: webcrypto.EcKeyImportParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const ORG = 'brickyard-dev';

const FILES = {
  meta: 'dev-signer.json',
  caKey: 'ca.key.pem',
  caCert: 'ca.crt.pem',
  tsaRootKey: 'tsa-root.key.pem',
  tsaRootCert: 'tsa-root.crt.pem',
  tsaKey: 'tsa.key.pem',
  tsaCert: 'tsa.crt.pem',
  tlogKey: 'tlog.key.pem',
  trustedRoot: 'trusted_root.json',
} as const;
const PRIVATE_FILES = [FILES.caKey, FILES.tsaRootKey, FILES.tsaKey, FILES.tlogKey];

export function devSignerDir(stateDir: string): string {
  return stateLayout(stateDir).devSigner;
}

/** `brickyard-dev://<hostname>/<user>`: the identity of local development signatures. */
export function localDevIdentity(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env['USER'] ?? 'unknown';
  }
  const safe = (s: string): string => encodeURIComponent(s.toLowerCase());
  return `brickyard-dev://${safe(hostname())}/${safe(user)}`;
}

interface Material {
  caKey: webcrypto.CryptoKey;
  caCert: InstanceType<typeof x509.X509Certificate>;
  tsaRootCert: InstanceType<typeof x509.X509Certificate>;
  tsaKey: KeyObject;
  tsaCert: InstanceType<typeof x509.X509Certificate>;
  tlogKey: KeyObject;
  created: string;
}

/** Load the development signer in `dir`, creating its keys on first use. */
export async function loadOrCreateDevSigner(dir: string, options: DevSignerOptions = {}): Promise<DevSigner> {
  if (!isComplete(dir)) await create(dir);
  const m = await load(dir);
  return devSigner(dir, m, options);
}

function isComplete(dir: string): boolean {
  if (!existsSync(dir)) return false;
  const present = new Set(readdirSync(dir));
  const missing = Object.values(FILES).filter((f) => !present.has(f));
  if (missing.length === 0) return true;
  if (present.size === 0) {
    rmSync(dir, { recursive: true, force: true });
    return false;
  }
  throw new BrickyardError('SIGNER_STATE_INVALID', `the development signer folder ${dir} is incomplete (missing ${missing.join(', ')})`, {
    hint: 'remove the folder to create a new development root (bundles signed with the old one will no longer verify against the new trusted_root.json)',
  });
}

function serial(): string {
  const b = randomBytes(16);
  b[0] = (b.readUInt8(0) & 0x7f) | 0x01; // positive, and no leading zero octet
  return b.toString('hex');
}

function floorSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

async function create(dir: string): Promise<void> {
  const now = floorSeconds(new Date());
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + 10 * 365 * 24 * 3600 * 1000);
  const subtle = webcrypto.subtle;
  const gen = async (): Promise<webcrypto.CryptoKeyPair> => await subtle.generateKey(EC, true, ['sign', 'verify']);
  const pkcs8 = async (k: webcrypto.CryptoKey): Promise<string> => x509.PemConverter.encode(await subtle.exportKey('pkcs8', k), 'PRIVATE KEY');

  const ca = await gen();
  const caCert = await devRootCertificate(`CN=Brickyard DEVELOPMENT CA (not for production), O=${ORG}`, ca, notBefore, notAfter);

  const tsaRoot = await gen();
  const tsaRootCert = await devRootCertificate(`CN=Brickyard DEVELOPMENT timestamp root (not for production), O=${ORG}`, tsaRoot, notBefore, notAfter);
  const tsa = await gen();
  const tsaCert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=Brickyard DEVELOPMENT timestamp authority (not for production), O=${ORG}`,
    issuer: tsaRootCert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: EC,
    publicKey: tsa.publicKey,
    signingKey: tsaRoot.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([OID_TIME_STAMPING], true),
      await x509.SubjectKeyIdentifierExtension.create(tsa.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(tsaRoot.publicKey),
    ],
  });
  const tlog = await gen();

  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.dev-signer-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(tmp, { mode: 0o700 });
  try {
    const write = (name: string, text: string, mode: number): void => {
      writeFileSync(join(tmp, name), text, { mode });
      chmodSync(join(tmp, name), mode);
    };
    write(FILES.caKey, await pkcs8(ca.privateKey), 0o600);
    write(FILES.tsaRootKey, await pkcs8(tsaRoot.privateKey), 0o600);
    write(FILES.tsaKey, await pkcs8(tsa.privateKey), 0o600);
    write(FILES.tlogKey, await pkcs8(tlog.privateKey), 0o600);
    write(FILES.caCert, caCert.toString('pem') + '\n', 0o644);
    write(FILES.tsaRootCert, tsaRootCert.toString('pem') + '\n', 0o644);
    write(FILES.tsaCert, tsaCert.toString('pem') + '\n', 0o644);
    const meta = {
      kind: 'brickyard-dev-signer',
      version: 1,
      warning: 'DEVELOPMENT signing keys: never trust this root in a site policy',
      created: now.toISOString(),
    };
    write(FILES.meta, JSON.stringify(meta, null, 2) + '\n', 0o644);
    const m: Material = {
      caKey: ca.privateKey,
      caCert,
      tsaRootCert,
      tsaKey: KeyObject.from(tsa.privateKey),
      tsaCert,
      tlogKey: KeyObject.from(tlog.privateKey),
      created: notBefore.toISOString(),
    };
    write(FILES.trustedRoot, JSON.stringify(trustedRootOf(m), null, 2) + '\n', 0o644);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another process created it first: use theirs.
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** A self-signed development root: a CA that signs only certificates (path length 0). */
async function devRootCertificate(name: string, keys: webcrypto.CryptoKeyPair, notBefore: Date, notAfter: Date): Promise<InstanceType<typeof x509.X509Certificate>> {
  return await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name,
    notBefore,
    notAfter,
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
}

async function load(dir: string): Promise<Material> {
  const read = (name: string): string => {
    const path = join(dir, name);
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new BrickyardError('FILE_UNREADABLE', `cannot read ${path}: ${(e as Error).message}`);
    }
  };
  for (const f of PRIVATE_FILES) {
    const mode = statSync(join(dir, f)).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new BrickyardError('SIGNER_STATE_INVALID', `${join(dir, f)} is readable by other users (mode ${mode.toString(8)})`, { hint: `chmod 600 ${join(dir, f)}` });
    }
  }
  try {
    const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(read(FILES.caKey)), EC, false, ['sign']);
    const caCert = new x509.X509Certificate(read(FILES.caCert));
    if (stringAt(parseUnknownJson(read(FILES.meta)), 'kind') !== 'brickyard-dev-signer') throw new Error(`${FILES.meta} is not a Brickyard development signer description`);
    return {
      caKey,
      caCert,
      tsaRootCert: new x509.X509Certificate(read(FILES.tsaRootCert)),
      tsaKey: createPrivateKey(read(FILES.tsaKey)),
      tsaCert: new x509.X509Certificate(read(FILES.tsaCert)),
      tlogKey: createPrivateKey(read(FILES.tlogKey)),
      created: caCert.notBefore.toISOString(),
    };
  } catch (e) {
    if (e instanceof BrickyardError) throw e;
    throw new BrickyardError('SIGNER_STATE_INVALID', `the development signer in ${dir} cannot be loaded: ${(e as Error).message}`, {
      hint: 'remove the folder to create a new development root',
      cause: e,
    });
  }
}

function b64(b: ArrayBuffer | Buffer): string {
  return Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('base64');
}

function spkiOf(key: KeyObject): Buffer {
  return createPublicKey(key).export({ type: 'spki', format: 'der' });
}

function trustedRootOf(m: Material): TrustedRootJSON {
  const tlogSpki = spkiOf(m.tlogKey);
  return {
    mediaType: TRUSTED_ROOT_MEDIA_TYPE,
    tlogs: [
      {
        baseUrl: DEV_TLOG_BASE_URL,
        hashAlgorithm: 'SHA2_256',
        publicKey: { rawBytes: tlogSpki.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: m.created } },
        logId: { keyId: createHash('sha256').update(tlogSpki).digest('base64') },
      },
    ],
    certificateAuthorities: [
      {
        subject: { organization: ORG, commonName: 'Brickyard DEVELOPMENT CA (not for production)' },
        uri: DEV_CA_URI,
        certChain: { certificates: [{ rawBytes: b64(m.caCert.rawData) }] },
        validFor: { start: m.caCert.notBefore.toISOString() },
      },
    ],
    ctlogs: [],
    timestampAuthorities: [
      {
        subject: { organization: ORG, commonName: 'Brickyard DEVELOPMENT timestamp authority (not for production)' },
        uri: DEV_TSA_URI,
        certChain: { certificates: [{ rawBytes: b64(m.tsaCert.rawData) }, { rawBytes: b64(m.tsaRootCert.rawData) }] },
        validFor: { start: m.tsaCert.notBefore.toISOString() },
      },
    ],
  };
}

function devSigner(dir: string, m: Material, options: DevSignerOptions): DevSigner {
  const identity = options.identity ?? localDevIdentity();
  const issuer = options.issuer ?? DEV_OIDC_ISSUER;
  if (identity.trim() === '' || /\s/.test(identity)) throw new BrickyardError('USAGE', `the signer identity must be a URI or an e-mail address, got '${identity}'`);
  if (!/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(issuer)) throw new BrickyardError('USAGE', `the OIDC issuer must be a URL, got '${issuer}'`);
  const clock = options.clock ?? ((): Date => new Date());
  const kinds = options.witnesses ?? ['tsa', 'tlog'];

  const issueCertificate = async (publicKey: webcrypto.CryptoKey, at: Date = clock()): Promise<string> => {
    const notBefore = floorSeconds(at);
    const san = /^[^@\s/:]+@[^@\s/]+$/.test(identity) ? { type: 'email' as const, value: identity } : { type: 'url' as const, value: identity };
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: new x509.Name([]),
      issuer: m.caCert.subjectName,
      notBefore,
      notAfter: new Date(notBefore.getTime() + LEAF_VALIDITY_MS),
      signingAlgorithm: EC,
      publicKey,
      signingKey: m.caKey,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([OID_CODE_SIGNING], false),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(m.caCert),
        new x509.SubjectAlternativeNameExtension([san], true),
        new x509.Extension(OID_FULCIO_ISSUER_V1, false, Buffer.from(issuer, 'utf8')),
        new x509.Extension(OID_FULCIO_ISSUER_V2, false, utf8(issuer)),
        ...Object.entries(options.extensions ?? {}).map(([name, value]) => new x509.Extension(FULCIO_EXTENSION_OIDS[name as FulcioExtensionName], false, utf8(value))),
      ],
    });
    return cert.toString('pem');
  };

  const signer: Signer = {
    // Like Fulcio: a fresh key and certificate for every signature.
    async sign(data: Buffer) {
      const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const publicKey = await webcrypto.subtle.importKey('spki', keys.publicKey.export({ type: 'spki', format: 'der' }), EC, true, ['verify']);
      const certificate = await issueCertificate(publicKey);
      const signature = nodeSign('sha256', data, keys.privateKey);
      return { signature, key: { $case: 'x509Certificate', certificate } };
    },
  };

  const witnesses: Witness[] = kinds.map((k) => (k === 'tsa' ? tsaWitness(m, clock) : tlogWitness(m, clock)));
  const root = trustedRootOf(m);
  return {
    kind: 'dev',
    dir,
    identity,
    issuer,
    caCertificate: m.caCert.toString('pem'),
    signer,
    witnesses,
    trustedRoot: () => structuredClone(root),
    issueCertificate,
  };
}

/** The trusted_root.json that verifies bundles from `dev` (also written to `<dir>/trusted_root.json`). */
export function devTrustedRoot(dev: DevSigner): TrustedRootJSON {
  return dev.trustedRoot();
}

/**
 * Whether a trusted root (parsed JSON) lists any development authority: a CA or TSA with the
 * development URI or organisation, or the development log. A site policy refuses such a root
 * unless it explicitly opts into development signatures.
 */
export function isDevTrustedRoot(root: unknown): boolean {
  const r = (root ?? {}) as { certificateAuthorities?: unknown; timestampAuthorities?: unknown; tlogs?: unknown };
  const list = (x: unknown): Record<string, unknown>[] => (Array.isArray(x) ? (x as Record<string, unknown>[]) : []);
  const devAuthority = (a: Record<string, unknown>): boolean =>
    a['uri'] === DEV_CA_URI || a['uri'] === DEV_TSA_URI || (a['subject'] as { organization?: unknown } | undefined)?.organization === ORG;
  return list(r.certificateAuthorities).some(devAuthority) || list(r.timestampAuthorities).some(devAuthority) || list(r.tlogs).some((t) => t['baseUrl'] === DEV_TLOG_BASE_URL);
}

function signatureOf(content: SignatureBundle): Buffer {
  switch (content.$case) {
    case 'dsseEnvelope': {
      const s = content.dsseEnvelope.signatures[0];
      if (!s) throw new BrickyardError('SIGNING_FAILED', 'the DSSE envelope has no signature to timestamp');
      return s.sig;
    }
    case 'messageSignature':
      return content.messageSignature.signature;
  }
}

/** A local RFC 3161 timestamp authority: a TimeStampResp over sha256(signature). */
function tsaWitness(m: Material, clock: () => Date): Witness {
  const certDer = Buffer.from(new Uint8Array(m.tsaCert.rawData));
  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- sigstore's Witness is async: a throw here must reach it as a rejection
    async testify(content: SignatureBundle): Promise<VerificationMaterial> {
      const response = timeStampResponse({
        imprint: createHash('sha256').update(signatureOf(content)).digest(),
        policy: OID_DEV_TSA_POLICY,
        time: clock(),
        certDer,
        sign: (signedAttributes) => nodeSign('sha256', signedAttributes, m.tsaKey),
      });
      return { rfc3161Timestamps: [{ signedTimestamp: response }] };
    },
  };
}

/**
 * A fake transparency log that answers as Rekor v1 does, for a one-entry log: the canonical
 * entry body, a SET over {body, integratedTime, logIndex, logID}, and an inclusion proof in a
 * tree of size 1 (root = leaf hash) with a checkpoint signed by the log key.
 */
function tlogWitness(m: Material, clock: () => Date): Witness {
  const spki = spkiOf(m.tlogKey);
  const logId = createHash('sha256').update(spki).digest();
  return {
    // eslint-disable-next-line @typescript-eslint/require-await -- sigstore's Witness is async: a throw here must reach it as a rejection
    async testify(content: SignatureBundle, publicKey: string): Promise<VerificationMaterial> {
      const verifier = Buffer.from(publicKey, 'utf8').toString('base64');
      let body: object;
      let kind: 'dsse' | 'hashedrekord';
      if (content.$case === 'dsseEnvelope') {
        const env = content.dsseEnvelope;
        kind = 'dsse';
        const envelopeJson = {
          payload: env.payload.toString('base64'),
          payloadType: env.payloadType,
          signatures: env.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig.toString('base64') })),
        };
        body = {
          apiVersion: '0.0.1',
          kind,
          spec: {
            envelopeHash: { algorithm: 'sha256', value: createHash('sha256').update(sigJson.canonicalize(envelopeJson)).digest('hex') },
            payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(env.payload).digest('hex') },
            signatures: env.signatures.map((s) => ({ signature: s.sig.toString('base64'), verifier })),
          },
        };
      } else {
        const ms = content.messageSignature;
        kind = 'hashedrekord';
        body = {
          apiVersion: '0.0.1',
          kind,
          spec: {
            data: { hash: { algorithm: 'sha256', value: Buffer.from(ms.messageDigest.digest).toString('hex') } },
            signature: { content: ms.signature.toString('base64'), publicKey: { content: verifier } },
          },
        };
      }
      const canonical = Buffer.from(sigJson.canonicalize(body), 'utf8');
      const integratedTime = Math.floor(clock().getTime() / 1000);
      const set = nodeSign(
        'sha256',
        Buffer.from(sigJson.canonicalize({ body: canonical.toString('base64'), integratedTime, logIndex: 0, logID: logId.toString('hex') }), 'utf8'),
        m.tlogKey,
      );
      const rootHash = createHash('sha256')
        .update(Buffer.from([0]))
        .update(canonical)
        .digest();
      const note = `${DEV_TLOG_ORIGIN} - dev\n1\n${rootHash.toString('base64')}\n`;
      const noteSig = nodeSign('sha256', Buffer.from(note, 'utf8'), m.tlogKey);
      const envelope = `${note}\n\u2014 ${DEV_TLOG_ORIGIN} ${Buffer.concat([logId.subarray(0, 4), noteSig]).toString('base64')}\n`;
      return {
        tlogEntries: [
          {
            logIndex: '0',
            logId: { keyId: logId },
            kindVersion: { kind, version: '0.0.1' },
            integratedTime: String(integratedTime),
            inclusionPromise: { signedEntryTimestamp: set },
            inclusionProof: { logIndex: '0', treeSize: '1', rootHash, hashes: [], checkpoint: { envelope } },
            canonicalizedBody: canonical,
          },
        ],
      };
    },
  };
}
