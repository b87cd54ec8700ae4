// The only place that reads the action's inputs.
import * as core from '@actions/core';
import { run } from './main.ts';

await run({
  recipe: core.getInput('recipe', { required: true }),
  system: core.getInput('system', { required: true }),
  root: core.getInput('root') || '.',
  stateDir: core.getInput('state-dir') || '.brickyard',
  signer: core.getInput('signer') || 'keyless',
  workspace: process.env['GITHUB_WORKSPACE'] ?? process.cwd(),
});
