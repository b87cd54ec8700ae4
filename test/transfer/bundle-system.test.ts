/** Bundle a system (pipeline/src/transfer/bundle-system.ts): the use case behind `brickyard bundle`, the main job and the publish action. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../pipeline/src/bundle/manifest.ts';
import { readBundle } from '../../pipeline/src/bundle/read.ts';
import { bundleSystem } from '../../pipeline/src/transfer/bundle-system.ts';
import { siteVerifier } from '../../pipeline/src/transfer/site-trust.ts';
import { sourceOf } from '../../pipeline/src/transfer/source.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { makeState, signState, SOURCE } from '../bundle/fixture.ts';
import { loadOrCreateDevSigner, devSignerDir } from '../../pipeline/src/sign/dev-signer.ts';

const ws = Workspace.open(repoRoot);

describe('bundleSystem', () => {
  it('signs with the state folder development signer, takes the next serial, and reports the exact manifest and signature it packed', async () => {
    const state = makeState('local', [{ recipe: 'demo', version: '1.0' }]);
    await signState(state, await loadOrCreateDevSigner(devSignerDir(state)));
    let signed: { manifest: Buffer; signature: Buffer } | undefined;
    const out = join(tempDir(), 'b');
    const r = await bundleSystem(ws, { stateDir: state, system: 'local', out, source: SOURCE, env: {}, onSigned: (s) => (signed = s) });
    expect(r.serial).toBe(1);
    expect(r.backend.kind).toBe('dev');
    expect(r.source).toEqual(SOURCE);
    if (!signed) throw new Error('onSigned was not called');
    expect(signed.manifest.equals(readFileSync(join(out, 'manifest.json')))).toBe(true);
    expect(JSON.parse(signed.signature.toString('utf8'))).toEqual(JSON.parse(readFileSync(join(out, 'manifest.sigstore.json'), 'utf8')));
    expect(parseManifest(signed.manifest).serial).toBe(1);
    // It verifies against the signer's trusted root, which the bundle carries.
    const verified = await readBundle({ bundlePath: out, verifier: await siteVerifier(join(devSignerDir(state), 'trusted_root.json')) });
    expect(verified.manifest.serial).toBe(1);
    // The next one takes serial 2; a given serial is kept as given.
    expect((await bundleSystem(ws, { stateDir: state, system: 'local', out: join(tempDir(), 'b2'), source: SOURCE, env: {} })).serial).toBe(2);
    expect((await bundleSystem(ws, { stateDir: state, system: 'local', out: join(tempDir(), 'b3'), source: SOURCE, serial: 9 })).serial).toBe(9);
  });

  it('refuses a system the catalogue does not know before it signs anything', async () => {
    const state = tempDir('brickyard-state-');
    await expect(bundleSystem(ws, { stateDir: state, system: 'no-such-system', out: join(tempDir(), 'b') })).rejects.toMatchObject({ code: 'SYSTEM_NOT_FOUND' });
  });

  it('the source of a checkout: GITHUB_REPOSITORY first, then the origin remote, then local/brickyard', () => {
    expect(sourceOf(repoRoot, { GITHUB_REPOSITORY: 'example/brickyard' }).repository).toBe('example/brickyard');
    const bare = tempDir('brickyard-nogit-');
    expect(sourceOf(bare, {})).toEqual({ repository: 'local/brickyard', commit: '0'.repeat(40) });
  });
});
