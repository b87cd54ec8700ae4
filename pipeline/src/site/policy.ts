/**
 * A site's policy (site-policy.yaml, pipeline/schemas/site-policy.schema.json), loaded with
 * findings at file:line:col, and the checks it implies for a bundle.
 *
 * Identities: a `{repository, workflow, ref}` item allows exactly the GitHub Actions workflow
 * identity `https://github.com/<repository>/<workflow>@<ref>` (the certificate SAN Fulcio issues
 * for a workflow run); the repository and workflow are compared exactly, the ref against an
 * anchored pattern where `*` matches within one segment and nothing else is special. A prefix,
 * a longer ref or another repository with the same prefix does not pass. `{exact}` compares the
 * whole identity string.
 */
import { pointerToPath, SourceFile } from '../catalog/source.ts';
import { formatDiagnostic, type Diagnostic } from '../util/diagnostics.ts';
import { BrickyardError } from '../util/errors.ts';
import { siteValidator } from '../util/site-validators.ts';
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { FulcioExtensions } from '../sign/fulcio-extensions.ts';
import { ROLE_LABEL, type SignerRole } from '../sign/roles.ts';
import { group } from '../util/match.ts';

export type IdentityRule = { repository: string; workflow: string; ref: string } | { exact: string };

/** One signer a role accepts: the identity and its issuer as a pair, plus certificate extensions. */
export interface SignerRule {
  identity: IdentityRule;
  issuer: string;
  certificate?: Partial<
    Record<
      | 'runnerEnvironment'
      | 'sourceRepositoryUri'
      | 'sourceRepositoryIdentifier'
      | 'sourceRepositoryRef'
      | 'sourceRepositoryOwnerIdentifier'
      | 'buildSignerUri'
      | 'buildSignerDigest',
      string
    >
  >;
  /** Test results only: the systems whose results this signer may vouch for. */
  systems?: string[];
}

export interface SitePolicy {
  version: 2;
  system: string;
  trustedRoot: { sha256: string; path?: string };
  signers: Partial<Record<SignerRole, SignerRule[]>> & { manifest: SignerRule[] };
  require: { provenance: boolean; sbom: boolean; smoke: boolean; acceptWarned?: boolean };
  licenses: string[];
  maxAgeDays: number;
  limits?: { maxEntryBytes?: number; maxBundleBytes?: number };
  /** atRest: decrypt (default: the store holds plaintext layers) or keep (the store holds the encrypted layers; import decrypts only to check them). */
  encryption?: { required?: boolean; privateKey?: string; atRest?: 'decrypt' | 'keep' };
  registry?: string;
}

export interface LoadedPolicy {
  policy: SitePolicy;
  path: string;
  /** sha256 of the policy file's bytes as enforced (admission records name it). */
  sha256: string;
  /** The trusted root's path, resolved against the policy file, when the policy names one. */
  trustedRootPath?: string;
  /** The site's decryption key, resolved against the policy file, when the policy names one. */
  decryptionKeyPath?: string;
}

/** A policy is a page of YAML; a larger file is refused before it is parsed. */
const MAX_POLICY_BYTES = 1 << 20;

/** Each requirement needs the role that vouches for it. */
const REQUIRED_ROLE: Record<'provenance' | 'sbom' | 'smoke', SignerRole> = { provenance: 'provenance', sbom: 'sbom', smoke: 'testResult' };

