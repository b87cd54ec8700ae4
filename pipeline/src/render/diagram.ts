/**
 * The deployment diagram of one (recipe, system partition) pair, as a Mermaid flowchart: where
 * the image is built, how it crosses to the site, how the site verifies and imports it, and how
 * a job launches it. Everything in it comes from the composition and the rendered job script,
 * so the diagram cannot drift from what the job really does. Deterministic: no dates, no paths
 * of this machine.
 */
import type { PartitionDoc } from '../model/types.ts';
import type { Composition } from './compose.ts';
import { oneLine } from './common.ts';
import { imageFileName, imageReference, launchLayout, renderJobScript, usesGpu } from './jobscript.ts';

/** How many items of a list a node shows before "(+N more)". */
const LIST_MAX = 4;
/** Longest text of one line in a node; longer ones are cut with an ellipsis. */
const LINE_MAX = 96;

const RUNTIME_NAMES: Record<string, string> = {
  singularityce: 'SingularityCE',
  singularitypro: 'SingularityPRO',
  apptainer: 'Apptainer',
  podman: 'Podman',
  'podman-hpc': 'podman-hpc',
  charliecloud: 'Charliecloud',
  'enroot-pyxis': 'Pyxis/enroot',
  'cscs-ce': 'CSCS Container Engine',
};

const FORMAT_NAMES = { sif: 'SIF file', oci: 'OCI image', squashfs: 'SquashFS image' } as const;

/**
 * Text for a quoted Mermaid label. Mermaid decodes `#name;` and `#123;` entity codes inside
 * quoted labels, so every character that could end the string, start markup or an entity, or
 * confuse the flowchart grammar becomes one: quotes, `#`, `&`, `<`, `>`, brackets, braces,
 * pipes, backticks, `;`, `%`, backslashes. Line breaks collapse to spaces.
 */
