/**
 * Golden files: what the shipped catalogue renders for 7 recipes × 4 to 5 systems, byte for byte.
 * After an intended change, run `npm run golden` and review the diff of test/golden/.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FILE_NAMES, FORMATS } from '../../pipeline/src/render/index.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot } from '../helpers/fixture.ts';

const PAIRS: [string, string][] = [
  ...['lumi/standard-g', 'perlmutter/gpu', 'alps/normal', 'local/debug', 'fugaku/small'].map((s) => ['mpi-pingpong@1.0.0', s] as [string, string]),
  ...['lumi/standard-g', 'perlmutter/gpu', 'juwels-booster/booster', 'local/debug'].map((s) => ['osu-micro-benchmarks@7.4', s] as [string, string]),
  ...['lumi/standard-g', 'frontier/batch', 'perlmutter/gpu', 'alps/normal'].map((s) => ['mpi-pingpong-gpu@1.0.0', s] as [string, string]),
  // A real GPU application for CUDA and ROCm, with a launch layout (one rank per GPU).
  ...['lumi/standard-g', 'frontier/batch', 'perlmutter/gpu', 'alps/normal'].map((s) => ['lammps-kokkos@20250722.6', s] as [string, string]),
  // CSCS's OSU/MPICH recipe with xpmem (a step before @mpi, MPICH asked for xpmem), CPU partitions.
  ...['alps/normal', 'lumi/standard', 'frontier/batch', 'perlmutter/cpu'].map((s) => ['osu-micro-benchmarks-xpmem@7.5.1', s] as [string, string]),
  // PyTorch with the OFI plugin for NCCL/RCCL: from the image on LUMI and Frontier, the site's on Perlmutter
  // (podman-hpc --nccl) and Alps (the AWS OFI hook). 2.7.1: the first release with CUDA wheels for aarch64.
  ...['lumi/standard-g', 'frontier/batch', 'perlmutter/gpu', 'alps/normal'].map((s) => ['pytorch-ofi@2.7.1', s] as [string, string]),
];

const update = process.env['UPDATE_GOLDEN'] === '1';
const goldenDir = join(repoRoot, 'test', 'golden');

describe('golden renders of the shipped catalogue', () => {
  const ws = Workspace.open(repoRoot);

  it.each(PAIRS)('%s on %s', (recipe, where) => {
    const rendered = ws.render(ws.pairOn(recipe, where));
    const dir = join(goldenDir, recipe, where.replace('/', '-'));
    for (const f of FORMATS) {
      const path = join(dir, FILE_NAMES[f]);
      if (update) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(path, rendered.files[f]);
        continue;
      }
      expect(existsSync(path), `${path} is missing: run npm run golden`).toBe(true);
      expect(rendered.files[f], `${recipe} on ${where}: ${FILE_NAMES[f]} differs from ${path}`).toBe(readFileSync(path, 'utf8'));
    }
  });

  it('renders the same bytes twice in one process and across workspaces', () => {
    const again = Workspace.open(repoRoot);
    for (const [recipe, where] of PAIRS) {
      const a = ws.render(ws.pairOn(recipe, where)).files;
      const b = again.render(again.pairOn(recipe, where)).files;
      expect(b).toEqual(a);
    }
  });
});
