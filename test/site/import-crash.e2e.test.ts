/**
 * Crash safety of an import (pipeline/src/site/store.ts): a real import process killed with
 * SIGKILL at every stage leaves the store as it was or fully imported, and a re-run succeeds.
 * Six processes killed and six stores: the e2e project, not the unit one.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../pipeline/src/site/store.ts';
import type { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';
import { importInChild } from '../helpers/process.ts';
import { ISSUER, snapshot, SOURCE } from '../bundle/fixture.ts';
import { importInto, keys, later, makeBundle, PAIRS, policyFile } from './site-fixture.ts';

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
});
