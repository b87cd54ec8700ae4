/** Human summaries for the terminal. */
import type { BuildCost } from '../plan/built.ts';
import type { Plan } from '../plan/plan.ts';
import type { SmokeReport } from '../smoke/run.ts';
import { table } from './table.ts';

export function planSummary(plan: Plan, batches: number): string {
  const lines: string[] = [];
  lines.push(`base ${plan.base.slice(0, 12)}, head ${plan.head === 'working tree' ? 'working tree' : plan.head.slice(0, 12)}: ${plan.changed.length} file(s) changed`);
  if (plan.pairs.length === 0 && plan.skipped.length === 0) {
    lines.push('No (recipe, system) pair is affected.');
  }
  let out = lines.join('\n') + '\n';
  if (plan.pairs.length > 0) {
    out += `\nAffected pairs (${plan.pairs.length}, ${batches} matrix batch(es)):\n`;
    out += table(
      ['recipe', 'system/partition', 'runner', 'because'],
      plan.pairs.map((p) => [p.recipe, `${p.system}/${p.partition}`, p.runner.join(','), p.because.join('; ')]),
    );
  }
  if (plan.skipped.length > 0) {
    out += `\nSkipped (affected, but they do not fit):\n`;
    out += table(
      ['recipe', 'system/partition', 'why not'],
      plan.skipped.map((p) => [p.recipe, `${p.system}/${p.partition}`, p.reasons.join('; ')]),
    );
  }
  if (plan.removed.length > 0) out += `\nRemoved recipes: ${plan.removed.join(', ')}\n`;
  if (plan.ignored.length > 0) out += `\nChanged files nothing renders from: ${plan.ignored.length > 8 ? `${plan.ignored.slice(0, 8).join(', ')}, …` : plan.ignored.join(', ')}\n`;
  return out;
}

/** What the change costs before it runs, and the budget's verdict. */
export function costSummary(c: BuildCost): string {
  if (c.affected === 0) return '';
  let out = `\nBuild cost: ${c.builds} build(s) in ${c.batches} batch(es)`;
  out += c.reused > 0 ? `; ${c.reused} of ${c.affected} affected pair(s) reused (built and smoke-tested at the same lock digest)\n` : '\n';
  if (c.verdict === 'over-budget') out += `Over the build budget of ${c.budget}: needs the label "${c.label}" to proceed.\n`;
  else if (c.verdict === 'approved') out += `Over the build budget of ${c.budget}, approved by the label "${c.label}".\n`;
  else if (c.verdict === 'within-budget') out += `Within the build budget of ${c.budget}.\n`;
  return out;
}

export function smokeSummary(r: SmokeReport): string {
  const rows = r.tests.map((t) => [t.name, t.kind, t.verdict, t.summary]);
  return `${r.recipe} on ${r.system}/${r.partition} (${r.launcher}): ${r.result}\n` + table(['test', 'kind', 'verdict', 'summary'], rows) + `report: ${r.reportPath}\n`;
}
