/**
 * Crash safety of an import (pipeline/src/site/store.ts): a real import process killed with
 * SIGKILL at every stage leaves the store as it was or fully imported, and a re-run succeeds;
 * import processes side by side take the store's lock in turn. Processes killed and stores
 * made: the e2e project, not the unit one.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../pipeline/src/site/store.ts';
import type { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { importInChild } from '../helpers/process.ts';
import { ISSUER, snapshot, SOURCE } from '../bundle/fixture.ts';
import { SigstoreManifestSigner } from '../../pipeline/src/bundle/sigstore.ts';
import { importInto, keys, later, makeBundle, PAIRS, policyFile, repoSigner, signersYaml } from './site-fixture.ts';

/** The store's rollback key for bundles of SOURCE: the verified issuer and repository. */
const SOURCE_KEY = `${ISSUER} https://github.com/${SOURCE.repository}`;

async function storeWithOne(): Promise<string> {
  const store = tempDir('brickyard-store-');
  await importInto(store, await makeBundle(PAIRS));
  return store;
}

describe('import crash safety', () => {
  it('crash safety: kill -9 at every stage leaves the store as it was or fully imported, and a re-run succeeds', async () => {
    const policy = policyFile();
    // The stages are independent (a store and a bundle each): their processes run side by side.
    const stages = ['locked', 'verified', 'built', 'renamed', 'committed', 'cleaned'];
    await Promise.all(
      stages.map(async (stage) => {
        const store = await storeWithOne();
        const before = snapshot(join(store, 'current'));
        const b2 = await makeBundle(PAIRS, { serial: 2, bundleId: `second-${stage}` });
        const r = await importInChild([b2, policy, store, keys.trustedRoot, later.toISOString()], stage);
        expect(r.signal, `${stage}: ${r.stdout}${r.stderr}`).toBe('SIGKILL');
        const after = snapshot(join(store, 'current'));
        const imported = (JSON.parse(readFileSync(join(store, 'current', 'state.json'), 'utf8')) as { lastSerial: Record<string, number> }).lastSerial[SOURCE_KEY] === 2;
        if (!imported) expect(after, stage).toEqual(before);
        else
          expect(
            Object.keys(after).some((k) => k.startsWith(`bundles/second-${stage}/`)),
            stage,
          ).toBe(true);
        expect(imported, stage).toBe(['committed', 'cleaned'].includes(stage));
        // A re-run (after the stale lock of the dead process) completes or, when it already had, refuses as a rollback.
        let rerun: string;
        try {
          await importInto(store, b2, policy);
          rerun = 'ok';
        } catch (e) {
          rerun = (e as BrickyardError).code;
        }
        expect(rerun, stage).toBe(imported ? 'ROLLBACK' : 'ok');
        expect(readdirSync(store).sort(), stage).toEqual(['.brickyard-store', 'audit.log', 'bundles', 'current', 'generations', 'oci', 'state.json']);
        expect(readdirSync(join(store, 'generations')), stage).toHaveLength(1);
        expect(
          verifyAuditLog(store).map((e) => e.serial),
          stage,
        ).toEqual([1, 2]);
      }),
    );
  }, 120_000);

  // The copy a worker makes of a large entry: as the reader comes to it (in the bundle's place in
  // the staging folder), or from the start, before the policy loads (the early import's ahead/).
  for (const [when, where, env] of [
    ['a worker writes a large entry into the staging folder', join('bundle', 'oci', 'blobs', 'sha256'), {}],
    ['an early import copies a large entry ahead, before its policy is loaded', 'ahead', { BRICKYARD_TEST_EARLY: '1' }],
  ] as const) {
    it(`kill -9 while ${when}: the store as it was, and a re-run stores every byte`, async () => {
      const policy = policyFile();
      const store = await storeWithOne();
      const before = snapshot(join(store, 'current'));
      const size = 128 * 2 ** 20 + 777; // over PARALLEL_HASH_MIN_BYTES: hashed and written by a worker (O_DIRECT where allowed)
      const b2 = await makeBundle([{ recipe: 'demo', version: '1.0', layer: 'q'.repeat(size) }], { serial: 2, bundleId: 'second-large' });
      const child = spawn(
        join(repoRoot, 'node_modules', '.bin', 'node'),
        [join(repoRoot, 'test', 'site', 'import-child.ts'), b2, policy, store, keys.trustedRoot, later.toISOString()],
        { stdio: 'ignore', env: { ...process.env, ...env } },
      );
      const closed = new Promise<NodeJS.Signals | null>((done) => child.on('close', (_code, signal) => done(signal)));
      // The large blob, once it has bytes in the staging folder.
      let seen = -1;
      for (let i = 0; i < 60_000 && seen <= 0 && child.exitCode === null; i++) {
        for (const d of readdirSync(store).filter((n) => n.startsWith('.staging-'))) {
          const copies = join(store, d, where);
          if (!existsSync(copies)) continue;
          for (const n of readdirSync(copies)) {
            const st = statSync(join(copies, n), { throwIfNoEntry: false });
            if (st && st.size > 0 && st.size >= 2 ** 20) seen = st.size;
          }
        }
        if (seen <= 0) await new Promise((r) => setTimeout(r, 2));
      }
      child.kill('SIGKILL');
      expect(await closed).toBe('SIGKILL');
      expect(seen, 'the large blob was being written when the import was killed').toBeGreaterThan(0);
      expect(snapshot(join(store, 'current'))).toEqual(before);
      await importInto(store, b2, policy);
      expect(readdirSync(store).filter((n) => n.startsWith('.staging-'))).toEqual([]);
      const blobs = join(store, 'oci', 'blobs', 'sha256');
      const large = readdirSync(blobs).filter((n) => statSync(join(blobs, n)).size > 128 * 2 ** 20);
      expect(large).toHaveLength(1);
      for (const n of readdirSync(blobs))
        expect(
          createHash('sha256')
            .update(readFileSync(join(blobs, n)))
            .digest('hex'),
        ).toBe(n);
    }, 120_000);
  }

  it('serialises imports across processes with the lock', async () => {
    const store = tempDir('brickyard-store-');
    // Two sources, each signed by its own repository's CI, so that each import has serial 1 of its own.
    const from = async (repo: string): Promise<string> =>
      makeBundle(PAIRS, { source: { repository: repo, commit: repo.at(-1)! }, bundleId: repo.at(-1)!, signer: new SigstoreManifestSigner(await repoSigner(repo)) });
    const policy = policyFile({ signers: signersYaml(['example/brickyard', 'example/c', 'example/d']) });
    const [c, d] = [await from('example/c'), await from('example/d')];
    const results = await Promise.all([c, d].map((b) => importInChild([b, policy, store, keys.trustedRoot, later.toISOString()])));
    for (const r of results) expect(r.stdout, r.stdout + r.stderr).toMatch(/"ok":true/);
    expect(verifyAuditLog(store).map((e) => e.generation)).toEqual([1, 2]);
    expect(readdirSync(store).filter((n) => n.startsWith('.'))).toEqual(['.brickyard-store']);
  });
});
