/**
 * Who signed a Sigstore bundle, read for display without verifying it: the certificate's subject
 * alternative name and Fulcio issuer, and the in-toto statement's type. `brickyard verify` does
 * the verifying, offline, against a pinned trusted root.
 */
import { X509Certificate } from 'node:crypto';
import { basename } from 'node:path';
import { obj, readJson, str } from './json.ts';

export interface Signature {
  /** The Sigstore bundle's file name. */
  file: string;
  /** Subject alternative name of the signing certificate (URI, e-mail, …), or the key hint. */
  identity: string;
  issuer: string | undefined;
  /** predicateType of the signed in-toto statement, when it is one. */
  predicateType: string | undefined;
  signedAt: string | undefined;
}

/** Identity, issuer and statement type of a Sigstore bundle (v0.1 to v0.3), read without verifying. */
export function readSignature(file: string): Signature | undefined {
  return signatureOf(readJson(file), basename(file));
}

export function signatureOf(b: Record<string, unknown> | undefined, fileName: string): Signature | undefined {
  if (!b) return undefined;
  const vm = obj(b['verificationMaterial']);
  if (!vm) return undefined;
  const cert = obj(vm['certificate']) ?? obj((obj(vm['x509CertificateChain'])?.['certificates'] as unknown[] | undefined)?.[0]);
  let identity = '';
  let issuer: string | undefined;
  let signedAt: string | undefined;
  if (cert && typeof cert['rawBytes'] === 'string') {
    try {
      const der = Buffer.from(cert['rawBytes'], 'base64');
      const x = new X509Certificate(der);
      identity = (x.subjectAltName ?? '')
        .split(', ')
        .map((s) => s.replace(/^[A-Za-z ]+:/, ''))
        .join(', ');
      issuer = fulcioIssuer(der);
      signedAt = new Date(x.validFrom).toISOString();
    } catch {
      identity = '';
    }
  } else if (obj(vm['publicKey'])) {
    identity = `public key ${str(obj(vm['publicKey'])?.['hint']) || '(no hint)'}`;
  }
  if (!identity) return undefined;
  let predicateType: string | undefined;
  const env = obj(b['dsseEnvelope']);
  if (env && typeof env['payload'] === 'string') {
    try {
      const st = JSON.parse(Buffer.from(env['payload'], 'base64').toString('utf8')) as Record<string, unknown>;
      if (typeof st['predicateType'] === 'string') predicateType = st['predicateType'];
    } catch {
      predicateType = undefined;
    }
  }
  return { file: fileName, identity, issuer, predicateType, signedAt };
}

/** The OIDC issuer of a Fulcio certificate: extension 1.3.6.1.4.1.57264.1.8 (DER UTF8String), else .1.1 (raw). */
function fulcioIssuer(der: Buffer): string | undefined {
  const oid = (last: number): Buffer => Buffer.from([0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, last]);
  const value = (last: number): Buffer | undefined => {
    const at = der.indexOf(oid(last));
    if (at < 0) return undefined;
    let i = at + 12;
    if (der[i] === 0x01) {
      // critical flag (BOOLEAN: tag, length, value)
      const flagLength = der[i + 1];
      if (flagLength === undefined) return undefined;
      i += 2 + flagLength;
    }
    if (der[i] !== 0x04) return undefined;
    const [len, skip] = derLength(der, i + 1);
    return der.subarray(i + 1 + skip, i + 1 + skip + len);
  };
  const v8 = value(8);
  if (v8?.[0] === 0x0c) {
    const [len, skip] = derLength(v8, 1);
    return v8.subarray(1 + skip, 1 + skip + len).toString('utf8');
  }
  return value(1)?.toString('utf8');
}

function derLength(b: Buffer, i: number): [number, number] {
  const first = b[i] ?? 0;
  if (first < 0x80) return [first, 1];
  const n = first & 0x7f;
  let len = 0;
  for (let k = 0; k < n; k++) len = len * 256 + (b[i + 1 + k] ?? 0);
  return [len, 1 + n];
}
