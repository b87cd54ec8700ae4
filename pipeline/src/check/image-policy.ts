/**
 * Centre image policies that tighten over time. A system template states what the centre accepts
 * of an image today (`imagePolicy`) and, from a date on, what it will accept (`imagePolicyNext`):
 * a size cap, a licence allow-list, toolkit floors, no root user, no setuid files.
 *
 * Rules the catalogue can answer (size budget, licence, toolkit minimum) are checked for every
 * fitting pair and reported at the recipe's file:line. Rules that need the built image (user,
 * setuid files, real size) are checked on the build (build/inspect.ts) and reported in the build
 * record; here they are listed as "checked on the build".
 */
import semver from 'semver';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import type { ImagePolicyDoc, SystemDoc } from '../model/types.ts';
import { licenseAllowed } from '../util/spdx.ts';
import type { Diagnostic } from '../util/diagnostics.ts';
import { parseSize } from '../lint/rules.ts';
import type { FittedPair } from './fit.ts';

export type PolicyWhich = 'current' | 'next';

export interface PolicyBreak {
  recipe: string;
  system: string;
  partition: string;
  rule: keyof ImagePolicyDoc['rules'];
  message: string;
  /** Where the cause lies in the catalogue: the recipe's file:line (its top when no field is to blame). */
  at: Diagnostic;
}

/** The image checks a build records (build/inspect.ts), for the rules that need the image. */
export interface ImageFacts {
  user: string;
  setuidFiles: string[];
  uncompressedBytes: number;
}

export function policyOf(system: SystemDoc, which: PolicyWhich): ImagePolicyDoc | undefined {
  return which === 'next' ? system.imagePolicyNext : system.imagePolicy;
}

function coerce(v: string): string {
  return semver.coerce(v)?.version ?? '0.0.0';
}

/** What `policy` would break of one recipe on one system, from the catalogue alone. */
export function catalogueBreaks(r: ResolvedRecipe, system: SystemDoc, partition: string, policy: ImagePolicyDoc): PolicyBreak[] {
  const out: PolicyBreak[] = [];
  const file = r.entry.file;
  const add = (rule: PolicyBreak['rule'], message: string, path: (string | number)[]): void => {
    out.push({ recipe: r.key, system: system.id, partition, rule, message, at: file.diagnostic(path, 'warning', `policy-${rule}`, message) });
  };
  const rules = policy.rules;
  if (rules.maxImageSize !== undefined) {
    const cap = parseSize(rules.maxImageSize);
    const budget = r.doc.sizeBudget === undefined ? Number.NaN : parseSize(r.doc.sizeBudget);
    if (Number.isNaN(budget)) add('maxImageSize', `${system.id} will accept images up to ${rules.maxImageSize}; ${r.key} declares no size budget to hold it to`, []);
    else if (budget > cap) add('maxImageSize', `${r.key}'s size budget ${r.doc.sizeBudget} is over ${system.id}'s cap of ${rules.maxImageSize}`, ['sizeBudget']);
  }
  if (rules.licenses !== undefined) {
    const license = r.doc.license;
    if (!license) add('licenses', `${r.key} declares no licence; ${system.id} will accept only ${rules.licenses.join(', ')}`, []);
    else if (!licenseAllowed(license, rules.licenses)) add('licenses', `${r.key} is licensed ${license}; ${system.id} will accept only ${rules.licenses.join(', ')}`, ['license']);
  }
  const gpu = r.doc.requires.gpu;
  const vendor = gpu?.vendor;
  if (rules.minCuda !== undefined && gpu?.minCuda !== undefined && (vendor === 'nvidia' || vendor === 'any') && semver.lt(coerce(gpu.minCuda), coerce(rules.minCuda))) {
    add('minCuda', `${r.key} supports CUDA from ${gpu.minCuda}; ${system.id} will run CUDA ${rules.minCuda} and later only: raise requires.gpu.minCuda and test on it`, [
      'requires',
      'gpu',
      'minCuda',
    ]);
  }
  if (rules.minRocm !== undefined && gpu?.minRocm !== undefined && (vendor === 'amd' || vendor === 'any') && semver.lt(coerce(gpu.minRocm), coerce(rules.minRocm))) {
    add('minRocm', `${r.key} supports ROCm from ${gpu.minRocm}; ${system.id} will run ROCm ${rules.minRocm} and later only: raise requires.gpu.minRocm and test on it`, [
      'requires',
      'gpu',
      'minRocm',
    ]);
  }
  return out;
}

/** What `policy` says of a built image (its recorded facts). */
export function imageBreaks(facts: ImageFacts, policy: ImagePolicyDoc): { rule: PolicyBreak['rule']; message: string }[] {
  const out: { rule: PolicyBreak['rule']; message: string }[] = [];
  const rules = policy.rules;
  if (rules.noRootUser && (facts.user === '' || facts.user === 'root' || facts.user === '0' || facts.user.startsWith('0:') || facts.user.startsWith('root:'))) {
    out.push({ rule: 'noRootUser', message: `the image runs as ${facts.user === '' ? 'root (no USER set)' : facts.user}` });
  }
  if (rules.noSetuid && facts.setuidFiles.length > 0) {
    out.push({
      rule: 'noSetuid',
      message: `the image has ${facts.setuidFiles.length} setuid/setgid file(s): ${facts.setuidFiles.slice(0, 5).join(', ')}${facts.setuidFiles.length > 5 ? ', …' : ''}`,
    });
  }
  if (rules.maxImageSize !== undefined && facts.uncompressedBytes > parseSize(rules.maxImageSize)) {
    out.push({ rule: 'maxImageSize', message: `the image is ${(facts.uncompressedBytes / 2 ** 20).toFixed(1)} MiB, over ${rules.maxImageSize}` });
  }
  return out;
}

export interface PolicyReport {
  which: PolicyWhich;
  /** Systems with such a policy, with the day it takes effect. */
  systems: { id: string; effective?: string; source?: string; imageRules: string[] }[];
  breaks: PolicyBreak[];
}

/** Every fitting pair re-evaluated against each system's current or next image policy. */
export function evaluatePolicies(systems: readonly SystemDoc[], pairs: readonly FittedPair[], which: PolicyWhich): PolicyReport {
  const report: PolicyReport = { which, systems: [], breaks: [] };
  for (const system of systems) {
    const policy = policyOf(system, which);
    if (!policy) continue;
    const imageRules = (['noRootUser', 'noSetuid'] as const).filter((k) => policy.rules[k] === true);
    report.systems.push({ id: system.id, ...(policy.effective ? { effective: policy.effective } : {}), ...(policy.source ? { source: policy.source } : {}), imageRules });
    for (const p of pairs) {
      if (p.fit.fits && p.system.doc.id === system.id) report.breaks.push(...catalogueBreaks(p.recipe, system, p.partition.id, policy));
    }
  }
  return report;
}

/** Each break as a finding at the recipe's file:line, saying which system's policy, from when. */
export function policyDiagnostics(report: PolicyReport): Diagnostic[] {
  const when = new Map(report.systems.map((s) => [s.id, s.effective]));
  return report.breaks.map((b) => {
    const from = when.get(b.system);
    const prefix = report.which === 'next' ? `${b.system}'s next image policy${from ? ` (from ${from})` : ''}` : `${b.system}'s image policy`;
    return {
      ...b.at,
      severity: report.which === 'next' ? 'warning' : 'error',
      rule: `policy-${b.rule}`,
      message: `${prefix} would refuse ${b.recipe} on ${b.system}/${b.partition}: ${b.message}`,
    };
  });
}
