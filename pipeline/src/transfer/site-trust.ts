/**
 * What a site verifies bundles with: its pinned trusted root (from the policy, or given) and a
 * Sigstore verifier over it. Used by `import`, `check-bundle`, `verify BUNDLE` and the main job.
 */
import { resolve } from 'node:path';
import type { SigstoreManifestVerifier } from '../bundle/sigstore.ts';
import type { LoadedPolicy } from '../site/policy.ts';
import { BrickyardError } from '../util/errors.ts';

/**
 * The verifier a site uses: its pinned trusted root (its sha256 checked against the pin, when
 * given, before it is parsed); a development root has no CT log.
 */
export async function siteVerifier(trustedRootPath: string, pinnedSha256?: string): Promise<SigstoreManifestVerifier> {
  // Sigstore loads when a bundle is verified, not when the CLI starts.
  const [{ SigstoreManifestVerifier }, { loadTrustedRoot }] = await Promise.all([import('../bundle/sigstore.ts'), import('../site/trusted-root.ts')]);
  const trustedRoot = loadTrustedRoot(trustedRootPath, pinnedSha256) as { ctlogs?: unknown[] };
  return new SigstoreManifestVerifier({ trustedRoot, ...((trustedRoot.ctlogs ?? []).length === 0 ? { ctlogThreshold: 0 } : {}) });
}

/**
 * The site policy, read once (the import, check and admission records use this very load), the
 * trusted root a site verifies with (given, or the policy's) and the sha256 the policy pins for it.
 */
export async function siteTrust(policyPath: string, given?: string): Promise<{ policy: LoadedPolicy; trustedRootPath: string; pinned: string }> {
  const { loadPolicy } = await import('../site/policy.ts');
  const policy = loadPolicy(policyPath);
  const path = given ?? policy.trustedRootPath;
  if (!path) throw new BrickyardError('USAGE', `${policyPath} names no trustedRoot.path: give --trusted-root FILE`);
  return { policy, trustedRootPath: resolve(path), pinned: policy.policy.trustedRoot.sha256 };
}
