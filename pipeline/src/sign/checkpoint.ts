/**
 * Transparency-log checkpoints (Rekor v1 and v2), checked beyond @sigstore/verify: the signed
 * note parsed strictly, signed by the log itself under its own name, its origin that log, its
 * tree size and root hash the inclusion proof's, and the log key valid at every verified time.
 */
import { timingSafeEqual } from 'node:crypto';
import type { TransparencyLogEntry } from '@sigstore/bundle';
import { crypto as sigCrypto } from '@sigstore/core';
import type { TrustMaterial } from '@sigstore/verify';
import { SignatureVerificationError } from './verify-error.ts';

/** A signed note (C2SP signed-note), parsed strictly. */
interface SignedNote {
  text: string;
  origin: string;
  size: bigint;
  rootHash: Buffer;
  signatures: { name: string; hint: Buffer; sig: Buffer }[];
}

export function parseCheckpoint(envelope: string): SignedNote {
  const bad = (why: string): never => {
    throw new SignatureVerificationError('checkpoint', `malformed checkpoint: ${why}`);
  };
  const split = envelope.indexOf('\n\n');
  if (split < 0) bad('no blank line between the note and its signatures');
  const text = envelope.slice(0, split + 1);
  const sigBlock = envelope.slice(split + 2);
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) bad('fewer than three lines (origin, size, root hash)');
  const [origin, sizeLine, hashLine] = lines as [string, string, string];
  if (origin === '' || /^\d+$/.test(origin)) bad('no origin line');
  if (!/^(0|[1-9][0-9]*)$/.test(sizeLine)) bad(`invalid tree size ${JSON.stringify(sizeLine)}`);
  const rootHash = Buffer.from(hashLine, 'base64');
  if (rootHash.length !== 32 || rootHash.toString('base64') !== hashLine) bad('invalid root hash');
  if (lines.slice(3).some((l) => l === '')) bad('empty extension line');
  if (!sigBlock.endsWith('\n')) bad('signature block does not end with a newline');
  const signatures = sigBlock
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const [, name, sig64] = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/.exec(line) ?? [];
      if (name === undefined || sig64 === undefined) return bad(`malformed signature line ${JSON.stringify(line.slice(0, 80))}`);
      const raw = Buffer.from(sig64, 'base64');
      if (raw.length < 5) return bad('signature too short');
      return { name, hint: raw.subarray(0, 4), sig: raw.subarray(4) };
    });
  if (signatures.length === 0) bad('no signature');
  return { text, origin, size: BigInt(sizeLine), rootHash, signatures };
}

/**
 * Checkpoint checks beyond the library's: the log itself (found by log ID) must have signed the
 * note under its own name, the origin must be that log, the checkpoint must describe the tree
 * the inclusion proof is for, and the log key must be valid at every verified timestamp.
 */
export function checkCheckpoint(entry: TransparencyLogEntry, trust: TrustMaterial, signedAt: Date[]): void {
  const proof = entry.inclusionProof;
  if (!proof) return;
  if (!proof.checkpoint?.envelope) throw new SignatureVerificationError('checkpoint', 'the inclusion proof has no checkpoint');
  const note = parseCheckpoint(proof.checkpoint.envelope);
  if (note.size !== BigInt(proof.treeSize)) {
    throw new SignatureVerificationError('checkpoint', `the checkpoint's tree size ${note.size} is not the inclusion proof's ${proof.treeSize}`);
  }
  if (!bufEq(note.rootHash, Buffer.from(proof.rootHash))) {
    throw new SignatureVerificationError('checkpoint', "the checkpoint's root hash is not the inclusion proof's");
  }
  const data = Buffer.from(note.text, 'utf8');
  const logs = trust.tlogs.filter((t) => bufEq(t.logID, Buffer.from(entry.logId.keyId)));
  const signing = logs.filter((log) => {
    let host: string;
    try {
      host = new URL(log.baseURL).host;
    } catch {
      return false;
    }
    if (host === '' || !(note.origin === host || note.origin.startsWith(`${host} - `))) return false;
    return note.signatures.some((s) => s.name === host && bufEq(s.hint, log.logID.subarray(0, 4)) && sigCrypto.verify(data, log.publicKey, s.sig));
  });
  if (signing.length === 0) {
    throw new SignatureVerificationError('checkpoint', `no signature on the checkpoint by the log ${JSON.stringify(note.origin)} itself, under a log key in the trusted root`);
  }
  const valid = signing.some((log) => signedAt.every((t) => log.validFor.start <= t && t <= log.validFor.end));
  if (!valid) {
    throw new SignatureVerificationError(
      'transparency log',
      `the log's key in the trusted root is not valid at the signing time (${signedAt.map((t) => t.toISOString()).join(', ')})`,
    );
  }
}

function bufEq(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
