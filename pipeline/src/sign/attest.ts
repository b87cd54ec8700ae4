/**
 * Attesting: an in-toto Statement v1 signed as a DSSE envelope (payloadType
 * `application/vnd.in-toto+json`) into a Sigstore bundle v0.3. The statement's subject carries
 * the artifact digest, so no artifact is ever read here (a multi-GB image is hashed once, by
 * whoever builds the statement).
 *
 * Two back ends share everything but how the Signer and the witnesses are made:
 * - `loadOrCreateDevSigner()` (dev-signer.ts): local CA, local TSA and fake log, offline;
 * - `keylessSigner()`: Sigstore keyless signing in CI. `FulcioSigner` with the CI's OIDC token
 *   (`CIContextProvider('sigstore')`: GitHub Actions with `permissions: id-token: write`, or
 *   SIGSTORE_ID_TOKEN). For a public repository: public-good Fulcio and Rekor (the identity is
 *   published in the public log). For a private or internal one: GitHub's Fulcio and its RFC 3161
 *   TSA only, so nothing about it goes to a public log (what actions/attest does). Verify those
 *   with `tlogThreshold: 0` against GitHub's trusted root.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { BUNDLE_V03_MEDIA_TYPE, bundleToJSON, type SerializedBundle } from '@sigstore/bundle';
import { CIContextProvider, DSSEBundleBuilder, FulcioSigner, RekorWitness, TSAWitness, type IdentityProvider, type Witness } from '@sigstore/sign';
import { STATEMENT_TYPE } from '../model/statement.ts';
import { BrickyardError } from '../util/errors.ts';
import type { DevSigner, SigningBackend } from './dev-signer.ts';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const BUNDLE_MEDIA_TYPE = BUNDLE_V03_MEDIA_TYPE;
export const BUNDLE_SUFFIX = '.sigstore.json';

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

/** The checks an in-toto Statement v1 must pass before it is signed. */
export function assertStatement(statement: unknown): void {
  const bad = (why: string): never => {
    throw new BrickyardError('SIGNING_FAILED', `refusing to sign: ${why}`);
  };
  if (typeof statement !== 'object' || statement === null || Array.isArray(statement)) bad('the statement is not a JSON object');
  const s = statement as Record<string, unknown>;
  if (s['_type'] !== STATEMENT_TYPE) bad(`_type must be ${STATEMENT_TYPE}, got ${JSON.stringify(s['_type'])}`);
  if (typeof s['predicateType'] !== 'string' || !/^[a-z][a-z0-9+.-]*:\S+$/i.test(s['predicateType'])) bad('predicateType must be a URI');
  if (!Array.isArray(s['subject']) || s['subject'].length === 0) bad('the statement has no subject');
  for (const [i, sub] of (s['subject'] as unknown[]).entries()) {
    const d = (sub as { digest?: unknown } | null)?.digest;
    if (typeof d !== 'object' || d === null || Object.keys(d).length === 0) bad(`subject ${i} has no digest`);
    for (const [alg, value] of Object.entries(d as Record<string, unknown>)) {
      if (typeof value !== 'string' || !/^[0-9a-f]+$/.test(value)) bad(`subject ${i} digest ${alg} is not lower-case hex`);
      if (alg === 'sha256' && (value as string).length !== 64) bad(`subject ${i} sha256 digest is not 64 hex digits`);
    }
  }
  if (typeof s['predicate'] !== 'object' || s['predicate'] === null) bad('the predicate must be a JSON object');
}

/** Sign `statement` as DSSE; the Sigstore bundle v0.3, as JSON. (A site key signs through here too: see site-key.ts.) */
/** A site key (site-key.ts) as attest() sees it; named structurally, as site-key.ts imports this module. */
type SiteKeyBackend = SigningBackend & { kind: 'site' };

export async function attest(statement: object, backend: DevSigner | KeylessSigner | SiteKeyBackend): Promise<SerializedBundle> {
  assertStatement(statement);
  const payload = Buffer.from(JSON.stringify(statement), 'utf8');
  let bundle;
  try {
    bundle = await new DSSEBundleBuilder({ signer: backend.signer, witnesses: backend.witnesses }).create({ data: payload, type: IN_TOTO_PAYLOAD_TYPE });
  } catch (e) {
    if (e instanceof BrickyardError) throw e;
    const where = backend.kind === 'keyless' ? ` (${backend.plan.instance}: ${backend.plan.fulcioURL})` : backend.kind === 'site' ? ' (site key)' : ' (development signer)';
    throw new BrickyardError('SIGNER_FAILED', `signing failed${where}: ${(e as Error).message}`, { cause: e });
  }
  const json = bundleToJSON(bundle);
  if (json.mediaType !== BUNDLE_MEDIA_TYPE) throw new BrickyardError('SIGNING_FAILED', `expected a ${BUNDLE_MEDIA_TYPE} bundle, got ${json.mediaType}`);
  return json;
}

/** `<artifact>.sigstore.json`. */
export function bundlePathFor(artifactPath: string): string {
  return artifactPath + BUNDLE_SUFFIX;
}

/** Write a bundle (atomically: a temporary file renamed into place). */
export function writeBundle(path: string, bundle: SerializedBundle | object): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(bundle) + '\n', { mode: 0o644 });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}
