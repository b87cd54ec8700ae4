// The only place that reads the action's inputs.
import * as core from '@actions/core';
import { run } from './main.ts';
import { DEFAULT_STATE_DIR } from '../../../pipeline/src/state/layout.ts';

await run({
  system: core.getInput('system', { required: true }),
  root: core.getInput('root') || '.',
  stateDir: core.getInput('state-dir') || DEFAULT_STATE_DIR,
  token: core.getInput('github-token'),
  tag: core.getInput('tag'),
  prerelease: core.getInput('prerelease') === 'true',
  signer: core.getInput('signer') || 'keyless',
  serial: core.getInput('serial'),
  chunkSize: core.getInput('chunk-size'),
  registry: core.getInput('registry'),
  outDir: core.getInput('out-dir'),
  tools: core.getMultilineInput('tools'),
  workspace: process.env['GITHUB_WORKSPACE'] ?? process.cwd(),
});
