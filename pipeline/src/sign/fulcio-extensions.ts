/**
 * The Fulcio certificate extensions that describe a CI signer beyond its SAN and issuer
 * (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md, as of 2026-12-03): which
 * workflow signed (build signer URI and digest), on which runner (runner environment), from which
 * repository, commit and ref. Each is a DER UTF8String under 1.3.6.1.4.1.57264.1.<n>.
 *
 * A site policy may pin any of these per role (as `gh attestation verify` does with
 * `--signer-workflow`, `--source-ref`, `--deny-self-hosted-runners`); the development signer
 * writes the same extensions, so that every rule is exercised offline.
 */
import type { X509Certificate } from '@sigstore/core';

/** Extension name → OID arc under 1.3.6.1.4.1.57264.1. */
export const FULCIO_EXTENSION_OIDS = {
  buildSignerUri: '1.3.6.1.4.1.57264.1.9',
  buildSignerDigest: '1.3.6.1.4.1.57264.1.10',
  runnerEnvironment: '1.3.6.1.4.1.57264.1.11',
  sourceRepositoryUri: '1.3.6.1.4.1.57264.1.12',
  sourceRepositoryDigest: '1.3.6.1.4.1.57264.1.13',
  sourceRepositoryRef: '1.3.6.1.4.1.57264.1.14',
  sourceRepositoryIdentifier: '1.3.6.1.4.1.57264.1.15',
  sourceRepositoryOwnerUri: '1.3.6.1.4.1.57264.1.16',
  sourceRepositoryOwnerIdentifier: '1.3.6.1.4.1.57264.1.17',
  buildConfigUri: '1.3.6.1.4.1.57264.1.18',
  buildConfigDigest: '1.3.6.1.4.1.57264.1.19',
  buildTrigger: '1.3.6.1.4.1.57264.1.20',
  runInvocationUri: '1.3.6.1.4.1.57264.1.21',
} as const;

export type FulcioExtensionName = keyof typeof FULCIO_EXTENSION_OIDS;
export type FulcioExtensions = Partial<Record<FulcioExtensionName, string>>;

export const FULCIO_EXTENSION_NAMES = Object.keys(FULCIO_EXTENSION_OIDS) as FulcioExtensionName[];

/**
 * The extensions a certificate carries, decoded. An extension that is present but not a DER
 * UTF8String is reported through `malformed` (a rule about it can then never match).
 */
export function certificateExtensions(cert: X509Certificate, decode: (der: Buffer) => string | undefined): { extensions: FulcioExtensions; malformed: FulcioExtensionName[] } {
  const extensions: FulcioExtensions = {};
  const malformed: FulcioExtensionName[] = [];
  for (const name of FULCIO_EXTENSION_NAMES) {
    const ext = cert.extension(FULCIO_EXTENSION_OIDS[name]);
    if (!ext) continue;
    const value = decode(Buffer.from(ext.value));
    if (value === undefined) malformed.push(name);
    else extensions[name] = value;
  }
  return { extensions, malformed };
}

/** The `https://github.com/<owner>/<repo>` form Fulcio writes as sourceRepositoryUri. */
export function repositoryUri(repository: string, server = 'https://github.com'): string {
  return `${server.replace(/\/+$/, '')}/${repository}`;
}
