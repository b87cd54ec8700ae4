/**
 * How the smoke ping-pong is launched: the same layout as the rendered job script (the recipe's
 * `launch` on this partition, else the partition's smoke layout), so a recipe that runs one rank
 * per GPU is smoke-tested with that many ranks, not always 2 nodes x 1 rank.
 */
import type { MpiStrategyDoc } from '../model/types.ts';
import type { Composition } from '../render/compose.ts';
import { launchLayout } from '../render/jobscript.ts';

export interface SmokeLaunch {
  nodes: number;
  ranksPerNode: number;
  /** Every rank of the job: what the probe must report. */
  ranks: number;
  cpusPerTask: number | undefined;
  /** The MPI launcher inside the image for a single-node run, before the probe's path. */
  inImage: string[];
  /** srun arguments for the host's probe, before its path: the same placement as the container's. */
  hostSrun: string[];
  /**
   * Environment for the Slurm job. With several ranks per node, Slurm's block distribution puts
   * ranks 0 and 1 (the ping-pong pair) on the same node; cyclic puts them on two nodes, so the
   * network path is what is measured. srun reads SLURM_DISTRIBUTION, so the job script stays as rendered.
   */
  jobEnv: Record<string, string>;
}

export function smokeLaunch(c: Composition, strategy: MpiStrategyDoc | undefined): SmokeLaunch {
  const layout = launchLayout(c);
  const { nodes, ranksPerNode, cpusPerTask } = layout;
  const ranks = nodes * ranksPerNode;
  const cyclic = nodes > 1 && ranksPerNode > 1;
  const inImage = strategy?.abi === 'mpich' ? ['mpiexec', '-n', String(ranks)] : ['mpirun', '--allow-run-as-root', '--oversubscribe', '-np', String(ranks)];
  const hostSrun = [
    `--nodes=${nodes}`,
    `--ntasks-per-node=${ranksPerNode}`,
    ...(cpusPerTask !== undefined ? [`--cpus-per-task=${cpusPerTask}`] : []),
    ...(cyclic ? ['--distribution=cyclic'] : []),
    '--mpi=pmix',
  ];
  return { nodes, ranksPerNode, ranks, cpusPerTask, inImage, hostSrun, jobEnv: cyclic ? { SLURM_DISTRIBUTION: 'cyclic' } : {} };
}
