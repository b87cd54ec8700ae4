/**
 * A job script that runs the image on its partition: scheduler directives, modules, the MPI
 * strategy's environment and binds, GPU flags and selection, and the launcher line.
 */
import type { PartitionDoc, StringMap, SystemDoc } from '../model/types.ts';
import type { Composition } from './compose.ts';
import { dq, header, shQuote } from './common.ts';

const PLACEHOLDER_NOTE = 'Give your account or project when you submit';

export function imageFileName(c: Composition): string {
  const ext = { sif: 'sif', oci: 'oci.tar', squashfs: 'sqsh' }[c.system.policy.imageFormat];
  return `${c.recipe.doc.name}_${c.recipe.doc.version}-${c.recipe.doc.revision}_${c.system.id}-${c.partition.id}.${ext}`;
}

export function imageReference(c: Composition): string {
  return `localhost/brickyard/${c.recipe.doc.name}:${c.recipe.doc.version}-${c.recipe.doc.revision}-${c.system.id}-${c.partition.id}`;
}

export function renderJobScript(c: Composition): string {
  const { system, partition: part, strategy } = c;
  const layout = launchLayout(c);
  const nodes = layout.nodes;
  const perNode = layout.ranksPerNode;
  const lines = ['#!/bin/bash', ...header(c, 'Job script')];

  lines.push(...directives(system, part, c.recipe.doc.name, nodes, perNode, layout.cpusPerTask));
  lines.push('', 'set -euo pipefail');

  // GPU settings only for recipes that use the GPU: a CPU-only image on a GPU partition gets none,
  // neither the partition's GPU flags nor the strategy's GPU-aware MPI (whose GTL preload needs them).
  const gpu = usesGpu(c) ? part.gpu : undefined;
  const gpuMpi = gpu ? strategy?.gpuAware : undefined;

  const modules = [...(part.runtime.module ? [part.runtime.module] : []), ...(part.modules ?? []), ...(strategy?.modules ?? []), ...(gpuMpi?.modules ?? [])];
  if (modules.length > 0) {
    lines.push('', '# Modules');
    for (const m of modules) lines.push(m.startsWith('module ') ? m : `module load ${m}`);
  }

  const plugins = hostCollectives(c);
  const pluginEnv: StringMap = {};
  for (const p of plugins) Object.assign(pluginEnv, p.env);
  const jobEnv: StringMap = { ...part.env, ...(gpu?.env ?? {}), ...strategy?.env, ...gpuMpi?.env, ...pluginEnv };
  if (Object.keys(jobEnv).length > 0) {
    lines.push('', '# Environment of the partition, its GPUs and the MPI strategy');
    for (const [k, v] of Object.entries(jobEnv)) lines.push(`export ${k}=${dq(String(v))}`);
  }

  const image = part.runtime.type === 'podman' || part.runtime.type === 'podman-hpc' ? imageReference(c) : imageFileName(c);
  lines.push('', `IMAGE="\${BRICKYARD_IMAGE:-${image}}"`);
  if (part.runtime.type === 'cscs-ce') {
    // The Container Engine reads a bare file name as a registry reference: a file needs ./ or an absolute path.
    lines.push('case "$IMAGE" in', '  /* | ./* | ../*) ;;', `  *.sqsh) IMAGE="$PWD/$IMAGE" ;;`, 'esac');
  }
  const entry = c.steps.findLast((s) => s.op.kind === 'entrypoint');
  const argv = entry?.op.kind === 'entrypoint' ? entry.op.argv.map(shQuote).join(' ') + ' "$@"' : '"$@"';

  const binds = [...(strategy?.binds ?? []), ...(part.mounts?.required ?? [])].map(bindSpec);
  const containerEnv: StringMap = { ...strategy?.containerEnv, ...gpuMpi?.containerEnv };
  const container = containerInvocation(c, gpu, binds, containerEnv, argv, lines);

  let wrapper = '';
  // Slurm's own GPU binding replaces the template's per-rank selection wrapper.
  const select = layout.slurmGpuFlags.length > 0 ? undefined : gpu?.selectWrapper;
  if (select) {
    lines.push(
      '',
      '# Each rank sees its own GPU',
      'GPU_SELECT="$(mktemp)"',
      `cat > "$GPU_SELECT" <<'BRICKYARD_EOF'`,
      '#!/bin/bash',
      select.includes('exec') ? select : `${select}\nexec "$@"`,
      'BRICKYARD_EOF',
      'chmod +x "$GPU_SELECT"',
    );
    wrapper = '"$GPU_SELECT"';
  }

  const srunFlags = part.launcher.type === 'srun' ? [...(layout.cpusPerTask !== undefined ? [`--cpus-per-task=${layout.cpusPerTask}`] : []), ...layout.slurmGpuFlags] : [];
  const mpiFlag = [strategy && part.launcher.type === 'srun' && strategy.pmi !== 'none' ? `--mpi=${strategy.pmi}` : '', ...srunFlags].filter(Boolean).join(' ');
  const launch = part.launcher.template
    .replaceAll('{ranks}', String(nodes * perNode))
    .replaceAll('{nodes}', String(nodes))
    .replaceAll('{ranks_per_node}', String(perNode))
    .replaceAll('{mpi_flag}', mpiFlag)
    .replaceAll('{wrapper}', wrapper)
    .replaceAll('{container}', container)
    .replace(/ {2,}/g, ' ')
    .trim();
  lines.push('', '# Launch', launch);
  return lines.join('\n') + '\n';
}

