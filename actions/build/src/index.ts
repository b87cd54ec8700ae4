// The only place that reads the action's inputs.
import { fileURLToPath } from 'node:url';
import * as core from '@actions/core';
import { ensureRoot } from '../../../pipeline/src/pr/privileged.ts';
import { run } from './main.ts';
import { DEFAULT_STATE_DIR } from '../../../pipeline/src/state/layout.ts';

ensureRoot(fileURLToPath(import.meta.url));
await run({
  recipe: core.getInput('recipe', { required: true }),
  system: core.getInput('system', { required: true }),
  root: core.getInput('root') || '.',
  stateDir: core.getInput('state-dir') || DEFAULT_STATE_DIR,
  checkReproducible: core.getBooleanInput('check-reproducible'),
  workspace: process.env['GITHUB_WORKSPACE'] ?? process.cwd(),
});
