/**
 * An import begun before its policy and verifier are loaded (pipeline/src/site/early-import.ts):
 * the import takes over its lock, staging folder and copies and ends as one without it; the
 * nearest forgeries are refused with the store as it was; it goes ahead only where it can at
 * once, and what was not handed over is taken back.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { largeEntries } from '../../pipeline/src/bundle/prehash.ts';
import { EarlyImport, roomFor } from '../../pipeline/src/site/early-import.ts';
import { openStore } from '../../pipeline/src/site/layout.ts';
import { acquireStoreLock } from '../../pipeline/src/site/lock.ts';
import { importBundle } from '../../pipeline/src/site/store.ts';
import { siteTrust, siteVerifier } from '../../pipeline/src/transfer/site-trust.ts';
import { makeSiteBundle } from '../../scripts/lib/bench-state.ts';
import { snapshot } from '../bundle/fixture.ts';
import { tempDir } from '../helpers/fixture.ts';
import { expectRefusal } from './site-fixture.ts';

let tar: string;
let policy: string;
let otherPolicy: string;

beforeAll(async () => {
  ({ tar, policy } = await makeSiteBundle(tempDir('brickyard-early-'), { baseMiB: 20, images: 1 }));
  // Another CI's signer and trusted root: its policy admits nothing this bundle's signer signed.
  ({ policy: otherPolicy } = await makeSiteBundle(tempDir('brickyard-early-'), { baseMiB: 1, images: 1 }));
}, 120_000);

async function importWith(bundlePath: string, store: string, early?: EarlyImport, policyPath = policy) {
  const trust = await siteTrust(policyPath);
  const verifier = await siteVerifier(trust.trustedRootPath, trust.pinned);
  return importBundle({ bundlePath, policy: trust.policy, store, verifier, now: new Date(), trustedRootPath: trust.trustedRootPath, ...(early ? { early } : {}) });
}

/** The store's content: every file of the current generation, with its mode. */
function content(store: string): Record<string, string> {
  const gen = join(store, 'current');
  const files = snapshot(gen);
  for (const [name, hash] of Object.entries(files)) if (!name.endsWith('/')) files[name] = `${hash} ${(statSync(join(gen, name)).mode & 0o7777).toString(8)}`;
  // The audit line and state carry the import's time; everything else must be equal.
  delete files['audit.log'];
  delete files['state.json'];
  return files;
}

describe('an early import', () => {
  it('is taken over by the import, which takes its copies and ends as one without it', async () => {
    const parent = tempDir('brickyard-early-');
    const plain = await importWith(tar, join(parent, 'plain'));
    const early = EarlyImport.begin(join(parent, 'early'), tar, 0);
    try {
      expect(early.started).toBe(true);
      // Locked and staging from the start, before any policy is loaded.
      expect(readdirSync(join(parent, 'early')).sort()).toEqual(expect.arrayContaining(['.brickyard-store', '.lock']));
      expect(readdirSync(join(parent, 'early')).filter((n) => n.startsWith('.staging-'))).toHaveLength(1);
      const r = await importWith(tar, join(parent, 'early'), early);
      expect({ ...r, auditEntry: undefined }).toEqual({ ...plain, auditEntry: undefined });
      expect(early.ahead?.taken).toBe(largeEntries(tar).length);
    } finally {
      early.close();
    }
    expect(content(join(parent, 'early'))).toEqual(content(join(parent, 'plain')));
    expect(readdirSync(join(parent, 'early')).filter((n) => n.startsWith('.'))).toEqual(['.brickyard-store']); // no lock, no staging left
  });

  it('refuses the nearest forgeries (a layer with one byte changed, another CI signer) and leaves the store as it was', async () => {
    const forged = join(tempDir('brickyard-early-'), 'forged.tar');
    const bytes = readFileSync(tar);
    const [r] = largeEntries(tar);
    const at = r!.offset + Math.floor(r!.length / 2);
    bytes[at] = bytes[at]! ^ 1;
    writeFileSync(forged, bytes);
    const parent = tempDir('brickyard-early-');
    const existing = join(parent, 'existing');
    openStore(existing);
    for (const [name, code, bundle, policyPath] of [
      ['a layer with one byte changed', 'BUNDLE_MISMATCH', forged, policy],
      ['a bundle another CI signed', 'SIGNATURE_INVALID', tar, otherPolicy],
    ] as const) {
      // Into a store that does not exist yet (it must not be left behind) and into an empty one.
      for (const store of [join(parent, 'new'), existing]) {
        await expectRefusal(`early import: ${name}`, code, parent, async () => {
          const early = EarlyImport.begin(store, bundle, 0);
          expect(early.started, name).toBe(true);
          try {
            await importWith(bundle, store, early, policyPath);
          } finally {
            early.close();
          }
        });
      }
    }
    expect(readdirSync(parent)).toEqual(['existing']);
  });

  it('goes ahead only where it can at once: not into a locked store, a folder that is no store, or for a small bundle', async () => {
    const parent = tempDir('brickyard-early-');
    const store = join(parent, 'store');
    openStore(store);
    const held = await acquireStoreLock(store, 1000);
    try {
      const before = snapshot(parent);
      const early = EarlyImport.begin(store, tar, 0);
      expect(early.started).toBe(false);
      expect(snapshot(parent)).toEqual(before);
      early.close();
      expect(snapshot(parent)).toEqual(before);
    } finally {
      held.release();
    }
    // A folder that is not a store: left alone, and the import refuses it as it would without.
    const notStore = join(parent, 'papers');
    mkdirSync(notStore);
    writeFileSync(join(notStore, 'thesis.txt'), 'mine\n');
    const before = snapshot(parent);
    const early = EarlyImport.begin(notStore, tar, 0);
    expect(early.started).toBe(false);
    await expectRefusal('early import: a folder that is not a store', 'NOT_A_STORE', parent, () => importWith(tar, notStore, early));
    early.close();
    expect(snapshot(parent)).toEqual(before);
    // Under the size where it pays, and a bundle that is not a file (a folder, nothing there).
    for (const bundle of [tar, parent, join(parent, 'missing.tar')]) expect(EarlyImport.begin(join(parent, 'fresh'), bundle).started, bundle).toBe(false);
    expect(readdirSync(parent).sort()).toEqual(['papers', 'store']);
    expect(roomFor(parent, 1)).toBe(true);
    expect(roomFor(parent, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('closed without being taken over (the policy failed to load, an import of another bundle or store): all of it taken back', async () => {
    const parent = tempDir('brickyard-early-');
    const store = join(parent, 'store');
    await importWith(tar, store);
    const before = snapshot(parent);
    const early = EarlyImport.begin(store, tar, 0);
    expect(early.started).toBe(true);
    expect(early.adopt(join(parent, 'other'), tar)).toBeUndefined();
    expect(early.adopt(store, `${tar}.copy`)).toBeUndefined();
    expect(snapshot(parent)).not.toEqual(before); // locked and staging
    early.close();
    expect(snapshot(parent)).toEqual(before);
    // Begun for a new store: the folder it made goes too; and a second import begins as the first did.
    const fresh = EarlyImport.begin(join(parent, 'new'), tar, 0);
    expect(fresh.started).toBe(true);
    fresh.close();
    expect(snapshot(parent)).toEqual(before);
    const again = EarlyImport.begin(store, tar, 0);
    expect(again.started).toBe(true);
    again.close();
  });
});
