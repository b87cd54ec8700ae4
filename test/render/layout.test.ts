/**
 * Launch layout per recipe and partition: ranks per node, GPUs per rank, CPUs per task and GPU
 * binding reach the job script; without `launch` the partition's smoke layout stays.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResolvedRecipe } from '../../pipeline/src/catalog/resolve.ts';
import type { LaunchDoc } from '../../pipeline/src/model/types.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { copyOfShipped, repoRoot } from '../helpers/fixture.ts';

const ws = Workspace.open(repoRoot);
const gpuRecipe = ws.recipe('mpi-pingpong-gpu');
const withLaunch = (launch: LaunchDoc): ResolvedRecipe => ({ ...gpuRecipe, doc: { ...gpuRecipe.doc, launch } });
const job = (r: ResolvedRecipe, where: string): string => ws.render(ws.pairOn(r, where)).files.jobscript;
const last = (script: string): string => script.trimEnd().split('\n').at(-1)!;

describe('launch layout', () => {
  const perGcd: LaunchDoc = { ranksPerNode: 'gpus', gpusPerRank: 1, cpusPerTask: 'fill', gpuBind: 'closest' };

  it('one rank per GCD on LUMI: 8 ranks, 7 of the 56 usable cores each, Slurm binds the GPUs', () => {
    const script = job(withLaunch(perGcd), 'lumi/standard-g');
    expect(script).toContain('#SBATCH --ntasks-per-node=8\n');
    expect(script).toContain('#SBATCH --cpus-per-task=7\n');
    expect(last(script)).toMatch(/^srun --nodes=2 --ntasks-per-node=8 --cpus-per-task=7 --gpus-per-task=1 --gpu-bind=closest singularity exec /);
    // Slurm's binding replaces the template's selection wrapper.
    expect(script).not.toContain('GPU_SELECT');
  });

  it('two GPUs per rank on Perlmutter: 2 ranks per node', () => {
    const script = job(withLaunch({ ranksPerNode: 'gpus', gpusPerRank: 2 }), 'perlmutter/gpu');
    expect(script).toContain('#SBATCH --ntasks-per-node=2\n');
    expect(last(script)).toContain('--gpus-per-task=2');
    expect(script).not.toContain('--cpus-per-task');
  });

  it('the deployment diagram shows the same layout as the job script, not the smoke layout', () => {
    const mmd = ws.render(ws.pairOn(withLaunch(perGcd), 'lumi/standard-g')).files.diagram;
    expect(mmd).toContain('srun --nodes=2 --ntasks-per-node=8 --cpus-per-task=7 --gpus-per-task=1 --gpu-bind=closest');
    expect(mmd).toContain('GPUs per rank bound by Slurm');
    expect(mmd).not.toContain('select wrapper');
    const plain = ws.render(ws.pairOn(gpuRecipe, 'lumi/standard-g')).files.diagram;
    expect(plain).toContain('--ntasks-per-node=1');
    expect(plain).toContain('one GPU per rank (select wrapper)');
  });

  it('without launch, the smoke layout (2 nodes x 1 rank) and the selection wrapper stay', () => {
    const script = job(gpuRecipe, 'lumi/standard-g');
    expect(script).toContain('#SBATCH --ntasks-per-node=1\n');
    expect(script).toContain('GPU_SELECT');
  });

  it.skipIf(spawnSync('sh', ['-c', 'command -v shellcheck']).status !== 0)('the laid-out script passes shellcheck', () => {
    const r = spawnSync('shellcheck', ['--shell=bash', '-'], { input: job(withLaunch(perGcd), 'lumi/standard-g'), encoding: 'utf8' });
    expect(r.stdout).toBe('');
  });

  it('a recipe file with launch validates; a zero rank count is refused by the schema', () => {
    const root = copyOfShipped();
    const path = join(root, 'catalog/recipes/mpi-pingpong-gpu/1.0.0/recipe.yaml');
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, `${text}launch: {ranksPerNode: gpus, cpusPerTask: fill, gpuBind: closest}\n`);
    expect(Workspace.open(root).validate().errors).toBe(0);
    writeFileSync(path, `${text}launch: {ranksPerNode: 0}\n`);
    const bad = Workspace.open(root)
      .validate()
      .diagnostics.filter((d) => d.severity === 'error');
    expect(bad.some((d) => d.file.endsWith('mpi-pingpong-gpu/1.0.0/recipe.yaml'))).toBe(true);
  });
});
