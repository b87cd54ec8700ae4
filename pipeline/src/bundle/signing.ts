/**
 * How a bundle's manifest is signed and verified, behind two small interfaces, so that the
 * bundle and import code does not care whether the signature is keyless Sigstore (CI, plugged
 * in from pipeline/src/sign/) or a plain key pair (local development and the tests here).
 *
 * The key-pair implementation is real ECDSA P-256 over SHA-256 (node:crypto), wrapped in a
 * Sigstore-bundle-v0.3-shaped JSON: `verificationMaterial.publicKey.hint` names the key (the
 * sha256 of its SubjectPublicKeyInfo DER, hex) and `messageSignature` carries the message
 * digest and the DER signature, both base64. The identity of a key is NOT taken from the
 * bundle: the verifier is configured with the keys it trusts and the identity each one stands for.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { BrickyardError } from '../util/errors.ts';

export interface ManifestSigner {
  /** Returns a Sigstore bundle (JSON) over the manifest bytes. */
  sign(manifestBytes: Uint8Array): Promise<{ bundleJson: object; identity: string }>;
}

export interface ManifestVerifier {
  /** Throws on a bad signature; returns who signed. */
  verify(manifestBytes: Uint8Array, bundleJson: unknown): Promise<{ identity: string; issuer?: string }>;
}

export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';

/** sha256 (hex) of a public key's SubjectPublicKeyInfo DER: the `publicKey.hint`. */
export function keyHint(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function generateP256(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

export class KeyPairManifestSigner implements ManifestSigner {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly identity: string;

  constructor(opts: { privateKey: KeyObject | string; identity: string }) {
    this.privateKey = typeof opts.privateKey === 'string' ? createPrivateKeyFromPem(opts.privateKey) : opts.privateKey;
    if (this.privateKey.asymmetricKeyType !== 'ec' || this.privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new BrickyardError('USAGE', 'the manifest signing key must be an ECDSA P-256 private key');
    }
    this.publicKey = createPublicKey(this.privateKey);
    this.identity = opts.identity;
  }

  static generate(identity: string): KeyPairManifestSigner {
    return new KeyPairManifestSigner({ privateKey: generateP256().privateKey, identity });
  }

  async sign(manifestBytes: Uint8Array): Promise<{ bundleJson: object; identity: string }> {
    const digest = createHash('sha256').update(manifestBytes).digest();
    const signature = cryptoSign('sha256', manifestBytes, { key: this.privateKey, dsaEncoding: 'der' });
    return {
      identity: this.identity,
      bundleJson: {
        mediaType: SIGSTORE_BUNDLE_MEDIA_TYPE,
        verificationMaterial: {
          publicKey: { hint: keyHint(this.publicKey) },
          tlogEntries: [],
          timestampVerificationData: { rfc3161Timestamps: [] },
        },
        messageSignature: {
          messageDigest: { algorithm: 'SHA2_256', digest: digest.toString('base64') },
          signature: signature.toString('base64'),
        },
      },
    };
  }
}

function createPrivateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey(pem);
}

export interface TrustedKey {
  publicKey: KeyObject | string;
  /** The identity this key stands for (e.g. a workflow identity URI). */
  identity: string;
  issuer?: string;
}

export class KeyPairManifestVerifier implements ManifestVerifier {
  private readonly keys: Map<string, { key: KeyObject; identity: string; issuer?: string }>;

  constructor(trusted: TrustedKey[]) {
    this.keys = new Map();
    for (const t of trusted) {
      const key = typeof t.publicKey === 'string' ? createPublicKey(t.publicKey) : t.publicKey;
      this.keys.set(keyHint(key), { key, identity: t.identity, ...(t.issuer === undefined ? {} : { issuer: t.issuer }) });
    }
  }

  async verify(manifestBytes: Uint8Array, bundleJson: unknown): Promise<{ identity: string; issuer?: string }> {
    const fail = (why: string): never => {
      throw new BrickyardError('SIGNATURE_INVALID', `the manifest signature is not valid: ${why}`, {
        hint: 'the bundle was altered or signed by a key this site does not trust; get a bundle signed by an allowed identity',
        exitCode: 1,
      });
    };
    const b = bundleJson as {
      mediaType?: unknown;
      verificationMaterial?: { publicKey?: { hint?: unknown } };
      messageSignature?: { messageDigest?: { algorithm?: unknown; digest?: unknown }; signature?: unknown };
    } | null;
    if (!b || typeof b !== 'object') return fail('the signature file is not a Sigstore bundle');
    if (typeof b.mediaType !== 'string' || !b.mediaType.startsWith('application/vnd.dev.sigstore.bundle')) return fail('not a Sigstore bundle media type');
    const hint = b.verificationMaterial?.publicKey?.hint;
    if (typeof hint !== 'string') return fail('the bundle names no public key');
    const trusted = this.keys.get(hint);
    if (!trusted) return fail(`it was made with a key this verifier does not trust (hint ${hint.slice(0, 16)}…)`);
    const ms = b.messageSignature;
    if (!ms || ms.messageDigest?.algorithm !== 'SHA2_256' || typeof ms.messageDigest.digest !== 'string' || typeof ms.signature !== 'string') {
      return fail('the bundle carries no SHA2_256 message signature');
    }
    const digest = createHash('sha256').update(manifestBytes).digest('base64');
    if (digest !== ms.messageDigest.digest) return fail('the signed digest is not the digest of the manifest received');
    let ok = false;
    try {
      ok = cryptoVerify('sha256', manifestBytes, { key: trusted.key, dsaEncoding: 'der' }, Buffer.from(ms.signature, 'base64'));
    } catch {
      ok = false;
    }
    if (!ok) return fail('the ECDSA signature does not verify');
    return { identity: trusted.identity, ...(trusted.issuer === undefined ? {} : { issuer: trusted.issuer }) };
  }
}
