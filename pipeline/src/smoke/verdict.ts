/**
 * The verdict an importer may trust, derived from a signed test-result predicate's content only
 * (predicate.ts writes it; the bundle import calls this after the signature has been verified).
 *
 * Stable contract (issue 9, trust chain):
 * - Input: the `predicate` object of a verified in-toto Statement (unknown: it came off the wire).
 * - Output: never throws. `verdict` is the worst of every test's own verdict; it is FAILED when
 *   any test FAILED, whatever `result` claims, and FAILED whenever the predicate contradicts
 *   itself (a `result` other than the one its tests give, name lists that disagree with the
 *   tests, a target described differently in two places, a malformed field) or does not match
 *   what the caller expected (image digest, system, partition, launcher). `problems` says why.
 * - A predicate with nothing but skips is WARNED (evaluate.ts `overall`).
 */
import { createHash } from 'node:crypto';
import { overall, type Verdict } from './evaluate.ts';
import { SMOKE_TARGET_MEDIA_TYPE } from './predicate.ts';

export interface PredicateVerdict {
  verdict: 'PASSED' | 'WARNED' | 'FAILED';
  /** `result` as the predicate claims it (undefined when missing or not a verdict). */
  claimed?: 'PASSED' | 'WARNED' | 'FAILED';
  /** The target the predicate names (from its signed content), fields undefined when absent. */
  system?: string;
  partition?: string;
  launcher?: string;
  /** "sha256:<64 hex>", lower case. */
  imageDigest?: string;
  /** Each test's own verdict, in the predicate's order. */
  tests: { name: string; verdict: Verdict }[];
  /** Why the predicate cannot be taken at its word; empty when it is consistent. */
  problems: string[];
}

export interface PredicateExpectation {
  /** The subject's digest ("sha256:<hex>" or bare hex): the image the statement is about. */
  imageDigest?: string;
  system?: string;
  partition?: string;
  launcher?: string;
}

const VERDICTS: readonly string[] = ['PASSED', 'WARNED', 'FAILED', 'SKIPPED'];
const RESULTS: readonly string[] = ['PASSED', 'WARNED', 'FAILED'];

export function verdictFromPredicate(predicate: unknown, expect: PredicateExpectation = {}): PredicateVerdict {
  const problems: string[] = [];
  const out: PredicateVerdict = { verdict: 'FAILED', tests: [], problems };
  if (!isObject(predicate)) {
    problems.push('the predicate is not an object');
    return out;
  }
  const claimed = predicate['result'];
  if (typeof claimed === 'string' && RESULTS.includes(claimed)) out.claimed = claimed as PredicateVerdict['claimed'];
  else problems.push(`result ${JSON.stringify(claimed)} is not PASSED, WARNED or FAILED`);

  // Tests and their verdicts.
  const ext = predicate['brickyardSmoke'];
  const rawTests = isObject(ext) && Array.isArray(ext['tests']) ? ext['tests'] : undefined;
  if (!rawTests) problems.push('brickyardSmoke.tests is missing: the verdict of each test is not in the predicate');
  const seen = new Set<string>();
  for (const [i, t] of (rawTests ?? []).entries()) {
    if (!isObject(t) || typeof t['name'] !== 'string' || typeof t['verdict'] !== 'string' || !VERDICTS.includes(t['verdict'])) {
      problems.push(`brickyardSmoke.tests[${i}] has no name or no verdict among ${VERDICTS.join(', ')}`);
      continue;
    }
    if (seen.has(t['name'])) problems.push(`two tests are named '${t['name']}'`);
    seen.add(t['name']);
    out.tests.push({ name: t['name'], verdict: t['verdict'] as Verdict });
  }
  const derived = overall(out.tests.map((t) => ({ name: t.name, kind: 'command', verdict: t.verdict, summary: '' })));
  if (out.claimed !== undefined && out.claimed !== derived) {
    problems.push(
      `result claims ${out.claimed} but the tests give ${derived}${out.tests
        .filter((t) => t.verdict === 'FAILED')
        .map((t) => ` (${t.name} FAILED)`)
        .join('')}`,
    );
  }
  const lists: [string, Verdict][] = [
    ['passedTests', 'PASSED'],
    ['warnedTests', 'WARNED'],
    ['failedTests', 'FAILED'],
  ];
  for (const [field, v] of lists) {
    const want = out.tests.filter((t) => t.verdict === v).map((t) => t.name);
    const got = predicate[field];
    if (!Array.isArray(got) || got.some((x) => typeof x !== 'string')) problems.push(`${field} is not a list of test names`);
    else if (!sameSet(got as string[], want)) problems.push(`${field} lists [${(got as string[]).join(', ')}] but the tests give [${want.join(', ')}]`);
  }

  // The target, named in three signed places that must agree.
  const target = targetOf(predicate, ext, problems);
  Object.assign(out, target);
  for (const [field, want] of Object.entries(expect) as [keyof PredicateExpectation, string | undefined][]) {
    if (want === undefined) continue;
    const norm = field === 'imageDigest' ? digestOf(want) : want;
    if (out[field] !== norm) problems.push(`the predicate is about ${field} ${out[field] ?? '(none)'}, expected ${norm}`);
  }

  out.verdict = problems.length > 0 ? 'FAILED' : derived;
  return out;
}