export function mermaidText(s: string): string {
  return oneLine(s).replace(/["#&<>[\]{}|`;%\\]/g, (ch) => (ch === '"' ? '#quot;' : `#${ch.charCodeAt(0)};`));
}

/** A quoted label from lines of plain text (each escaped, then joined with <br/>). */
function label(lines: string[]): string {
  return `"${lines
    .filter((l) => l.trim() !== '')
    .map((l) => mermaidText(cut(l)))
    .join('<br/>')}"`;
}

function cut(s: string, max = LINE_MAX): string {
  const one = oneLine(s);
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** `a, b, c, d (+3 more)`. */
function list(items: readonly string[], max = LIST_MAX): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} (+${items.length - max} more)`;
}

/** The diagram's lines, and how nodes and subgraphs are written into them. */
class Diagram {
  readonly out: string[] = [];

  node(id: string, lines: string[], shape: 'box' | 'round' | 'stadium' | 'cyl' = 'box'): void {
    const text = label(lines);
    const [open, close] = { box: ['[', ']'], round: ['(', ')'], stadium: ['([', '])'], cyl: ['[(', ')]'] }[shape];
    this.out.push(`    ${id}${open}${text}${close}`);
  }

  subgraph(id: string, title: string, body: () => void): void {
    this.out.push(`  subgraph ${id}[${label([title])}]`, '    direction LR');
    body();
    this.out.push('  end');
  }
}

/** How the job reaches its GPUs: the partition's GPU when the recipe uses one, and whether Slurm binds them or the select wrapper does. */
interface GpuUse {
  gpu: PartitionDoc['gpu'];
  slurmBinds: boolean;
  selectWrapper: boolean;
}

export function renderDiagram(c: Composition): string {
  const { system, partition: part, strategy, recipe } = c;
  const where = `${system.id}/${part.id}`;
  const gpu = usesGpu(c) ? part.gpu : undefined;
  // As in the job script: Slurm's GPU binding (the recipe's launch) replaces the selection wrapper.
  const slurmBinds = launchLayout(c).slurmGpuFlags.length > 0;
  const use: GpuUse = { gpu, slurmBinds, selectWrapper: gpu?.selectWrapper !== undefined && !slurmBinds };
  const d = new Diagram();
  d.out.push(
    `%% Deployment of ${mermaidText(recipe.key)} on ${mermaidText(where)}, rendered by Brickyard. Do not edit: change the recipe or the system template and render again.`,
    'flowchart TB',
  );
  const image = part.runtime.type === 'podman' || part.runtime.type === 'podman-hpc' ? imageReference(c) : imageFileName(c);
  buildStage(d, c, image);
  const onSystem = transferAndSiteStages(d, c);
  jobStage(d, c, image, use);
  const out = d.out;
  // Edges: within each stage, then from stage to stage (so that each stage keeps its left-to-right
  // direction: Mermaid ignores a subgraph's direction when its nodes link outside it).
  out.push(
    '  recipe --> render --> builder --> attest --> image',
    '  manifest --> bundle --> media',
    '  verify --> policy --> store',
    '  scheduler --> launcher --> runtime --> container',
  );
  if (strategy) out.push('  mpi -.-> runtime');
  if (gpu) out.push('  gpu -.-> runtime');
  out.push('  mounts -.-> runtime');
  out.push('  build -->|sign and publish| transfer', `  transfer -->|${onSystem ? 'hand over' : 'carry to the site'}| site`, '  site -->|IMAGE| job');
  out.push(
    '  classDef config fill:#fff8e6,stroke:#c9a227',
    `  class ${['mpi', 'gpu', 'mounts'].filter((id) => (id === 'mpi' ? strategy : id === 'gpu' ? gpu : true)).join(',')} config`,
  );
  return out.join('\n') + '\n';
}

/** 1. Build: the recipe rendered for the partition, built, attested, the image. */
function buildStage(d: Diagram, c: Composition, image: string): void {
  const { system, partition: part, recipe } = c;
  const where = `${system.id}/${part.id}`;
  const policy = system.policy;
  const node = d.node.bind(d);
  const subgraph = d.subgraph.bind(d);
  const slotted = c.blocks.map((b) => (b.slot ? `${b.name} for ${b.slot}` : b.name));
  const buildTitle = {
    ci: `Build in CI: GitHub Actions runner labelled ${policy.runnerLabels.join(', ')}`,
    'on-system': `Build on ${system.name}: the site's build service (runner labelled ${policy.runnerLabels.join(', ')})`,
    'off-system': `Build off-system: a build host for ${system.name} (runner labelled ${policy.runnerLabels.join(', ')})`,
  }[policy.buildWhere];
  subgraph('build', buildTitle, () => {
    node('recipe', [`recipe ${recipe.key} (revision ${recipe.doc.revision})`, `blocks: ${list(slotted, 8)}`], 'round');
    node('render', [
      `rendered for ${where}`,
      `${c.target.arch}, ${c.target.cflags}${c.target.gpuArch ? `, ${c.target.gpuArch}` : ''}`,
      'Containerfile, apptainer.def, job.sh, lock.json',
    ]);
    node('builder', [
      `${policy.builder} builds the image${policy.buildWhere === 'ci' ? '' : ` (${policy.buildWhere})`}`,
      `base ${c.base.name}: ${shortRef(c.base.reference)}`,
      ...(policy.fakeroot === false ? ['no fakeroot on the system'] : []),
    ]);
    node('attest', ['SBOM (SPDX), SLSA provenance, smoke-test results', 'signed with Sigstore (in-toto statements)']);
    node('image', [FORMAT_NAMES[policy.imageFormat], image], 'stadium');
  });
}

