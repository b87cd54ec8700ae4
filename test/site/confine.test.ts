/**
 * Names that become paths (pipeline/src/site/confine.ts and the schemas' patterns): a property
 * test throws arbitrary names at every such field of a signed bundle — bundle id, recipe,
 * version, system, partition, image refName — and asserts that import, check-bundle and the
 * admission records write nothing outside the store, that check-bundle and import agree, and
 * that a refusal is a typed error leaving no store behind. Plus `confined` on its own.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../pipeline/src/bundle/manifest.ts';
import { admit } from '../../pipeline/src/site/admit.ts';
import { checkBuildRecord, confined } from '../../pipeline/src/site/confine.ts';
import { checkBundle, importBundle } from '../../pipeline/src/site/store.ts';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';
import { craftTar, makeState, NOW, sha256, signState, snapshot, SOURCE, type RawEntry } from '../bundle/fixture.ts';
import { keys, later, policyFile, tmpLeftovers } from './site-fixture.ts';

type Field = 'bundleId' | 'recipe' | 'version' | 'system' | 'partition' | 'refName';
const FIELDS: Field[] = ['bundleId', 'recipe', 'version', 'system', 'partition', 'refName'];
const DEPTH = 12;

/** A bundle for `demo@1.0` on local-cpu whose `field` is `name` everywhere it is said, re-signed by the trusted key. */
async function bundleNaming(field: Field, name: string, state: string): Promise<string> {
  return craftTar({ stateDir: state, signer: keys.signer, source: SOURCE, now: NOW, serial: 1 }, (files: RawEntry[], m: Manifest): undefined => {
    const recordPath = 'builds/demo@1.0/local-cpu/build.json';
    const record = files.find((f) => f.path === recordPath)!;
    const doc = JSON.parse(Buffer.from(record.data!).toString('utf8'));
    if (field === 'bundleId') m.bundleId = name;
    if (field === 'refName') {
      doc.image.refName = name;
      // the bundle's index names the image by the same reference
      const idx = files.find((f) => f.path === 'oci/index.json')!;
      const index = JSON.parse(Buffer.from(idx.data!).toString('utf8'));
      for (const d of index.manifests) d.annotations['org.opencontainers.image.ref.name'] = name;
      idx.data = Buffer.from(JSON.stringify(index));
      const ie = m.entries.find((e) => e.path === 'oci/index.json')!;
      ie.size = idx.data.length;
      ie.sha256 = sha256(idx.data);
    }
    if (field === 'recipe' || field === 'version') doc.recipe[field === 'recipe' ? 'name' : 'version'] = name;
    if (field === 'system' || field === 'partition') doc[field] = name;
    if (field !== 'bundleId' && field !== 'refName') for (const e of m.entries) if (e.recipe) (e as unknown as Record<string, string>)[field] = name;
    if (field === 'system') m.systems = [name];
    const data = Buffer.from(JSON.stringify(doc));
    record.data = data;
    const entry = m.entries.find((e) => e.path === recordPath)!;
    entry.size = data.length;
    entry.sha256 = sha256(data);
  });
}

const hostileName = (jail: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 30 }),
    fc.array(fc.constantFrom('..', '/', '.', 'a', '\\', '%2e', '\u0000', '\n', 'x.vsa'), { maxLength: 10 }).map((a) => a.join('')),
    fc.integer({ min: 1, max: DEPTH }).map((n) => `${'../'.repeat(n)}escape-${n}`),
    fc.constantFrom(
      'demo',
      'ok-name',
      '1.0',
      'local',
      'cpu',
      'demo_1.0-1_local-cpu',
      '.',
      '..',
      '',
      ' ',
      '-x',
      '.hidden',
      'x'.repeat(300),
      `${jail}/abs-escape`,
      '/abs-escape',
      'a/b',
      'C:\\x',
      'a\u0000b',
    ),
  );

