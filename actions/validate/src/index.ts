// The only place that reads the action's inputs.
import * as core from '@actions/core';
import { run } from './main.ts';

await run({
  root: core.getInput('root') || '.',
  base: core.getInput('base'),
  report: core.getInput('report') || 'brickyard-report/validate.json',
  workspace: process.env['GITHUB_WORKSPACE'] ?? process.cwd(),
});
