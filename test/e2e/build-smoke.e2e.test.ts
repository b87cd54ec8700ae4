/**
 * Real builds and smoke tests on this host: buildah builds mpi-pingpong for the `local` system,
 * skopeo and umoci read the OCI layout, podman runs the MPI ping-pong directly and the rendered
 * job script runs it through a real single-node Slurm (srun --mpi=pmix). Needs root and the
 * tools scripts/setup-host.sh installs; CI installs them, so there a missing tool fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPair, type BuildRecord } from '../../pipeline/src/build/build.ts';
import { attestPair } from '../../pipeline/src/sign/pair.ts';
import { loadOrCreateDevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import { loadOrCreateSiteKey, sitePublicKey, verifySiteBundle } from '../../pipeline/src/sign/site-key.ts';
import { writeDevPolicy } from '../../pipeline/src/site/dev-policy.ts';
import { SigstoreManifestSigner } from '../../pipeline/src/bundle/sigstore.ts';
import { writeBundle } from '../../pipeline/src/bundle/write.ts';
import { verifySigstoreBundle } from '../../pipeline/src/sign/verify.ts';
import { resolveImage, smoke } from '../../pipeline/src/smoke/run.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { copyOfShipped, repoRoot, tempDir } from '../helpers/fixture.ts';
import { missingTools, startRegistry, startSlurm, type Slurm } from '../helpers/services.ts';

const TOOLS = ['buildah', 'podman', 'skopeo', 'umoci', 'mmdebstrap', 'sbatch', 'munged', 'mpicc', 'docker-registry', 'siftool', 'mksquashfs', 'ch-run', 'squashfuse'];
const missing = missingTools(TOOLS);
const root = process.getuid?.() === 0;
const why = !root ? 'needs root (buildah chroot builds, podman)' : missing.length ? `missing ${missing.join(', ')}: run scripts/setup-host.sh` : '';
if (why && process.env['CI']) throw new Error(`the build and smoke tests cannot run in CI: ${why}`);

describe.skipIf(why !== '')(`build and smoke on this host${why ? ` (skipped: ${why})` : ''}`, () => {
  const state = tempDir('brickyard-state-');
  let ws: Workspace;
  let record: BuildRecord;
  let slurm: Slurm | undefined;

  beforeAll(async () => {
    ws = Workspace.open(repoRoot);
    const [where] = ws.partitionsOf('local/debug');
    record = await buildPair(ws, ws.pairAt('mpi-pingpong', where!), { stateDir: state, sif: true });
  }, 900_000);

  afterAll(() => slurm?.stop());

  it('writes a build record, an OCI layout that skopeo and umoci read, with OCI and Brickyard annotations', () => {
    expect(record.image.manifestDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(record.sizes.uncompressedBytes).toBeGreaterThan(10 * 2 ** 20);
    expect(record.sizes.uncompressedBytes).toBeLessThan(record.sizes.budgetBytes);
    // The runtime stage: no toolchain (829.9 MiB as one stage), and libhwloc-plugins left out
    // (libxml2 -> libicu72, 36 MiB; 151.8 MiB with it). Issue 13's goal: at most 150 MiB.
    expect(record.sizes.uncompressedBytes).toBeLessThanOrEqual(150 * 2 ** 20);
    expect(record.sizes.compressedBytes).toBeLessThan(record.sizes.uncompressedBytes);
    const stored = JSON.parse(readFileSync(join(dirname(record.log), 'build.json'), 'utf8')) as BuildRecord;
    expect(stored.sizes).toEqual(record.sizes);
    process.stdout.write(
      `mpi-pingpong on local: ${(record.sizes.uncompressedBytes / 2 ** 20).toFixed(1)} MiB uncompressed, ${(record.sizes.compressedBytes / 2 ** 20).toFixed(1)} MiB compressed\n`,
    );
    const layout = record.image.ociLayout;
    const inspect = JSON.parse(execFileSync('skopeo', ['inspect', `oci:${layout}:${record.image.refName}`], { encoding: 'utf8' }));
    expect(inspect.Digest).toBe(record.image.manifestDigest);
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--raw', `oci:${layout}:${record.image.refName}`], { encoding: 'utf8' }));
    expect(raw.annotations).toMatchObject({
      'org.opencontainers.image.title': 'mpi-pingpong',
      'org.opencontainers.image.version': '1.0.0',
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'dev.brickyard.recipe': 'mpi-pingpong@1.0.0',
      'dev.brickyard.system': 'local',
      'dev.brickyard.partition': 'debug',
      'dev.brickyard.lock-digest': record.lockDigest,
    });
    expect(raw.annotations['org.opencontainers.image.created']).toBe(record.created);
    const bundle = join(tempDir('brickyard-umoci-'), 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:${record.image.refName}`, bundle], { stdio: 'pipe' });
    expect(existsSync(join(bundle, 'rootfs', 'usr', 'local', 'bin', 'brickyard-pingpong'))).toBe(true);
  });

  it('pushes the image from the OCI layout into the registry on 127.0.0.1, digest kept', () => {
    const registry = startRegistry();
    try {
      const dest = `docker://${registry.address}/brickyard/mpi-pingpong:1.0.0-2-local-debug`;
      execFileSync('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', `oci:${record.image.ociLayout}:${record.image.refName}`, dest], { stdio: 'pipe' });
      const remote = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', dest], { encoding: 'utf8' }));
      expect(remote.Digest).toBe(record.image.manifestDigest);
    } finally {
      registry.stop();
    }
  }, 120_000);

  it('writes a valid SPDX 2.3 SBOM that lists Open MPI from the image', () => {
    const sbom = JSON.parse(readFileSync(record.sbom.path, 'utf8'));
    expect(sbom.spdxVersion).toBe('SPDX-2.3');
    const names = sbom.packages.map((p: { name: string }) => p.name);
    expect(names.some((n: string) => n.includes('openmpi'))).toBe(true);
    // libhwloc-plugins is stood in for, so neither it nor what it pulls in is in the image.
    expect(names).toContain('brickyard-stand-in-libhwloc-plugins');
    expect(names.filter((n: string) => /^(libhwloc-plugins|libxml2|libicu\d+)$/.test(n))).toEqual([]);
    expect(names).toContain('libhwloc15');
    expect(record.sbom.packages).toBeGreaterThan(50);
  });

  it('smoke-tests the image directly with podman: plausible figures, GPU skipped with its reason', async () => {
    const [where] = ws.partitionsOf('local/debug');
    const image = await resolveImage(ws, 'mpi-pingpong@1.0.0', where!, state);
    const report = await smoke(ws, image, ws.pairAt(image.recipe, where!), { stateDir: state, launcher: 'direct' });
    const mpi = report.tests.find((t) => t.kind === 'mpi-pingpong')!;
    expect(mpi.verdict, mpi.summary).not.toBe('FAILED');
    const lat = Number(mpi.figures?.['latency_8B_us']);
    const bw = Number(mpi.figures?.['bandwidth_4MiB_MBps']);
    expect(lat).toBeGreaterThan(0);
    expect(lat).toBeLessThan(50);
    expect(bw).toBeGreaterThan(0);
    expect(String(mpi.figures?.['library'])).toMatch(/Open MPI/);
    const gpu = report.tests.find((t) => t.kind === 'gpu-check')!;
    expect(gpu.verdict).toBe('SKIPPED');
    expect(gpu.summary.length).toBeGreaterThan(5);
    expect(report.result).not.toBe('FAILED');
    expect(report.statement).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://in-toto.io/attestation/test-result/v0.1' });
  }, 300_000);

  it('the smoke ping-pong follows the recipe launch layout: 3 ranks per node run the probe with 3 ranks', async () => {
    const [where] = ws.partitionsOf('local/debug');
    const built = await resolveImage(ws, 'mpi-pingpong@1.0.0', where!, state);
    // The layout changes only the launch, not the image: the same image, the recipe with launch.
    const recipe = { ...built.recipe, doc: { ...built.recipe.doc, launch: { ranksPerNode: 3 } } };
    const report = await smoke(ws, { ...built, recipe }, ws.pairAt(recipe, where!), { stateDir: tempDir('brickyard-layout-'), launcher: 'direct', trials: 1 });
    const mpi = report.tests.find((t) => t.kind === 'mpi-pingpong')!;
    // 3 ranks on this 2-core host oversubscribe it: the figures may warn, the rank count must hold.
    expect(mpi.figures?.['ranks'], `${mpi.summary}\n${(mpi.details ?? []).join('\n')}`).toBe(3);
    expect(mpi.thresholds?.['expected_ranks']).toBe(3);
    expect([mpi.summary, ...(mpi.details ?? [])].join('\n')).not.toMatch(/ranks, expected/);
  }, 300_000);

  it('smoke-tests the image through Slurm with the rendered job script', async () => {
    slurm = startSlurm();
    try {
      const [where] = ws.partitionsOf('local/debug');
      const image = await resolveImage(ws, 'mpi-pingpong@1.0.0', where!, state);
      const report = await smoke(ws, image, ws.pairAt(image.recipe, where!), { stateDir: state, launcher: 'slurm', slurmEnv: slurm.env });
      const mpi = report.tests.find((t) => t.kind === 'mpi-pingpong')!;
      expect(mpi.verdict, `${mpi.summary}\n${(mpi.details ?? []).join('\n')}`).not.toBe('FAILED');
      expect(Number(mpi.figures?.['latency_8B_us'])).toBeGreaterThan(0);
      expect(mpi.figures?.['ranks']).toBe(2);
    } finally {
      slurm.stop(); // the main-job test below starts its own on the same ports
      slurm = undefined;
    }
  }, 300_000);

  it('signs the provenance, SBOM and test-results with the development signer; each verifies offline against the image', async () => {
    const [where] = ws.partitionsOf('local/debug');
    const result = await attestPair(ws, ws.pairAt('mpi-pingpong', where!), { stateDir: state });
    expect(result.signer).toBe('dev');
    expect(result.files.map((f) => f.kind).sort()).toEqual(['provenance', 'sbom', 'test-result', 'test-result']);
    const trustedRoot = JSON.parse(readFileSync(join(state, 'dev-signer', 'trusted_root.json'), 'utf8'));
    const manifestBlob = join(record.image.ociLayout, 'blobs', 'sha256', record.image.manifestDigest.slice(7));
    for (const f of result.files) {
      const bundle = JSON.parse(readFileSync(f.bundle, 'utf8'));
      const v = await verifySigstoreBundle({
        bundle,
        artifact: { path: manifestBlob },
        trustedRoot,
        policy: { identity: result.identity, issuer: result.issuer },
        ctlogThreshold: 0,
      });
      expect(v.identity).toBe(result.identity);
    }
    const provenance = JSON.parse(readFileSync(result.files.find((f) => f.kind === 'provenance')!.statement, 'utf8'));
    expect(provenance.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(provenance.subject[0].digest.sha256).toBe(record.image.manifestDigest.slice(7));
    // Another artifact, or a near-miss identity, fails.
    const bundle = JSON.parse(readFileSync(result.files[0]!.bundle, 'utf8'));
    await expect(
      verifySigstoreBundle({ bundle, artifact: { path: record.sbom.path }, trustedRoot, policy: { identity: result.identity, issuer: result.issuer }, ctlogThreshold: 0 }),
    ).rejects.toThrow(/subject|digest/);
    await expect(
      verifySigstoreBundle({ bundle, artifact: { path: manifestBlob }, trustedRoot, policy: { identity: result.identity + 'x', issuer: result.issuer }, ctlogThreshold: 0 }),
    ).rejects.toThrow(/identity/);
  }, 120_000);

  it('bundles the built pair, imports it offline (unshare -n) under a site policy; a changed byte or another identity is refused and the store is unchanged', async () => {
    const node = join(repoRoot, 'node_modules', '.bin', 'node');
    const bin = join(repoRoot, 'bin', 'brickyard.js');
    const dev = await loadOrCreateDevSigner(join(state, 'dev-signer'));
    const policy = join(state, 'site-policy.yaml');
    writeDevPolicy(policy, {
      system: 'local',
      identity: dev.identity,
      issuer: dev.issuer,
      trustedRootPath: join(state, 'dev-signer', 'trusted_root.json'),
      licenses: ['Apache-2.0'],
    });
    const tar = join(tempDir('brickyard-bundle-'), 'b.tar');
    const made = spawnSync(node, [bin, 'bundle', '--system', 'local', '--state', state, '--out', tar, '--json'], { encoding: 'utf8', cwd: repoRoot });
    expect(made.status, made.stderr).toBe(0);
    expect(JSON.parse(made.stdout).images).toBe(1);
    // Issue 13's goal for what crosses the air gap: the image's bundle at most 80 MiB. The bundle
    // also carries the SIF, a second copy of the same root file system (squashfs, zstd): measured
    // 85.3 MiB in all on 2026-12-03 (the image 43.0 MiB compressed), bounded at 90 MiB.
    const tarBytes = statSync(tar).size;
    const sifBytes = statSync(record.sif!.path).size;
    process.stdout.write(`bundle for local (mpi-pingpong): ${(tarBytes / 2 ** 20).toFixed(1)} MiB, of it the SIF ${(sifBytes / 2 ** 20).toFixed(1)} MiB\n`);
    expect(tarBytes - sifBytes).toBeLessThanOrEqual(80 * 2 ** 20);
    expect(tarBytes).toBeLessThanOrEqual(90 * 2 ** 20);
    expect(spawnSync('tar', ['-tf', tar], { encoding: 'utf8' }).stdout).toMatch(/^manifest\.json\nmanifest\.sigstore\.json\nchecksums\.txt\n/);

    const listing = (dir: string): string =>
      existsSync(dir) ? execFileSync('find', [dir, '-printf', '%P %s %y\n'], { encoding: 'utf8' }).split('\n').sort().join('\n') : '(absent)';
    const importInto = (bundle: string, store: string) =>
      spawnSync('unshare', ['-n', node, bin, 'import', bundle, '--policy', policy, '--store', store], { encoding: 'utf8', cwd: repoRoot });

    // One byte changed inside an image layer: refused, nothing written.
    const bad = join(dirname(tar), 'bad.tar');
    execFileSync('cp', [tar, bad]);
    const size = Number(execFileSync('stat', ['-c', '%s', bad], { encoding: 'utf8' }));
    execFileSync('python3', [
      '-c',
      `f=open(${JSON.stringify(bad)},'r+b'); f.seek(${Math.floor(size / 2)}); b=f.read(1); f.seek(${Math.floor(size / 2)}); f.write(bytes([b[0]^1]))`,
    ]);
    const store = join(tempDir('brickyard-store-'), 'store');
    mkdirSync(store); // a site's store exists before its first import
    const before = listing(store);
    const refused = importInto(bad, store);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/sha256|digest|checksum/i);
    expect(listing(store)).toBe(before);

    // Signed by the same development CA but another identity: refused by the policy.
    const other = await loadOrCreateDevSigner(join(state, 'dev-signer'), { identity: 'brickyard-dev://elsewhere/mallory' });
    const otherTar = join(dirname(tar), 'other.tar');
    await writeBundle({
      stateDir: state,
      system: 'local',
      out: otherTar,
      signer: new SigstoreManifestSigner(other),
      serial: 7,
      source: { repository: 'local/brickyard', commit: '0'.repeat(40) },
      now: new Date(),
    });
    const wrongSigner = importInto(otherTar, store);
    expect(wrongSigner.status).toBe(1);
    expect(wrongSigner.stderr).toMatch(/mallory/);
    expect(listing(store)).toBe(before);

    // The site checks it first, offline, writing nothing.
    const checked = spawnSync('unshare', ['-n', node, bin, 'verify', tar, '--policy', policy, '--json'], { encoding: 'utf8', cwd: repoRoot });
    expect(checked.status, checked.stderr).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true, identity: dev.identity, images: 1 });
    expect(listing(store)).toBe(before);

    // The real bundle imports, offline, and its image goes into the site's registry on 127.0.0.1.
    const registry = startRegistry();
    try {
      const ok = spawnSync('unshare', ['-n', node, bin, 'import', tar, '--policy', policy, '--store', store], { encoding: 'utf8', cwd: repoRoot });
      expect(ok.status, ok.stderr).toBe(0);
      // The push needs the loopback network, so a second step of the same import, already committed: a rerun refuses (rollback) and pushes nothing.
      const again = spawnSync(node, [bin, 'import', tar, '--policy', policy, '--store', store, '--registry', `${registry.address}/site`], { encoding: 'utf8', cwd: repoRoot });
      expect(again.status).toBe(1);
      expect(again.stderr).toContain('[ROLLBACK]');
      // A fresh store, importing with the push.
      const store2 = join(tempDir('brickyard-store-'), 'store');
      mkdirSync(store2);
      const pushed = spawnSync(node, [bin, 'import', tar, '--policy', policy, '--store', store2, '--registry', `${registry.address}/site`, '--json'], {
        encoding: 'utf8',
        cwd: repoRoot,
      });
      expect(pushed.status, pushed.stderr).toBe(0);
      const out = JSON.parse(pushed.stdout);
      expect(out.pushed).toEqual([{ reference: `${registry.address}/site/mpi-pingpong:1.0.0-local-debug`, digest: record.image.manifestDigest }]);
      const remote = JSON.parse(
        execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${registry.address}/site/mpi-pingpong:1.0.0-local-debug`], { encoding: 'utf8' }),
      );
      expect(remote.Digest).toBe(record.image.manifestDigest);
    } finally {
      registry.stop();
    }
    const inventory = JSON.parse(execFileSync(node, [bin, 'inventory', '--store', store], { encoding: 'utf8', cwd: repoRoot }));
    expect(inventory.images.map((i: { recipe: string }) => i.recipe)).toEqual(['mpi-pingpong']);
    expect(inventory.blobs).toContain(record.image.manifestDigest);
    // The site signed its admission record (a VSA) with its own key.
    const admission = execFileSync('find', [join(store, 'admissions'), '-name', '*.vsa.sigstore.json'], { encoding: 'utf8' }).trim();
    const siteKey = loadOrCreateSiteKey(join(store, '.site-key'));
    const vsa = verifySiteBundle(JSON.parse(readFileSync(admission, 'utf8')), [sitePublicKey(siteKey)]);
    expect((vsa.statement as { predicate: { verificationResult: string } }).predicate.verificationResult).toBe('PASSED');
    expect((vsa.statement as { subject: { digest: { sha256: string } }[] }).subject[0]!.digest.sha256).toBe(record.image.manifestDigest.slice(7));

    // An edited audit log: the next import refuses to build on it, and writes nothing.
    expect(execFileSync(node, [bin, 'audit', '--store', store], { encoding: 'utf8', cwd: repoRoot })).toBe('audit log intact: 1 entry\n');
    const log = join(store, 'audit.log');
    writeFileSync(log, readFileSync(log, 'utf8').replace('"serial":', '"serial": '));
    const next = join(dirname(tar), 'next.tar');
    await writeBundle({
      stateDir: state,
      system: 'local',
      out: next,
      signer: new SigstoreManifestSigner(dev),
      serial: 99,
      source: { repository: 'local/brickyard', commit: '0'.repeat(40) },
      now: new Date(),
    });
    const afterTamper = listing(store);
    const refusedLog = importInto(next, store);
    expect(refusedLog.status).toBe(1);
    expect(refusedLog.stderr).toContain('[AUDIT_LOG_INVALID]');
    expect(listing(store)).toBe(afterTamper);
  }, 300_000);

  it('makes a SIF that siftool reads (definition, labels, squashfs root), and its root file system runs the ping-pong under ch-run', async () => {
    const sif = record.sif!;
    expect(sif.path).toMatch(/mpi-pingpong_1\.0\.0-2_local-debug\.sif$/);
    expect(execFileSync('sha256sum', [sif.path], { encoding: 'utf8' }).split(' ')[0]).toBe(sif.sha256);
    const list = execFileSync('siftool', ['list', sif.path], { encoding: 'utf8' });
    expect(list).toMatch(/Def\.FILE/);
    expect(list).toMatch(/JSON\.Labels/);
    expect(list).toMatch(/FS\s+\(Squashfs\/\*System\/amd64\)/);
    const id = (kind: RegExp): string =>
      list
        .split('\n')
        .find((l) => kind.test(l))!
        .trim()
        .split(/\s+/)[0]!;
    expect(execFileSync('siftool', ['info', id(/Squashfs/), sif.path], { encoding: 'utf8' })).toMatch(
      /Filesystem Type:\s+Squashfs\n\s*Partition Type:\s+\*System\n\s*Architecture:\s+amd64/,
    );
    const def = execFileSync('siftool', ['dump', id(/Def\.FILE/), sif.path], { encoding: 'utf8' });
    expect(def).toBe(readFileSync(join(dirname(record.log), 'apptainer.def'), 'utf8'));
    expect(def).toMatch(/^Stage: runtime$/m);
    expect(JSON.parse(execFileSync('siftool', ['dump', id(/JSON\.Labels/), sif.path], { encoding: 'utf8' }))['dev.brickyard.recipe']).toBe('mpi-pingpong@1.0.0');
    // Apptainer's metadata folder is in the root file system.
    const root = join(tempDir('brickyard-sif-'), 'root.sqsh');
    execFileSync('sh', ['-c', `siftool dump ${id(/Squashfs/)} "$1" > "$2"`, 'sh', sif.path, root]);
    expect(execFileSync('unsquashfs', ['-l', root, '/.singularity.d/runscript'], { encoding: 'utf8' })).toContain('.singularity.d/runscript');

    const [where] = ws.partitionsOf('local/debug');
    const image = await resolveImage(ws, 'mpi-pingpong@1.0.0', where!, state);
    const report = await smoke(ws, image, ws.pairAt(image.recipe, where!), { stateDir: state, launcher: 'sif' });
    const mpi = report.tests.find((t) => t.kind === 'mpi-pingpong')!;
    expect(mpi.verdict, `${mpi.summary}\n${(mpi.details ?? []).join('\n')}`).not.toBe('FAILED');
    expect(String(mpi.figures?.['library'])).toMatch(/Open MPI/);
    expect(report.tests.find((t) => t.name === 'probe-version')!.verdict).toBe('PASSED');
    const configuration = (report.statement as { predicate: { configuration: { annotations?: Record<string, string>; digest: { sha256: string } }[] } }).predicate.configuration;
    expect(configuration.find((c) => c.annotations?.['brickyardRole'] === 'target')!.annotations!['runtime']).toBe('SIF root file system under ch-run');
    expect(configuration.find((c) => c.annotations?.['brickyardRole'] === 'sif')!.digest.sha256).toBe(sif.sha256);
  }, 300_000);

  describe('bad builds', () => {
    let copy: string;
    let cws: Workspace;
    beforeAll(() => {
      copy = copyOfShipped();
      const add = (name: string, text: string, files: Record<string, string> = {}): void => {
        const dir = join(copy, 'catalog', 'recipes', name, '1.0.0');
        mkdirSync(join(dir, 'files'), { recursive: true });
        writeFileSync(join(dir, 'recipe.yaml'), text);
        for (const [f, t] of Object.entries(files)) writeFileSync(join(dir, f), t);
      };
      const head = (name: string, extra: string): string =>
        `name: ${name}\nversion: 1.0.0\nrevision: 1\nsummary: test\nmaintainers: [{name: t}]\nlicense: MIT\nbase: debian-12\nrequires: {architectures: [x86_64], gpu: {vendor: none}, mpi: any}\nsizeBudget: 2 GiB\n${extra}`;
      add(
        'broken-compile',
        head('broken-compile', 'blocks: [{use: gcc}, {use: "@mpi"}]\nsteps:\n  - copy: {src: files/bad.c, dest: /opt/bad.c}\n  - run: mpicc -o /opt/bad /opt/bad.c\n'),
        { 'files/bad.c': 'int main(void) { return missing_symbol; }\n' },
      );
      add('no-mpi', head('no-mpi', 'steps:\n  - run: echo no MPI here\nsmoke:\n  - {name: pingpong, type: mpi-pingpong}\n').replace('mpi: any', 'mpi: none'));
      add('too-big', head('too-big', 'blocks: [{use: gcc}, {use: "@mpi"}, {use: pingpong}]\n').replace('sizeBudget: 2 GiB', 'sizeBudget: 20 MiB'));
      cws = Workspace.open(copy);
    });

    it('a recipe that fails to compile gives a build error with the tail of the log', async () => {
      const [where] = cws.partitionsOf('local/debug');
      const err = await buildPair(cws, cws.pairAt('broken-compile', where!), { stateDir: tempDir() }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrickyardError);
      expect((err as BrickyardError).code).toBe('BUILD_FAILED');
      expect((err as Error).message).toMatch(/missing_symbol/);
      expect((err as BrickyardError).hint).toMatch(/build\.log/);
    }, 600_000);

    it('an image without a working MPI gives FAILED, not a crash', async () => {
      const stateDir = tempDir();
      const [where] = cws.partitionsOf('local/debug');
      await buildPair(cws, cws.pairAt('no-mpi', where!), { stateDir });
      const image = await resolveImage(cws, 'no-mpi@1.0.0', where!, stateDir);
      const report = await smoke(cws, image, cws.pairAt(image.recipe, where!), { stateDir, launcher: 'direct' });
      expect(report.result).toBe('FAILED');
      expect(report.tests.find((t) => t.kind === 'mpi-pingpong')!.verdict).toBe('FAILED');
    }, 600_000);

    it('an image over its size budget fails with both sizes named', async () => {
      const [where] = cws.partitionsOf('local/debug');
      const err = await buildPair(cws, cws.pairAt('too-big', where!), { stateDir: tempDir() }).catch((e: unknown) => e);
      expect((err as BrickyardError).code).toBe('SIZE_BUDGET_EXCEEDED');
      expect((err as Error).message).toMatch(/is \d+(\.\d)? MiB, over its size budget of 20 MiB \(20\.0 MiB\)/);
    }, 600_000);
  });

  it('the main job builds mpi-pingpong for local, passes its smoke tests directly and through Slurm, signs, bundles and imports it', () => {
    const node = join(repoRoot, 'node_modules', '.bin', 'node');
    const out = tempDir('brickyard-main-');
    const r = spawnSync(node, [join(repoRoot, 'bin', 'brickyard.js'), 'run', '--out', out, '--json'], { encoding: 'utf8', cwd: repoRoot, timeout: 600_000 });
    expect(r.status, r.stderr.slice(-3000)).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.builds).toHaveLength(1);
    expect(summary.builds[0].error).toBeNull();
    expect(summary.builds[0].smoke.map((s: { launcher: string; result: string }) => s.launcher)).toEqual(['direct', 'slurm']);
    for (const s of summary.builds[0].smoke) expect(s.result).not.toBe('FAILED');
    expect(summary.stages).toMatchObject({ sign: 'done', bundle: 'done', import: 'done' });
    expect(summary.transfer.identity).toMatch(/^brickyard-dev:\/\//);
    expect(existsSync(join(out, 'store', 'current'))).toBe(true);
  }, 600_000);

  it('a missing builder gives a clear message (exit 2)', () => {
    const node = join(repoRoot, 'node_modules', '.bin', 'node');
    const r = spawnSync(node, [join(repoRoot, 'bin', 'brickyard.js'), 'build', 'mpi-pingpong', '--system', 'local'], {
      encoding: 'utf8',
      env: { PATH: '/nonexistent', HOME: process.env['HOME'] ?? '/root' },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('brickyard: buildah is not installed: run scripts/setup-host.sh');
  });
});
