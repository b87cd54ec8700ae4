/**
 * A state folder as `brickyard build` + `smoke` leave it, at any size, for the benchmarks and the
 * site-executable test: N images of the system `bench` sharing one large base layer of random
 * bytes (nothing compresses), each with its SBOM, provenance and a PASSED smoke test.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createLayout, putBlob, putImage, writeIndex, type StoredBlob } from '../../pipeline/src/oci/synthetic.ts';
import { testResultPredicate, TEST_RESULT_PREDICATE_TYPE } from '../../pipeline/src/smoke/predicate.ts';
import { inTotoStatement } from '../../pipeline/src/model/statement.ts';

/** A blob written in 4 MiB chunks (never held whole), hashed as it goes. */
function putLargeBlob(layout: string, mib: number): { digest: string; size: number } {
  const hash = createHash('sha256');
  const tmp = join(layout, 'blobs', 'sha256', 'incoming');
  const fd = openSync(tmp, 'w');
  for (let left = mib * 2 ** 20; left > 0; left -= 4 << 20) {
    const chunk = randomBytes(Math.min(left, 4 << 20));
    hash.update(chunk);
    writeSync(fd, chunk);
  }
  closeSync(fd);
  const hex = hash.digest('hex');
  execFileSync('mv', [tmp, join(layout, 'blobs', 'sha256', hex)]);
  return { digest: `sha256:${hex}`, size: mib * 2 ** 20 };
}

/** What `brickyard build` + `smoke` leave for N pairs of the system `bench`, sharing one base layer. */
export function makeState(stateDir: string, size: { baseMiB: number; images: number }): void {
  const layout = join(stateDir, 'oci');
  createLayout(layout);
  const base = putLargeBlob(layout, size.baseMiB);
  const images: { manifest: StoredBlob; refName: string }[] = [];
  for (let i = 0; i < size.images; i++) {
    const recipe = `bench-${i}`;
    const refName = `${recipe}_1.0-1_bench-cpu`;
    const own = putBlob(layout, `layer ${i} `.repeat(1000));
    const { config, manifest } = putImage(layout, [base, own]);
    images.push({ manifest, refName });
    const dir = join(stateDir, 'builds', `${recipe}@1.0`, 'bench-cpu');
    mkdirSync(dir, { recursive: true });
    const hex = manifest.digest.slice(7);
    writeFileSync(
      join(dir, 'build.json'),
      JSON.stringify({
        kind: 'brickyard-build',
        version: 1,
        recipe: { name: recipe, version: '1.0', revision: 1 },
        system: 'bench',
        partition: 'cpu',
        builder: 'buildah',
        image: { reference: `localhost/brickyard/${recipe}:1.0-1-bench-cpu`, ociLayout: layout, refName, manifestDigest: manifest.digest, configDigest: config.digest },
        lockDigest: 'sha256:' + '0'.repeat(64),
        // The rest of a build record as the state/ reader requires it (values of a build that was not run).
        inputs: { base: 'bench-base', baseDigest: null, sources: [], context: 0 },
        sizes: { uncompressedBytes: 0, compressedBytes: 0, budgetBytes: 0, budget: '0' },
        reproducible: { checked: false, identical: null, second: null },
        sbom: { path: 'sbom.spdx.json', packages: 1 },
        created: new Date().toISOString(),
        durations: {},
        log: 'build.log',
      }),
    );
    writeFileSync(
      join(dir, 'sbom.spdx.json'),
      JSON.stringify({
        spdxVersion: 'SPDX-2.3',
        SPDXID: 'SPDXRef-DOCUMENT',
        documentDescribes: ['SPDXRef-Image'],
        packages: [{ SPDXID: 'SPDXRef-Image', name: recipe, primaryPackagePurpose: 'CONTAINER', licenseDeclared: 'Apache-2.0' }],
      }),
    );
    writeFileSync(join(dir, 'lock.json'), '{}');
    const predicate = testResultPredicate({
      results: [{ name: 'mpi-pingpong', kind: 'mpi-pingpong', verdict: 'PASSED', summary: 'ping-pong PASSED' }],
      configuration: { system: 'bench', partition: 'cpu', runtime: 'podman', launcher: 'direct', mpiStrategy: 'bundled', imageDigest: manifest.digest, imageReference: refName },
      startedOn: '2026-05-01T00:00:00Z',
      finishedOn: '2026-05-01T00:01:00Z',
    });
    const statement = inTotoStatement({ name: refName, digest: { sha256: hex } }, TEST_RESULT_PREDICATE_TYPE, predicate);
    writeFileSync(
      join(dir, 'smoke-direct.json'),
      JSON.stringify({ kind: 'brickyard-smoke', version: 1, result: 'PASSED', recipe: `${recipe}@1.0`, system: 'bench', partition: 'cpu', statement }),
    );
    writeFileSync(join(dir, 'test-result-direct.intoto.json'), JSON.stringify(statement));
    writeFileSync(
      join(dir, 'provenance.intoto.json'),
      JSON.stringify({ ...statement, predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: {}, runDetails: {} } }),
    );
    writeFileSync(
      join(dir, 'sbom.intoto.json'),
      JSON.stringify({ ...statement, predicateType: 'https://spdx.dev/Document/v2.3', predicate: JSON.parse(readFileSync(join(dir, 'sbom.spdx.json'), 'utf8')) as unknown }),
    );
  }
  writeIndex(layout, images);
}

/** What a site receives from the main job: a state folder bundled and signed by the development signer (Sigstore bundle, its own trusted root), and the site policy that accepts it. */
export async function makeSiteBundle(work: string, size: { baseMiB: number; images: number }): Promise<{ tar: string; policy: string; bytes: number }> {
  const [{ SigstoreManifestSigner }, { writeBundle }, { loadOrCreateDevSigner, devSignerDir }, { writeDevPolicy }, attestations] = await Promise.all([
    import('../../pipeline/src/bundle/sigstore.ts'),
    import('../../pipeline/src/bundle/write.ts'),
    import('../../pipeline/src/sign/dev-signer.ts'),
    import('../../pipeline/src/site/dev-policy.ts'),
    import('../../pipeline/src/sign/attest.ts'),
  ]);
  const state = join(work, 'state');
  makeState(state, size);
  const dev = await loadOrCreateDevSigner(devSignerDir(state));
  // Every in-toto statement signed, as `brickyard attest` leaves them: the site verifies each.
  for (const pair of readdirSync(join(state, 'builds'), { recursive: true, withFileTypes: true }).filter((d) => d.isFile() && d.name.endsWith('.intoto.json'))) {
    const file = join(pair.parentPath, pair.name);
    attestations.writeBundle(file.replace(/\.intoto\.json$/, '.sigstore.json'), await attestations.attest(JSON.parse(readFileSync(file, 'utf8')) as object, dev));
  }
  const trustedRootPath = join(dev.dir, 'trusted_root.json');
  const tar = join(work, 'bundle.tar');
  const written = await writeBundle({
    stateDir: state,
    system: 'bench',
    out: tar,
    signer: new SigstoreManifestSigner(dev),
    serial: 1,
    source: { repository: 'example/brickyard', commit: '0'.repeat(40) },
    now: new Date(),
    trustedRoot: trustedRootPath,
  });
  const policy = join(work, 'site', 'site-policy.yaml');
  mkdirSync(join(work, 'site'), { recursive: true });
  writeDevPolicy(policy, { system: 'bench', identity: dev.identity, issuer: dev.issuer, trustedRootPath, licenses: ['Apache-2.0'] });
  return { tar, policy, bytes: written.sizes.bundleBytes };
}
