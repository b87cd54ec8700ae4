/**
 * The site side: policy loading, import with every policy refusal leaving the store unchanged,
 * the audit chain, inventory and deltas and the lock. Crash safety (kill -9 at each stage):
 * import-crash.e2e.test.ts.
 */
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import type { Manifest } from '../../pipeline/src/bundle/manifest.ts';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BundleError } from '../../pipeline/src/bundle/errors.ts';
import { writeBundle, type WriteBundleOptions } from '../../pipeline/src/bundle/write.ts';
import { licenseAllowed, loadPolicy, matchIdentity } from '../../pipeline/src/site/policy.ts';
import { acquireStoreLock } from '../../pipeline/src/site/lock.ts';
import { checkBundle, exportInventory, importBundle, verifyAuditLog } from '../../pipeline/src/site/store.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';
import { signersYaml } from './site-fixture.ts';
import { SigstoreManifestSigner } from '../../pipeline/src/bundle/sigstore.ts';
import type { DevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import { CI_EXTENSIONS, craftTar, IDENTITY, ISSUER, makeKeys, makeState, NOW, sha256, signState, snapshot, SOURCE, type PairSpec, type RawEntry } from '../bundle/fixture.ts';

const keys = await makeKeys();
/** The store's rollback key for bundles of SOURCE: the verified issuer and repository. */
const SOURCE_KEY = `${ISSUER} https://github.com/example/brickyard`;

/** A CI signer of another repository (its own certificate says so), under the same CA. */
function repoSigner(repo: string): Promise<DevSigner> {
  return keys.other({
    identity: `https://github.com/${repo}/.github/workflows/main.yml@refs/heads/main`,
    extensions: { ...CI_EXTENSIONS, sourceRepositoryUri: `https://github.com/${repo}` },
  });
}

function policyFile(overrides: Record<string, string> = {}, root = keys.trustedRoot): string {
  const fields: Record<string, string> = {
    version: '2',
    system: 'local',
    trustedRoot: `\n  sha256: ${sha256(readFileSync(root))}\n  path: ${root}`,
    signers: signersYaml(),
    require: '\n  provenance: true\n  sbom: true\n  smoke: true',
    licenses: '[Apache-2.0, MIT, BSD-3-Clause]',
    maxAgeDays: '30',
    ...overrides,
  };
  const text =
    Object.entries(fields)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n') + '\n';
  const file = join(tempDir('brickyard-policy-'), 'site-policy.yaml');
  writeFileSync(file, text);
  return file;
}

/** A state whose attestations CI signed (keys.dev), packed and signed as a bundle. */
async function signedState(pairs: PairSpec[], system = 'local'): Promise<string> {
  // Bundling only reads the state folder: one per kind of state serves the whole file.
  const key = JSON.stringify([pairs, system]);
  let state = signedStates.get(key);
  if (!state) {
    state = (async () => {
      const dir = makeState(system, pairs);
      await signState(dir, keys.dev);
      return dir;
    })();
    signedStates.set(key, state);
  }
  return state;
}
const signedStates = new Map<string, Promise<string>>();

async function makeBundle(pairs: PairSpec[], extra: Partial<WriteBundleOptions> = {}): Promise<string> {
  const state = await signedState(pairs);
  const out = join(tempDir('brickyard-bundle-'), 'b.tar');
  await writeBundle({ stateDir: state, system: 'local', out, signer: keys.signer, serial: 1, source: SOURCE, now: NOW, ...extra });
  return out;
}

const PAIRS: PairSpec[] = [
  { recipe: 'demo', version: '1.0' },
  { recipe: 'osu', version: '7.4' },
];
const later = new Date(NOW.getTime() + 3600_000);

async function importInto(store: string, bundlePath: string, policyPath = policyFile(), verifier = keys.verifier) {
  return importBundle({ bundlePath, policy: loadPolicy(policyPath), store, verifier, now: later });
}

/** Import expecting a refusal; the whole store, byte for byte, must be as it was. */
/** The refusal as the BundleError it must be. */
function bundleError(e: unknown): BundleError {
  if (!(e instanceof BundleError)) throw new Error(`expected a BundleError, got ${String(e)}`);
  return e;
}

async function refused(store: string, bundlePath: string, policyPath?: string, verifier = keys.verifier): Promise<BrickyardError> {
  const before = snapshot(store);
  let err: unknown;
  try {
    await importInto(store, bundlePath, policyPath, verifier);
  } catch (e) {
    err = e;
  }
  expect(err, 'the import should have been refused').toBeInstanceOf(BrickyardError);
  expect(snapshot(store)).toEqual(before);
  return err as BrickyardError;
}

/** A store holding serial 1 (imported once per file, copied for each case). */
async function storeWithOne(): Promise<string> {
  seedStore ??= (async () => {
    const seed = tempDir('brickyard-store-');
    await importInto(seed, await makeBundle(PAIRS));
    return seed;
  })();
  const store = tempDir('brickyard-store-');
  cpSync(await seedStore, store, { recursive: true, verbatimSymlinks: true });
  return store;
}
let seedStore: Promise<string> | undefined;

describe('site policy', () => {
  it('loads a valid policy and points at file:line for a bad one', () => {
    expect(loadPolicy(policyFile()).policy.system).toBe('local');
    const bad = policyFile({ maxAgeDays: '"soon"', extra: 'true' });
    try {
      loadPolicy(bad);
      expect.unreachable();
    } catch (e) {
      expect((e as BrickyardError).code).toBe('POLICY_INVALID');
      expect((e as Error).message).toMatch(/site-policy\.yaml:\d+:\d+: error: .*maxAgeDays/);
      expect((e as Error).message).toMatch(/unknown key "extra"/);
    }
  });

  it('matches identities exactly: no prefix, longer ref, or look-alike repository passes', () => {
    const rules = [
      { repository: 'example/brickyard', workflow: '.github/workflows/main.yml', ref: 'refs/heads/main' },
      { repository: 'example/brickyard', workflow: '.github/workflows/release.yml', ref: 'refs/tags/v*' },
    ];
    expect(matchIdentity(IDENTITY, rules)).toBeDefined();
    expect(matchIdentity('https://github.com/example/brickyard/.github/workflows/release.yml@refs/tags/v1.2', rules)).toBeDefined();
    for (const bad of [
      'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/main-evil',
      'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/mainx',
      'https://github.com/example/brickyard-evil/.github/workflows/main.yml@refs/heads/main',
      'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/main/x',
      'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/main ',
      'https://github.com/example/brickyard/.github/workflows/main.yaml@refs/heads/main',
      'https://github.com/example/brickyard/.github/workflows/release.yml@refs/tags/v1/evil',
      'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/main\n',
      'https://evil.example/example/brickyard/.github/workflows/main.yml@refs/heads/main',
    ])
      expect(matchIdentity(bad, rules), bad).toBeUndefined();
    expect(matchIdentity('x', [{ exact: 'x' }])).toBeDefined();
    expect(matchIdentity('xy', [{ exact: 'x' }])).toBeUndefined();
  });

  it('licences: AND needs both, OR either', () => {
    expect(licenseAllowed('Apache-2.0', ['Apache-2.0'])).toBe(true);
    expect(licenseAllowed('MIT AND GPL-3.0-only', ['MIT'])).toBe(false);
    expect(licenseAllowed('MIT OR GPL-3.0-only', ['MIT'])).toBe(true);
  });
});

describe('importBundle', () => {
  it('round trip: write → import; store layout, audit chain, inventory; then a delta against the inventory', async () => {
    const store = tempDir('brickyard-store-');
    const b1 = await makeBundle(PAIRS);
    const r1 = await importInto(store, b1);
    expect(r1.images).toBe(2);
    expect(readdirSync(store).sort()).toEqual(['.brickyard-store', 'audit.log', 'bundles', 'current', 'generations', 'oci', 'state.json']);
    expect(readdirSync(join(store, 'bundles'))).toEqual([r1.bundleId]);
    expect(existsSync(join(store, 'bundles', r1.bundleId, 'manifest.json'))).toBe(true);
    expect(existsSync(join(store, 'bundles', r1.bundleId, 'oci', 'blobs'))).toBe(false);
    const index = JSON.parse(readFileSync(join(store, 'oci', 'index.json'), 'utf8'));
    expect(index.manifests).toHaveLength(2);
    expect(readdirSync(join(store, 'oci', 'blobs', 'sha256'))).toHaveLength(7);
    const inv = exportInventory(store);
    expect(inv.blobs).toHaveLength(7);
    expect(inv.lastSerial[SOURCE_KEY]).toBe(1);
    expect(inv.images.map((i) => i.recipe).sort()).toEqual(['demo', 'osu']);

    // The next release: one recipe changed; a delta leaves out what the site holds.
    const state2 = await signedState([
      { recipe: 'demo', version: '1.0' },
      { recipe: 'osu', version: '7.4', layer: 'v2' },
    ]);
    const full = await writeBundle({ stateDir: state2, system: 'local', out: join(tempDir(), 'full.tar'), signer: keys.signer, serial: 2, source: SOURCE, now: NOW });
    const deltaOut = join(tempDir(), 'delta.tar');
    const delta = await writeBundle({
      stateDir: state2,
      system: 'local',
      out: deltaOut,
      signer: keys.signer,
      serial: 2,
      source: SOURCE,
      now: NOW,
      inventory: inv,
      bundleId: 'local-2-delta',
    });
    expect(delta.manifest.prerequisites.length).toBeGreaterThan(0);
    expect(delta.sizes.bundleBytes).toBeLessThan(full.sizes.bundleBytes);
    const r2 = await importInto(store, deltaOut);
    expect(r2.generation).toBe(2);
    expect(JSON.parse(readFileSync(join(store, 'oci', 'index.json'), 'utf8')).manifests).toHaveLength(2);
    expect(readdirSync(join(store, 'generations'))).toEqual(['2']);
    const log = verifyAuditLog(store);
    expect(log.map((e) => e.serial)).toEqual([1, 2]);
    expect(log[1]!.prev).toBe(sha256(readFileSync(join(store, 'audit.log'), 'utf8').split('\n')[0]!));
  });

  it('the audit log chain detects an edited line', async () => {
    const store = await storeWithOne();
    const copy = join(tempDir(), 'audit.log');
    const lines = readFileSync(join(store, 'audit.log'), 'utf8');
    writeFileSync(copy, lines + lines.replace('"seq":1', '"seq":2'));
    expect(() => verifyAuditLog(copy)).toThrow(/audit\.log:2 does not chain/);
  });

  it('refuses an older (or equal) serial as a rollback', async () => {
    const store = await storeWithOne();
    const again = await makeBundle(PAIRS, { bundleId: 'again' });
    const e = await refused(store, again);
    expect(e.code).toBe('ROLLBACK');
  });

  it('refuses one byte changed in any entry', async () => {
    const store = await storeWithOne();
    const b = await makeBundle(PAIRS, { serial: 2 });
    const bytes = readFileSync(b);
    const at = bytes.indexOf('layer of demo');
    bytes[at] = bytes[at]! ^ 0x20;
    writeFileSync(b, bytes);
    const e = await refused(store, b);
    expect(bundleError(e).reason).toBe('digest');
    expect(bundleError(e).entry).toMatch(/^oci\/blobs\/sha256\//);
  });

  it('refuses a bundle signed by another key or another identity', async () => {
    const store = await storeWithOne();
    const other = await makeKeys();
    const b = await makeBundle(PAIRS, { serial: 2, signer: other.signer });
    expect((await refused(store, b)).code).toBe('SIGNATURE_INVALID');
    // the trusted CA, but an identity the policy does not allow (a longer ref)
    const b2 = await makeBundle(PAIRS, { serial: 2, signer: new SigstoreManifestSigner(await keys.other({ identity: `${IDENTITY}-evil` })) });
    const e2 = bundleError(await refused(store, b2));
    expect(e2.reason).toBe('identity');
    expect(e2.message).toMatch(/bundle manifest was signed by .*main-evil/);
    // the right identity with another issuer
    const b3 = await makeBundle(PAIRS, { serial: 2, signer: new SigstoreManifestSigner(await keys.other({ issuer: 'https://evil.example' })) });
    expect(bundleError(await refused(store, b3)).message).toMatch(/issuer https:\/\/evil\.example is not https:\/\/token\.actions/);
    // the right identity and issuer on a self-hosted runner
    const b4 = await makeBundle(PAIRS, { serial: 2, signer: new SigstoreManifestSigner(await keys.other({ extensions: { ...CI_EXTENSIONS, runnerEnvironment: 'self-hosted' } })) });
    expect(bundleError(await refused(store, b4)).message).toMatch(/runnerEnvironment is "self-hosted", not "github-hosted"/);
  });

  it('refuses a trusted root other than the pinned one', async () => {
    const store = tempDir('brickyard-store-');
    const otherRoot = join(tempDir(), 'trusted_root.json');
    writeFileSync(otherRoot, '{"other":true}');
    const p = policyFile();
    const e = await (async () => {
      const before = snapshot(store);
      try {
        await importBundle({ bundlePath: await makeBundle(PAIRS), policy: loadPolicy(p), store, verifier: keys.verifier, now: later, trustedRootPath: otherRoot });
      } catch (err) {
        expect(snapshot(store)).toEqual(before);
        return err as BundleError;
      }
      return undefined;
    })();
    expect(e?.reason).toBe('trusted-root');
  });

  it('refuses a missing or FAILED smoke test for this system, missing provenance, a licence not allowed, and an old bundle', async () => {
    const store = await storeWithOne();
    const cases: [PairSpec, string][] = [
      [{ recipe: 'demo', version: '1.0', smoke: 'none' }, 'smoke'],
      [{ recipe: 'demo', version: '1.0', smoke: 'FAILED' }, 'smoke-failed'],
      [{ recipe: 'demo', version: '1.0', smoke: 'WARNED' }, 'smoke'],
      [{ recipe: 'demo', version: '1.0', provenance: false }, 'attestation'],
      [{ recipe: 'demo', version: '1.0', license: 'GPL-3.0-only' }, 'license'],
    ];
    for (const [pair, reason] of cases) {
      const b = await makeBundle([pair], { serial: 5 });
      const e = bundleError(await refused(store, b));
      expect(e.reason, JSON.stringify(pair)).toBe(reason);
    }
    // Age counts from the verified signing time: 40 days after signing, whatever `created` says.
    const old = await makeBundle(PAIRS, { serial: 5, now: new Date(later.getTime() + 40 * 86_400_000) });
    const before = snapshot(store);
    await expect(
      importBundle({ bundlePath: old, policy: loadPolicy(policyFile()), store, verifier: keys.verifier, now: new Date(later.getTime() + 40 * 86_400_000) }),
    ).rejects.toMatchObject({ reason: 'too-old' });
    expect(snapshot(store)).toEqual(before);
    // a bundle for another system
    const alps = makeState('alps', PAIRS);
    const out = join(tempDir(), 'alps.tar');
    await writeBundle({ stateDir: alps, system: 'alps', out, signer: keys.signer, serial: 5, source: SOURCE, now: NOW });
    expect(bundleError(await refused(store, out)).reason).toBe('system');
  });

  it('refuses a delta whose prerequisites the store lacks, naming them', async () => {
    const store = tempDir('brickyard-store-');
    const state = makeState('local', PAIRS);
    const blob = readdirSync(join(state, 'oci', 'blobs', 'sha256'))[0]!;
    const out = join(tempDir(), 'delta.tar');
    await writeBundle({
      stateDir: state,
      system: 'local',
      out,
      signer: keys.signer,
      serial: 1,
      source: SOURCE,
      now: NOW,
      inventory: { kind: 'brickyard-inventory', version: 1, blobs: [`sha256:${blob}`], images: [], bundles: [], lastSerial: {} },
    });
    const e = await refused(store, out);
    expect(e.code).toBe('PREREQUISITE_MISSING');
    expect(e.message).toContain(blob);
  });

  it('refuses hostile bundles with their error, the store unchanged', async () => {
    const store = await storeWithOne();
    const base = { stateDir: makeState('local', PAIRS), signer: keys.signer, source: SOURCE, now: NOW, serial: 2 };
    const cases: [string, (f: RawEntry[], m: Manifest) => RawEntry[] | undefined, string][] = [
      ['path escape', (f) => [...f, { path: '../../outside', data: 'x' }], 'path-escape'],
      ['absolute', (f) => [...f, { path: '/tmp/outside', data: 'x' }], 'path-escape'],
      ['symlink', (f) => [...f, { path: 'oci/evil', type: 'SymbolicLink', linkpath: '/etc' }], 'link'],
      ['hard link', (f) => [...f, { path: 'oci/evil', type: 'Link', linkpath: '/etc/passwd' }], 'link'],
      ['device', (f) => [...f, { path: 'oci/dev', type: 'CharacterDevice' }], 'device'],
      ['duplicate', (f) => [...f, f.find((e) => e.path === 'oci/index.json')!], 'duplicate'],
      ['unlisted', (f) => [...f, { path: 'oci/extra', data: 'x' }], 'unlisted'],
      ['missing', (f) => f.filter((e) => e.path !== 'oci/index.json'), 'missing'],
    ];
    for (const [name, change, reason] of cases) {
      const file = await craftTar(base, change);
      const e = bundleError(await refused(store, file));
      expect(e.reason, name).toBe(reason);
    }
    const truncated = await makeBundle(PAIRS, { serial: 2 });
    writeFileSync(truncated, readFileSync(truncated).subarray(0, 5000));
    expect(bundleError(await refused(store, truncated)).reason).toBe('truncated');
    // the policy's entry size limit
    const big = await makeBundle(PAIRS, { serial: 2 });
    expect(bundleError(await refused(store, big, policyFile({ limits: '\n  maxEntryBytes: 1000' }))).reason).toBe('oversize');
  });

  it('property: random corruption of a bundle never crashes the import and, when refused, never changes the store', async () => {
    const seed = await storeWithOne();
    const good = readFileSync(await makeBundle(PAIRS, { serial: 2 }));
    const policy = policyFile();
    const work = tempDir('brickyard-prop-');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ at: fc.nat({ max: good.length - 1 }), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 3 }), async (edits) => {
        const store = join(work, 'store');
        rmSync(store, { recursive: true, force: true });
        cpSync(seed, store, { recursive: true, verbatimSymlinks: true });
        const before = snapshot(store);
        const bytes = Buffer.from(good);
        for (const e of edits) bytes[e.at] = e.value;
        writeFileSync(join(work, 'in.tar'), bytes);
        try {
          await importBundle({ bundlePath: join(work, 'in.tar'), policy: loadPolicy(policy), store, verifier: keys.verifier, now: later });
        } catch (e) {
          if (!(e instanceof BrickyardError)) throw e;
          expect(snapshot(store)).toEqual(before);
        }
        expect(readdirSync(work).sort()).toEqual(['in.tar', 'store']);
      }),
      { numRuns: 40 },
    );
  });

  it('checkBundle: every import check, nothing written', async () => {
    const b = await makeBundle(PAIRS);
    const ok = await checkBundle({ bundlePath: b, policy: loadPolicy(policyFile()), verifier: keys.verifier, now: later });
    expect(ok.images).toBe(2);
    expect(ok.identity).toBe(IDENTITY);
    const store = await storeWithOne();
    const before = snapshot(store);
    await expect(checkBundle({ bundlePath: b, policy: loadPolicy(policyFile()), verifier: keys.verifier, now: later, store })).rejects.toMatchObject({ code: 'ROLLBACK' });
    expect(snapshot(store)).toEqual(before);
  });

  it('imports a split bundle (parts directory)', async () => {
    const store = tempDir('brickyard-store-');
    const state = await signedState(PAIRS);
    const out = join(tempDir(), 'parts');
    await writeBundle({ stateDir: state, system: 'local', out, signer: keys.signer, serial: 1, source: SOURCE, now: NOW, chunkSize: 2048 });
    const r = await importInto(store, out);
    expect(r.images).toBe(2);
  });

  it('serialises concurrent imports with the lock (in one process; across processes in import-crash.e2e.test.ts)', async () => {
    const store = tempDir('brickyard-store-');
    // Two sources, each signed by its own repository's CI, so that every import has serial 1 of its own.
    const from = async (repo: string): Promise<string> =>
      makeBundle(PAIRS, { source: { repository: repo, commit: repo.at(-1)! }, bundleId: repo.at(-1)!, signer: new SigstoreManifestSigner(await repoSigner(repo)) });
    const policy = policyFile({ signers: signersYaml(['example/brickyard', 'example/a', 'example/b']) });
    const rs = await Promise.all([importInto(store, await from('example/a'), policy), importInto(store, await from('example/b'), policy)]);
    expect(rs.map((r) => r.generation).sort()).toEqual([1, 2]);
    expect(verifyAuditLog(store)).toHaveLength(2);
    expect(readdirSync(store).filter((n) => n.startsWith('.'))).toEqual(['.brickyard-store']);
  });

  it('a held lock makes a second import wait, and times out naming the holder', async () => {
    const store = await storeWithOne();
    const lock = await acquireStoreLock(store);
    await expect(
      importBundle({ bundlePath: await makeBundle(PAIRS, { serial: 2 }), policy: loadPolicy(policyFile()), store, verifier: keys.verifier, now: later, lockTimeoutMs: 200 }),
    ).rejects.toMatchObject({ code: 'STORE_LOCKED', message: expect.stringContaining(`process ${process.pid}`) });
    lock.release();
  });
});
