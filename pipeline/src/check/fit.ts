/**
 * Does a recipe fit a system partition? Architecture, GPU vendor and driver floor, MPI ABI
 * against the system's strategies, runtime GPU access, block architectures, base images.
 * Every "no" comes with the reason a contributor can act on.
 */
import semver from 'semver';
import type { Catalog, Entry } from '../catalog/load.ts';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import type { MpiStrategyDoc, PartitionDoc, SystemDoc } from '../model/types.ts';
import { resolveBase } from '../systems/base.ts';
import { factDoubt } from './doubt.ts';

export interface Fit {
  recipe: string;
  system: string;
  partition: string;
  fits: boolean;
  reasons: string[];
  /** The MPI strategy used when the recipe needs MPI and fits. */
  strategy: MpiStrategyDoc | undefined;
  /** Deciding facts of the template that are unverified or over a year old. */
  doubts: string[];
}

/** What a fit names: the recipe, the system template and its partition. */
export interface FitSubjects {
  recipe: ResolvedRecipe;
  system: Entry<SystemDoc>;
  partition: PartitionDoc;
}

/**
 * A recipe on a partition with its fit, as one value: what Workspace.pair() makes (its Pair is
 * one). Who holds it reads the recipe, system and partition from it, never back from the fit's ids.
 */
export interface FittedPair extends Readonly<FitSubjects> {
  readonly fit: Fit;
}

/** Runtimes that hand the node's GPUs to every container without flags (enroot hooks). */
const GPU_IMPLICIT = new Set(['cscs-ce', 'enroot-pyxis']);

const VENDOR = { nvidia: 'NVIDIA', amd: 'AMD' } as const;
const ABI = { mpich: 'MPICH', openmpi: 'Open MPI' } as const;
const COLLECTIVE_VENDOR = { nccl: 'nvidia', rccl: 'amd' } as const;
/** Fabrics NCCL/RCCL reach only through libfabric, i.e. through a network plugin (aws-ofi-nccl). */
const NET_PLUGIN_FABRICS: ReadonlySet<string> = new Set(['slingshot-11', 'omni-path']);

export function needsMpi(r: ResolvedRecipe): boolean {
  return (r.doc.requires.mpi ?? 'none') !== 'none' || r.blocks.some((b) => b.item.use === '@mpi');
}

