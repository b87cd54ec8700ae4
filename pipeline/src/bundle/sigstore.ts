/**
 * The manifest signed with Sigstore: a DSSE envelope of Brickyard's manifest payload type whose
 * payload is the manifest's bytes (sign/roles.ts), from the development signer or keylessly in
 * CI, and verified offline against the site's pinned trusted root. The same verifier checks the
 * attestations inside a bundle. It reports the certificate's identity, issuer and Fulcio
 * extensions only after the whole bundle verified with exactly that identity; the site policy
 * then decides (site/policy.ts matchSigner).
 */
import { isDeepStrictEqual } from 'node:util';
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import type { KeylessSigner } from '../sign/keyless.ts';
import type { DevSigner } from '../sign/dev-signer.ts';
import { IN_TOTO_PAYLOAD_TYPE, MANIFEST_PAYLOAD_TYPE } from '../sign/roles.ts';
import { certificateIdentity, SignatureVerificationError, verifySigstoreBundle, type ArtifactInput } from '../sign/verify.ts';
import type { ManifestSigner, SiteVerifier, VerifiedSignatureInfo } from './signing.ts';

/**
 * Refuse a signature container that is not in its one canonical form: unknown or misspelt
 * fields, duplicated certificates, anything that does not survive a parse and re-serialise
 * unchanged. (Otherwise the stored signature file could differ from what was verified.)
 */
export function checkCanonicalSignature(bundleJson: unknown): void {
  const chain = (bundleJson as { verificationMaterial?: { x509CertificateChain?: { certificates?: ({ rawBytes?: string } | null)[] } } } | null)?.verificationMaterial
    ?.x509CertificateChain?.certificates;
  if (Array.isArray(chain) && new Set(chain.map((c) => c?.rawBytes)).size !== chain.length)
    throw new SignatureVerificationError('bundle', 'the manifest signature carries the same certificate twice');
  let canonical: unknown;
  try {
    canonical = bundleToJSON(bundleFromJSON(bundleJson));
  } catch (e) {
    throw new SignatureVerificationError('bundle', `unreadable manifest signature: ${(e as Error).message}`, { cause: e });
  }
  if (!isDeepStrictEqual(JSON.parse(JSON.stringify(canonical)), bundleJson)) {
    throw new SignatureVerificationError('bundle', 'the manifest signature is not in canonical form (unknown or extra fields)');
  }
}

export class SigstoreManifestSigner implements ManifestSigner {
  private readonly backend: DevSigner | KeylessSigner;

  constructor(backend: DevSigner | KeylessSigner) {
    this.backend = backend;
  }

  async sign(manifestBytes: Uint8Array): Promise<{ bundleJson: object; identity: string }> {
    // @sigstore/sign (and its HTTP stack) only where a bundle is signed, not where one is verified.
    // `.default` is the CommonJS module itself, both in Node and in the esbuild bundle.
    const { DSSEBundleBuilder } = (await import('@sigstore/sign')).default;
    const builder = new DSSEBundleBuilder({ signer: this.backend.signer, witnesses: this.backend.witnesses });
    const bundle = await builder.create({ data: Buffer.from(manifestBytes), type: MANIFEST_PAYLOAD_TYPE });
    return { bundleJson: bundleToJSON(bundle), identity: this.backend.kind === 'dev' ? this.backend.identity : 'keyless' };
  }
}

export interface SigstoreVerifierOptions {
  trustedRoot: unknown;
  /** Transparency-log entries required (default 1). */
  tlogThreshold?: number;
  /** SCTs required (default 1; 0 for a CA without a CT log, such as the development CA). */
  ctlogThreshold?: number;
  /** The time signatures are checked at (default: now). */
  now?: Date;
}

export class SigstoreManifestVerifier implements SiteVerifier {
  private readonly opts: SigstoreVerifierOptions;

  constructor(opts: SigstoreVerifierOptions) {
    this.opts = opts;
  }

  async verify(manifestBytes: Uint8Array, bundleJson: unknown): Promise<VerifiedSignatureInfo> {
    checkCanonicalSignature(bundleJson);
    const v = await this.verifyCertificateBundle(bundleJson, { bytes: manifestBytes }, MANIFEST_PAYLOAD_TYPE, 'manifest signature');
    return v.info;
  }

  async verifyAttestation(
    bundleJson: unknown,
    imageSha256: string,
  ): Promise<VerifiedSignatureInfo & { statement: { predicateType?: unknown; predicate?: unknown; subject?: unknown } }> {
    const v = await this.verifyCertificateBundle(bundleJson, { digest: { algorithm: 'sha256', hex: imageSha256 } }, IN_TOTO_PAYLOAD_TYPE, 'attestation');
    return { ...v.info, statement: v.statement as { predicateType?: unknown; predicate?: unknown; subject?: unknown } };
  }

  /** Verified with exactly the identity the certificate names: it counts only if the chain, the timestamps and the signature all hold. */
  private async verifyCertificateBundle(
    bundleJson: unknown,
    artifact: ArtifactInput,
    payloadType: string,
    what: string,
  ): Promise<{ info: VerifiedSignatureInfo; statement?: unknown }> {
    let claimed: { identity: string; issuer: string };
    try {
      const bundle = bundleFromJSON(bundleJson);
      const material = bundle.verificationMaterial.content;
      const der =
        material.$case === 'certificate'
          ? material.certificate.rawBytes
          : material.$case === 'x509CertificateChain'
            ? material.x509CertificateChain.certificates[0]?.rawBytes
            : undefined;
      if (!der) throw new SignatureVerificationError('bundle', `the ${what} carries no certificate`);
      claimed = certificateIdentity(X509Certificate.parse(Buffer.from(der)));
    } catch (e) {
      if (e instanceof SignatureVerificationError) throw e;
      throw new SignatureVerificationError('bundle', `unreadable ${what}: ${(e as Error).message}`, { cause: e });
    }
    const v = await verifySigstoreBundle({
      bundle: bundleJson,
      artifact,
      trustedRoot: this.opts.trustedRoot,
      policy: claimed,
      payloadType,
      ...(this.opts.now !== undefined ? { now: this.opts.now } : {}),
      ...(this.opts.tlogThreshold !== undefined ? { tlogThreshold: this.opts.tlogThreshold } : {}),
      ...(this.opts.ctlogThreshold !== undefined ? { ctlogThreshold: this.opts.ctlogThreshold } : {}),
    });
    if (v.signedAt.length === 0) throw new SignatureVerificationError('timestamps', `the ${what} has no verified signing time`);
    return {
      info: { identity: v.identity ?? claimed.identity, issuer: v.issuer ?? claimed.issuer, extensions: v.extensions ?? {}, signedAt: v.signedAt },
      ...(v.statement === undefined ? {} : { statement: v.statement }),
    };
  }
}
