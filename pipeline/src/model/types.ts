/** The catalogue's data model, as the JSON Schemas in pipeline/schemas/ define it. */

export type Arch = 'x86_64' | 'aarch64';
export type ParamValue = string | number | boolean;
export type StringMap = Record<string, string | number | boolean>;
export type PackageManager = 'apt' | 'dnf' | 'zypper';

export interface PrimitiveDoc {
  when?: Record<string, ParamValue | ParamValue[]>;
  comment?: string;
  /** Recipe steps only: placed just before / after the named block or slot. */
  before?: string;
  after?: string;
  run?: string;
  packages?: Partial<Record<PackageManager, string[]>>;
  fetch?: { source: string; dest: string };
  copy?: { src: string; dest: string; mode?: string };
  env?: StringMap;
  label?: StringMap;
  user?: string;
  workdir?: string;
  entrypoint?: string[];
}

/**
 * One item of a block's or recipe's runtime part: what the runtime stage of a multi-stage image
 * installs or copies from the build stage. `unlessHostMpi` items are left out where the system's
 * MPI strategy binds the host's MPI in at run time.
 */
export interface RuntimeStepDoc {
  when?: Record<string, ParamValue | ParamValue[]>;
  comment?: string;
  unlessHostMpi?: boolean;
  packages?: Partial<Record<PackageManager, string[]>>;
  /** With packages: hard dependencies to leave out, each replaced by an empty stand-in package (apt only). */
  leaveOut?: { apt?: string[] };
  keep?: string[];
  run?: string;
}

export interface SourceDoc {
  name: string;
  version?: string;
  url: string;
  sha256: string;
  filename?: string;
}

export interface ParameterDoc {
  type: 'string' | 'integer' | 'number' | 'boolean';
  default?: ParamValue;
  enum?: ParamValue[];
  description: string;
}

export interface BlockDoc {
  name: string;
  summary: string;
  description?: string;
  homepage?: string;
  license?: string;
  parameters?: Record<string, ParameterDoc>;
  provides: string[];
  requires?: string[];
  conflicts?: string[];
  architectures?: Arch[];
  gpuVendor?: 'nvidia' | 'amd';
  sources?: SourceDoc[];
  steps: PrimitiveDoc[];
  runtime?: RuntimeStepDoc[];
}

export type GpuVendorRequirement = 'none' | 'any' | 'nvidia' | 'amd';
export type MpiRequirement = 'none' | 'any' | 'mpich' | 'openmpi';

export interface BlockUse {
  use: string;
  with?: Record<string, ParamValue>;
}

export interface SmokeTestDoc {
  name: string;
  type: 'mpi-pingpong' | 'gpu-check' | 'command';
  run?: string;
  expect?: { exitCode?: number; stdoutMatches?: string; stdoutContains?: string };
  ranks?: number;
  timeoutSeconds?: number;
}

export interface RequiresDoc {
  architectures?: Arch[];
  gpu?: { vendor: GpuVendorRequirement; minCuda?: string; minRocm?: string };
  mpi?: MpiRequirement;
  /** GPU buffers go to MPI: the strategy must offer GPU-aware MPI. */
  gpuAwareMpi?: boolean;
  /** Collective libraries used across nodes (nccl on NVIDIA, rccl on AMD partitions), each needing a network plugin on the fabric. */
  collectives?: CollectiveLibrary[];
}

export type CollectiveLibrary = 'nccl' | 'rccl';

/** How the application runs on a node (job script layout). */
export interface LaunchDoc {
  ranksPerNode?: number | 'gpus';
  gpusPerRank?: number;
  cpusPerTask?: number | 'fill';
  gpuBind?: 'closest' | 'none';
}

export interface CollectivePluginDoc {
  library: CollectiveLibrary;
  plugin: string;
  from: 'host' | 'image';
  runtimeFlags?: string[];
  env?: StringMap;
  note?: string;
}

export interface RecipeDoc {
  name: string;
  version: string;
  revision: number;
  summary: string;
  description?: string;
  homepage?: string;
  maintainers: { name: string; email?: string; github?: string }[];
  license?: string;
  deprecated?: { reason: string; replacement?: string };
  extends?: string;
  base?: string;
  blocks?: BlockUse[];
  sources?: SourceDoc[];
  steps?: PrimitiveDoc[];
  /** Present: the image is built in two stages, and this is what the runtime stage keeps of the recipe's own steps. */
  runtime?: RuntimeStepDoc[];
  environment?: StringMap;
  entrypoint?: string[];
  requires?: RequiresDoc;
  launch?: LaunchDoc;
  cpuTarget?: 'partition' | 'portable';
  smoke?: SmokeTestDoc[];
  /** Variants for `brickyard tune` (smoke/tune.ts). */
  tune?: {
    metric: { test: string; figure: string; goal: 'max' | 'min' };
    variants: { id: string; description?: string; cflags?: string }[];
  };
  sizeBudget?: string;
  labels?: StringMap;
}

export interface BaseDoc {
  distro: string;
  release: string;
  packageManager: PackageManager;
  provides?: string[];
  images: Partial<Record<Arch, string>>;
  source?: string;
  asOf?: string;
  compiler?: { name: 'gcc'; version: string };
}

