/**
 * The trust chain on a real bundle: the main job builds mpi-pingpong for `local`, smoke-tests it
 * directly and through Slurm, signs and bundles it; then each class of forgery is made from that
 * bundle (unpacked, edited, re-signed with whatever signature an attacker can get) and must be
 * refused with a message naming the role, the file and what was expected, the store
 * byte-identical. The genuine bundle imports, before and after; the site executable checks and
 * imports it offline as the npm CLI does.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SIGNATURE } from '../../pipeline/src/bundle/manifest.ts';
import { SigstoreManifestSigner, SigstoreManifestVerifier } from '../../pipeline/src/bundle/sigstore.ts';
import { attest, writeBundle as writeSigstoreBundle } from '../../pipeline/src/sign/attest.ts';
import { loadOrCreateDevSigner, type DevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import { importBundle, type ImportResult } from '../../pipeline/src/site/store.ts';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { canUnshare, expectCheckAndImportAsNpm, siteTools } from '../helpers/sea.ts';
import { sha256, snapshot } from '../bundle/fixture.ts';
import { relist, resign, unlist } from './forge.ts';

const SITE_RUNNER = 'https://github.com/example/brickyard/.github/workflows/sign-test-results.yml@refs/heads/main';
const PAIR = 'builds/mpi-pingpong@1.0.0/local-debug';

let out: string;
let tar: string;
let ci: DevSigner;
let siteRunner: DevSigner;
let verifier: SigstoreManifestVerifier;
let policy: string;

beforeAll(() => {
  out = tempDir('brickyard-main-');
  const node = join(repoRoot, 'node_modules', '.bin', 'node');
  const r = spawnSync(node, [join(repoRoot, 'bin', 'brickyard.js'), 'run', '--out', out, '--json'], { encoding: 'utf8', cwd: repoRoot, timeout: 900_000 });
  expect(r.status, r.stderr.slice(-3000)).toBe(0);
  tar = join(
    out,
    'bundles',
    readdirSync(join(out, 'bundles')).find((n) => n.endsWith('.tar'))!,
  );
}, 900_000);

beforeAll(async () => {
  // The main job's development signer plays CI; a second identity under the same CA plays a site's own runner.
  ci = await loadOrCreateDevSigner(join(out, 'dev-signer'));
  siteRunner = await loadOrCreateDevSigner(join(out, 'dev-signer'), { identity: SITE_RUNNER });
  const root = join(out, 'dev-signer', 'trusted_root.json');
  verifier = new SigstoreManifestVerifier({ trustedRoot: JSON.parse(readFileSync(root, 'utf8')), ctlogThreshold: 0 });
  const me = `{identity: {exact: '${ci.identity}'}, issuer: ${ci.issuer}}`;
  policy = join(tempDir('brickyard-policy-'), 'site-policy.yaml');
  writeFileSync(
    policy,
    [
      'version: 2',
      'system: local',
      `trustedRoot: {sha256: ${sha256(readFileSync(root))}, path: ${root}}`,
      'signers:',
      `  manifest: [${me}]`,
      `  provenance: [${me}]`,
      `  sbom: [${me}]`,
      `  testResult: [${me}, {identity: {exact: '${SITE_RUNNER}'}, issuer: ${siteRunner.issuer}, systems: [local]}]`,
      'require: {provenance: true, sbom: true, smoke: true, acceptWarned: true}',
      'licenses: [Apache-2.0, BSD-3-Clause, MIT, LicenseRef-STREAM]',
      'maxAgeDays: 30',
    ].join('\n') + '\n',
  );
});

/** The main job's bundle, unpacked into a fresh folder (the folder form imports like the tar). */
function unpacked(): string {
  const dir = join(tempDir('brickyard-forge-'), 'bundle');
  mkdirSync(dir);
  execFileSync('tar', ['-xf', tar, '-C', dir]);
  return dir;
}

function freshStore(): string {
  return join(tempDir('brickyard-site-'), 'store');
}

function importInto(store: string, bundle: string): Promise<ImportResult> {
  return importBundle({ bundlePath: bundle, policy: loadPolicy(policy), store, verifier, now: new Date() });
}

async function refused(store: string, bundle: string): Promise<BrickyardError & { reason?: string; entry?: string }> {
  const before = snapshot(store);
  const beside = readdirSync(join(store, '..')).sort();
  const err = await importInto(store, bundle).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'the import should have been refused').toBeInstanceOf(BrickyardError);
  expect(snapshot(store)).toEqual(before);
  expect(readdirSync(join(store, '..')).sort()).toEqual(beside);
  return err as BrickyardError & { reason?: string; entry?: string };
}

