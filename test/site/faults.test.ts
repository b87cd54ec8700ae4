/**
 * Faults made for real (pipeline/src/site/faults.ts, trusted-root.ts, layout.ts): a trusted root
 * that is missing, a folder or not JSON, a YAML alias bomb, a mistyped --store. Each is a typed
 * error, never "internal error"; the store hashes the same after, nothing is written outside it,
 * nothing is left in $TMPDIR. A full disk and a store that cannot be written need root: they are
 * in faults-disk.e2e.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { siteVerifier } from '../../pipeline/src/transfer/site-trust.ts';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';
import { checkBundle, importBundle } from '../../pipeline/src/site/store.ts';
import { tempDir } from '../helpers/fixture.ts';
import { sha256, snapshot } from '../bundle/fixture.ts';
import { expectRefusal, importInto, keys, later, makeBundle, PAIRS, policyFile, tmpLeftovers } from './site-fixture.ts';
import { exitCodeFor } from '../../pipeline/src/cli/exit-codes.ts';

describe('the trusted root', () => {
  it('missing, a folder, not JSON, or not the pinned one: typed errors, the digest checked before parsing', async () => {
    const store = tempDir('brickyard-store-');
    await importInto(store, await makeBundle());
    const b2 = await makeBundle(PAIRS, { serial: 2 });
    const dir = tempDir('brickyard-root-');
    const missing = join(dir, 'nope.json');
    const folder = join(dir, 'folder.json');
    mkdirSync(folder);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{ this is not json');
    const imp =
      (root: string, policy = policyFile()) =>
      () =>
        importBundle({ bundlePath: b2, policy: loadPolicy(policy), store, verifier: keys.verifier, now: later, trustedRootPath: root });
    await expectRefusal('trusted root missing', 'TRUSTED_ROOT_INVALID', store, imp(missing));
    await expectRefusal('trusted root is a folder', 'TRUSTED_ROOT_INVALID', store, imp(folder));
    // not JSON but pinned by the policy: the pin holds, then parsing fails (the CLI's verifier parses it)
    await expectRefusal('trusted root not JSON (pinned)', 'TRUSTED_ROOT_INVALID', store, () => siteVerifier(notJson, sha256(readFileSync(notJson))));
    // not JSON and not pinned: refused on the digest, before any parsing
    const e = await expectRefusal('trusted root not JSON (not the pinned one)', 'POLICY_REFUSED', store, () => siteVerifier(notJson, sha256(readFileSync(keys.trustedRoot))));
    expect(e.message).toMatch(/is not the one the site policy pins/);
    await expectRefusal('trusted root not the pinned one (import)', 'POLICY_REFUSED', store, imp(notJson));
  });
});

describe('the site policy', () => {
  it('a YAML alias bomb is refused as an invalid policy, quickly', async () => {
    const store = tempDir('brickyard-store-');
    await importInto(store, await makeBundle());
    const bomb = policyFile({
      x0: '&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]',
      ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`x${i + 1}`, `&a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`])),
    });
    const t = performance.now();
    const e = await expectRefusal('policy with a YAML alias bomb', 'POLICY_INVALID', store, async () => importInto(store, await makeBundle(PAIRS, { serial: 2 }), bomb));
    expect(performance.now() - t).toBeLessThan(5000);
    expect(e.message).toMatch(/aliases expand too far/);
  });

  it('an unknown key is reported at its own line', () => {
    const p = policyFile({ require: '\n  provenance: true\n  sbom: true\n  smoke: true\n  smoek: true' });
    const lines = readFileSync(p, 'utf8').split('\n');
    const keyLine = lines.findIndex((l) => l.includes('smoek')) + 1;
    expect(() => loadPolicy(p)).toThrow(new RegExp(`site-policy\\.yaml:${keyLine}:\\d+: error: unknown key "smoek"`));
  });

  it('an oversized policy is refused before it is parsed', async () => {
    const p = policyFile({ padding: `"${'x'.repeat(2 << 20)}"` });
    const store = tempDir('brickyard-store-');
    await expectRefusal('policy over 1 MiB', 'POLICY_INVALID', store, async () => importInto(store, await makeBundle(), p));
  });
});

describe('--store pointing at the wrong folder', () => {
  it('an ordinary folder (with generations/ and .staging-*): NOT_A_STORE, nothing deleted', async () => {
    const folder = tempDir('brickyard-home-');
    mkdirSync(join(folder, 'generations', 'thesis'), { recursive: true });
    writeFileSync(join(folder, 'generations', 'thesis', 'chapter1.tex'), 'precious');
    mkdirSync(join(folder, '.staging-0123456789abcdef'));
    writeFileSync(join(folder, '.staging-0123456789abcdef', 'notes'), 'also precious');
    writeFileSync(join(folder, 'audit.log'), 'mine\n');
    const e = await expectRefusal('mistyped --store: an ordinary folder', 'NOT_A_STORE', folder, async () => importInto(folder, await makeBundle()));
    expect(exitCodeFor(e.code)).toBe(2);
    // a folder that merely has a bad marker is refused too
    writeFileSync(join(folder, '.brickyard-store'), 'something else');
    await expectRefusal('--store with a foreign marker file', 'NOT_A_STORE', folder, async () => importInto(folder, await makeBundle()));
    await expectRefusal('check-bundle --store: an ordinary folder', 'NOT_A_STORE', folder, async () =>
      checkBundle({ bundlePath: await makeBundle(), policy: loadPolicy(policyFile()), verifier: keys.verifier, now: later, store: folder }),
    );
  });

  it('a refused import into a folder that did not exist leaves nothing behind; an empty folder stays empty', async () => {
    const parent = tempDir('brickyard-parent-');
    const other = await import('../bundle/fixture.ts').then((f) => f.makeKeys());
    const forged = await makeBundle(PAIRS, { signer: other.signer });
    await expectRefusal('refused import into a new store folder', 'SIGNATURE_INVALID', parent, () => importInto(join(parent, 'a', 'b', 'store'), forged));
    expect(readdirSync(parent)).toEqual([]);
    mkdirSync(join(parent, 'empty'));
    await expectRefusal('refused import into an empty folder', 'SIGNATURE_INVALID', parent, () => importInto(join(parent, 'empty'), forged));
    expect(readdirSync(join(parent, 'empty'))).toEqual([]);
  });

  it('recovery removes leftovers only inside a marked store', async () => {
    const store = tempDir('brickyard-store-');
    await importInto(store, await makeBundle());
    mkdirSync(join(store, '.staging-00112233aabbccdd'));
    mkdirSync(join(store, 'generations', '99'));
    await importInto(store, await makeBundle(PAIRS, { serial: 2 }));
    expect(readdirSync(store).sort()).toEqual(['.brickyard-store', 'audit.log', 'bundles', 'current', 'generations', 'oci', 'state.json']);
    expect(readdirSync(join(store, 'generations'))).toEqual(['2']);
  });
});

describe('smaller', () => {
  it('check-bundle removes work folders of killed runs from $TMPDIR; nothing of its own is left', async () => {
    const tmp = tempDir('brickyard-tmpdir-');
    const bundle = await makeBundle();
    const policy = policyFile();
    const saved = process.env['TMPDIR'];
    process.env['TMPDIR'] = tmp;
    try {
      const dead = Number(execFileSync('sh', ['-c', 'echo $$']).toString().trim());
      const stale = join(tmp, `brickyard-check-${dead}-0123456789ab`);
      mkdirSync(join(stale, 'bundle', 'oci'), { recursive: true });
      writeFileSync(join(stale, 'bundle', 'oci', 'big'), Buffer.alloc(100_000));
      const live = join(tmp, `brickyard-check-${process.pid}-ba9876543210`); // a running check's folder stays
      mkdirSync(live);
      const r = await checkBundle({ bundlePath: bundle, policy: loadPolicy(policy), verifier: keys.verifier, now: later });
      expect(r.images).toBe(2);
      expect(readdirSync(tmp)).toEqual([`brickyard-check-${process.pid}-ba9876543210`]);
      expect(tmpLeftovers(tmp)).toEqual([`brickyard-check-${process.pid}-ba9876543210`]);
    } finally {
      if (saved === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = saved;
    }
  });

  it('an oversized signature is refused before it is parsed (a 48 MB signature: milliseconds, not 50 s)', async () => {
    const store = tempDir('brickyard-store-');
    await importInto(store, await makeBundle());
    const dir = join(tempDir(), 'dirbundle');
    const { writeBundle } = await import('../../pipeline/src/bundle/write.ts');
    const { makeState, NOW, SOURCE } = await import('../bundle/fixture.ts');
    await writeBundle({ stateDir: makeState('local', PAIRS), system: 'local', out: dir, signer: keys.signer, serial: 2, source: SOURCE, now: NOW });
    const sig = JSON.parse(readFileSync(join(dir, 'manifest.sigstore.json'), 'utf8'));
    sig.verificationMaterial.padding = Array(60_000).fill('x'.repeat(800));
    writeFileSync(join(dir, 'manifest.sigstore.json'), JSON.stringify(sig));
    expect(statSync(join(dir, 'manifest.sigstore.json')).size).toBeGreaterThan(48_000_000);
    const t = performance.now();
    const e = await expectRefusal('48 MB signature file', 'BUNDLE_UNSAFE', store, () => importInto(store, dir));
    expect(e.message).toMatch(/manifest\.sigstore\.json is over 1048576 bytes/);
    expect(performance.now() - t).toBeLessThan(2000);
  });

  it('stored files keep their mode (job.sh executable); bundle folders are 0755 in every generation', async () => {
    const store = tempDir('brickyard-store-');
    const r1 = await importInto(store, await makeBundle());
    const job = join(store, 'bundles', r1.bundleId, 'builds', 'demo@1.0', 'local-cpu', 'job.sh');
    expect(statSync(job).mode & 0o777).toBe(0o755);
    expect(statSync(join(store, 'bundles', r1.bundleId, 'builds', 'demo@1.0', 'local-cpu', 'build.json')).mode & 0o777).toBe(0o644);
    expect(statSync(join(store, 'bundles', r1.bundleId)).mode & 0o777).toBe(0o755);
    await importInto(store, await makeBundle(PAIRS, { serial: 2, bundleId: 'second' }));
    expect(statSync(join(store, 'bundles', r1.bundleId)).mode & 0o777).toBe(0o755);
    expect(statSync(join(store, 'bundles', 'second')).mode & 0o777).toBe(0o755);
    expect(statSync(job).mode & 0o777).toBe(0o755);
    // a copy of the store keeps them too (what a backup would see)
    const copy = join(tempDir(), 'copy');
    cpSync(store, copy, { recursive: true, verbatimSymlinks: true });
    expect(snapshot(copy)).toEqual(snapshot(store));
  });
});