export interface LaunchLayout {
  nodes: number;
  ranksPerNode: number;
  cpusPerTask: number | undefined;
  /** srun flags for GPUs per rank and their binding (Slurm launchers only). */
  slurmGpuFlags: string[];
}

/**
 * The layout of the job: the recipe's `launch` on this partition, else the partition's smoke
 * layout. `gpus` means one rank per GPU; `fill` shares the usable cores among the ranks.
 */
export function launchLayout(c: Composition): LaunchLayout {
  const part = c.partition;
  const launch = c.recipe.doc.launch;
  const gpu = usesGpu(c) ? part.gpu : undefined;
  const nodes = part.smoke.mpi.nodes;
  const gpusPerRank = launch?.gpusPerRank ?? 1;
  const ranksPerNode = launch?.ranksPerNode === 'gpus' ? Math.max(1, Math.floor((gpu?.count ?? 1) / gpusPerRank)) : (launch?.ranksPerNode ?? part.smoke.mpi.ranksPerNode);
  const cores = part.cpu.usableCores ?? part.cpu.cores;
  const cpusPerTask = launch?.cpusPerTask === 'fill' ? Math.max(1, Math.floor(cores / ranksPerNode)) : launch?.cpusPerTask;
  const slurmGpuFlags =
    gpu && part.launcher.type === 'srun' && (launch?.gpusPerRank !== undefined || launch?.gpuBind === 'closest')
      ? [`--gpus-per-task=${gpusPerRank}`, ...(launch.gpuBind === 'closest' ? ['--gpu-bind=closest'] : [])]
      : [];
  return { nodes, ranksPerNode, cpusPerTask, slurmGpuFlags };
}

function directives(system: SystemDoc, part: PartitionDoc, job: string, nodes: number, perNode: number, cpusPerTask: number | undefined): string[] {
  const out: string[] = [];
  const later: string[] = [];
  const add = (prefix: string, raw: string): void => {
    const d = raw
      .replaceAll('{nodes}', String(nodes))
      .replaceAll('{ranks}', String(nodes * perNode))
      .replaceAll('{ranks_per_node}', String(perNode));
    if (/\{(account|project)\}/.test(d)) later.push(d);
    else out.push(`${prefix} ${d}`);
  };
  if (system.scheduler.type === 'slurm') {
    out.push(`#SBATCH --job-name=${job}`, `#SBATCH --nodes=${nodes}`, `#SBATCH --ntasks-per-node=${perNode}`);
    if (cpusPerTask !== undefined) out.push(`#SBATCH --cpus-per-task=${cpusPerTask}`);
    for (const d of part.directives) add('#SBATCH', d);
    if (system.scheduler.accountDirective) later.push(system.scheduler.accountDirective);
  } else if (system.scheduler.type === 'pjm') {
    out.push(`#PJM -N ${job}`);
    if (!part.directives.some((d) => /\bnode=/.test(d))) out.push(`#PJM -L node=${nodes}`);
    if (!part.directives.some((d) => /--mpi\b/.test(d))) out.push(`#PJM --mpi proc=${nodes * perNode}`);
    for (const d of part.directives) add('#PJM', d);
  }
  if (later.length > 0) {
    const cmd = system.scheduler.type === 'pjm' ? 'pjsub' : 'sbatch';
    const given = [...new Set(later)].map((d) => d.replaceAll('{account}', '<account>').replaceAll('{project}', '<project>'));
    out.push(`# ${PLACEHOLDER_NOTE}: ${cmd} ${given.join(' ')} <this script>`);
  }
  return out;
}

/** The site-injected collective plugins the recipe asks for (podman-hpc --nccl on Perlmutter). */
function hostCollectives(c: Composition): NonNullable<NonNullable<PartitionDoc['gpu']>['collectives']> {
  const wanted = c.recipe.doc.requires.collectives ?? [];
  return (c.partition.gpu?.collectives ?? []).filter((p) => p.from === 'host' && wanted.includes(p.library));
}

export function usesGpu(c: Composition): boolean {
  return (c.recipe.doc.requires.gpu?.vendor ?? 'none') !== 'none';
}

interface Bind {
  src: string;
  dst: string;
  /** The bind as written: `src` alone or `src:dst`. */
  spec: string;
}

/**
 * A bind from a template: `src` or `src:dst`, split before `{project}` and `{user}` become
 * shell variables (whose `${VAR:?…}` form contains a colon of its own).
 */