const byCi = async (bytes: Buffer): Promise<object> => (await new SigstoreManifestSigner(ci).sign(bytes)).bundleJson;

interface Statement {
  subject: { name: string; digest: { sha256: string } }[];
  predicate: Record<string, unknown> & { configuration: { content?: string; digest?: Record<string, string>; annotations?: Record<string, unknown> }[] };
}

/** The real signed test-result statement of the pair, with its target (system, partition, image) changed and re-hashed. */
function retarget(dir: string, launcher: string, change: Record<string, unknown>): Statement {
  const st = JSON.parse(readFileSync(join(dir, PAIR, `test-result-${launcher}.intoto.json`), 'utf8')) as Statement;
  const target = st.predicate.configuration.find((c) => c.annotations?.['brickyardRole'] === 'target')!;
  const content = { ...(JSON.parse(Buffer.from(target.content!, 'base64').toString('utf8')) as Record<string, unknown>), ...change };
  const json = JSON.stringify(content);
  target.content = Buffer.from(json).toString('base64');
  target.digest = { sha256: createHash('sha256').update(json).digest('hex') };
  return st;
}

/** Replace every test result of the pair with `statement`, signed by `signer`, and re-sign the manifest as CI. */
async function onlyTestResult(dir: string, statement: object, signer: DevSigner = ci): Promise<void> {
  const pair = join(dir, PAIR);
  for (const f of readdirSync(pair).filter((n) => n.startsWith('test-result-') && n.endsWith('.sigstore.json'))) rmSync(join(pair, f));
  writeSigstoreBundle(join(pair, 'test-result-direct.sigstore.json'), await attest(statement, signer));
  await resign(
    dir,
    (m) => {
      unlist(m, (p) => p.startsWith(`${PAIR}/test-result-`) && p.endsWith('.sigstore.json') && !p.endsWith('test-result-direct.sigstore.json'));
      relist(dir, m, `${PAIR}/test-result-direct.sigstore.json`);
    },
    byCi,
  );
}

