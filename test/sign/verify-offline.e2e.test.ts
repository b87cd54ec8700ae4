/**
 * `brickyard verify` with no network at all (unshare -n: a new network namespace, so root or user
 * namespaces: the e2e project). The verifier never fetches; a public-good case too, whose default
 * trusted root is the pinned file, never TUF. The other checks are in verify.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { A_TXT, C, caseArgs, IDENTITY, ISSUER, PUBLIC_GOOD, spawnedVerify } from './conformance-cases.ts';

const spawned = spawnedVerify;

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