function targetOf(predicate: Record<string, unknown>, ext: unknown, problems: string[]): Pick<PredicateVerdict, 'system' | 'partition' | 'launcher' | 'imageDigest'> {
  const fields = ['system', 'partition', 'launcher'] as const;
  const config = Array.isArray(predicate['configuration']) ? predicate['configuration'].filter(isObject) : [];
  const image = config.find((d) => isObject(d['annotations']) && d['annotations']['brickyardRole'] === 'image');
  const target = config.find((d) => isObject(d['annotations']) && d['annotations']['brickyardRole'] === 'target');
  const named = isObject(ext) && isObject(ext['target']) ? ext['target'] : undefined;
  if (!named) problems.push('brickyardSmoke.target is missing: the predicate does not name what it tested');
  if (!target) problems.push('configuration has no target descriptor');

  // The descriptor's content is the canonical form: its digest must match it.
  let content: Record<string, unknown> | undefined;
  if (target) {
    if (target['mediaType'] !== SMOKE_TARGET_MEDIA_TYPE) problems.push(`the target descriptor's mediaType is not ${SMOKE_TARGET_MEDIA_TYPE}`);
    const b64 = typeof target['content'] === 'string' ? target['content'] : '';
    const json = Buffer.from(b64, 'base64').toString('utf8');
    const digest = isObject(target['digest']) ? target['digest']['sha256'] : undefined;
    if (digest !== createHash('sha256').update(json).digest('hex')) problems.push("the target descriptor's digest does not match its content");
    try {
      const parsed: unknown = JSON.parse(json);
      if (isObject(parsed)) content = parsed;
      else problems.push("the target descriptor's content is not a JSON object");
    } catch {
      problems.push("the target descriptor's content is not JSON");
    }
  }
  const out: Pick<PredicateVerdict, 'system' | 'partition' | 'launcher' | 'imageDigest'> = {};
  for (const f of fields) {
    const values = [named?.[f], content?.[f], isObject(target?.['annotations']) ? target['annotations'][f] : undefined];
    const v = values[0] ?? values[1];
    if (typeof v !== 'string' || v === '') {
      problems.push(`the predicate names no ${f}`);
      continue;
    }
    if (values.some((x) => x !== v))
      problems.push(`${f} differs between brickyardSmoke.target, the target content and its annotations (${values.map((x) => JSON.stringify(x)).join(' / ')})`);
    out[f] = v;
  }
  const digests = [
    typeof named?.['imageDigest'] === 'string' ? digestOf(named['imageDigest']) : undefined,
    isObject(content?.['image']) && typeof content['image']['digest'] === 'string' ? digestOf(content['image']['digest']) : undefined,
    isObject(image?.['digest']) && typeof image['digest']['sha256'] === 'string' ? digestOf(image['digest']['sha256']) : undefined,
  ];
  const d = digests.find((x) => x !== undefined);
  if (d === undefined || !/^sha256:[0-9a-f]{64}$/.test(d)) problems.push('the predicate names no image digest');
  else {
    if (digests.some((x) => x !== d))
      problems.push(`the image digest differs between brickyardSmoke.target, the target content and the image descriptor (${digests.map((x) => x ?? 'none').join(' / ')})`);
    out.imageDigest = d;
  }
  return out;
}

function digestOf(s: string): string {
  const hex = s
    .trim()
    .replace(/^sha256:/i, '')
    .toLowerCase();
  return `sha256:${hex}`;
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && new Set(a).size === a.length && a.every((x) => b.includes(x));
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