describe('names that become paths', () => {
  it('property: arbitrary names in every such field never lead a write outside the store', async () => {
    // The store sits DEPTH folders deep in a jail: any escape of up to DEPTH `..` would land in the jail, where it is seen.
    const jail = tempDir('brickyard-jail-');
    const deep = join(jail, ...Array.from({ length: DEPTH }, (_, i) => `d${i}`));
    mkdirSync(deep, { recursive: true });
    const state = makeState('local', [{ recipe: 'demo', version: '1.0' }]);
    await signState(state, keys.dev);
    const policy = policyFile();
    const siteKeyDir = join(tempDir('brickyard-sitekey-'), 'key');
    let run = 0;
    const accepted: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FIELDS), hostileName(jail), async (field, name) => {
        const bundle = await bundleNaming(field, name, state);
        const store = join(deep, `store-${run++}`);
        const outside = snapshot(jail);
        const tmpBefore = tmpLeftovers();
        let checked: unknown;
        try {
          await checkBundle({ bundlePath: bundle, policy: loadPolicy(policy), verifier: keys.verifier, now: later });
          checked = 'ok';
        } catch (e) {
          checked = e;
        }
        let imported: unknown;
        try {
          await importBundle({ bundlePath: bundle, policy: loadPolicy(policy), store, verifier: keys.verifier, now: later });
          await admit(store, { policy: { path: policy, sha256: sha256(readFileSync(policy)) }, siteKeyDir, now: later });
          imported = 'ok';
        } catch (e) {
          imported = e;
        }
        for (const r of [checked, imported]) if (r !== 'ok') expect(r, `${field}=${JSON.stringify(name)}`).toBeInstanceOf(BrickyardError);
        expect(checked === 'ok', `${field}=${JSON.stringify(name)}: check-bundle and import agree (${(checked as Error).message} / ${(imported as Error).message})`).toBe(
          imported === 'ok',
        );
        // Nothing outside the store changed: the jail, less the store, hashes the same.
        const after = snapshot(jail);
        const prefix = store.slice(jail.length + 1);
        const strip = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([k]) => k !== `${prefix}/` && !k.startsWith(`${prefix}/`)));
        expect(strip(after), `${field}=${JSON.stringify(name)}`).toEqual(strip(outside));
        expect(tmpLeftovers()).toEqual(tmpBefore);
        if (imported === 'ok') accepted.push(`${field}=${name}`);
        else
          expect(
            Object.keys(after).some((k) => k.startsWith(prefix)),
            'a refused import into a new store leaves none',
          ).toBe(false);
        // Checked: the next run's snapshots need not hash this store again.
        rmSync(store, { recursive: true, force: true });
      }),
      { numRuns: 90 },
    );
    // the property was not vacuous: well-formed names were imported and admitted
    expect(accepted.length).toBeGreaterThan(0);
  }, 300_000);

  it('the nearest forgeries of each name are refused at the schema, naming the field', () => {
    const good = {
      recipe: { name: 'demo', version: '1.0' },
      system: 'local',
      partition: 'cpu',
      image: { refName: 'demo_1.0-1_local-cpu', manifestDigest: `sha256:${'a'.repeat(64)}` },
    };
    expect(checkBuildRecord(good, 'build.json')).toEqual(good);
    const forged: [string, (r: typeof good) => void][] = [
      ['image.refName', (r) => (r.image.refName = '../../etc/cron.d/x')],
      ['image.refName', (r) => (r.image.refName = 'a/b')],
      ['image.refName', (r) => (r.image.refName = '.hidden')],
      ['image.refName', (r) => (r.image.refName = 'x'.repeat(201))],
      ['recipe.name', (r) => (r.recipe.name = 'Demo')],
      ['recipe.version', (r) => (r.recipe.version = '1.0/..')],
      ['system', (r) => (r.system = '..')],
      ['partition', (r) => (r.partition = 'cpu\n')],
      ['image.manifestDigest', (r) => (r.image.manifestDigest = 'sha256:../x')],
    ];
    for (const [field, forge] of forged) {
      const r = structuredClone(good);
      forge(r);
      expect(() => checkBuildRecord(r, 'build.json'), field).toThrow(new RegExp(`build\\.json: ${field.replace('.', '\\.')} must (match|NOT have)`));
    }
  });

  it('confined: inside only, also through a link planted in the store', () => {
    const store = tempDir('brickyard-store-');
    expect(confined(store, 'a', 'b')).toBe(join(store, 'a', 'b'));
    for (const bad of [['..'], ['a', '..', '..', 'x'], ['/etc/passwd'], [''], ['.']]) expect(() => confined(store, ...bad), JSON.stringify(bad)).toThrow(/not inside/);
    symlinkSync('/etc', join(store, 'admissions'));
    expect(() => confined(store, 'admissions', 'x.json')).toThrow(expect.objectContaining({ code: 'PATH_OUTSIDE_STORE' }));
  });
});
