/**
 * ECDSA (P-256, P-384) verification over a digest the caller already has. Node's crypto always
 * hashes the message itself, so a message signature over an artifact known only by its digest
 * (a multi-GB image hashed elsewhere, say) cannot be checked with it; @noble/curves (audited)
 * verifies over the digest. The tests cross-check it against node:crypto on random keys.
 */
import type { KeyObject } from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist.js';

/** The curves by OpenSSL name (as in KeyObject.asymmetricKeyDetails.namedCurve). */
const CURVES = { prime256v1: p256, secp384r1: p384 } as const;

function curveOf(key: KeyObject): (typeof CURVES)[keyof typeof CURVES] | undefined {
  if (key.asymmetricKeyType !== 'ec') return undefined;
  const name = key.asymmetricKeyDetails?.namedCurve ?? '';
  return Object.hasOwn(CURVES, name) ? CURVES[name as keyof typeof CURVES] : undefined;
}

/** Whether `key` is an EC key on a curve this module can verify over a digest. */
export function canVerifyDigest(key: KeyObject): boolean {
  return curveOf(key) !== undefined;
}

/** Verify a DER-encoded ECDSA signature over `digest` (the hash of the signed message). */
export function verifyEcdsaDigest(key: KeyObject, digest: Uint8Array, derSignature: Uint8Array): boolean {
  const curve = curveOf(key);
  if (!curve) return false;
  const jwk = key.export({ format: 'jwk' });
  if (!jwk.x || !jwk.y) return false;
  // SEC 1 uncompressed point; the library checks that it lies on the curve.
  const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
  try {
    // prehash: false, the digest is given; lowS: false, X.509/Sigstore signatures may have a high S.
    return curve.verify(derSignature, digest, point, { prehash: false, lowS: false, format: 'der' });
  } catch {
    return false; // malformed signature or key
  }
}
