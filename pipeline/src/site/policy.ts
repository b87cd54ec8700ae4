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
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import parseSpdx from 'spdx-expression-parse';
import policySchema from '../../schemas/site-policy.schema.json' with { type: 'json' };
import { pointerToPath, SourceFile } from '../catalog/source.ts';
import { formatDiagnostic, type Diagnostic } from '../util/diagnostics.ts';
import { BrickyardError } from '../util/errors.ts';
import { dirname, isAbsolute, resolve } from 'node:path';

export type IdentityRule = { repository: string; workflow: string; ref: string } | { exact: string };

export interface SitePolicy {
  version: 1;
  system: string;
  trustedRoot: { sha256: string; path?: string };
  identities: IdentityRule[];
  issuers?: string[];
  require: { provenance: boolean; sbom: boolean; smoke: boolean };
  licenses: string[];
  maxAgeDays: number;
  limits?: { maxEntryBytes?: number; maxBundleBytes?: number };
  registry?: string;
}

export interface LoadedPolicy {
  policy: SitePolicy;
  path: string;
  /** The trusted root's path, resolved against the policy file, when the policy names one. */
  trustedRootPath?: string;
}

let validator: ValidateFunction | undefined;

export function policyDiagnostics(file: SourceFile): Diagnostic[] {
  if (file.syntaxErrors.length) return file.syntaxErrors;
  if (!validator) validator = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(policySchema as object);
  if (validator(file.data)) return [];
  const errs = validator.errors ?? [];
  // oneOf on identities reports every branch; keep the deepest errors a person can act on.
  const specific = errs.filter((e) => e.keyword !== 'oneOf');
  return (specific.length ? specific : errs).map((e) => {
    const where = e.instancePath === '' ? 'the policy' : `"${e.instancePath.slice(1).replace(/\//g, '.')}"`;
    let message = `${where} ${e.message ?? 'is invalid'}`;
    if (e.keyword === 'additionalProperties') message = `unknown key "${(e.params as { additionalProperty: string }).additionalProperty}" in ${where}`;
    if (e.keyword === 'required') message = `${where} is missing required key "${(e.params as { missingProperty: string }).missingProperty}"`;
    return file.diagnostic(pointerToPath(e.instancePath), 'error', 'policy-schema', message);
  });
}

export function loadPolicy(path: string): LoadedPolicy {
  const abs = resolve(path);
  const file = SourceFile.read(abs, dirname(abs));
  const diags = policyDiagnostics(file);
  if (diags.length) {
    throw new BrickyardError('POLICY_INVALID', `the site policy ${path} is not valid:\n  ${diags.map((d) => formatDiagnostic({ ...d, file: path })).join('\n  ')}`, {
      hint: 'fix the policy file; see pipeline/schemas/site-policy.schema.json',
    });
  }
  const policy = file.data as SitePolicy;
  const tr = policy.trustedRoot.path;
  return { policy, path: abs, ...(tr ? { trustedRootPath: isAbsolute(tr) ? tr : resolve(dirname(abs), tr) } : {}) };
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
    if (gh && gh[1] === r.repository && gh[2] === r.workflow && refPatternRegExp(r.ref).test(gh[3]!)) return r;
  }
  return undefined;
}

type SpdxNode = { license?: string; plus?: boolean; exception?: string; conjunction?: 'and' | 'or'; left?: SpdxNode; right?: SpdxNode };

/** Whether an SPDX expression is allowed: AND needs both sides allowed, OR either. */
export function licenseAllowed(expression: string, allowed: readonly string[]): boolean {
  let ast: SpdxNode;
  try {
    ast = parseSpdx(expression) as SpdxNode;
  } catch {
    return allowed.includes(expression);
  }
  const ok = (n: SpdxNode): boolean => {
    if (n.conjunction === 'and') return ok(n.left!) && ok(n.right!);
    if (n.conjunction === 'or') return ok(n.left!) || ok(n.right!);
    return n.license !== undefined && allowed.includes(n.license + (n.plus ? '+' : '')) || (n.plus === true && allowed.includes(n.license!));
  };
  return ok(ast);
}