/** 2. Transfer, and 3. verification and import at the site. Returns whether the build runs on the system itself. */
function transferAndSiteStages(d: Diagram, c: Composition): boolean {
  const { system, partition: part } = c;
  const where = `${system.id}/${part.id}`;
  const policy = system.policy;
  const node = d.node.bind(d);
  const subgraph = d.subgraph.bind(d);
  const onSystem = policy.buildWhere === 'on-system';
  subgraph('transfer', onSystem ? `Hand-over on ${system.name}` : `Crossing to ${system.name}`, () => {
    node('manifest', ['signed manifest.json + its Sigstore bundle', 'every entry: path, size, sha256, role, recipe, system; serial']);
    node('bundle', ['bundle: OCI layout, rendered recipe and lock,', 'pinned sources, attestations, checksums.txt']);
    if (onSystem) node('media', ['built where it runs: no media to carry', 'the manifest is still verified before import']);
    else node('media', ['split into parts on media', "each part's sha256 is in the signed manifest"]);
  });

  // 3. Verification and import.
  subgraph('site', `${system.name} site: verify and import (offline)`, () => {
    node('verify', ['offline verify: pinned trusted_root.json', 'exact signer identity and OIDC issuer, subject digests']);
    node('policy', ['site policy: allowed identities, required attestations,', `a passing smoke test for ${where}, licences, age, no rollback`]);
    node('store', ['atomic import into the site store', `${FORMAT_NAMES[policy.imageFormat]}, audit log`], 'cyl');
  });
  return onSystem;
}

