/**
 * SIF files in bundles: listed in the signed manifest (role sif), placed by the import at
 * bundles/<bundleId>/builds/<recipe>@<version>/<system>-<partition>/<name>.sif, and refused when
 * they are not the SIF the pair's build record names.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BundleError } from '../../pipeline/src/bundle/errors.ts';
import { writeBundle } from '../../pipeline/src/bundle/write.ts';
import { importBundle } from '../../pipeline/src/site/store.ts';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';
import { writeDevPolicy } from '../../pipeline/src/site/dev-policy.ts';
import { tempDir } from '../helpers/fixture.ts';
import { IDENTITY, ISSUER, makeKeys, makeState, NOW, sha256, signState, snapshot, SOURCE, type PairSpec } from '../bundle/fixture.ts';

const keys = await makeKeys();
const SIF = 'SIF_MAGIC stand-in bytes of a SIF file';

async function bundleOf(pairs: PairSpec[]): Promise<{ path: string; manifest: { entries: { path: string; role: string; sha256: string }[]; bundleId: string } }> {
  const state = makeState('local', pairs);
  await signState(state, keys.dev); // what `brickyard attest` does: the policy wants signed provenance
  const out = join(tempDir('brickyard-bundle-'), 'b');
  await writeBundle({ stateDir: state, system: 'local', out, signer: keys.signer, serial: 1, source: SOURCE, now: NOW });
  return { path: out, manifest: JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) };
}

function policy(): string {
  const p = join(tempDir('brickyard-policy-'), 'site-policy.yaml');
  writeDevPolicy(p, { system: 'local', identity: IDENTITY, issuer: ISSUER, trustedRootPath: keys.trustedRoot, licenses: ['Apache-2.0'] });
  return p;
}

const later = new Date(NOW.getTime() + 3600_000);

describe('SIF files in bundles', () => {
  it("lists the SIF in the signed manifest and the import places it beside the pair's job script", async () => {
    const b = await bundleOf([{ recipe: 'demo', version: '1.0', sif: { content: SIF } }]);
    const entry = b.manifest.entries.find((e) => e.role === 'sif');
    expect(entry).toMatchObject({ path: 'builds/demo@1.0/local-cpu/demo_1.0-1_local-cpu.sif', sha256: sha256(SIF) });
    const store = tempDir('brickyard-store-');
    await importBundle({ bundlePath: b.path, policy: loadPolicy(policy()), store, verifier: keys.verifier, now: later });
    const placed = join(store, 'bundles', b.manifest.bundleId, 'builds', 'demo@1.0', 'local-cpu', 'demo_1.0-1_local-cpu.sif');
    expect(readFileSync(placed, 'utf8')).toBe(SIF);
    expect(existsSync(join(store, 'bundles', b.manifest.bundleId, 'builds', 'demo@1.0', 'local-cpu', 'job.sh'))).toBe(true);
  });

  it('refuses a SIF that is not the one the build record names, and leaves the store as it was', async () => {
    const b = await bundleOf([{ recipe: 'demo', version: '1.0', sif: { content: SIF, recordSha256: sha256('another SIF') } }]);
    const store = tempDir('brickyard-store-');
    const before = snapshot(store);
    const err = await importBundle({ bundlePath: b.path, policy: loadPolicy(policy()), store, verifier: keys.verifier, now: later }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BundleError);
    expect((err as BundleError).reason).toBe('sif');
    expect((err as Error).message).toMatch(/demo_1\.0-1_local-cpu\.sif is not the SIF the build record of demo@1\.0\/local-cpu names/);
    expect(snapshot(store)).toEqual(before);
  });
});
