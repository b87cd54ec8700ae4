/**
 * The bundle's OCI layout, and the store's merged one, read by independent tools (skopeo), where installed.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeBundle } from '../../pipeline/src/bundle/write.ts';
import { importBundle } from '../../pipeline/src/site/store.ts';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';
import { tempDir } from '../helpers/fixture.ts';
import { ISSUER, makeKeys, makeState, NOW, signState, SOURCE } from './fixture.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const skopeo = (() => {
  try {
    execFileSync('skopeo', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!skopeo)('OCI layouts read by skopeo', () => {
  it('skopeo inspects every image in the bundle directory and in the store after import', async () => {
    const keys = await makeKeys();
    const state = makeState('local', [
      { recipe: 'demo', version: '1.0' },
      { recipe: 'osu', version: '7.4' },
    ]);
    await signState(state, keys.dev);
    const dir = join(tempDir(), 'bundle');
    const r = await writeBundle({ stateDir: state, system: 'local', out: dir, signer: keys.signer, serial: 1, source: SOURCE, now: NOW });
    const refs = JSON.parse(readFileSync(join(dir, 'oci', 'index.json'), 'utf8')).manifests.map(
      (m: { annotations: Record<string, string> }) => m.annotations['org.opencontainers.image.ref.name'],
    );
    expect(refs).toHaveLength(2);
    for (const ref of refs) {
      const out = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${join(dir, 'oci')}:${ref}`], { encoding: 'utf8' }));
      expect(out.layers).toHaveLength(2);
      execFileSync('skopeo', ['inspect', '--config', `oci:${join(dir, 'oci')}:${ref}`]);
    }
    const store = tempDir('brickyard-store-');
    const policy = join(tempDir(), 'p.yaml');
    const sha = createHash('sha256').update(readFileSync(keys.trustedRoot)).digest('hex');
    writeFileSync(
      policy,
      `version: 2\nsystem: local\ntrustedRoot: {sha256: ${sha}, path: ${keys.trustedRoot}}\nsigners:\n${['manifest', 'provenance', 'sbom', 'testResult'].map((r) => `  ${r}: [{identity: {repository: example/brickyard, workflow: .github/workflows/main.yml, ref: refs/heads/main}, issuer: ${ISSUER}}]\n`).join('')}require: {provenance: true, sbom: true, smoke: true}\nlicenses: [Apache-2.0]\nmaxAgeDays: 30\n`,
    );
    await importBundle({ bundlePath: dir, policy: loadPolicy(policy), store, verifier: keys.verifier, now: NOW });
    for (const ref of refs) execFileSync('skopeo', ['inspect', '--raw', `oci:${join(store, 'oci')}:${ref}`]);
    expect(r.images).toBe(2);
  });
});