export function policyDiagnostics(file: SourceFile): Diagnostic[] {
  if (file.syntaxErrors.length) return file.syntaxErrors;
  const data = file.data as { version?: unknown; require?: Record<string, unknown>; signers?: Record<string, unknown> } | null;
  if (data && typeof data === 'object' && data.version === 1) {
    return [
      file.diagnostic(
        ['version'],
        'error',
        'policy-version',
        'policy format 1 (one list of identities and one of issuers for every signature) is no longer accepted: write version: 2 with signers per role (manifest, provenance, sbom, testResult), each an identity with its issuer; see docs/site-admin.md',
      ),
    ];
  }
  // validateSchema: false: checking our own schema against the meta-schema costs a site ~150 ms
  // per command; test/model/schemas.test.ts checks every schema once instead.
  const validator = siteValidator('policy');
  if (validator(file.data)) {
    const out: Diagnostic[] = [];
    for (const [need, role] of Object.entries(REQUIRED_ROLE)) {
      if (data?.require?.[need] === true && data.signers?.[role] === undefined) {
        out.push(
          file.diagnostic(['require', need], 'error', 'policy-signers', `require.${need} is true, but signers.${role} names nobody who may sign it: nothing could be admitted`),
        );
      }
    }
    return out;
  }
  const errs = validator.errors ?? [];
  // oneOf on identities reports every branch; keep the deepest errors a person can act on.
  const specific = errs.filter((e) => e.keyword !== 'oneOf');
  return (specific.length ? specific : errs).map((e) => {
    const where = e.instancePath === '' ? 'the policy' : `"${e.instancePath.slice(1).replace(/\//g, '.')}"`;
    let message = `${where} ${e.message ?? 'is invalid'}`;
    let key: string | undefined;
    if (e.keyword === 'additionalProperties') {
      key = (e.params as { additionalProperty: string }).additionalProperty;
      message = `unknown key "${key}" in ${where}`;
    }
    if (e.keyword === 'required') message = `${where} is missing required key "${(e.params as { missingProperty: string }).missingProperty}"`;
    return file.diagnostic(pointerToPath(e.instancePath), 'error', 'policy-schema', message, key); // an unknown key: at its own line
  });
}

/**
 * The one read of a site policy per import, check or admit: the bytes are read once (through one
 * open file, so a file replaced meanwhile cannot split the size check from the read), then
 * parsed and checked; `sha256` is the digest of those very bytes, which the audit log and the
 * admission records name. Callers pass the LoadedPolicy on; nothing reads the file again.
 */
export function loadPolicy(path: string): LoadedPolicy {
  const abs = resolve(path);
  const bytes = readPolicyBytes(abs, path);
  const file = new SourceFile(abs, dirname(abs), bytes.toString('utf8'));
  const diags = policyDiagnostics(file);
  if (diags.length) {
    throw new BrickyardError('POLICY_INVALID', `the site policy ${path} is not valid:\n  ${diags.map((d) => formatDiagnostic({ ...d, file: path })).join('\n  ')}`, {
      hint: 'fix the policy file; see pipeline/schemas/site-policy.schema.json',
    });
  }
  const policy = file.data as SitePolicy;
  const tr = policy.trustedRoot.path;
  const key = policy.encryption?.privateKey;
  const near = (p: string): string => (isAbsolute(p) ? p : resolve(dirname(abs), p));
  return {
    policy,
    path: abs,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    ...(tr ? { trustedRootPath: near(tr) } : {}),
    ...(key ? { decryptionKeyPath: near(key) } : {}),
  };
}

