/**
 * The one sticky pull-request comment: validation, affected pairs, rendered diffs per system,
 * and room for smoke results and size changes. Everything from the reports comes from
 * pull-request code and goes through util/markdown.ts: Markdown and HTML escaped, and GitHub's
 * mention, reference and autolink filters broken, so no string from a pull request becomes a
 * live mention, link, image or HTML in the comment.
 */
import { codeText, htmlText, markdownText } from '../util/markdown.ts';
import type { BuildCost } from '../plan/built.ts';
import type { PlanReport, ValidateReport } from './report.ts';

export const COMMENT_MARKER = '<!-- brickyard:pr-comment -->';
/** GitHub refuses comments over 65,536 characters; keep room for the frame. */
const MAX_BODY = 60_000;
const MAX_ROWS = 50;

export function renderComment(validate: ValidateReport | undefined, plan: PlanReport | undefined, runUrl?: string): string {
  const out: string[] = [COMMENT_MARKER, '## Brickyard', ''];

  if (!validate) out.push('**Validation:** no report (the validate step did not run; see the workflow run).');
  else if (validate.ok) out.push(`**Validation:** passed${validate.warnings ? ` with ${validate.warnings} warning(s)` : ''}.`);
  else out.push(`**Validation:** failed with ${validate.errors} error(s)${validate.warnings ? ` and ${validate.warnings} warning(s)` : ''}.`);
  if (validate && validate.diagnostics.length > 0) {
    out.push('', `<details${validate.ok ? '' : ' open'}><summary>Findings (${validate.diagnostics.length})</summary>`, '');
    out.push('| where | severity | finding | rule |', '|---|---|---|---|');
    for (const d of validate.diagnostics.slice(0, MAX_ROWS)) out.push(`| \`${code(`${d.file}:${d.line}:${d.col}`)}\` | ${d.severity} | ${cell(d.message)} | \`${code(d.rule)}\` |`);
    if (validate.diagnostics.length > MAX_ROWS) out.push(`| … | | ${validate.diagnostics.length - MAX_ROWS} more in the workflow run | |`);
    out.push('', '</details>');
    const advice = whatToDo(validate);
    if (advice.length > 0) out.push('', '**What to do:**', ...advice.map((a) => `- ${a}`));
  }

  out.push('');
  if (!plan) {
    out.push('**Affected pairs:** no plan (see the workflow run).');
  } else {
    const p = plan.plan;
    if (p.pairs.length === 0 && p.skipped.length === 0) {
      out.push(`**Affected pairs:** none. ${p.changed.length} file(s) changed${p.ignored.length ? `, ${p.ignored.length} of them nothing renders from` : ''}.`);
    } else {
      out.push(`**Affected pairs:** ${p.pairs.length} to build${plan.batches > 1 ? ` in ${plan.batches} batches` : ''}, ${p.skipped.length} skipped.`, '');
      if (p.pairs.length > 0) {
        out.push('| recipe | system/partition | runner | because |', '|---|---|---|---|');
        for (const x of p.pairs.slice(0, MAX_ROWS))
          out.push(`| \`${code(x.recipe)}\` | \`${code(`${x.system}/${x.partition}`)}\` | ${cell(x.runner.join(', '))} | ${cell(x.because.join('; '))} |`);
        if (p.pairs.length > MAX_ROWS) out.push(`| … ${p.pairs.length - MAX_ROWS} more | | | |`);
      }
      if (p.skipped.length > 0) {
        out.push('', `<details><summary>Skipped: affected but they do not fit (${p.skipped.length})</summary>`, '', '| recipe | system/partition | why not |', '|---|---|---|');
        for (const x of p.skipped.slice(0, MAX_ROWS)) out.push(`| \`${code(x.recipe)}\` | \`${code(`${x.system}/${x.partition}`)}\` | ${cell(x.reasons.join('; '))} |`);
        out.push('', '</details>');
      }
      if (p.pairs.length === 0 && p.skipped.length > 0) {
        out.push('', '**What to do:** every affected pair is skipped, so nothing would be built: check `requires` against `npx brickyard check <recipe>`.');
      }
    }
    if (plan.cost) out.push('', ...costLines(plan.cost));
    if (p.removed.length > 0) out.push('', `Removed: ${p.removed.map((r) => `\`${code(r)}\``).join(', ')}`);

    const diffs = plan.diffs.filter((d) => d.files.length > 0);
    if (diffs.length > 0) {
      out.push('', '### Rendered changes', '');
      for (const d of diffs) {
        const section = [`<details><summary>${htmlText(d.recipe)} on ${htmlText(`${d.system}/${d.partition}`)} (${htmlText(d.status)})</summary>`, ''];
        for (const f of d.files) section.push(`\`${code(f.name)}\``, '', ...fenced('diff', f.patch), '');
        section.push('</details>');
        if (out.join('\n').length + section.join('\n').length > MAX_BODY - 2000) {
          out.push(`Further rendered diffs are left out to keep this comment within GitHub's limit${runUrl ? `; see [the workflow run](${runUrl})` : ''}.`);
          break;
        }
        out.push(...section);
      }
    }
  }

  out.push('', '### Smoke tests and image sizes', '', '_Reported here once the build stage runs for this pull request._');
  if (runUrl) out.push('', `[Workflow run](${runUrl})`);
  return out.join('\n') + '\n';
}

function whatToDo(v: ValidateReport): string[] {
  const rules = new Set(v.diagnostics.filter((d) => d.severity === 'error').map((d) => d.rule));
  const advice: string[] = [];
  if (rules.has('revision-not-bumped'))
    advice.push('A released version renders differently: run `npx brickyard bump --base origin/main` and commit, or put the change in a new version.');
  if (rules.has('version-deleted')) advice.push('Deprecate a released version in one pull request (`deprecated: {reason: …}`) before deleting it in a later one.');
  if (rules.has('fits-nowhere'))
    advice.push('A recipe fits no system partition: compare its `requires` with `npx brickyard check <recipe>`, which says why each partition is refused.');
  if (rules.has('yaml-syntax') || rules.has('schema')) advice.push('Fix the YAML at the lines shown; editors that read the `yaml-language-server` line validate as you type.');
  if (rules.size > 0) advice.push('Run `npx brickyard validate --base origin/main` locally to see the same findings.');
  return advice;
}

/** Text for a table cell (or any Markdown line): see util/markdown.ts. */
function cell(s: string): string {
  return markdownText(s);
}

/** Text inside inline code: no backticks, pipes or newlines to break out of it. */
function code(s: string): string {
  return codeText(s);
}

/** A code fence longer than any run of backticks inside, so the content cannot close it. */
function fenced(lang: string, body: string): string[] {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${lang}`, body.replace(/\n$/, ''), fence];
}

/** What the change costs before it runs, and whether the budget lets it run. */
export function costLines(c: BuildCost): string[] {
  const reused = c.reused > 0 ? ` (${c.reused} of the ${c.affected} affected pair(s) already built and smoke-tested at the same lock digest: reused)` : '';
  const lines = [`**Build cost:** ${c.builds} build(s) in ${c.batches} batch(es)${reused}.`];
  const label = `\`${code(c.label)}\``;
  if (c.verdict === 'over-budget') lines.push('', `**Over the build budget** of ${c.budget}: the builds do not run until a maintainer adds the label ${label}.`);
  else if (c.verdict === 'approved') lines.push('', `Over the build budget of ${c.budget}, approved by the label ${label}.`);
  else if (c.verdict === 'within-budget') lines.push('', `Within the build budget of ${c.budget}.`);
  return lines;
}