describe('the main job bundle under forgery', () => {
  it('imports as it is, with its direct and Slurm test results signed', async () => {
    const r = await importInto(freshStore(), tar);
    expect(r.admitted.map((a) => a.refName)).toEqual(['mpi-pingpong_1.0.0-2_local-debug']);
    expect(r.admitted[0]!.tests.map((t) => t.launcher).sort()).toEqual(['direct', 'slurm']);
    expect(r.skipped).toEqual([]);
  });

  it('1. a forged manifest (serial 999999) signed with an attestation about its bytes is refused; the genuine bundle still imports', async () => {
    const store = freshStore();
    const dir = unpacked();
    await resign(
      dir,
      (m) => (m.serial = 999_999),
      async (bytes) =>
        attest(
          {
            _type: 'https://in-toto.io/Statement/v1',
            subject: [{ name: 'manifest.json', digest: { sha256: sha256(bytes) } }],
            predicateType: 'https://slsa.dev/provenance/v1',
            predicate: {},
          },
          ci,
        ),
    );
    const e = await refused(store, dir);
    expect(e.code).toBe('SIGNATURE_INVALID');
    expect(e.entry).toBe(SIGNATURE);
    expect(e.message).toMatch(/expected exactly "application\/vnd\.brickyard\.bundle-manifest\.v1\+json"/);
    // the pair's own provenance signature in the manifest place
    const dir2 = unpacked();
    await resign(
      dir2,
      () => {},
      () => Promise.resolve(JSON.parse(readFileSync(join(dir2, PAIR, 'provenance.sigstore.json'), 'utf8')) as object),
    );
    expect((await refused(store, dir2)).code).toBe('SIGNATURE_INVALID');
    // a manifest signed by the site's runner, which may sign test results only
    const dir3 = unpacked();
    await resign(
      dir3,
      () => {},
      async (bytes) => (await new SigstoreManifestSigner(siteRunner).sign(bytes)).bundleJson,
    );
    expect((await refused(store, dir3)).message).toMatch(/bundle manifest was signed by .*sign-test-results\.yml/);
    expect((await importInto(store, tar)).generation).toBe(1);
  });

  const cases: [string, (dir: string) => Promise<void>, string, RegExp][] = [
    [
      'every signature removed',
      async (dir) => {
        for (const f of readdirSync(join(dir, PAIR)).filter((n) => n.endsWith('.sigstore.json'))) rmSync(join(dir, PAIR, f));
        await resign(dir, (m) => unlist(m, (p) => p.startsWith(PAIR) && p.endsWith('.sigstore.json')), byCi);
      },
      'attestation',
      /no signed SLSA provenance/,
    ],
    [
      'the provenance signature replaced by {}',
      async (dir) => {
        writeFileSync(join(dir, PAIR, 'provenance.sigstore.json'), '{}');
        await resign(dir, (m) => relist(dir, m, `${PAIR}/provenance.sigstore.json`), byCi);
      },
      'attestation',
      /SLSA provenance attestation .*provenance\.sigstore\.json does not verify/,
    ],
    [
      'a DSSE payload edited',
      async (dir) => {
        const f = join(dir, PAIR, 'sbom.sigstore.json');
        const b = JSON.parse(readFileSync(f, 'utf8')) as { dsseEnvelope: { payload: string } };
        b.dsseEnvelope.payload = Buffer.from(Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8').replace('"SPDX-2.3"', '"SPDX-2.3" ')).toString('base64');
        writeFileSync(f, JSON.stringify(b));
        await resign(dir, (m) => relist(dir, m, `${PAIR}/sbom.sigstore.json`), byCi);
      },
      'attestation',
      /SBOM attestation .*sbom\.sigstore\.json does not verify/,
    ],
    [
      'the SBOM removed',
      async (dir) => {
        rmSync(join(dir, PAIR, 'sbom.sigstore.json'));
        await resign(dir, (m) => unlist(m, (p) => p === `${PAIR}/sbom.sigstore.json`), byCi);
      },
      'attestation',
      /no signed SBOM/,
    ],
    [
      'a report that says PASSED while every test in it FAILED',
      async (dir) => {
        const st = retarget(dir, 'direct', {});
        const smoke = st.predicate['brickyardSmoke'] as { tests: { name: string; verdict: string }[] };
        for (const t of smoke.tests) t.verdict = 'FAILED';
        st.predicate['failedTests'] = smoke.tests.map((t) => t.name);
        st.predicate['passedTests'] = [];
        await onlyTestResult(dir, st);
      },
      'smoke-failed',
      /signed test result .*test-result-direct\.sigstore\.json says the smoke test of mpi-pingpong@1\.0\.0\/local-debug FAILED/,
    ],
    [
      'the test results are for another partition',
      async (dir) => onlyTestResult(dir, retarget(dir, 'direct', { partition: 'other' })),
      'smoke',
      /no signed PASSED or WARNED test result for this site's system local\/debug/,
    ],
    [
      'the test results are for another image',
      async (dir) => onlyTestResult(dir, retarget(dir, 'direct', { image: { reference: 'x', digest: `sha256:${'0'.repeat(64)}` } })),
      'smoke',
      /is about image sha256:0{64}/,
    ],
  ];
  it.each(cases)('3. %s: refused', async (_name, forge, reason, message) => {
    const store = freshStore();
    const dir = unpacked();
    await forge(dir);
    const e = await refused(store, dir);
    expect(e.reason).toBe(reason);
    expect(e.message).toMatch(message);
  });

  it("5. the site's own runner may sign its system's test results, and only those", async () => {
    const dir = unpacked();
    await onlyTestResult(dir, retarget(dir, 'slurm', {}), siteRunner);
    const r = await importInto(freshStore(), dir);
    expect(r.admitted[0]!.tests.map((t) => [t.launcher, t.signer])).toEqual([['slurm', SITE_RUNNER]]);
  });

  it('4. references the bundle adds beyond its admitted image are skipped, not stored', async () => {
    const dir = unpacked();
    const indexPath = join(dir, 'oci', 'index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { manifests: { digest: string; mediaType: string; size: number; annotations: Record<string, string> }[] };
    const image = index.manifests[0]!;
    const manifest = JSON.parse(readFileSync(join(dir, 'oci', 'blobs', 'sha256', image.digest.slice(7)), 'utf8')) as {
      config: { digest: string; size: number; mediaType: string };
    };
    index.manifests.push(
      { ...image, annotations: { 'org.opencontainers.image.ref.name': 'latest' } },
      { ...manifest.config, annotations: { 'org.opencontainers.image.ref.name': 'config-as-image' } },
    );
    writeFileSync(indexPath, JSON.stringify(index));
    await resign(dir, (m) => relist(dir, m, 'oci/index.json'), byCi);
    const store = freshStore();
    const r = await importInto(store, dir);
    expect(r.skipped.map((s) => s.ref).sort()).toEqual(['config-as-image', 'latest']);
    const stored = JSON.parse(readFileSync(join(store, 'oci', 'index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    expect(stored.manifests.map((d) => d.annotations['org.opencontainers.image.ref.name'])).toEqual(['mpi-pingpong_1.0.0-2_local-debug']);
  });

  it('6. a manifest that claims to be newer than its signature is refused', async () => {
    const dir = unpacked();
    await resign(dir, (m) => (m.created = new Date(Date.now() + 20 * 86_400_000).toISOString()), byCi);
    expect((await refused(freshStore(), dir)).reason).toBe('future');
  });
});

describe('a confidential bundle of the real image', () => {
  it('encrypts for the site key; it unpacks and runs under podman only with the key; import decrypts it to the signed digest', async () => {
    const node = join(repoRoot, 'node_modules', '.bin', 'node');
    const bin = join(repoRoot, 'bin', 'brickyard.js');
    const keys = tempDir('brickyard-site-key-');
    execFileSync('openssl', ['genrsa', '-out', join(keys, 'site.pem'), '2048'], { stdio: 'ignore' });
    execFileSync('openssl', ['rsa', '-in', join(keys, 'site.pem'), '-pubout', '-out', join(keys, 'site.pub.pem')], { stdio: 'ignore' });
    const bundle = join(tempDir('brickyard-enc-'), 'enc');
    const made = spawnSync(node, [bin, 'bundle', '--system', 'local', '--state', out, '--out', bundle, '--serial', '50', '--encrypt-for', join(keys, 'site.pub.pem'), '--json'], {
      encoding: 'utf8',
      cwd: repoRoot,
    });
    expect(made.status, made.stderr).toBe(0);
    const ref = 'mpi-pingpong_1.0.0-2_local-debug';
    // A storage of its own: the built image (same config, so the same image id) must not stand in for the pull.
    // Directly under /tmp: podman refuses a runroot over 50 characters.
    const storage = tempDir('brickyard-podman-', '/tmp');
    const podman = ['--root', join(storage, 'root'), '--runroot', join(storage, 'run')];
    try {
      // podman 4.3 (Debian 12) has no --decryption-key: skopeo, the same containers/image code,
      // decrypts into that storage. Without the key the layers cannot be unpacked; with it, podman runs the image.
      const into = `containers-storage:[overlay@${join(storage, 'root')}+${join(storage, 'run')}]localhost/confidential:test`;
      const noKey = spawnSync('skopeo', ['copy', '--quiet', `oci:${join(bundle, 'oci')}:${ref}`, into], { encoding: 'utf8' });
      expect(noKey.status).not.toBe(0);
      const pulled = spawnSync('skopeo', ['copy', '--quiet', '--decryption-key', join(keys, 'site.pem'), `oci:${join(bundle, 'oci')}:${ref}`, into], { encoding: 'utf8' });
      expect(pulled.status, pulled.stderr).toBe(0);
      const ran = spawnSync('podman', [...podman, 'run', '--rm', '--network=none', '--entrypoint', '/bin/sh', 'localhost/confidential:test', '-c', 'echo decrypted-and-running'], {
        encoding: 'utf8',
      });
      expect(ran.stdout, ran.stderr).toContain('decrypted-and-running');
    } finally {
      spawnSync('podman', [...podman, 'system', 'reset', '--force']);
    }
    const store = freshStore();
    const r = await importBundle({ bundlePath: bundle, policy: loadPolicy(policy), store, verifier, now: new Date(), decryptionKeyPath: join(keys, 'site.pem') });
    const record = JSON.parse(readFileSync(join(out, PAIR, 'build.json'), 'utf8')) as { image: { manifestDigest: string } };
    expect(r.admitted[0]!.manifestDigest).toBe(record.image.manifestDigest);
    execFileSync('skopeo', ['inspect', '--raw', `oci:${join(store, 'oci')}:${ref}`]);
  });
});

describe.skipIf(!canUnshare)('the site executable on the main job bundle', () => {
  it('checks and imports it offline, from a folder with no Node on PATH, as the npm CLI does', async () => {
    const work = tempDir('brickyard-sea-main-');
    const tools = await siteTools(work);
    expectCheckAndImportAsNpm(tools, tar, policy);
    expect(tools.sea(['audit', '--store', 'store-sea'])).toMatchObject({ code: 0, stdout: expect.stringMatching(/^audit log intact: 1 entry\n$/) });
  }, 600_000);
});
