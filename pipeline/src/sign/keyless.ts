/**
 * Sigstore keyless signing in CI: `FulcioSigner` with the CI's OIDC token
 * (`CIContextProvider('sigstore')`: GitHub Actions with `permissions: id-token: write`, or
 * SIGSTORE_ID_TOKEN). For a public repository: public-good Fulcio and Rekor (the identity is
 * published in the public log). For a private or internal one: GitHub's Fulcio and its RFC 3161
 * TSA only, so nothing about it goes to a public log (what actions/attest does). Verify those
 * with `tlogThreshold: 0` against GitHub's trusted root. Apart from attest.ts so that a site,
 * which never signs keyless, does not load the network clients.
 */
import { CIContextProvider, FulcioSigner, RekorWitness, TSAWitness, type IdentityProvider, type Witness } from '@sigstore/sign';
import { BrickyardError } from '../util/errors.ts';
import type { SigningBackend } from './dev-signer.ts';

/** Sigstore's public-good instance. */
export const PUBLIC_GOOD = { fulcioURL: 'https://fulcio.sigstore.dev', rekorURL: 'https://rekor.sigstore.dev' } as const;
/** GitHub's Sigstore instance for private repositories (no transparency log). */
export const GITHUB_INSTANCE = { fulcioURL: 'https://fulcio.githubapp.com', tsaURL: 'https://timestamp.githubapp.com' } as const;

export type RepositoryVisibility = 'public' | 'private' | 'internal';

export interface KeylessOptions {
  /** The repository's visibility (GitHub: `github.event.repository.visibility`). */
  visibility: RepositoryVisibility;
  /** Overrides, e.g. for a self-hosted Sigstore. */
  fulcioURL?: string;
  /** Public repositories only: where entries go (default public-good Rekor). */
  rekorURL?: string;
  /** An RFC 3161 TSA: the only witness for private repositories (default GitHub's); added next to Rekor for public ones. */
  tsaURL?: string;
  /** Default: `new CIContextProvider('sigstore')`. */
  identityProvider?: IdentityProvider;
  timeout?: number;
  retry?: number;
}

/** Which services a keyless signature uses: pure, so that the choice is testable offline. */
export interface KeylessPlan {
  instance: 'public-good' | 'github' | 'custom';
  fulcioURL: string;
  witnesses: ({ kind: 'rekor'; url: string } | { kind: 'tsa'; url: string })[];
}

export interface KeylessSigner extends SigningBackend {
  kind: 'keyless';
  plan: KeylessPlan;
}

function url(what: string, value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new BrickyardError('USAGE', `${what} must be an https URL, got '${value}'`);
  }
  if (u.protocol !== 'https:') throw new BrickyardError('USAGE', `${what} must be an https URL, got '${value}'`);
  return value.replace(/\/+$/, '');
}

export function keylessPlan(opts: KeylessOptions): KeylessPlan {
  switch (opts.visibility) {
    case 'public': {
      const fulcioURL = url('fulcioURL', opts.fulcioURL ?? PUBLIC_GOOD.fulcioURL);
      const rekorURL = url('rekorURL', opts.rekorURL ?? PUBLIC_GOOD.rekorURL);
      const custom = fulcioURL !== PUBLIC_GOOD.fulcioURL || rekorURL !== PUBLIC_GOOD.rekorURL;
      return {
        instance: custom ? 'custom' : 'public-good',
        fulcioURL,
        witnesses: [{ kind: 'rekor', url: rekorURL }, ...(opts.tsaURL ? [{ kind: 'tsa' as const, url: url('tsaURL', opts.tsaURL) }] : [])],
      };
    }
    case 'private':
    case 'internal': {
      if (opts.rekorURL !== undefined) {
        throw new BrickyardError('USAGE', `a ${opts.visibility} repository's attestations are timestamped by a TSA, not written to a transparency log`, {
          hint: 'leave rekorURL unset (a transparency log would publish the workflow identity)',
        });
      }
      const fulcioURL = url('fulcioURL', opts.fulcioURL ?? GITHUB_INSTANCE.fulcioURL);
      const tsaURL = url('tsaURL', opts.tsaURL ?? GITHUB_INSTANCE.tsaURL);
      const custom = fulcioURL !== GITHUB_INSTANCE.fulcioURL || tsaURL !== GITHUB_INSTANCE.tsaURL;
      return { instance: custom ? 'custom' : 'github', fulcioURL, witnesses: [{ kind: 'tsa', url: tsaURL }] };
    }
    default:
      throw new BrickyardError('USAGE', `repository visibility must be public, private or internal, got '${String(opts.visibility)}'`);
  }
}

/**
 * The CI signer. Fails early, with the fix, when no OIDC token can be had (the job lacks
 * `permissions: id-token: write`), instead of failing in the middle of a Fulcio request.
 * Constructing it contacts nothing; `attest()` does.
 */
export function keylessSigner(opts: KeylessOptions, env: NodeJS.ProcessEnv = process.env): KeylessSigner {
  const plan = keylessPlan(opts);
  if (!opts.identityProvider && !(env['ACTIONS_ID_TOKEN_REQUEST_URL'] && env['ACTIONS_ID_TOKEN_REQUEST_TOKEN']) && !env['SIGSTORE_ID_TOKEN']) {
    throw new BrickyardError('SIGNING_FAILED', 'keyless signing needs an OIDC identity token, and this job has none', {
      hint: 'give the signing job `permissions: id-token: write` (never on pull requests), or set SIGSTORE_ID_TOKEN; for local signing use the development signer',
    });
  }
  const fetch = { ...(opts.timeout === undefined ? {} : { timeout: opts.timeout }), ...(opts.retry === undefined ? {} : { retry: opts.retry }) };
  const signer = new FulcioSigner({ identityProvider: opts.identityProvider ?? new CIContextProvider('sigstore'), fulcioBaseURL: plan.fulcioURL, ...fetch });
  const witnesses: Witness[] = plan.witnesses.map((w) =>
    w.kind === 'rekor' ? new RekorWitness({ rekorBaseURL: w.url, entryType: 'dsse', fetchOnConflict: true, ...fetch }) : new TSAWitness({ tsaBaseURL: w.url, ...fetch }),
  );
  return { kind: 'keyless', plan, signer, witnesses };
}
