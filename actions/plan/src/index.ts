// The only place that reads the action's inputs.
import * as core from '@actions/core';
import { run } from './main.ts';

await run({
  root: core.getInput('root') || '.',
  base: core.getInput('base', { required: true }),
  head: core.getInput('head') || 'HEAD',
  maxJobs: Number(core.getInput('max-jobs') || '256'),
  report: core.getInput('report') || 'brickyard-report/plan.json',
  batchesFile: core.getInput('batches-file') || 'brickyard-batches/batches.json',
  builtIndex: core.getInput('built-index'),
  buildBudget: core.getInput('build-budget'),
  labels: core.getInput('labels'),
  workspace: process.env['GITHUB_WORKSPACE'] ?? process.cwd(),
});
