/**
 * `brickyard verify` with no network at all (unshare -n: a new network namespace, so root or user
 * namespaces: the e2e project). The verifier never fetches; a public-good case too, whose default
 * trusted root is the pinned file, never TUF. The other checks are in verify.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(repo, 'test', 'fixtures', 'sigstore');
const C = join(FIXTURES, 'conformance');
const PUBLIC_GOOD = join(FIXTURES, 'public-good-trusted_root.json');
const A_TXT = join(C, 'a.txt');
const IDENTITY = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const node = join(repo, 'node_modules/.bin/node');

const caseArgs = (name: string): string[] => [
  '--sigstore-bundle',
  join(C, name, 'bundle.sigstore.json'),
  '--artifact',
  A_TXT,
  '--trusted-root',
  join(C, name, 'trusted_root.json'),
  '--identity',
  IDENTITY,
  '--issuer',
  ISSUER,
];
/** A real `brickyard verify` process, with `prefix` (unshare -n) in front. */
const spawned = (args: string[], prefix: string[] = []) => {
  const [cmd, ...rest] = [...prefix, node, 'bin/brickyard.js', 'verify', ...args];
  return spawnSync(cmd!, rest, { cwd: repo, encoding: 'utf8', timeout: 60_000 });
};

describe('brickyard verify offline', () => {
  it('works with no network at all (unshare -n)', (ctx) => {
    const probe = spawnSync('unshare', ['-n', 'true'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      ctx.skip(`unshare -n is unavailable here (${probe.error?.message ?? probe.stderr.trim()}); the offline run was not checked`);
    }
    const pass = spawned(caseArgs('rekor2-happy-path'), ['unshare', '-n']);
    expect(pass.stderr).toBe('');
    expect(pass.status).toBe(0);
    const fail = spawned(caseArgs('rekor2-checkpoint-no-matching-signature_fail'), ['unshare', '-n']);
    expect(fail.status).toBe(1);
    // A public-good case too (its default trusted root is the pinned file, never TUF).
    const pg = spawned(
      ['--sigstore-bundle', join(C, 'happy-path-v0.3/bundle.sigstore.json'), '--artifact', A_TXT, '--trusted-root', PUBLIC_GOOD, '--identity', IDENTITY, '--issuer', ISSUER],
      ['unshare', '-n'],
    );
    expect(pg.stderr).toBe('');
    expect(pg.status).toBe(0);
  });
});
