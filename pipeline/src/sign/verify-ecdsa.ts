/**
 * ECDSA (P-256, P-384) verification over a digest the caller already has. Node's crypto always
 * hashes the message itself, so a message signature over an artifact known only by its digest
 * (a multi-GB image hashed elsewhere, say) cannot be checked with it. Verification uses only
 * public data, so plain BigInt arithmetic is fine here; the tests cross-check it against
 * node:crypto on random keys and messages.
 */
import type { KeyObject } from 'node:crypto';

interface Curve {
  p: bigint;
  a: bigint;
  b: bigint;
  n: bigint;
  g: Point;
}
interface Point {
  x: bigint;
  y: bigint;
}

const P256_P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P384_P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffffn;

export const CURVES: Record<string, Curve> = {
  prime256v1: {
    p: P256_P,
    a: P256_P - 3n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    g: {
      x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
      y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
    },
  },
  secp384r1: {
    p: P384_P,
    a: P384_P - 3n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    g: {
      x: 0xaa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7n,
      y: 0x3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5fn,
    },
  },
};

/** Whether `key` is an EC key on a curve this module can verify over a digest. */
export function canVerifyDigest(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] !== undefined;
}

/** Verify a DER-encoded ECDSA signature over `digest` (the hash of the signed message). */
export function verifyEcdsaDigest(key: KeyObject, digest: Uint8Array, derSignature: Uint8Array): boolean {
  const curve = CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
  if (key.asymmetricKeyType !== 'ec' || !curve) return false;
  const jwk = key.export({ format: 'jwk' });
  if (!jwk.x || !jwk.y) return false;
  const q = { x: toBig(Buffer.from(jwk.x, 'base64url')), y: toBig(Buffer.from(jwk.y, 'base64url')) };
  if (!onCurve(curve, q)) return false;
  const rs = parseDerSignature(derSignature);
  if (!rs) return false;
  const { r, s } = rs;
  const { n } = curve;
  if (r < 1n || r >= n || s < 1n || s >= n) return false;
  const nBits = n.toString(2).length;
  let e = toBig(digest);
  if (digest.length * 8 > nBits) e >>= BigInt(digest.length * 8 - nBits);
  const w = inverse(s, n);
  const u1 = mod(e * w, n);
  const u2 = mod(r * w, n);
  const x = add(curve, multiply(curve, u1, curve.g), multiply(curve, u2, q));
  return x !== null && mod(x.x, n) === r;
}

function toBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt(`0x${Buffer.from(b).toString('hex')}`);
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

function inverse(a: bigint, m: bigint): bigint {
  let [t, newT, r, newR] = [0n, 1n, m, mod(a, m)];
  while (newR !== 0n) {
    const q = r / newR;
    [t, newT] = [newT, t - q * newT];
    [r, newR] = [newR, r - q * newR];
  }
  if (r !== 1n) throw new Error('not invertible');
  return mod(t, m);
}

export function onCurve(c: Curve, pt: Point): boolean {
  if (pt.x < 0n || pt.x >= c.p || pt.y < 0n || pt.y >= c.p) return false;
  return mod(pt.y * pt.y - (pt.x * pt.x * pt.x + c.a * pt.x + c.b), c.p) === 0n;
}

function add(c: Curve, a: Point | null, b: Point | null): Point | null {
  if (a === null) return b;
  if (b === null) return a;
  const { p } = c;
  let l: bigint;
  if (a.x === b.x) {
    if (mod(a.y + b.y, p) === 0n) return null;
    l = mod((3n * a.x * a.x + c.a) * inverse(2n * a.y, p), p);
  } else {
    l = mod((b.y - a.y) * inverse(b.x - a.x, p), p);
  }
  const x = mod(l * l - a.x - b.x, p);
  return { x, y: mod(l * (a.x - x) - a.y, p) };
}

function multiply(c: Curve, k: bigint, pt: Point): Point | null {
  let result: Point | null = null;
  let addend: Point | null = pt;
  while (k > 0n) {
    if (k & 1n) result = add(c, result, addend);
    addend = add(c, addend, addend);
    k >>= 1n;
  }
  return result;
}

/** SEQUENCE { INTEGER r, INTEGER s }, strict DER (short or long length forms, nothing after). */
function parseDerSignature(b: Uint8Array): { r: bigint; s: bigint } | undefined {
  let i = 0;
  const len = (): number | undefined => {
    const first = b[i++];
    if (first === undefined) return undefined;
    if (first < 0x80) return first;
    const count = first & 0x7f;
    if (count === 0 || count > 2) return undefined;
    let v = 0;
    for (let k = 0; k < count; k++) {
      const byte = b[i++];
      if (byte === undefined) return undefined;
      v = v * 256 + byte;
    }
    return v;
  };
  const int = (): bigint | undefined => {
    if (b[i++] !== 0x02) return undefined;
    const l = len();
    if (l === undefined || l === 0 || i + l > b.length) return undefined;
    const bytes = b.subarray(i, i + l);
    i += l;
    if (bytes[0]! & 0x80) return undefined; // negative
    return toBig(bytes);
  };
  if (b[i++] !== 0x30) return undefined;
  const total = len();
  if (total === undefined || i + total !== b.length) return undefined;
  const r = int();
  const s = int();
  if (r === undefined || s === undefined || i !== b.length) return undefined;
  return { r, s };
}
