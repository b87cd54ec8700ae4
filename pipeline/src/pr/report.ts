/**
 * The reports the pull-request workflow writes (validate.json, plan.json) and the comment
 * action reads. The comment runs in a privileged workflow and the reports come from pull-request
 * code, so they are parsed defensively: shapes checked, sizes capped, strings escaped later.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildCost } from '../plan/built.ts';
import type { Plan } from '../plan/plan.ts';
import type { PairDiff } from '../plan/diff.ts';
import type { Diagnostic } from '../util/diagnostics.ts';
import { BrickyardError } from '../util/errors.ts';

export interface ValidateReport {
  kind: 'brickyard-validate';
  version: 1;
  base: string | null;
  ok: boolean;
  errors: number;
  warnings: number;
  diagnostics: Diagnostic[];
}

export interface PlanReport {
  kind: 'brickyard-plan';
  version: 1;
  plan: Plan;
  batches: number;
  diffs: PairDiff[];
  /** What the change costs in builds, and the budget's verdict (absent in older reports). */
  cost?: BuildCost;
}

const MAX_REPORT_BYTES = 8 * 1024 * 1024;
/** Patches longer than this are cut; the comment links to the workflow run for the rest. */
export const MAX_PATCH_CHARS = 6000;

export function validateReport(base: string | null, diagnostics: Diagnostic[], errors: number, warnings: number): ValidateReport {
  return { kind: 'brickyard-validate', version: 1, base, ok: errors === 0, errors, warnings, diagnostics };
}

export function planReport(plan: Plan, batches: number, diffs: PairDiff[], cost?: BuildCost): PlanReport {
  return {
    kind: 'brickyard-plan',
    version: 1,
    plan,
    batches,
    ...(cost ? { cost } : {}),
    diffs: diffs.map((d) => ({
      ...d,
      files: d.files.map((f) => ({ name: f.name, patch: f.patch.length > MAX_PATCH_CHARS ? f.patch.slice(0, MAX_PATCH_CHARS) + '\n… (cut)\n' : f.patch })),
    })),
  };
}

/** Read a report written by the pull-request workflow; undefined when it is absent. */
export function readReport<T extends ValidateReport | PlanReport>(dir: string, name: string, kind: T['kind']): T | undefined {
  const path = join(dir, name);
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return undefined;
  }
  if (size > MAX_REPORT_BYTES) throw new BrickyardError('FILE_UNREADABLE', `${name} is ${size} bytes, over the ${MAX_REPORT_BYTES}-byte limit`);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BrickyardError('FILE_UNREADABLE', `${name} is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(data) || data['kind'] !== kind || data['version'] !== 1) {
    throw new BrickyardError('FILE_UNREADABLE', `${name} is not a ${kind} report (version 1)`);
  }
  if (kind === 'brickyard-validate') checkValidate(data);
  else checkPlan(data);
  return data as unknown as T;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function need(ok: boolean, what: string): asserts ok {
  if (!ok) throw new BrickyardError('FILE_UNREADABLE', `report field ${what} has the wrong shape`);
}

const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const strList = (x: unknown): boolean => Array.isArray(x) && x.every(isStr);

function checkValidate(d: Record<string, unknown>): void {
  need(typeof d['ok'] === 'boolean' && isNum(d['errors']) && isNum(d['warnings']), 'ok/errors/warnings');
  need(Array.isArray(d['diagnostics']), 'diagnostics');
  for (const x of d['diagnostics'] as unknown[]) {
    need(
      isObject(x) &&
        isStr(x['file']) &&
        isNum(x['line']) &&
        isNum(x['col']) &&
        isStr(x['message']) &&
        isStr(x['rule']) &&
        (x['severity'] === 'error' || x['severity'] === 'warning'),
      'diagnostics[]',
    );
  }
}

function checkPlan(d: Record<string, unknown>): void {
  const plan = d['plan'];
  need(isObject(plan) && Array.isArray(plan['pairs']) && Array.isArray(plan['skipped']) && Array.isArray(plan['changed']), 'plan');
  const p = plan as { pairs: unknown[]; skipped: unknown[] } & Record<string, unknown[] | undefined>;
  for (const x of p.pairs) need(isObject(x) && isStr(x['recipe']) && isStr(x['system']) && isStr(x['partition']) && strList(x['because']) && strList(x['runner']), 'plan.pairs[]');
  for (const x of p.skipped) need(isObject(x) && isStr(x['recipe']) && isStr(x['system']) && isStr(x['partition']) && strList(x['reasons']), 'plan.skipped[]');
  need(strList(p['ignored'] ?? []) && strList(p['removed'] ?? []), 'plan.ignored/removed');
  need(isNum(d['batches']) && Array.isArray(d['diffs']), 'batches/diffs');
  if (d['cost'] !== undefined) {
    const c = d['cost'];
    need(
      isObject(c) && isNum(c['affected']) && isNum(c['builds']) && isNum(c['reused']) && isNum(c['batches']) && (c['budget'] === null || isNum(c['budget'])) && isStr(c['label']),
      'cost',
    );
    need(['no-budget', 'within-budget', 'approved', 'over-budget'].includes(c['verdict'] as string), 'cost.verdict');
  }
  for (const x of d['diffs'] as unknown[]) {
    if (!isObject(x)) throw new BrickyardError('FILE_UNREADABLE', 'report field diffs[] has the wrong shape');
    need(isStr(x['recipe']) && isStr(x['system']) && isStr(x['partition']) && isStr(x['status']) && Array.isArray(x['files']), 'diffs[]');
    for (const f of x['files'] as unknown[]) need(isObject(f) && isStr(f['name']) && isStr(f['patch']), 'diffs[].files[]');
  }
}
