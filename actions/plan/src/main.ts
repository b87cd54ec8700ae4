/** Brickyard plan action: the affected (recipe, system partition) pairs as matrices, and their rendered diffs. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as core from '@actions/core';
import { Change } from '../../../pipeline/src/plan/change.ts';
import { batchesFile, batchIndices, costPlan, parseLabels, readBudgetConfig, readBuiltIndex } from '../../../pipeline/src/plan/built.ts';
import { hostedPairs, toMatrices } from '../../../pipeline/src/plan/plan.ts';
import { costLines } from '../../../pipeline/src/pr/comment.ts';
import { escapeHtml } from '../../../pipeline/src/pr/annotate.ts';
import { planReport } from '../../../pipeline/src/pr/report.ts';

export interface Inputs {
  root: string;
  base: string;
  head: string;
  maxJobs: number;
  report: string;
  /** Where to write the hosted pairs to build, as batches (read back by build-batch.yml). */
  batchesFile: string;
  /** built-index.json; '' for none (every affected pair is built). */
  builtIndex: string;
  /** Overrides buildBudget of .github/brickyard.yml; '' keeps it. */
  buildBudget: string;
  /** The pull request's labels, as a JSON array of names. */
  labels: string;
  workspace: string;
}

export async function run(inputs: Inputs): Promise<void> {
  try {
    if (!inputs.base) throw new Error('input base is required (the pull request base commit)');
    if (!Number.isInteger(inputs.maxJobs) || inputs.maxJobs < 1 || inputs.maxJobs > 256) throw new Error(`max-jobs must be 1 to 256, got ${inputs.maxJobs}`);
    const root = resolve(inputs.workspace, inputs.root);
    using change = new Change(root, { base: inputs.base, head: inputs.head || 'HEAD' });
    const plan = change.plan();
    const matrices = toMatrices(plan.pairs, inputs.maxJobs);
    const hosted = toMatrices(hostedPairs(plan.pairs), 256)[0] ?? { include: [] };
    // Pairs built on a site's own runners (release.yml): one matrix; the release refuses more than 256.
    const sitePairs = plan.pairs.filter((p) => p.runner.includes('self-hosted'));
    const diffs = change.diffs(plan);

    const config = readBudgetConfig(root);
    if (inputs.buildBudget !== '') {
      if (!/^\d+$/.test(inputs.buildBudget)) throw new Error(`build-budget must be a whole number of builds, got ${JSON.stringify(inputs.buildBudget)}`);
      config.buildBudget = Number(inputs.buildBudget);
    }
    const indexPath = inputs.builtIndex ? resolve(inputs.workspace, inputs.builtIndex) : undefined;
    const index = indexPath ? readBuiltIndex(indexPath) : undefined;
    if (indexPath && !index) core.info(`no built index at ${indexPath}: every affected pair is built`);
    const costed = costPlan(change.head, plan, { index, config, labels: parseLabels(inputs.labels), maxJobs: inputs.maxJobs });
    const { cost } = costed;

    const reportPath = resolve(inputs.workspace, inputs.report);
    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, JSON.stringify(planReport(plan, matrices.length, diffs, cost), null, 2) + '\n');
    const batchesPath = resolve(inputs.workspace, inputs.batchesFile);
    mkdirSync(dirname(batchesPath), { recursive: true });
    writeFileSync(batchesPath, JSON.stringify(batchesFile(costed.hosted)) + '\n');

    core.setOutput('matrix', JSON.stringify(matrices[0] ?? { include: [] }));
    core.setOutput('batch-count', String(matrices.length));
    core.setOutput('batches-file', batchesPath);
    core.setOutput('build-batches', JSON.stringify(batchIndices(costed.hosted.length)));
    core.setOutput('build-count', String(cost.builds));
    core.setOutput('reused-count', String(cost.reused));
    core.setOutput('budget-verdict', cost.verdict);
    core.setOutput('budget-label', cost.label);
    core.setOutput('affected-count', String(plan.pairs.length));
    core.setOutput('has-pairs', plan.pairs.length > 0 ? 'true' : 'false');
    core.setOutput('local-matrix', JSON.stringify(hosted));
    core.setOutput('site-matrix', JSON.stringify(toMatrices(sitePairs, 256)[0] ?? { include: [] }));
    core.setOutput('site-count', String(sitePairs.length));
    core.setOutput('report', reportPath);

    const summary = core.summary
      .addHeading('Brickyard plan', 2)
      .addRaw(`<p>${plan.changed.length} file(s) changed; ${plan.pairs.length} pair(s) affected in ${matrices.length} batch(es); ${plan.skipped.length} skipped.</p>`, true)
      .addRaw(
        costLines(cost)
          .map((l) => escapeHtml(l.replace(/\*\*|`/g, '')))
          .filter((l) => l !== '')
          .map((l) => `<p>${l}</p>`)
          .join(''),
        true,
      );
    if (plan.pairs.length > 0) {
      summary.addTable([
        [
          { data: 'recipe', header: true },
          { data: 'system/partition', header: true },
          { data: 'runner', header: true },
          { data: 'because', header: true },
        ],
        ...plan.pairs.map((p) => [escapeHtml(p.recipe), escapeHtml(`${p.system}/${p.partition}`), escapeHtml(p.runner.join(', ')), escapeHtml(p.because.join('; '))]),
      ]);
    }
    if (plan.skipped.length > 0) {
      summary.addHeading('Skipped', 3).addTable([
        [
          { data: 'recipe', header: true },
          { data: 'system/partition', header: true },
          { data: 'why not', header: true },
        ],
        ...plan.skipped.map((p) => [escapeHtml(p.recipe), escapeHtml(`${p.system}/${p.partition}`), escapeHtml(p.reasons.join('; '))]),
      ]);
    }
    await summary.write();
  } catch (e) {
    core.setFailed(`brickyard plan: ${(e as Error).message}`);
  }
}
