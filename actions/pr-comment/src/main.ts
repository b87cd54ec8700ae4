/**
 * Brickyard pull-request comment action: one sticky comment, created on the first run and
 * updated on every later one. Runs in the privileged comment workflow: the reports it reads
 * come from pull-request code and are parsed defensively (see pipeline/src/pr/report.ts).
 */
import * as core from '@actions/core';
import * as github from '@actions/github';
import { COMMENT_MARKER, renderComment } from '../../../pipeline/src/pr/comment.ts';
import { readReport, type PlanReport, type ValidateReport } from '../../../pipeline/src/pr/report.ts';

export interface Inputs {
  token: string;
  reportDir: string;
  prNumber: string;
}

export async function run(inputs: Inputs): Promise<void> {
  try {
    const number = inputs.prNumber || String(github.context.payload.pull_request?.number ?? '');
    if (!/^[0-9]{1,10}$/.test(number)) throw new Error(`pull request number ${JSON.stringify(number)} is not a number`);
    const validate = readReport<ValidateReport>(inputs.reportDir, 'validate.json', 'brickyard-validate');
    const plan = readReport<PlanReport>(inputs.reportDir, 'plan.json', 'brickyard-plan');
    const { owner, repo } = github.context.repo;
    const workflowRun: unknown = github.context.payload['workflow_run'];
    const runId =
      (typeof workflowRun === 'object' && workflowRun !== null && 'id' in workflowRun && typeof workflowRun.id === 'number' ? workflowRun.id : undefined) ?? github.context.runId;
    const runUrl = runId ? `${github.context.serverUrl}/${owner}/${repo}/actions/runs/${runId}` : undefined;
    const body = renderComment(validate, plan, runUrl);

    const octokit = github.getOctokit(inputs.token);
    const issue_number = Number(number);
    let existing: { id: number } | undefined;
    // Stop paging at the first comment that carries the marker.
    await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number, per_page: 100 }, (response, done) => {
      const hit = response.data.find((c) => c.body?.includes(COMMENT_MARKER));
      if (hit) {
        existing = { id: hit.id };
        done();
      }
      return [];
    });
    const result = existing
      ? await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body })
      : await octokit.rest.issues.createComment({ owner, repo, issue_number, body });
    core.setOutput('comment-id', String(result.data.id));
    core.setOutput('comment-url', result.data.html_url);
    core.info(`${existing ? 'updated' : 'created'} comment ${result.data.id} on #${issue_number}`);
  } catch (e) {
    core.setFailed(`brickyard pr-comment: ${(e as Error).message}`);
  }
}
