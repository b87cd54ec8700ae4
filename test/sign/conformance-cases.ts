/**
 * The Sigstore conformance vectors the verifier tests run (test/fixtures/sigstore, see its README)
 * and the `brickyard verify` arguments for one case: verify.test.ts in process, and
 * verify-offline.e2e.test.ts as a process with no network.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../helpers/fixture.ts';

export const FIXTURES = join(repoRoot, 'test', 'fixtures', 'sigstore');
export const C = join(FIXTURES, 'conformance');
export const PUBLIC_GOOD = join(FIXTURES, 'public-good-trusted_root.json');
export const A_TXT = join(C, 'a.txt');
export const IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
export const ISSUER = 'https://token.actions.githubusercontent.com';

/** `brickyard verify` arguments for conformance case `name`, expecting `identity`. */
export const caseArgs = (name: string, identity = IDENTITY): string[] => [
  '--sigstore-bundle',
  join(C, name, 'bundle.sigstore.json'),
  '--artifact',
  A_TXT,
  '--trusted-root',
  join(C, name, 'trusted_root.json'),
  '--identity',
  identity,
  '--issuer',
  ISSUER,
];

/** A real `brickyard verify` process, with `prefix` (e.g. unshare -n) in front. */
export const spawnedVerify = (args: string[], prefix: string[] = []) => {
  const [cmd, ...rest] = [...prefix, join(repoRoot, 'node_modules/.bin/node'), 'bin/brickyard.js', 'verify', ...args];
  return spawnSync(cmd!, rest, { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
};
