/**
 * The sign and publish actions, bundled (dist/index.js) and run as child processes with the
 * environment GitHub gives them: signing a real build of mpi-pingpong for `local` with the
 * development signer (keyless needs GitHub's OIDC token, which only a workflow job has), the
 * signed bundle attached to a release on a fake GitHub API on 127.0.0.1 (the upload_url points
 * back at it), and the images pushed to a real registry on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildPair, type BuildRecord } from '../../pipeline/src/build/build.ts';
import { verifyBundle } from '../../pipeline/src/bundle/read.ts';
import { siteVerifier } from '../../pipeline/src/transfer/site-trust.ts';
import { resolveImage, smoke } from '../../pipeline/src/smoke/run.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { runAction } from '../helpers/action.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { receivedBuild, recipe } from '../helpers/received-build.ts';
import { startFakeReleases, type FakeReleasesApi } from '../helpers/github-releases-api.ts';
import { missingTools, startRegistry } from '../helpers/services.ts';

const GITHUB_ENV = { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: 'b'.repeat(40), GITHUB_WORKFLOW_REF: 'o/r/.github/workflows/main.yml@refs/heads/main', GITHUB_RUN_ATTEMPT: '1' };
const PAIR = { recipe: 'mpi-pingpong', version: '1.0.0', system: 'local', partition: 'debug' };
const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

let api: FakeReleasesApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('sign and publish actions without a build', () => {
  it('sign fails clearly without an OIDC token when keyless, before writing anything', async () => {
    const state = tempDir('brickyard-sign-state-');
    const m = receivedBuild();
    const r = await runAction('sign', { pairs: JSON.stringify([PAIR]), system: 'local', builds: m.dir, 'state-dir': state }, { workspace: repoRoot, eventName: 'push' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^::error::brickyard sign: keyless signing needs an OIDC identity token, and this job has none \(give the signing job `permissions: id-token: write`/m,
    );
    expect(existsSync(join(state, 'builds'))).toBe(false);
  });

  it('sign needs the received builds, and names the artifact it did not find', async () => {
    const none = await runAction('sign', { recipe: 'mpi-pingpong@1.0.0', system: 'local/debug', signer: 'dev' }, { workspace: repoRoot });
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('::error::brickyard sign: builds is required');
    const r = await runAction('sign', { recipe: 'mpi-pingpong@1.0.0', system: 'local/debug', builds: tempDir(), 'state-dir': tempDir(), signer: 'dev' }, { workspace: repoRoot });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /::error::brickyard sign: refusing to sign the build of mpi-pingpong@1\.0\.0 for local\/debug \(.*\): the artifact folder does not exist \(download the artifact brickyard-build@local@mpi-pingpong@1\.0\.0@debug into it\)/,
    );
    const bare = await runAction('sign', { recipe: 'mpi-pingpong', system: 'local/debug', builds: tempDir(), signer: 'dev' }, { workspace: repoRoot });
    expect(bare.stdout).toContain('recipe must be name@version, got "mpi-pingpong"');
  });

  it('sign (dev) re-hashes a received build, signs what it made, and says what it re-hashed', async () => {
    const m = receivedBuild();
    const state = tempDir('brickyard-signed-');
    const r = await runAction(
      'sign',
      { pairs: JSON.stringify({ include: [{ ...PAIR, runner: ['ubuntu-24.04'] }] }), system: 'local', builds: join(m.dir, '..'), 'state-dir': state, signer: 'dev' },
      { workspace: repoRoot, eventName: 'push', env: GITHUB_ENV },
    );
    expect(r.stdout).not.toContain('::error');
    expect(r.code).toBe(0);
    const hex = m.manifestDigest.slice(7);
    expect(JSON.parse(r.outputs['subjects']!)).toEqual([{ name: `mpi-pingpong_1.0.0-${recipe.doc.revision}_local-debug`, digest: m.manifestDigest }]);
    expect(readFileSync(r.outputs['subject-checksums']!, 'utf8')).toBe(`${hex}  mpi-pingpong_1.0.0-${recipe.doc.revision}_local-debug\n`);
    const bundles = JSON.parse(r.outputs['bundles']!) as string[];
    expect(bundles.every((b) => b.startsWith(state))).toBe(true);
    expect(bundles.map((b) => b.slice(b.lastIndexOf('/') + 1)).sort()).toEqual(['provenance.sigstore.json', 'sbom.sigstore.json', 'test-result-direct.sigstore.json']);
    expect(r.summary).toContain(`sha256:${hex}`);
  });

  it('sign refuses a forged build: build.json names another digest than the layout holds', async () => {
    const m = receivedBuild();
    const record = JSON.parse(readFileSync(join(m.pairDir, 'build.json'), 'utf8'));
    record.image.manifestDigest = 'sha256:' + 'e'.repeat(64);
    writeFileSync(join(m.pairDir, 'build.json'), JSON.stringify(record));
    const state = tempDir();
    const r = await runAction(
      'sign',
      { recipe: 'mpi-pingpong@1.0.0', system: 'local/debug', builds: m.dir, 'state-dir': state, signer: 'dev' },
      { workspace: repoRoot, eventName: 'push' },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /::error::brickyard sign: refusing to sign the build of mpi-pingpong@1\.0\.0 for local\/debug .*build\.json says the image is sha256:e{64}, the layout holds sha256:[0-9a-f]{64}/,
    );
    expect(existsSync(join(state, 'builds'))).toBe(false);
  });

  it('sign and publish refuse a signer they do not know; publish refuses bad inputs without calling the API', async () => {
    api = await startFakeReleases();
    const s = await runAction('sign', { recipe: 'mpi-pingpong@1.0.0', system: 'local/debug', builds: tempDir(), signer: 'gpg' }, { workspace: repoRoot });
    expect(s.code).toBe(1);
    expect(s.stdout).toContain('::error::brickyard sign: signer must be keyless or dev, got "gpg"');
    const cases: [Record<string, string>, string][] = [
      [{ system: 'local', signer: 'gpg' }, 'signer must be keyless or dev, got "gpg"'],
      [{ system: 'local', signer: 'dev', tag: 'v1.0.0' }, 'github-token is required to attach the bundle to a release'],
      [{ system: 'local', signer: 'dev', tag: 'v1; rm -rf /', 'github-token': 't' }, 'is not a release tag'],
      [{ system: 'local', signer: 'dev', registry: 'http://evil/x' }, 'registry must be HOST[:PORT]/PREFIX'],
      [{ system: 'local', signer: 'dev', 'chunk-size': 'lots' }, 'chunk-size "lots" is not a size'],
      [{ system: 'nowhere', signer: 'dev', 'state-dir': tempDir() }, 'nowhere'],
      [{ system: 'local', signer: 'dev', 'state-dir': tempDir() }, 'nothing has been built for local'],
    ];
    for (const [inputs, message] of cases) {
      const r = await runAction('publish', inputs, { workspace: repoRoot, apiUrl: api.url });
      expect(r.code, JSON.stringify(inputs)).toBe(1);
      expect(r.stdout).toContain('::error::brickyard publish: ');
      expect(r.stdout).toContain(message);
    }
    expect(api.calls).toEqual([]);
  });
});

const missing = missingTools(['buildah', 'podman', 'skopeo', 'mmdebstrap', 'docker-registry']);
const root = process.getuid?.() === 0;
const why = !root ? 'needs root (buildah chroot builds, podman)' : missing.length ? `missing ${missing.join(', ')}: run scripts/setup-host.sh` : '';
if (why && process.env['CI']) throw new Error(`the sign and publish tests cannot run in CI: ${why}`);

describe.skipIf(why !== '')(`sign and publish a real build of mpi-pingpong for local${why ? ` (skipped: ${why})` : ''}`, () => {
  // The build job's state folder; the signer's own (`state`) is what publish packs.
  const buildState = tempDir('brickyard-build-state-');
  const state = tempDir('brickyard-publish-state-');
  const builds = tempDir('brickyard-received-');
  let record: BuildRecord;

  beforeAll(async () => {
    const ws = Workspace.open(repoRoot);
    const [where] = ws.partitionsOf('local/debug');
    record = await buildPair(ws, ws.pairAt('mpi-pingpong', where!), { stateDir: buildState });
    const image = await resolveImage(ws, 'mpi-pingpong@1.0.0', where!, buildState);
    const report = await smoke(ws, image, ws.pairAt(image.recipe, where!), { stateDir: buildState, launcher: 'direct' });
    expect(['PASSED', 'WARNED']).toContain(report.result);
    // What main.yml's build job uploads (.brickyard/builds/ and .brickyard/oci/), downloaded by the signer.
    const artifact = join(builds, 'brickyard-build@local@mpi-pingpong@1.0.0@debug');
    cpSync(join(buildState, 'builds'), join(artifact, 'builds'), { recursive: true });
    cpSync(join(buildState, 'oci'), join(artifact, 'oci'), { recursive: true });
  }, 900_000);

  it('sign (dev signer) re-hashes the real build, writes a Sigstore bundle per attestation and lists them with the identity in the summary', async () => {
    const env = { GITHUB_REF: 'refs/heads/main', GITHUB_SHA: 'b'.repeat(40), GITHUB_WORKFLOW_REF: 'o/r/.github/workflows/main.yml@refs/heads/main', GITHUB_RUN_ATTEMPT: '1' };
    const r = await runAction(
      'sign',
      { recipe: 'mpi-pingpong@1.0.0', system: 'local/debug', builds, 'state-dir': state, signer: 'dev' },
      { workspace: repoRoot, eventName: 'push', env },
    );
    expect(r.stdout).not.toContain('::error');
    expect(r.code).toBe(0);
    const bundles = JSON.parse(r.outputs['bundles']!) as string[];
    expect(bundles.map((b) => b.slice(b.lastIndexOf('/') + 1)).sort()).toEqual(['provenance.sigstore.json', 'sbom.sigstore.json', 'test-result-direct.sigstore.json']);
    for (const b of bundles) expect(JSON.parse(readFileSync(b, 'utf8')).mediaType).toBe('application/vnd.dev.sigstore.bundle.v0.3+json');
    expect(r.outputs['identity']).toBeTruthy();
    expect(r.summary).toContain('<h3>Signed: 1 pair(s), re-hashed before signing</h3>');
    expect(r.summary).toContain(`<td>${record.image.manifestDigest}</td>`);
    expect(r.summary).toContain(r.outputs['identity']!);
    expect(r.summary).toContain('development signer');
    for (const kind of ['provenance', 'sbom', 'test-result']) expect(r.summary).toContain(`<td>${kind}</td>`);
    // Provenance made in a workflow names the workflow run.
    const provenance = JSON.parse(readFileSync(bundles.find((b) => b.endsWith('/provenance.sigstore.json'))!.replace(/\.sigstore\.json$/, '.intoto.json'), 'utf8'));
    expect(JSON.stringify(provenance)).toContain('https://github.example/o/r/actions/runs/4242/attempts/1');
  }, 120_000);

  it('publish creates the release, uploads the manifest, its signature and the bundle tar byte for byte; a second run replaces them', async () => {
    api = await startFakeReleases();
    const inputs = { system: 'local', 'state-dir': state, 'github-token': 'ghs_fake', tag: 'v1.2.3', signer: 'dev' };
    const env = { GITHUB_RUN_NUMBER: '17', GITHUB_SHA: 'a'.repeat(40) };
    const first = await runAction('publish', inputs, { workspace: repoRoot, apiUrl: api.url, eventName: 'push', env });
    expect(first.stdout).not.toContain('::error');
    expect(first.code).toBe(0);
    const names = ['local-manifest.json', 'local-manifest.sigstore.json', 'local-bundle.tar'];
    expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      'GET /repos/o/r/releases/tags/v1.2.3',
      'POST /repos/o/r/releases',
      'GET /repos/o/r/releases/5000/assets',
      ...names.map(() => 'POST /uploads/repos/o/r/releases/5000/assets'),
    ]);
    expect(api.calls.filter((c) => c.path.startsWith('/uploads')).map((c) => c.query['name'])).toEqual(names);
    expect(api.calls.every((c) => c.authorization === 'token ghs_fake')).toBe(true);
    expect(api.calls[1]!.json).toMatchObject({ tag_name: 'v1.2.3', prerelease: false, target_commitish: 'a'.repeat(40) });
    const release = api.releases[0]!;
    expect(first.outputs['release-url']).toBe('https://github.example/o/r/releases/tag/v1.2.3');

    const assets = JSON.parse(first.outputs['assets']!) as { name: string; path: string; size: number; sha256: string }[];
    expect(assets.map((a) => a.name)).toEqual(names);
    for (const a of assets) {
      const uploaded = release.assets.find((x) => x.name === a.name)!;
      expect(uploaded.sha256).toBe(sha256(a.path));
      expect(uploaded.size).toBe(readFileSync(a.path).length);
    }
    const tar = assets[2]!.path;
    expect(first.outputs['bundle']).toBe(tar);
    expect(first.outputs['bundle-size']).toBe(String(readFileSync(tar).length));
    const manifest = readFileSync(assets[0]!.path);
    expect(first.outputs['manifest-digest']).toBe(`sha256:${createHash('sha256').update(manifest).digest('hex')}`);
    const parsed = JSON.parse(manifest.toString('utf8'));
    expect(parsed).toMatchObject({ kind: 'brickyard-bundle-manifest', serial: 17, systems: ['local'] }); // the run number
    expect(first.summary).toContain('<h3>Bundle: local (serial 17)</h3>');
    // The attestations the sign action wrote travel in the bundle.
    for (const f of ['provenance', 'sbom', 'test-result-direct']) {
      expect(parsed.entries.map((e: { path: string }) => e.path)).toContain(`builds/mpi-pingpong@1.0.0/local-debug/${f}.sigstore.json`);
    }

    // What was uploaded verifies offline against the development signer's trusted root, as a site would.
    const downloaded = join(tempDir('brickyard-download-'), 'local-bundle.tar');
    writeFileSync(downloaded, release.assets.find((a) => a.name === 'local-bundle.tar')!.data);
    const verified = await verifyBundle({ bundlePath: downloaded, verifier: await siteVerifier(join(state, 'dev-signer', 'trusted_root.json')) });
    expect(verified.manifest.bundleId).toBe(parsed.bundleId);
    // The separate manifest and signature are the ones inside the tar.
    expect(verified.manifest).toEqual(parsed);

    const before = new Map(release.assets.map((a) => [a.name, a.id]));
    const second = await runAction('publish', inputs, { workspace: repoRoot, apiUrl: api.url, eventName: 'push', env: { ...env, GITHUB_RUN_NUMBER: '18' } });
    expect(second.stdout).not.toContain('::error');
    expect(second.code).toBe(0);
    const calls = api.calls.slice(3 + names.length).map((c) => `${c.method} ${c.path}`);
    expect(calls).toEqual([
      'GET /repos/o/r/releases/tags/v1.2.3',
      'GET /repos/o/r/releases/5000/assets',
      ...names.flatMap((n) => [`DELETE /repos/o/r/releases/assets/${before.get(n)}`, 'POST /uploads/repos/o/r/releases/5000/assets']),
    ]);
    expect(api.releases).toHaveLength(1);
    expect(release.assets.map((a) => a.name).sort()).toEqual([...names].sort()); // replaced, not duplicated
    for (const a of JSON.parse(second.outputs['assets']!) as { name: string; path: string }[]) {
      expect(release.assets.find((x) => x.name === a.name)!.sha256).toBe(sha256(a.path));
    }
    expect(JSON.parse(readFileSync(join(state, 'publish', 'local', 'local-manifest.json'), 'utf8')).serial).toBe(18);
  }, 300_000);

  it('publish with chunk-size uploads checksums and the parts; they reassemble into a bundle that verifies', async () => {
    api = await startFakeReleases();
    const r = await runAction(
      'publish',
      { system: 'local', 'state-dir': state, 'github-token': 't', tag: 'v2.0.0', signer: 'dev', 'chunk-size': '16', prerelease: 'true', 'out-dir': join(state, 'parts-out') },
      { workspace: repoRoot, apiUrl: api.url, eventName: 'push' },
    );
    expect(r.stdout).not.toContain('::error');
    expect(r.code).toBe(0);
    const release = api.releases[0]!;
    expect(release.prerelease).toBe(true);
    const names = release.assets.map((a) => a.name);
    expect(names.slice(0, 3)).toEqual(['local-manifest.json', 'local-manifest.sigstore.json', 'local-checksums.txt']);
    const parts = names.slice(3);
    expect(parts.length).toBeGreaterThan(1);
    parts.forEach((n, i) => expect(n).toBe(`local-payload.tar.part${String(i).padStart(3, '0')}`));
    expect(release.assets.slice(3).every((a) => a.size <= 16 * 2 ** 20)).toBe(true);
    expect(r.outputs['bundle-size']).toBe(String(release.assets.slice(3).reduce((n, a) => n + a.size, 0)));
    // Outside GitHub's run numbers the serial comes from the state folder's counter.
    expect(JSON.parse(release.assets[0]!.data.toString('utf8')).serial).toBeGreaterThanOrEqual(1);

    // The documented way back: strip the `local-` prefix into one folder.
    const dir = tempDir('brickyard-parts-');
    for (const a of release.assets) writeFileSync(join(dir, a.name.replace(/^local-/, '')), a.data);
    const verified = await verifyBundle({ bundlePath: dir, verifier: await siteVerifier(join(state, 'dev-signer', 'trusted_root.json')) });
    expect(verified.manifest.parts?.length).toBe(parts.length);
  }, 300_000);

  it('publish pushes the images to a registry on 127.0.0.1 with their build digest', async () => {
    const registry = startRegistry();
    try {
      const r = await runAction(
        'publish',
        { system: 'local', 'state-dir': state, signer: 'dev', registry: `${registry.address}/brickyard/ci`, 'out-dir': join(state, 'registry-out') },
        { workspace: repoRoot },
      );
      expect(r.stdout).not.toContain('::error');
      expect(r.code).toBe(0);
      expect(r.outputs['release-url']).toBe('');
      const images = JSON.parse(r.outputs['images']!) as { reference: string; digest: string }[];
      expect(images).toEqual([{ reference: `${registry.address}/brickyard/ci/mpi-pingpong:1.0.0-local-debug`, digest: record.image.manifestDigest }]);
      const inspect = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${images[0]!.reference}`], { encoding: 'utf8' }));
      expect(inspect.Digest).toBe(record.image.manifestDigest);
      expect(r.summary).toContain(images[0]!.reference);
    } finally {
      registry.stop();
    }
  }, 300_000);
});