export function checkFit(cat: Catalog, r: ResolvedRecipe, system: SystemDoc, part: PartitionDoc, today: Date = new Date()): Fit {
  const q: FitQuestion = { cat, r, system, part, today, where: `${system.id}/${part.id}`, at: `/partitions/${system.partitions.indexOf(part)}`, reasons: [], doubts: [] };
  const { reasons, doubts } = q;
  const arch = part.cpu.arch;
  const req = r.doc.requires;

  if (req.architectures && !req.architectures.includes(arch)) {
    reasons.push(`needs ${req.architectures.join(' or ')}; ${q.where} is ${arch} (${part.cpu.model})`);
  }
  checkGpu(q);
  const strategy = needsMpi(r) ? chooseMpiStrategy(q) : undefined;
  if (req.gpuAwareMpi && strategy && !strategy.gpuAware) {
    const aware = part.mpi.strategies.filter((s) => s.gpuAware).map((s) => s.id);
    reasons.push(
      `needs GPU-aware MPI; the ${strategy.id} strategy of ${q.where} offers none${aware.length ? ` (GPU-aware: ${aware.join(', ')}, but not for this recipe's MPI ABI or CPU)` : ''}`,
    );
  }
  checkCollectives(q);
  checkBlocks(q, strategy);

  const base = resolveBase(cat, system, r.doc.base, arch);
  if ('error' in base) reasons.push(base.error);

  return {
    recipe: r.key,
    system: system.id,
    partition: part.id,
    fits: reasons.length === 0,
    reasons: [...new Set(reasons)],
    strategy: reasons.length === 0 ? strategy : undefined,
    doubts: reasons.length === 0 ? [...new Set(doubts)] : [],
  };
}

/** One fit being decided: its subjects, and the reasons and doubts each step adds in order. */
interface FitQuestion {
  cat: Catalog;
  r: ResolvedRecipe;
  system: SystemDoc;
  part: PartitionDoc;
  today: Date;
  /** "system/partition", for the reasons. */
  where: string;
  /** The partition's JSON pointer in the template, for the doubts. */
  at: string;
  reasons: string[];
  doubts: string[];
}

/** The GPU vendor, the driver's CUDA/ROCm floor and GPU access in the container. */
function checkGpu({ r, system, part, today, where, at, reasons, doubts }: FitQuestion): void {
  const req = r.doc.requires;
  const gpu = part.gpu;
  const vendor = req.gpu?.vendor ?? 'none';
  if (vendor === 'none') return;
  if (!gpu) {
    reasons.push(`needs ${vendor === 'any' ? 'a' : `an ${VENDOR[vendor]}`} GPU; ${where} has none`);
    return;
  }
  if (vendor !== 'any' && gpu.vendor !== vendor) {
    reasons.push(`needs an ${VENDOR[vendor]} GPU; ${where} has ${gpuName(gpu)}`);
    return;
  }
  const floor = gpu.vendor === 'nvidia' ? req.gpu?.minCuda : req.gpu?.minRocm;
  const have = gpu.vendor === 'nvidia' ? gpu.driver.cuda : gpu.driver.rocm;
  const kit = gpu.vendor === 'nvidia' ? 'CUDA' : 'ROCm';
  const driverDoubt = floor ? factDoubt(system, `${at}/gpu/driver`, `the driver level (${kit} ${have ?? '?'})`, today) : undefined;
  const because = driverDoubt ? ` [${driverDoubt}]` : '';
  if (floor && !have) reasons.push(`needs ${kit} >= ${floor}; ${where} does not state its driver's ${kit} level`);
  else if (floor && have && versionLess(have, floor)) reasons.push(`needs ${kit} >= ${floor}; the driver on ${where} supports ${kit} <= ${have}${because}`);
  else if (driverDoubt) doubts.push(driverDoubt);
  if (!GPU_IMPLICIT.has(part.runtime.type) && (gpu.runtimeFlags ?? []).length === 0 && (gpu.devices ?? []).length === 0) {
    reasons.push(`needs a GPU in the container; ${part.runtime.type} on ${where} has no GPU flags or devices configured`);
  }
}

/** The first of the partition's MPI strategies of the recipe's ABI whose block serves the CPU; a reason when none. */
function chooseMpiStrategy({ cat, r, system, part, today, where, at, reasons, doubts }: FitQuestion): MpiStrategyDoc | undefined {
  const arch = part.cpu.arch;
  const want = r.doc.requires.mpi ?? 'any';
  const usable = part.mpi.strategies.filter((s) => want === 'any' || want === 'none' || s.abi === want);
  const strategy = usable.find((s) => cat.blocks.has(s.block) && blockFitsArch(cat, s.block, arch));
  if (strategy) {
    const doubt = factDoubt(system, `${at}/mpi/strategies/${part.mpi.strategies.indexOf(strategy)}`, `MPI strategy ${strategy.id}`, today);
    if (doubt) doubts.push(doubt);
    return strategy;
  }
  const offered = part.mpi.strategies.map((s) => `${s.id} (${ABI[s.abi]} ABI)`).join(', ');
  if (usable.length === 0) {
    reasons.push(`needs an ${ABI[want as 'mpich' | 'openmpi']} ABI image; ${where} offers ${offered}`);
  } else {
    reasons.push(`no MPI strategy of ${where} has a usable block for ${arch} (${usable.map((s) => s.block).join(', ')})`);
  }
  return undefined;
}

/** NCCL/RCCL across nodes: a network plugin where the fabric needs one, carried by the image where the site says so. */
function checkCollectives({ cat, r, system, part, where, reasons }: FitQuestion): void {
  const gpu = part.gpu;
  for (const lib of r.doc.requires.collectives ?? []) {
    // NCCL runs on NVIDIA GPUs and RCCL on AMD ones: a recipe for both vendors names both, each asked of its
    // vendor's partitions (a partition without a GPU is already refused above).
    if (gpu?.vendor !== COLLECTIVE_VENDOR[lib]) continue;
    const plugin = gpu.collectives?.find((c) => c.library === lib);
    const name = lib.toUpperCase();
    if (!plugin) {
      // NCCL/RCCL carry their own InfiniBand/RoCE (verbs) and socket transports; libfabric-only fabrics need the plugin.
      if (!NET_PLUGIN_FABRICS.has(system.interconnect.type)) continue;
      reasons.push(`needs ${name} across nodes; ${where} names no network plugin for ${name} on its ${system.interconnect.type} fabric (e.g. aws-ofi-${lib})`);
    } else if (plugin.from === 'image' && !r.blocks.some((b) => cat.blocks.get(b.item.use)?.doc.provides.includes(`collective-plugin:${lib}`))) {
      reasons.push(`needs ${name} across nodes; on ${where} the image must carry ${plugin.plugin}, and no block of the recipe provides collective-plugin:${lib}`);
    }
  }
}

/** Concrete blocks: the recipe's own, and the ones the system puts in its slots, against the CPU and GPU. */
function checkBlocks({ cat, r, part, where, reasons }: FitQuestion, strategy: MpiStrategyDoc | undefined): void {
  const arch = part.cpu.arch;
  const gpu = part.gpu;
  const names = r.blocks.map((b) => (b.item.use === '@mpi' ? strategy?.block : b.item.use === '@gpu' ? gpu?.toolkit.block : b.item.use));
  for (const name of names) {
    if (!name) continue;
    const block = cat.blocks.get(name)?.doc;
    if (!block) continue;
    if (block.architectures && !block.architectures.includes(arch)) {
      reasons.push(`block ${name} is only for ${block.architectures.join(', ')}; ${where} is ${arch}`);
    }
    if (block.gpuVendor && gpu?.vendor !== block.gpuVendor) {
      reasons.push(`block ${name} needs an ${VENDOR[block.gpuVendor]} GPU; ${where} has ${gpu ? gpuName(gpu) : 'none'}`);
    }
  }
}

/** "NVIDIA A100", without repeating the vendor when the model already names it. */
function gpuName(gpu: { vendor: 'nvidia' | 'amd'; model: string }): string {
  return gpu.model.toLowerCase().startsWith(VENDOR[gpu.vendor].toLowerCase()) ? gpu.model : `${VENDOR[gpu.vendor]} ${gpu.model}`;
}

function blockFitsArch(cat: Catalog, name: string, arch: string): boolean {
  const archs = cat.blocks.get(name)?.doc.architectures;
  return !archs || archs.includes(arch as 'x86_64');
}

/** Compare dotted versions such as 12.4 or 6.0.3. */
export function versionLess(a: string, b: string): boolean {
  const ca = semver.coerce(a);
  const cb = semver.coerce(b);
  if (!ca || !cb) return a < b;
  return semver.lt(ca, cb);
}