/** The policy file's bytes, from one open file descriptor; a file over MAX_POLICY_BYTES is refused before it is read. */
function readPolicyBytes(abs: string, given: string): Buffer {
  let fd: number;
  try {
    fd = openSync(abs, 'r');
  } catch (cause) {
    throw new BrickyardError('FILE_UNREADABLE', `cannot read ${abs}: ${(cause as Error).message}`, { hint: 'check that the file exists and is readable', cause });
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_POLICY_BYTES)
      throw new BrickyardError('POLICY_INVALID', `the site policy ${given} is ${size} bytes; a policy is at most ${MAX_POLICY_BYTES}`, {
        hint: 'give the site-policy.yaml itself',
      });
    // Read to the end, one byte past the limit: a file that grew after fstat is refused too.
    const buf = Buffer.alloc(MAX_POLICY_BYTES + 1);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) break;
      got += n;
    }
    if (got > MAX_POLICY_BYTES)
      throw new BrickyardError('POLICY_INVALID', `the site policy ${given} is over ${MAX_POLICY_BYTES} bytes; a policy is at most that`, {
        hint: 'give the site-policy.yaml itself',
      });
    return buf.subarray(0, got);
  } catch (cause) {
    if (cause instanceof BrickyardError) throw cause;
    throw new BrickyardError('FILE_UNREADABLE', `cannot read ${abs}: ${(cause as Error).message}`, { hint: 'check that the file exists and is readable', cause });
  } finally {
    closeSync(fd);
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The anchored regular expression a ref pattern stands for. */
export function refPatternRegExp(pattern: string): RegExp {
  return new RegExp('^' + pattern.split('*').map(escapeRe).join('[^/]*') + '$');
}

const GITHUB_IDENTITY = /^https:\/\/github\.com\/([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)\/(\.github\/workflows\/[A-Za-z0-9_.-]+\.ya?ml)@(refs\/[A-Za-z0-9_./-]+)$/;

/** Whether an identity is allowed; returns the rule that allowed it. */
export function matchIdentity(identity: string, rules: readonly IdentityRule[]): IdentityRule | undefined {
  const gh = GITHUB_IDENTITY.exec(identity);
  for (const r of rules) {
    if ('exact' in r) {
      if (identity === r.exact) return r;
      continue;
    }
    if (gh?.[1] === r.repository && gh[2] === r.workflow && refPatternRegExp(r.ref).test(group(gh, 3))) return r;
  }
  return undefined;
}

/** A signer as verified from its certificate: nothing here comes from unsigned data. */
export interface VerifiedSigner {
  identity: string;
  issuer: string;
  extensions: FulcioExtensions;
}

function describeIdentity(r: IdentityRule): string {
  return 'exact' in r ? r.exact : `https://github.com/${r.repository}/${r.workflow}@${r.ref}`;
}

/** Why one rule does not admit this signer; undefined when it does. */
function ruleMismatch(rule: SignerRule, who: VerifiedSigner): string | undefined {
  if (!matchIdentity(who.identity, [rule.identity])) return `identity is not ${describeIdentity(rule.identity)}`;
  if (who.issuer !== rule.issuer) return `issuer ${who.issuer} is not ${rule.issuer}`;
  for (const [name, want] of Object.entries(rule.certificate ?? {})) {
    const got = who.extensions[name as keyof FulcioExtensions];
    const pattern = name === 'sourceRepositoryRef' || name === 'buildSignerUri';
    const ok = got !== undefined && (pattern ? refPatternRegExp(want).test(got) : got === want);
    if (!ok) return `certificate ${name} is ${got === undefined ? 'absent' : JSON.stringify(got)}, not ${JSON.stringify(want)}`;
  }
  return undefined;
}

/**
 * The rule of `role` that admits this verified signer (identity and issuer as a pair, and every
 * certificate extension the rule names), or why none does. A role the policy does not name
 * admits nobody.
 */
export function matchSigner(policy: SitePolicy, role: SignerRole, who: VerifiedSigner): { rule: SignerRule } | { refused: string } {
  const rules = policy.signers[role];
  const signer = `${who.identity} (issuer ${who.issuer}${who.extensions.runnerEnvironment ? `, ${who.extensions.runnerEnvironment} runner` : ''})`;
  if (!rules || rules.length === 0)
    return { refused: `the ${ROLE_LABEL[role]} was signed by ${signer}, but the site policy names no signer for the ${ROLE_LABEL[role]} (signers.${role})` };
  const why: string[] = [];
  for (const rule of rules) {
    const miss = ruleMismatch(rule, who);
    if (miss === undefined) return { rule };
    why.push(`${describeIdentity(rule.identity)}: ${miss}`);
  }
  return { refused: `the ${ROLE_LABEL[role]} was signed by ${signer}, which no signers.${role} rule of the site policy allows (${why.join('; ')})` };
}

export { licenseAllowed } from '../util/spdx.ts';