/** 4. The job: scheduler, launcher, runtime and container, with MPI, GPU and mounts beside the runtime. */
function jobStage(d: Diagram, c: Composition, image: string, { gpu, selectWrapper, slurmBinds }: GpuUse): void {
  const { system, partition: part, strategy } = c;
  const where = `${system.id}/${part.id}`;
  const jobLines = renderJobScript(c).trimEnd().split('\n');
  const node = d.node.bind(d);
  const subgraph = d.subgraph.bind(d);
  const directives = jobLines.filter((l) => /^#(SBATCH|PJM) /.test(l)).map((l) => l.replace(/^#(SBATCH|PJM) /, ''));
  const atSubmit = jobLines.find((l) => l.startsWith('# Give your account or project when you submit:'));
  const submit = system.scheduler.type === 'pjm' ? 'pjsub' : system.scheduler.type === 'slurm' ? 'sbatch' : 'bash';
  const modules = jobLines.filter((l) => l.startsWith('module ')).map((l) => l.replace(/^module load /, ''));
  subgraph('job', `Job on ${where}`, () => {
    node('scheduler', [
      system.scheduler.type === 'none' ? 'no scheduler: bash job.sh' : `${system.scheduler.type === 'pjm' ? 'PJM' : 'Slurm'}: ${submit} job.sh`,
      ...chunks(directives, 3).map((d) => d.join(' ')),
      ...(atSubmit ? [`at submission: ${atSubmit.replace(/^.*?: \S+ /, '').replace(/ <this script>$/, '')}`] : []),
      ...(modules.length ? [`modules: ${list(modules)}`] : []),
    ]);
    node('launcher', [`launcher: ${part.launcher.type}`, launcherSummary(c, selectWrapper)]);
    const rt = part.runtime;
    const gpuMpi = gpu ? strategy?.gpuAware : undefined;
    const flags = [...new Set([...(rt.flags ?? []), ...(gpu?.runtimeFlags ?? []), ...(strategy?.runtimeFlags ?? []), ...(gpuMpi?.runtimeFlags ?? [])])];
    node('runtime', [
      `runtime: ${RUNTIME_NAMES[rt.type] ?? rt.type}${rt.version ? ` ${rt.version}` : ''} (${rt.command})`,
      flags.length ? `flags: ${list(flags)}` : 'no extra flags',
      ...(rt.module ? [`module ${rt.module}`] : []),
    ]);
    const entry = c.steps.findLast((s) => s.op.kind === 'entrypoint');
    node('container', [`container: ${image}`, entry?.op.kind === 'entrypoint' ? `runs ${entry.op.argv.join(' ')}` : 'runs the job arguments'], 'stadium');
    if (strategy) mpiNode(d, c, gpuMpi);
    if (gpu) gpuNode(d, gpu, selectWrapper, slurmBinds);
    mountsNode(d, c);
  });
}

function mpiNode(d: Diagram, c: Composition, gpuMpi: NonNullable<Composition['strategy']>['gpuAware']): void {
  const { strategy, partition: part } = c;
  if (!strategy) return;
  const env = Object.keys({ ...strategy.env, ...gpuMpi?.env });
  const cenv = Object.keys({ ...strategy.containerEnv, ...gpuMpi?.containerEnv });
  d.node('mpi', [
    `MPI: ${strategy.id} (${strategy.abi} ABI, PMI ${strategy.pmi})`,
    ...(part.mpi.host ? [`host ${part.mpi.host.impl}${part.mpi.host.version ? ` ${part.mpi.host.version}` : ''}`] : []),
    ...(strategy.binds?.length ? [`binds: ${list(strategy.binds)}`] : []),
    ...(env.length ? [`env: ${list(env)}`] : []),
    ...(cenv.length ? [`container env: ${list(cenv)}`] : []),
  ]);
}

function gpuNode(d: Diagram, gpu: NonNullable<PartitionDoc['gpu']>, selectWrapper: boolean, slurmBinds: boolean): void {
  d.node('gpu', [
    `GPU: ${gpu.count}x ${gpu.model} (${gpu.arch})`,
    gpu.runtimeFlags?.length ? `flags: ${list(gpu.runtimeFlags)}` : 'no GPU flags',
    ...(gpu.devices?.length ? [`devices: ${list(gpu.devices)}`] : []),
    `${gpu.visibilityEnv}${selectWrapper ? ': one GPU per rank (select wrapper)' : slurmBinds ? ': GPUs per rank bound by Slurm' : ''}`,
    ...(gpu.env && Object.keys(gpu.env).length ? [`env: ${list(Object.keys(gpu.env))}`] : []),
  ]);
}

function mountsNode(d: Diagram, c: Composition): void {
  const m = c.partition.mounts ?? {};
  d.node('mounts', [
    'mounts',
    ...(m.required?.length ? [`required: ${list(m.required)}`] : ['required: none']),
    ...(m.optional?.length ? [`optional: ${list(m.optional)}`] : []),
    ...(m.runtimeDefaults?.length ? [`by the runtime: ${list(m.runtimeDefaults)}`] : []),
  ]);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length && out.length < 3; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** `docker.io/library/debian:bookworm@sha256:704583dbf243…`. */
function shortRef(ref: string): string {
  return ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]+/, '@sha256:$1…');
}

/** The launcher's template with the job script's layout filled in and the container shown as `<container>`. */
function launcherSummary(c: Composition, wrapper: boolean): string {
  const layout = launchLayout(c);
  const strategy = c.strategy;
  const srun = c.partition.launcher.type === 'srun';
  const mpiFlag = [
    strategy && srun && strategy.pmi !== 'none' ? `--mpi=${strategy.pmi}` : '',
    ...(srun && layout.cpusPerTask !== undefined ? [`--cpus-per-task=${layout.cpusPerTask}`] : []),
    ...(srun ? layout.slurmGpuFlags : []),
  ]
    .filter(Boolean)
    .join(' ');
  return c.partition.launcher.template
    .replaceAll('{ranks}', String(layout.nodes * layout.ranksPerNode))
    .replaceAll('{nodes}', String(layout.nodes))
    .replaceAll('{ranks_per_node}', String(layout.ranksPerNode))
    .replaceAll('{mpi_flag}', mpiFlag)
    .replaceAll('{wrapper}', wrapper ? '<gpu-select>' : '')
    .replaceAll('{container}', '<container>')
    .replace(/ {2,}/g, ' ')
    .trim();
}
