import { describe, expect, it } from 'vitest';
import { versionLess } from '../../pipeline/src/check/fit.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { MINI, miniCatalog } from '../helpers/fixture.ts';

const RECIPE = MINI['catalog/recipes/demo/1.0/recipe.yaml']!;
const BOX = MINI['systems/box.yaml']!;

const GPU_PART = `  - id: gpu
    directives: ["--partition=gpu"]
    cpu: {arch: aarch64, model: Grace, cores: 72, targetFlags: "-O2 -mcpu=neoverse-v2"}
    memoryGiB: 480
    gpu:
      vendor: nvidia
      model: GH200
      count: 4
      arch: sm_90
      driver: {cuda: "12.4"}
      toolkit: {block: cc}
      runtimeFlags: ["--gpu"]
      visibilityEnv: CUDA_VISIBLE_DEVICES
    runtime: {type: podman, command: podman}
    launcher: {type: srun, template: "srun {mpi_flag} {container}"}
    mpi:
      strategies:
        - {id: cxi-hook, abi: mpich, block: ompi, pmi: pmi2, expectLibrary: MPICH}
    smoke:
      mpi:
        nodes: 2
        ranksPerNode: 1
        latency: {warn: 5, fail: 50, source: test}
        bandwidth: {warn: 1000, fail: 100, source: test}
`;

function fitsOf(recipe: string, system = BOX + GPU_PART): Record<string, string[]> {
  const ws = Workspace.open(miniCatalog({ 'catalog/recipes/demo/1.0/recipe.yaml': recipe, 'systems/box.yaml': system }));
  return Object.fromEntries(ws.checkAll().map((f) => [`${f.system}/${f.partition}`, f.fits ? ['fits:' + (f.strategy?.id ?? '-')] : f.reasons]));
}

describe('checkFit', () => {
  it('fits where everything holds and names the MPI strategy', () => {
    expect(fitsOf(RECIPE)['box/cpu']).toEqual(['fits:hybrid-pmix']);
  });

  it('explains architecture, GPU and MPI ABI mismatches', () => {
    const r = fitsOf(RECIPE);
    expect(r['box/gpu']).toEqual(['needs x86_64; box/gpu is aarch64 (Grace)']);
    const gpuRecipe = RECIPE.replace('architectures: [x86_64]', 'architectures: [x86_64, aarch64]')
      .replace('gpu: {vendor: none}', 'gpu: {vendor: amd}')
      .replace('mpi: any', 'mpi: openmpi');
    expect(fitsOf(gpuRecipe)).toEqual({
      'box/cpu': ['needs an AMD GPU; box/cpu has none'],
      'box/gpu': ['needs an AMD GPU; box/gpu has NVIDIA GH200', 'needs an Open MPI ABI image; box/gpu offers cxi-hook (MPICH ABI)'],
    });
  });

  it('compares the CUDA floor with the driver', () => {
    const r = RECIPE.replace('architectures: [x86_64]', 'architectures: [aarch64]').replace('gpu: {vendor: none}', 'gpu: {vendor: nvidia, minCuda: "12.6"}');
    // The template gives no source for its driver level, and the reason says so.
    expect(fitsOf(r)['box/gpu']).toEqual([
      'needs CUDA >= 12.6; the driver on box/gpu supports CUDA <= 12.4 [the driver level (CUDA 12.4) has no source (systems/box.yaml /partitions/1/gpu/driver)]',
    ]);
    const ok = r.replace('"12.6"', '"12.0"');
    expect(fitsOf(ok)['box/gpu']).toEqual(['fits:cxi-hook']);
  });

  it('refuses a GPU recipe where the runtime exposes no GPU', () => {
    const sys = (BOX + GPU_PART).replace('      runtimeFlags: ["--gpu"]\n', '');
    const r = RECIPE.replace('architectures: [x86_64]', 'architectures: [aarch64]').replace('gpu: {vendor: none}', 'gpu: {vendor: any}');
    expect(fitsOf(r, sys)['box/gpu']).toEqual(['needs a GPU in the container; podman on box/gpu has no GPU flags or devices configured']);
  });

  it('refuses a base without an image for the architecture', () => {
    const ws = Workspace.open(
      miniCatalog({
        'catalog/bases.yaml': MINI['catalog/bases.yaml']!.replace(/\n {6}aarch64: .*/, ''),
        'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('architectures: [x86_64]', 'architectures: [aarch64]'),
        'systems/box.yaml': (BOX + GPU_PART).replace('abi: mpich, block: ompi', 'abi: openmpi, block: ompi'),
      }),
    );
    const gpu = ws.checkAll().find((f) => f.partition === 'gpu')!;
    expect(gpu.reasons).toEqual(['base debian-12 has no aarch64 image in catalog/bases.yaml']);
  });

  it('compares dotted versions numerically', () => {
    expect(versionLess('12.4', '12.10')).toBe(true);
    expect(versionLess('6.0.3', '6.0')).toBe(false);
    expect(versionLess('11.8', '12.0')).toBe(true);
  });
});