function bindSpec(raw: string): Bind {
  const i = raw.indexOf(':');
  const src = runtimePath(i < 0 ? raw : raw.slice(0, i));
  const dst = i < 0 ? src : runtimePath(raw.slice(i + 1));
  return { src, dst, spec: i < 0 ? src : `${src}:${dst}` };
}

/** `{project}` and `{user}` in a path become shell variables that must be set at submission. */
function runtimePath(p: string): string {
  return p.replaceAll('{project}', '${PROJECT:?set PROJECT to your project id}').replaceAll('{user}', '${USER}');
}

/** Search-path variables a site module may already have set (singularity-bindings sets LD_LIBRARY_PATH): extend them, never replace. */
const PATH_LISTS = new Set(['LD_LIBRARY_PATH', 'PATH', 'LIBRARY_PATH', 'PYTHONPATH']);

function containerEnvValue(exported: string, name: string, value: string): string {
  if (!PATH_LISTS.has(name)) return dq(value);
  return `${dq(value).slice(0, -1)}\${${exported}:+:$${exported}}"`;
}

function containerInvocation(c: Composition, gpu: PartitionDoc['gpu'], binds: Bind[], env: StringMap, argv: string, lines: string[]): string {
  const rt = c.partition.runtime;
  const gpuMpiFlags = [...(gpu ? (c.strategy?.gpuAware?.runtimeFlags ?? []) : []), ...hostCollectives(c).flatMap((p) => p.runtimeFlags ?? [])];
  const flags = [...new Set([...(rt.flags ?? []), ...(gpu?.runtimeFlags ?? []), ...(c.strategy?.runtimeFlags ?? []), ...gpuMpiFlags])];
  const envEntries = Object.entries(env);
  switch (rt.type) {
    case 'singularityce':
    case 'singularitypro':
    case 'apptainer': {
      const prefix = rt.type === 'apptainer' ? 'APPTAINER' : 'SINGULARITY';
      if (envEntries.length > 0) {
        lines.push('', '# Environment inside the container');
        for (const [k, v] of envEntries) lines.push(`export ${prefix}ENV_${k}=${containerEnvValue(`${prefix}ENV_${k}`, k, String(v))}`);
      }
      const bind = binds.length > 0 ? ` --bind ${dq(binds.map((b) => b.spec).join(','))}` : '';
      return `${rt.command} exec${flags.length ? ' ' + flags.join(' ') : ''}${bind} "$IMAGE" ${argv}`;
    }
    case 'podman':
    case 'podman-hpc': {
      const parts = [rt.command, 'run', ...(flags.includes('--rm') ? [] : ['--rm']), ...flags];
      for (const d of gpu?.devices ?? []) if (!d.includes('*')) parts.push(`--device=${d}`);
      for (const b of binds) parts.push(`-v ${dq(`${b.src}:${b.dst}`)}`);
      for (const [k, v] of envEntries) parts.push(`-e ${dq(`${k}=${v}`)}`);
      // Plain podman runs the image's ENTRYPOINT with the job's arguments appended. A commandOnly
      // strategy (podman-hpc --mpi) starts the container as `sleep infinity` and execs only the
      // arguments, so the entrypoint must be given explicitly.
      return `${parts.join(' ')} "$IMAGE" ${c.strategy?.commandOnly ? argv : '"$@"'}`;
    }
    case 'charliecloud': {
      const parts = [rt.command, ...flags];
      for (const b of binds) parts.push(`-b ${dq(`${b.src}:${b.dst}`)}`);
      for (const [k, v] of envEntries) parts.push(`--set-env=${dq(`${k}=${v}`)}`);
      return `${parts.join(' ')} "$IMAGE" -- ${argv}`;
    }
    case 'enroot-pyxis': {
      const mounts = binds.map((b) => `${b.src}:${b.dst}`).join(',');
      for (const [k, v] of envEntries) lines.push(`export ${k}=${dq(String(v))}`);
      return `${flags.length ? flags.join(' ') + ' ' : ''}--container-image="$IMAGE"${mounts ? ` --container-mounts=${dq(mounts)}` : ''} ${argv}`;
    }
    case 'cscs-ce': {
      // The Container Engine reads an environment definition file (TOML).
      const toml = [
        'image = "${IMAGE}"',
        `mounts = [${binds.map((b) => JSON.stringify(`${b.src}:${b.dst}`)).join(', ')}]`,
        ...(envEntries.length ? ['', '[env]', ...envEntries.map(([k, v]) => `${k} = ${JSON.stringify(String(v))}`)] : []),
        ...(flags.some((f) => f.includes('='))
          ? [
              '',
              '[annotations]',
              ...flags
                .filter((f) => f.includes('='))
                .map((f) => {
                  const [k, ...v] = f.split('=');
                  return `${k} = ${JSON.stringify(v.join('='))}`;
                }),
            ]
          : []),
      ];
      lines.push('', '# Container Engine environment definition', 'EDF="$(mktemp --suffix=.toml)"', 'cat > "$EDF" <<BRICKYARD_EOF', ...toml, 'BRICKYARD_EOF');
      return `--environment="$EDF" ${argv}`;
    }
  }
}