export interface BasesDoc {
  bases: Record<string, BaseDoc>;
}

export interface ThresholdDoc {
  messageBytes?: number;
  expected?: number;
  warn: number;
  fail: number;
  source: string;
}

export interface MpiStrategyDoc {
  id: 'host-injection' | 'hybrid-pmix' | 'hybrid-pmi2' | 'container-only' | 'cxi-hook' | 'bind' | 'site-module';
  description?: string;
  abi: 'mpich' | 'openmpi';
  block: string;
  with?: Record<string, ParamValue>;
  pmi: 'pmix' | 'pspmix' | 'pmi2' | 'pmi1' | 'none';
  modules?: string[];
  env?: StringMap;
  containerEnv?: StringMap;
  binds?: string[];
  runtimeFlags?: string[];
  /** Added only for recipes that use the GPU (GPU-aware MPI). */
  gpuAware?: { modules?: string[]; env?: StringMap; containerEnv?: StringMap; runtimeFlags?: string[] };
  /** The runtime runs only the given command, not the image's entrypoint (podman-hpc --mpi). */
  commandOnly?: boolean;
  expectLibrary: string;
}

export type RuntimeType = 'singularityce' | 'singularitypro' | 'apptainer' | 'podman' | 'podman-hpc' | 'charliecloud' | 'enroot-pyxis' | 'cscs-ce';

export interface PartitionDoc {
  id: string;
  description?: string;
  nodes?: number;
  directives: string[];
  cpu: {
    arch: Arch;
    microarch?: string;
    model: string;
    sockets?: number;
    cores: number;
    usableCores?: number;
    targetFlags: string;
    /** Tried in order when the base image's compiler does not accept targetFlags. */
    targetFlagsFallback?: string[];
  };
  memoryGiB: number;
  gpu?: {
    vendor: 'nvidia' | 'amd';
    model: string;
    count: number;
    arch: string;
    memoryGiB?: number;
    driver: { cuda?: string; rocm?: string };
    toolkit: { block: string; with?: Record<string, ParamValue> };
    runtimeFlags?: string[];
    devices?: string[];
    visibilityEnv: string;
    env?: StringMap;
    selectWrapper?: string;
    collectives?: CollectivePluginDoc[];
  };
  runtime: { type: RuntimeType; version?: string; command: string; flags?: string[]; module?: string };
  launcher: { type: 'srun' | 'mpiexec' | 'mpirun' | 'pjm-mpiexec'; template: string };
  mpi: {
    host?: { impl: string; version?: string; abi?: 'mpich' | 'openmpi' | 'none' };
    strategies: MpiStrategyDoc[];
  };
  mounts?: { runtimeDefaults?: string[]; required?: string[]; optional?: string[] };
  modules?: string[];
  env?: StringMap;
  smoke: {
    mpi: { nodes: number; ranksPerNode: number; latency: ThresholdDoc; bandwidth: ThresholdDoc };
    gpu?: { expectDeviceCount: number; expectArch?: string; probe?: string[] };
  };
}

export type BaseOverrideDoc = { images: Partial<Record<Arch, string>> } | { hostBuilt: { reference: string; how: string } };

export interface SystemDoc {
  schemaVersion: 1;
  id: string;
  name: string;
  operator?: string;
  description?: string;
  production: boolean;
  sources: Record<string, { url: string; title?: string; kind: string; asOf: string }>;
  provenance?: { path: string; sources?: string[]; unverified?: boolean; note?: string }[];
  scheduler: { type: 'slurm' | 'pjm' | 'none'; version?: string; accountDirective?: string };
  interconnect: { type: string; provider?: string; nicsPerNode?: number; gbpsPerNic?: number };
  storage?: { name: string; path: string; bindFullPath?: boolean }[];
  bases?: Record<string, BaseOverrideDoc>;
  policy: {
    builder: 'buildah' | 'podman' | 'docker' | 'apptainer' | 'podman-hpc';
    buildWhere: 'ci' | 'on-system' | 'off-system';
    runnerLabels: string[];
    fakeroot?: boolean;
    userNamespaces?: boolean;
    imageFormat: 'oci' | 'sif' | 'squashfs';
    notes?: string;
  };
  imagePolicy?: ImagePolicyDoc;
  imagePolicyNext?: ImagePolicyDoc & { effective: string };
  partitions: PartitionDoc[];
}

/** What a centre accepts of an image, today or from a date on. */
export interface ImagePolicyDoc {
  effective?: string;
  source?: string;
  rules: { maxImageSize?: string; licenses?: string[]; minCuda?: string; minRocm?: string; noRootUser?: boolean; noSetuid?: boolean };
}

/** catalog/toolchains.yaml */
export interface ToolchainsDoc {
  compilers: Partial<Record<'gcc', { source: string; asOf: string; targets: Record<string, string[]> }>>;
  toolkits: Record<string, { source: string; asOf: string; releases: Record<string, string[]> }>;
  portable?: Partial<Record<Arch, string>>;
}
