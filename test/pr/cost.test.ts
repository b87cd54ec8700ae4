/** The build cost in the pull-request comment, and the report field it comes from (pull-request data). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BuildCost } from '../../pipeline/src/plan/built.ts';
import type { Plan } from '../../pipeline/src/plan/plan.ts';
import { costLines, renderComment } from '../../pipeline/src/pr/comment.ts';
import { planReport, readReport, type PlanReport } from '../../pipeline/src/pr/report.ts';
import { tempDir } from '../helpers/fixture.ts';

const plan: Plan = {
  base: 'a'.repeat(40),
  head: 'b'.repeat(40),
  changed: [{ path: 'catalog/blocks/x/block.yaml', status: 'M' }],
  ignored: [],
  removed: [],
  pairs: [
    { recipe: 'demo@1.0', name: 'demo', version: '1.0', system: 'local', partition: 'cpu', arch: 'x86_64', runner: ['ubuntu-24.04'], strategy: null, because: ['block x changed'] },
  ],
  skipped: [],
};
const cost = (over: Partial<BuildCost> = {}): BuildCost => ({
  affected: 2000,
  builds: 1700,
  reused: 300,
  batches: 7,
  budget: 512,
  label: 'large-build-ok',
  verdict: 'over-budget',
  ...over,
});

describe('the build cost in the comment', () => {
  it('says what the change costs, what is reused, and that the label is needed', () => {
    const body = renderComment(undefined, planReport(plan, 1, [], cost()));
    expect(body).toContain('**Build cost:** 1700 build(s) in 7 batch(es) (300 of the 2000 affected pair(s) already built and smoke-tested at the same lock digest: reused).');
    expect(body).toContain('**Over the build budget** of 512: the builds do not run until a maintainer adds the label `large-build-ok`.');
  });

  it('approved, within, and no budget', () => {
    expect(costLines(cost({ verdict: 'approved' })).join('\n')).toContain('approved by the label `large-build-ok`');
    expect(costLines(cost({ verdict: 'within-budget', builds: 3, reused: 0, affected: 3, batches: 1 }))).toEqual([
      '**Build cost:** 3 build(s) in 1 batch(es).',
      '',
      'Within the build budget of 512.',
    ]);
    expect(costLines(cost({ verdict: 'no-budget', budget: null }))).toHaveLength(1);
  });

  it('a label name from the report cannot break out of its code span or inject HTML', () => {
    // As for recipe names: inside one code span (backticks stripped), where HTML is shown as text.
    const line = costLines(cost({ label: 'x` <img src=x onerror=alert(1)> `' })).find((l) => l.includes('img'))!;
    expect(line.match(/`/g)).toHaveLength(2);
    expect(line).toMatch(/`[^`]*<img src=x onerror=alert\(1\)>[^`]*`/);
  });

  it('a report whose cost has the wrong shape is refused (it comes from pull-request code)', () => {
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const write = (r: unknown): void => writeFileSync(join(dir, 'plan.json'), JSON.stringify(r));
    write(planReport(plan, 1, [], cost()));
    expect(readReport<PlanReport>(dir, 'plan.json', 'brickyard-plan')?.cost?.builds).toBe(1700);
    write({ ...planReport(plan, 1, [], cost()), cost: { ...cost(), builds: '1700' } });
    expect(() => readReport(dir, 'plan.json', 'brickyard-plan')).toThrow(/cost/);
    write({ ...planReport(plan, 1, [], cost()), cost: { ...cost(), verdict: 'approved-by-me' } });
    expect(() => readReport(dir, 'plan.json', 'brickyard-plan')).toThrow(/cost\.verdict/);
    write(planReport(plan, 1, [])); // older reports have no cost: still read
    expect(readReport<PlanReport>(dir, 'plan.json', 'brickyard-plan')?.cost).toBeUndefined();
  });
});
