/**
 * A received build artifact made by hand, in the exact shape the build job uploads for
 * mpi-pingpong@1.0.0 on local/debug (builds/<key>/<pair>/ and an OCI layout with tiny blobs),
 * downloaded into a folder of its artifact name: for the signer's tests, with no builder needed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { refNameOf } from '../../pipeline/src/build/build.ts';
import { spdxDocument } from '../../pipeline/src/build/sbom.ts';
import type { TestResult } from '../../pipeline/src/smoke/evaluate.ts';
import { testResultPredicate, TEST_RESULT_PREDICATE_TYPE } from '../../pipeline/src/smoke/predicate.ts';
import { inTotoStatement } from '../../pipeline/src/model/statement.ts';
import { buildArtifactName } from '../../pipeline/src/sign/subjects.ts';
import { createLayout, putBlob, putImage, writeIndex } from '../../pipeline/src/oci/synthetic.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot, tempDir } from './fixture.ts';

export const ws = Workspace.open(repoRoot);
export const recipe = ws.recipe('mpi-pingpong@1.0.0');
export const where = ws.partitionsOf('local/debug')[0]!;

export const TESTS: TestResult[] = [
  { name: 'pingpong', kind: 'mpi-pingpong', verdict: 'PASSED', summary: 'latency 2 us' },
  { name: 'hello', kind: 'command', verdict: 'PASSED', summary: 'exit 0' },
];

export interface Made {
  dir: string;
  pairDir: string;
  layout: string;
  manifestDigest: string;
  layerPath: string;
}

/** What the build job uploads for mpi-pingpong on local/debug, downloaded into its own folder. */
export function receivedBuild(opts: { tests?: TestResult[]; reportResult?: string; root?: string } = {}): Made {
  const dir = join(opts.root ?? tempDir('brickyard-received-'), buildArtifactName({ recipe: 'mpi-pingpong', version: '1.0.0', system: 'local', partition: 'debug' }));
  const layout = join(dir, 'oci');
  createLayout(layout);
  const layer = putBlob(layout, Buffer.alloc(5000, 3));
  const { config, manifest } = putImage(layout, [layer]);
  const refName = refNameOf(recipe, where);
  writeIndex(layout, [{ manifest, refName }]);
  const reference = `localhost/brickyard/mpi-pingpong:1.0.0-${recipe.doc.revision}-local-debug`;
  const pairDir = join(dir, 'builds', 'mpi-pingpong@1.0.0', 'local-debug');
  mkdirSync(join(pairDir, 'context', 'sources'), { recursive: true });
  writeFileSync(
    join(pairDir, 'build.json'),
    JSON.stringify({
      kind: 'brickyard-build',
      version: 1,
      recipe: { name: 'mpi-pingpong', version: '1.0.0', revision: recipe.doc.revision },
      system: 'local',
      partition: 'debug',
      builder: 'buildah',
      image: { reference, ociLayout: '/home/runner/work/x/.brickyard/oci', refName, manifestDigest: manifest.digest, configDigest: config.digest },
      lockDigest: 'sha256:' + '1'.repeat(64),
      inputs: { base: 'debian:12', baseDigest: null, sources: [], context: 3 },
      sizes: { uncompressedBytes: 5000, compressedBytes: 5000, budgetBytes: 1 << 30, budget: '1 GiB' },
      reproducible: { checked: false, identical: null, second: null },
      sbom: { path: '/home/runner/work/elsewhere/sbom.spdx.json', packages: 0 },
      created: '2026-12-01T00:00:00Z',
      startedOn: '2026-12-01T00:00:00Z',
      finishedOn: '2026-12-01T00:10:00Z',
      durations: { build: 600 },
      log: '/home/runner/work/x/.brickyard/builds/mpi-pingpong@1.0.0/local-debug/build.log',
    }),
  );
  writeFileSync(
    join(pairDir, 'lock.json'),
    JSON.stringify({
      lockDigest: 'sha256:' + '1'.repeat(64),
      recipe: { files: [{ path: 'catalog/recipes/mpi-pingpong/1.0.0/recipe.yaml' }] },
      system: { file: 'systems/local.yaml' },
      blocks: [],
    }),
  );
  writeFileSync(
    join(pairDir, 'sbom.spdx.json'),
    JSON.stringify(
      spdxDocument({
        imageName: 'mpi-pingpong',
        imageDigest: manifest.digest,
        imageReference: reference,
        created: '2026-12-01T00:00:00Z',
        packages: [],
        sources: [],
        recipe: { name: 'mpi-pingpong', version: '1.0.0', revision: recipe.doc.revision },
      }),
    ),
  );
  const tests = opts.tests ?? TESTS;
  const configuration = {
    system: 'local',
    partition: 'debug',
    runtime: 'podman 4.3.1',
    launcher: 'direct' as const,
    mpiStrategy: 'hybrid',
    imageDigest: manifest.digest,
    imageReference: reference,
  };
  const statement = inTotoStatement(
    { name: reference, digest: { sha256: manifest.digest.slice(7) } },
    TEST_RESULT_PREDICATE_TYPE,
    testResultPredicate({ results: tests, configuration, startedOn: '2026-12-01T00:11:00Z', finishedOn: '2026-12-01T00:12:00Z' }),
  );
  const report = {
    kind: 'brickyard-smoke',
    version: 1,
    result: opts.reportResult ?? statement.predicate.result,
    recipe: 'mpi-pingpong@1.0.0',
    system: 'local',
    partition: 'debug',
    launcher: 'direct',
    image: { reference, manifestDigest: manifest.digest },
    tests,
    statement,
    startedOn: '2026-12-01T00:11:00Z',
    finishedOn: '2026-12-01T00:12:00Z',
  };
  writeFileSync(join(pairDir, 'smoke-direct.json'), JSON.stringify(report));
  writeFileSync(join(pairDir, 'test-result-direct.intoto.json'), JSON.stringify(statement));
  writeFileSync(join(pairDir, 'Containerfile'), 'FROM scratch\n');
  return { dir, pairDir, layout, manifestDigest: manifest.digest, layerPath: join(layout, 'blobs', 'sha256', layer.digest.slice(7)) };
}
