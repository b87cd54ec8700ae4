/**
 * How a bundle's manifest and the attestations inside it are signed and verified, behind small
 * interfaces, so that the bundle and import code does not care whether signatures are keyless
 * (CI) or made by the development signer: both are Sigstore bundles verified against the site's
 * pinned trusted root (bundle/sigstore.ts).
 *
 * Roles are kept apart (sign/roles.ts): the manifest is a DSSE envelope of Brickyard's manifest
 * payload type, attestations are DSSE in-toto statements; a verifier asked for one never accepts
 * the other.
 */
import type { FulcioExtensions } from '../sign/fulcio-extensions.ts';

export interface ManifestSigner {
  /** Returns a Sigstore bundle (JSON) over the manifest bytes. */
  sign(manifestBytes: Uint8Array): Promise<{ bundleJson: object; identity: string }>;
}

/** Who signed, as the certificate says after every check held; the site policy then decides. */
export interface VerifiedSignatureInfo {
  identity: string;
  issuer: string;
  extensions: FulcioExtensions;
  /** The verified signing times (transparency-log and RFC 3161 timestamps); never empty. */
  signedAt: Date[];
}

export interface ManifestVerifier {
  /** Throws on a bad signature or one made for another role; returns who signed. */
  verify(manifestBytes: Uint8Array, bundleJson: unknown): Promise<VerifiedSignatureInfo>;
}

export interface AttestationVerifier {
  /**
   * Verifies a DSSE in-toto attestation about the image with this sha256 (hex): signature,
   * chain, timestamps, payload type, and a subject equal to the digest. Returns the statement
   * from the signed payload (never from an unsigned copy beside it).
   */
  verifyAttestation(bundleJson: unknown, imageSha256: string): Promise<VerifiedSignatureInfo & { statement: { predicateType?: unknown; predicate?: unknown; subject?: unknown } }>;
}

export type SiteVerifier = ManifestVerifier & AttestationVerifier;

export const SIGSTORE_BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
