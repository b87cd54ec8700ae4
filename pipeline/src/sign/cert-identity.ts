/**
 * A Fulcio certificate's signer identity (its single SAN: URI, e-mail or Fulcio username) and
 * OIDC issuer (extension 1.3.6.1.4.1.57264.1.8 as a DER UTF8String, else 1.3.6.1.4.1.57264.1.1 as
 * raw text), compared with a policy exactly: no pattern, no prefix.
 */
import { ASN1Obj, type X509Certificate } from '@sigstore/core';
import * as asn1js from 'asn1js';
import { SignatureVerificationError } from './verify-error.ts';

export const OID_FULCIO_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
export const OID_FULCIO_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const OID_SAN = '2.5.29.17';
const OID_FULCIO_USERNAME = '1.3.6.1.4.1.57264.1.7';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The certificate's identity and issuer, each equal to the policy's exactly (no pattern, no prefix). */
export function checkIdentity(cert: X509Certificate, policy: { identity: string; issuer: string }): { identity: string; issuer: string } {
  const { identity, issuer } = certificateIdentity(cert);
  if (identity !== policy.identity) {
    throw new SignatureVerificationError('identity', `the certificate identity is ${JSON.stringify(identity)}, the policy requires exactly ${JSON.stringify(policy.identity)}`);
  }
  if (issuer !== policy.issuer) {
    throw new SignatureVerificationError('issuer', `the certificate's OIDC issuer is ${JSON.stringify(issuer)}, the policy requires exactly ${JSON.stringify(policy.issuer)}`);
  }
  return { identity, issuer };
}

/** The certificate's one SAN (URI, email or Fulcio username) and its OIDC issuer, decoded exactly. */
export function certificateIdentity(cert: X509Certificate): { identity: string; issuer: string } {
  const san = cert.extension(OID_SAN);
  if (!san) throw new SignatureVerificationError('identity', 'the certificate has no subject alternative name');
  let names: ASN1Obj[];
  try {
    names = ASN1Obj.parseBuffer(Buffer.from(san.value)).subs;
  } catch (e) {
    throw new SignatureVerificationError('identity', `unreadable subject alternative name: ${(e as Error).message}`, { cause: e });
  }
  if (names.length !== 1) throw new SignatureVerificationError('identity', `the certificate has ${names.length} subject alternative names; expected exactly one`);
  const [gn] = names;
  let identity: string | undefined;
  if (gn?.tag.isContextSpecific(0x01) || gn?.tag.isContextSpecific(0x06)) {
    identity = ia5(gn.value);
  } else if (gn?.tag.isContextSpecific(0x00)) {
    // otherName: type-id OID, then [0] EXPLICIT value (a UTF8String).
    const [typeId, value] = gn.subs;
    if (gn.subs.length === 2 && typeId?.toOID() === OID_FULCIO_USERNAME) identity = decodeUtf8String(value?.subs[0]?.toDER());
  }
  if (identity === undefined) throw new SignatureVerificationError('identity', 'the certificate SAN is neither a URI, an email nor a Fulcio username');

  const v2 = cert.extension(OID_FULCIO_ISSUER_V2);
  const v1 = cert.extension(OID_FULCIO_ISSUER_V1);
  const issuerV2 = v2 ? decodeUtf8String(v2.value) : undefined;
  const issuerV1 = v1 ? decodeRaw(v1.value) : undefined;
  if (v2 && issuerV2 === undefined) throw new SignatureVerificationError('issuer', `the issuer extension ${OID_FULCIO_ISSUER_V2} is not a DER UTF8String`);
  if (v1 && issuerV1 === undefined) throw new SignatureVerificationError('issuer', `the issuer extension ${OID_FULCIO_ISSUER_V1} is not UTF-8 text`);
  if (issuerV1 !== undefined && issuerV2 !== undefined && issuerV1 !== issuerV2) {
    throw new SignatureVerificationError('issuer', `the certificate names two different issuers: ${JSON.stringify(issuerV2)} and ${JSON.stringify(issuerV1)}`);
  }
  const issuer = issuerV2 ?? issuerV1;
  if (issuer === undefined) throw new SignatureVerificationError('issuer', 'the certificate carries no Fulcio issuer extension');
  return { identity, issuer };
}

function ia5(b: Buffer): string | undefined {
  for (const c of b) if (c > 0x7e || c < 0x20) return undefined;
  return b.toString('latin1');
}

function decodeRaw(b: Buffer): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

/** A DER UTF8String (one element, covering the bytes exactly, valid UTF-8), or undefined. */
export function decodeUtf8String(der: Buffer | Uint8Array | undefined): string | undefined {
  if (!der || der.length === 0) return undefined;
  const bytes = Buffer.from(der);
  const { offset, result } = asn1js.fromBER(new Uint8Array(bytes).buffer);
  if (offset !== bytes.length || !(result instanceof asn1js.Utf8String)) return undefined;
  // BER is looser than DER (long-form lengths, constructed strings): the bytes must be exactly
  // the DER encoding of the value read, freshly encoded.
  const value = Buffer.from(result.valueBlock.valueHexView);
  if (!Buffer.from(new asn1js.Utf8String({ valueHex: new Uint8Array(value).buffer }).toBER(false)).equals(bytes)) return undefined;
  return decodeRaw(value);
}
