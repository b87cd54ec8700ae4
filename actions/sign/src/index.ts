// The only place that reads the action's inputs.
import * as core from '@actions/core';
import { tmpdir } from 'node:os';
import { run } from './main.ts';
import { DEFAULT_STATE_DIR } from '../../../pipeline/src/state/layout.ts';

await run({
  recipe: core.getInput('recipe'),
  pairs: core.getInput('pairs'),
  batchesFile: core.getInput('batches-file'),
  batch: core.getInput('batch'),
  system: core.getInput('system'),
  builds: core.getInput('builds'),
  testResults: core.getInput('test-results'),
  roles: core.getInput('roles') || 'provenance,sbom,test-result',
  root: core.getInput('root') || '.',
  stateDir: core.getInput('state-dir') || DEFAULT_STATE_DIR,
  signer: core.getInput('signer') || 'keyless',
  workspace: process.env['GITHUB_WORKSPACE'] ?? process.cwd(),
  runnerTemp: process.env['RUNNER_TEMP'] ?? tmpdir(),
});
