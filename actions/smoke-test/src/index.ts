// The only place that reads the action's inputs.
import { fileURLToPath } from 'node:url';
import * as core from '@actions/core';
import { ensureRoot } from '../../../pipeline/src/pr/privileged.ts';
import { run } from './main.ts';
import { DEFAULT_STATE_DIR } from '../../../pipeline/src/state/layout.ts';

ensureRoot(fileURLToPath(import.meta.url));
await run({
  image: core.getInput('image', { required: true }),
  system: core.getInput('system', { required: true }),
  launcher: core.getInput('launcher') || 'direct',
  root: core.getInput('root') || '.',
  stateDir: core.getInput('state-dir') || DEFAULT_STATE_DIR,
  slurmConf: core.getInput('slurm-conf'),
  workspace: process.env['GITHUB_WORKSPACE'] ?? process.cwd(),
});
