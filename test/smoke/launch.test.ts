/**
 * The smoke ping-pong follows the job script's layout: a recipe with one rank per GPU is smoke-
 * tested with that many ranks per node (and its CPUs per task), with ranks 0 and 1 on two nodes;
 * a recipe without `launch` keeps the partition's smoke layout.
 */
import { describe, expect, it } from 'vitest';
import type { ResolvedRecipe } from '../../pipeline/src/catalog/resolve.ts';
import { smokeLaunch } from '../../pipeline/src/smoke/launch.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot } from '../helpers/fixture.ts';

const ws = Workspace.open(repoRoot);

function launchOf(r: ResolvedRecipe, where: string) {
  const pair = ws.pairOn(r, where);
  const fit = pair.fit;
  expect(fit.reasons).toEqual([]);
  const rendered = ws.render(pair);
  return { launch: smokeLaunch(rendered.composition, fit.strategy), job: rendered.files.jobscript };
}

describe('smoke launch layout', () => {
  it('LAMMPS on LUMI: 8 ranks per GCD node x 2 nodes, 7 CPUs each, cyclic so the pair spans two nodes', () => {
    const { launch, job } = launchOf(ws.recipe('lammps-kokkos'), 'lumi/standard-g');
    expect(launch.ranks).toBe(16);
    expect(launch.hostSrun).toEqual(['--nodes=2', '--ntasks-per-node=8', '--cpus-per-task=7', '--distribution=cyclic', '--mpi=pmix']);
    expect(launch.jobEnv).toEqual({ SLURM_DISTRIBUTION: 'cyclic' });
    // The job script the Slurm smoke path submits has the same layout.
    const srun = job.trimEnd().split('\n').at(-1)!;
    expect(srun).toContain(`--nodes=${launch.nodes} --ntasks-per-node=${launch.ranksPerNode} `);
    expect(srun).toContain(`--cpus-per-task=${launch.cpusPerTask} `);
    expect(job).toContain(`#SBATCH --ntasks-per-node=${launch.ranksPerNode}\n`);
  });

  it('LAMMPS on Perlmutter: 4 ranks per A100 node', () => {
    const { launch } = launchOf(ws.recipe('lammps-kokkos'), 'perlmutter/gpu');
    expect(launch.ranksPerNode).toBe(4);
    expect(launch.ranks).toBe(8);
  });

  it('without launch, the partition smoke layout: 2 nodes x 1 rank, block distribution, no CPU count', () => {
    const { launch } = launchOf(ws.recipe('mpi-pingpong'), 'lumi/standard-g');
    expect(launch.ranks).toBe(2);
    expect(launch.hostSrun).toEqual(['--nodes=2', '--ntasks-per-node=1', '--mpi=pmix']);
    expect(launch.jobEnv).toEqual({});
  });

  it('a fixed ranks-per-node layout on one node reaches the in-image launcher', () => {
    const base = ws.recipe('mpi-pingpong');
    const four: ResolvedRecipe = { ...base, doc: { ...base.doc, launch: { ranksPerNode: 4, cpusPerTask: 2 } } };
    const { launch } = launchOf(four, 'local/debug');
    expect(launch.nodes).toBe(1);
    expect(launch.ranks).toBe(4);
    expect(launch.inImage.slice(-2)).toEqual(['-np', '4']);
    expect(launch.hostSrun).toEqual(['--nodes=1', '--ntasks-per-node=4', '--cpus-per-task=2', '--mpi=pmix']);
    const { launch: plain } = launchOf(base, 'local/debug');
    expect(plain.inImage.slice(-2)).toEqual(['-np', '2']);
  });
});
