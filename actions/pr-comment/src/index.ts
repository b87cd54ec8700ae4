// The only place that reads the action's inputs.
import * as core from '@actions/core';
import { run } from './main.ts';

await run({
  token: core.getInput('github-token', { required: true }),
  reportDir: core.getInput('report-dir', { required: true }),
  prNumber: core.getInput('pr-number'),
});
