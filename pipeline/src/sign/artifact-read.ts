/**
 * The artifact a signature is checked against, hashed once: a file as a stream (an Ed25519
 * message signature, which cannot be checked over a stream, reads it whole up to a limit), bytes,
 * or a given sha256 digest; for a message signature its signature checked in the same pass.
 */
import { createHash, createVerify, type KeyObject } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { crypto as sigCrypto } from '@sigstore/core';
import { BrickyardError } from '../util/errors.ts';
import { canVerifyDigest, verifyEcdsaDigest } from './verify-ecdsa.ts';
import { SignatureVerificationError } from './verify-error.ts';

/** A digest given from outside (a command line) names its algorithm; only sha256 is accepted, and that is checked. */
export type ArtifactInput = { path: string } | { digest: { algorithm: string; hex: string } } | { bytes: Uint8Array };

/** Ed25519 cannot be verified over a stream; such message signatures read artifacts up to this size whole. */
const MAX_WHOLE_READ = 256 * 1024 * 1024;

export type Digests = Partial<Record<'sha256' | 'sha384' | 'sha512', string>>;

interface ArtifactRead {
  digests: Digests;
  /** For a message signature: whether the signature verifies over the artifact under the given key. */
  signatureValid?: (key: KeyObject) => boolean;
}

/**
 * Hash the artifact: a file as a stream (never read whole, except an Ed25519 message
 * signature, which cannot be checked over a stream), bytes directly, or a given digest.
 */
export async function readArtifact(a: ArtifactInput, sig?: { key: KeyObject; hash: 'sha256' | 'sha384' | 'sha512'; signature: Buffer }): Promise<ArtifactRead> {
  if ('digest' in a) {
    if (a.digest.algorithm !== 'sha256' || !/^[0-9a-f]{64}$/.test(a.digest.hex)) {
      throw new BrickyardError('USAGE', `an artifact digest must be sha256 with 64 lowercase hex digits, got ${a.digest.algorithm}:${a.digest.hex}`);
    }
    const digests: Digests = { sha256: a.digest.hex };
    // A message signature over an artifact known by its digest: ECDSA can be checked over the digest.
    if (sig?.hash === 'sha256' && canVerifyDigest(sig.key)) {
      const digest = Buffer.from(a.digest.hex, 'hex');
      const ok = verifyEcdsaDigest(sig.key, digest, sig.signature);
      return { digests, signatureValid: (key) => ok && key.equals(sig.key) };
    }
    return { digests };
  }
  if ('bytes' in a) {
    const data = Buffer.from(a.bytes.buffer, a.bytes.byteOffset, a.bytes.byteLength);
    const digests: Digests = {};
    for (const h of ['sha256', 'sha384', 'sha512'] as const) digests[h] = createHash(h).update(data).digest('hex');
    return { digests, signatureValid: (key) => sigCrypto.verify(data, key, sig?.signature ?? Buffer.alloc(0), edOrHash(key, sig?.hash ?? 'sha256')) };
  }
  let size: number;
  try {
    const st = statSync(a.path);
    if (!st.isFile()) throw new Error('not a regular file');
    size = st.size;
  } catch (e) {
    throw new BrickyardError('FILE_UNREADABLE', `cannot read the artifact ${a.path}: ${(e as Error).message}`, {
      hint: 'give the file the bundle signs (for DSSE bundles, the subject of the statement)',
    });
  }
  const hashes = (['sha256', 'sha384', 'sha512'] as const).map((h) => [h, createHash(h)] as const);
  const ed = sig?.key.asymmetricKeyType === 'ed25519';
  if (ed && size > MAX_WHOLE_READ) {
    throw new SignatureVerificationError('signature', `an Ed25519 message signature cannot be checked over a stream, and the artifact (${size} bytes) is too large to read whole`);
  }
  const streamVerifier = sig && !ed ? createVerify(sig.hash) : undefined;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of createReadStream(a.path)) {
      const b = chunk as Buffer;
      for (const [, h] of hashes) h.update(b);
      streamVerifier?.update(b);
      if (ed) chunks.push(b);
    }
  } catch (e) {
    throw new BrickyardError('FILE_UNREADABLE', `cannot read the artifact ${a.path}: ${(e as Error).message}`);
  }
  const digests: Digests = {};
  for (const [name, h] of hashes) digests[name] = h.digest('hex');
  if (!sig) return { digests };
  let ok: boolean;
  if (ed) ok = sigCrypto.verify(Buffer.concat(chunks), sig.key, sig.signature);
  else {
    try {
      ok = streamVerifier?.verify(sig.key, sig.signature) ?? false;
    } catch {
      ok = false;
    }
  }
  // The result only holds for the key it was computed with.
  return { digests, signatureValid: (key) => ok && key.equals(sig.key) };
}

function edOrHash(key: KeyObject, hash: string): string | undefined {
  return key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448' ? undefined : hash;
}
