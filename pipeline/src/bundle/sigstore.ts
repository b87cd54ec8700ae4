/**
 * The manifest signed with Sigstore: a message-signature bundle v0.3 over the manifest bytes,
 * from the development signer or keylessly in CI, and verified offline against the site's
 * pinned trusted root. The verifier reports the certificate's identity and issuer only after
 * the whole bundle verified with exactly that identity; the site policy then decides.
 */
import { bundleFromJSON, bundleToJSON } from '@sigstore/bundle';
import { X509Certificate } from '@sigstore/core';
import { MessageSignatureBundleBuilder } from '@sigstore/sign';
import type { KeylessSigner } from '../sign/attest.ts';
import type { DevSigner } from '../sign/dev-signer.ts';
import { certificateIdentity, SignatureVerificationError, verifySigstoreBundle } from '../sign/verify.ts';
import type { ManifestSigner, ManifestVerifier } from './signing.ts';

export class SigstoreManifestSigner implements ManifestSigner {
  private readonly backend: DevSigner | KeylessSigner;

  constructor(backend: DevSigner | KeylessSigner) {
    this.backend = backend;
  }

  async sign(manifestBytes: Uint8Array): Promise<{ bundleJson: object; identity: string }> {
    const builder = new MessageSignatureBundleBuilder({ signer: this.backend.signer, witnesses: this.backend.witnesses });
    const bundle = await builder.create({ data: Buffer.from(manifestBytes) });
    return { bundleJson: bundleToJSON(bundle), identity: this.backend.kind === 'dev' ? this.backend.identity : 'keyless' };
  }
}

export interface SigstoreVerifierOptions {
  trustedRoot: unknown;
  /** Transparency-log entries required (default 1). */
  tlogThreshold?: number;
  /** SCTs required (default 1; 0 for a CA without a CT log, such as the development CA). */
  ctlogThreshold?: number;
}

export class SigstoreManifestVerifier implements ManifestVerifier {
  private readonly opts: SigstoreVerifierOptions;

  constructor(opts: SigstoreVerifierOptions) {
    this.opts = opts;
  }

  async verify(manifestBytes: Uint8Array, bundleJson: unknown): Promise<{ identity: string; issuer?: string }> {
    let claimed: { identity: string; issuer: string };
    try {
      const bundle = bundleFromJSON(bundleJson);
      const material = bundle.verificationMaterial.content;
      const der = material.$case === 'certificate' ? material.certificate.rawBytes : material.$case === 'x509CertificateChain' ? material.x509CertificateChain.certificates[0]?.rawBytes : undefined;
      if (!der) throw new SignatureVerificationError('bundle', 'the manifest signature carries no certificate');
      claimed = certificateIdentity(X509Certificate.parse(Buffer.from(der) as Buffer<ArrayBuffer>));
    } catch (e) {
      if (e instanceof SignatureVerificationError) throw e;
      throw new SignatureVerificationError('bundle', `unreadable manifest signature: ${(e as Error).message}`, { cause: e });
    }
    // Verified with exactly the identity the certificate names: it counts only if the chain, the
    // timestamps and the signature over these bytes all hold.
    const v = await verifySigstoreBundle({
      bundle: bundleJson,
      artifact: { bytes: manifestBytes },
      trustedRoot: this.opts.trustedRoot,
      policy: claimed,
      ...(this.opts.tlogThreshold !== undefined ? { tlogThreshold: this.opts.tlogThreshold } : {}),
      ...(this.opts.ctlogThreshold !== undefined ? { ctlogThreshold: this.opts.ctlogThreshold } : {}),
    });
    return { identity: v.identity ?? claimed.identity, issuer: v.issuer ?? claimed.issuer };
  }
}
