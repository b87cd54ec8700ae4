/**
 * Whole state records as the engine writes them (build.json, smoke-<launcher>.json, lock.json),
 * for tests that put a state folder together by hand: each is valid against its schema in
 * pipeline/schemas/state/ unless a test changes it.
 */
import { inTotoStatement, type InTotoStatement } from '../../pipeline/src/model/statement.ts';
import { TUNE_PREDICATE_TYPE } from '../../pipeline/src/smoke/tune.ts';
import type { BuildRecord, PairLock, SmokeReport, TunePredicate } from '../../pipeline/src/state/records.ts';

export const DIGEST = (c: string): string => `sha256:${c.repeat(64)}`;

export function buildRecordOf(
  p: { name?: string; version?: string; revision?: number; system?: string; partition?: string; lockDigest?: string; manifestDigest?: string } = {},
): BuildRecord {
  const name = p.name ?? 'mpi-pingpong';
  const version = p.version ?? '1.0.0';
  const system = p.system ?? 'local';
  const partition = p.partition ?? 'debug';
  const refName = `${name}_${version}-${p.revision ?? 1}_${system}-${partition}`;
  return {
    kind: 'brickyard-build',
    version: 1,
    recipe: { name, version, revision: p.revision ?? 1 },
    system,
    partition,
    builder: 'buildah',
    image: { reference: `localhost/brickyard/${name}:${version}`, ociLayout: '/state/oci', refName, manifestDigest: p.manifestDigest ?? DIGEST('a'), configDigest: DIGEST('b') },
    lockDigest: p.lockDigest ?? DIGEST('1'),
    inputs: { base: 'debian:12', baseDigest: null, sources: [{ name: 'src', url: 'https://example.org/src.tar.gz', sha256: 'c'.repeat(64) }], context: 3 },
    sizes: { uncompressedBytes: 1000, compressedBytes: 500, budgetBytes: 1 << 30, budget: '1 GiB' },
    reproducible: {
      checked: true,
      identical: false,
      second: DIGEST('d'),
      differingLayers: [0],
      differingFiles: [{ layer: 0, path: 'etc/x', why: 'mtime' }],
      differingConfig: ['created'],
    },
    sbom: { path: '/state/sbom.spdx.json', packages: 2 },
    imagePolicy: { facts: { user: '1000', setuidFiles: [], uncompressedBytes: 1000 }, current: [], next: [{ rule: 'user', message: 'runs as root' }] },
    sif: { path: `/state/${refName}.sif`, sha256: 'e'.repeat(64), size: 100, rootfsBytes: 90 },
    created: '2026-12-01T00:00:00.000Z',
    startedOn: '2026-12-01T00:00:00.000Z',
    finishedOn: '2026-12-01T00:10:00.000Z',
    durations: { build: 1.5, sbom: 0.25 },
    log: '/state/build.log',
  };
}

export function smokeReportOf(
  p: { launcher?: 'direct' | 'slurm' | 'sif'; result?: SmokeReport['result']; manifestDigest?: string; system?: string; partition?: string } = {},
): SmokeReport {
  const launcher = p.launcher ?? 'direct';
  return {
    kind: 'brickyard-smoke',
    version: 1,
    result: p.result ?? 'PASSED',
    recipe: 'mpi-pingpong@1.0.0',
    system: p.system ?? 'local',
    partition: p.partition ?? 'debug',
    launcher,
    image: { reference: 'localhost/brickyard/mpi-pingpong:1.0.0', manifestDigest: p.manifestDigest ?? DIGEST('a') },
    tests: [{ name: 'pingpong', kind: 'mpi-pingpong', verdict: 'PASSED', summary: 'latency 2 us', figures: { latency_us: 2, unit: 'us' } }],
    performance: { pingpong: [], stream: [] },
    statement: { _type: 'https://in-toto.io/Statement/v1' },
    startedOn: '2026-12-01T00:11:00Z',
    finishedOn: '2026-12-01T00:12:00Z',
    reportPath: `/state/smoke-${launcher}.json`,
  };
}

export function pairLockOf(lockDigest = DIGEST('1')): PairLock & Record<string, unknown> {
  return {
    lockVersion: 1,
    lockDigest,
    recipe: { files: [{ path: 'catalog/recipes/mpi-pingpong/1.0.0/recipe.yaml' }] },
    system: { file: 'systems/local.yaml' },
    blocks: [{ file: 'catalog/blocks/gcc/block.yaml' }],
  };
}

/** The signed choice of `brickyard tune` for stream on local/debug, as tune() writes it. */
export function tuneStatementOf(p: { recipe?: string; system?: string; partition?: string } = {}): InTotoStatement<TunePredicate> {
  const variant = {
    id: 'o3',
    cflags: '-O3',
    env: { OMP_NUM_THREADS: '2' },
    mpiStrategy: null,
    imageDigest: DIGEST('a'),
    imageReference: 'localhost/brickyard/stream:o3',
    result: 'PASSED' as const,
    value: 42,
    figures: { triad_MBps: 42 },
  };
  return inTotoStatement({ name: variant.imageReference, digest: { sha256: 'a'.repeat(64) } }, TUNE_PREDICATE_TYPE, {
    recipe: p.recipe ?? 'stream@5.10',
    system: p.system ?? 'local',
    partition: p.partition ?? 'debug',
    metric: { test: 'stream', figure: 'triad_MBps', goal: 'max' as const },
    chosen: variant.id,
    chosenCflags: variant.cflags,
    chosenEnv: variant.env,
    chosenMpiStrategy: null,
    chosenImageDigest: variant.imageDigest,
    variants: [variant, { id: 'o2', cflags: '-O2', env: {}, mpiStrategy: null, result: 'FAILED' as const, figures: {}, excluded: 'its smoke test FAILED' }],
    tunedOn: '2026-12-01T00:00:00.000Z',
  });
}
