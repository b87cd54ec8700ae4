/**
 * The ASN.1 the development signer writes, encoded by audited libraries (the @peculiar/asn1-*
 * schema classes and asn1js) rather than by hand: the Fulcio v2 issuer extension's UTF8String and
 * the development timestamp authority's RFC 3161 TimeStampResp (RFC 5652 SignedData around an
 * RFC 3161 TSTInfo). Readers are elsewhere (@sigstore/core, @peculiar/x509).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  Attribute,
  CertificateChoices,
  CertificateSet,
  CMSVersion,
  DigestAlgorithmIdentifier,
  DigestAlgorithmIdentifiers,
  EncapsulatedContent,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  SignatureAlgorithmIdentifier,
  SignedData,
  SignerIdentifier,
  SignerInfo,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { MessageImprint, PKIStatus, PKIStatusInfo, TimeStampResp, TimeStampToken, TSTInfo, TSTInfoVersion } from '@peculiar/asn1-tsp';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';

const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_ECDSA_SHA256 = '1.2.840.10045.4.3.2';
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const OID_CT_TSTINFO = '1.2.840.113549.1.9.16.1.4';
const OID_ATTR_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_ATTR_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
const OID_ATTR_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';

const der = (a: asn1js.BaseBlock): Buffer => Buffer.from(a.toBER(false));
const serialize = (o: unknown): Buffer => Buffer.from(AsnConvert.serialize(o));
const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const arrayBuffer = (b: Buffer): ArrayBuffer => new Uint8Array(b).buffer;

/** A DER UTF8String (the value of the Fulcio v2 certificate extensions). */
export function utf8(s: string): Buffer {
  return der(new asn1js.Utf8String({ value: s }));
}

export interface TimeStampInput {
  /** sha256 of the timestamped data (the artifact signature). */
  imprint: Buffer;
  /** The TSA's policy OID. */
  policy: string;
  /** The time stamped (whole seconds are kept). */
  time: Date;
  /** The TSA signing certificate (DER): named in the SignerInfo, bound by SigningCertificateV2, included. */
  certDer: Buffer;
  /** ECDSA with SHA-256 over the DER SET OF signed attributes; returns the DER signature. */
  sign: (signedAttributes: Buffer) => Buffer;
}

// The TSA's certificate is the same for every timestamp: parsing it was two thirds of making one.
// Keyed by the bytes' object (a witness keeps its certificate's), and never changed once parsed.
const parsedCertificates = new WeakMap<Buffer, Certificate>();
function parsedCertificate(certDer: Buffer): Certificate {
  let cert = parsedCertificates.get(certDer);
  if (cert === undefined) {
    cert = AsnConvert.parse(certDer, Certificate);
    parsedCertificates.set(certDer, cert);
  }
  return cert;
}

/** An RFC 3161 TimeStampResp (status granted) with a token signed by `t.sign`. */
export function timeStampResponse(t: TimeStampInput): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial.readUInt8(0) & 0x7f) | 0x40; // a positive INTEGER with no leading zero byte
  const tstInfo = serialize(
    new TSTInfo({
      version: TSTInfoVersion.v1,
      policy: t.policy,
      messageImprint: new MessageImprint({ hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA256, parameters: null }), hashedMessage: new OctetString(t.imprint) }),
      serialNumber: arrayBuffer(serial),
      genTime: new Date(Math.floor(t.time.getTime() / 1000) * 1000),
    }),
  );

  // ESS SigningCertificateV2 { certs: [ ESSCertIDv2 { certHash } ] } (hash algorithm: the sha256 default).
  const signingCertificate = new asn1js.Sequence({
    value: [new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [new asn1js.OctetString({ valueHex: arrayBuffer(sha256(t.certDer)) })] })] })],
  });
  const attributes = [
    new Attribute({ attrType: OID_ATTR_CONTENT_TYPE, attrValues: [arrayBuffer(der(new asn1js.ObjectIdentifier({ value: OID_CT_TSTINFO })))] }),
    new Attribute({ attrType: OID_ATTR_MESSAGE_DIGEST, attrValues: [arrayBuffer(der(new asn1js.OctetString({ valueHex: arrayBuffer(sha256(tstInfo)) })))] }),
    new Attribute({ attrType: OID_ATTR_SIGNING_CERTIFICATE_V2, attrValues: [arrayBuffer(der(signingCertificate))] }),
  ]
    .map((a) => ({ a, bytes: serialize(a) }))
    .sort((x, y) => Buffer.compare(x.bytes, y.bytes)); // DER orders a SET OF by encoding
  // What is signed: the signed attributes as a DER SET OF (RFC 5652 §5.4), in the order they are written.
  const signedAttributes = der(new asn1js.Set({ value: attributes.map(({ bytes }) => asn1js.fromBER(arrayBuffer(bytes)).result) }));

  const cert = parsedCertificate(t.certDer);
  const sha256Algorithm = new DigestAlgorithmIdentifier({ algorithm: OID_SHA256 });
  const signedData = new SignedData({
    version: CMSVersion.v3,
    digestAlgorithms: new DigestAlgorithmIdentifiers([sha256Algorithm]),
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: OID_CT_TSTINFO, eContent: new EncapsulatedContent({ single: new OctetString(tstInfo) }) }),
    certificates: new CertificateSet([new CertificateChoices({ certificate: cert })]),
    signerInfos: new SignerInfos([
      new SignerInfo({
        version: CMSVersion.v1,
        sid: new SignerIdentifier({ issuerAndSerialNumber: new IssuerAndSerialNumber({ issuer: cert.tbsCertificate.issuer, serialNumber: cert.tbsCertificate.serialNumber }) }),
        digestAlgorithm: sha256Algorithm,
        signedAttrs: attributes.map(({ a }) => a),
        signatureAlgorithm: new SignatureAlgorithmIdentifier({ algorithm: OID_ECDSA_SHA256 }),
        signature: new OctetString(t.sign(signedAttributes)),
      }),
    ]),
  });
  const response = new TimeStampResp({
    status: new PKIStatusInfo({ status: PKIStatus.granted }),
    timeStampToken: new TimeStampToken({ contentType: OID_SIGNED_DATA, content: arrayBuffer(serialize(signedData)) }),
  });
  return serialize(response);
}
