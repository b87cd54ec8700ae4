// The only place that reads the action's inputs.
import * as core from '@actions/core';
import { run } from './main.ts';

await run({
  root: core.getInput('root') || '.',
  base: core.getInput('base', { required: true }),
  head: core.getInput('head') || 'HEAD',
  maxJobs: Number(core.getInput('max-jobs') || '256'),
  report: core.getInput('report') || 'brickyard-report/plan.json',
  workspace: process.env['GITHUB_WORKSPACE'] ?? process.cwd(),
});
