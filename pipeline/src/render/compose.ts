/**
 * Composition: a recipe on one system partition becomes a flat list of primitives.
 * Slots are filled by the system (@mpi by its MPI strategy, @gpu by its GPU toolkit), block
 * parameters resolved, `when` applied, placeholders expanded, and pinned sources looked up.
 * Every output format is rendered from this one list, so they cannot drift apart.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import type { Catalog, Entry } from '../catalog/load.ts';
import type { SourceFile } from '../catalog/source.ts';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import { chooseTargetFlags, toolkitProblem } from '../check/toolchain.ts';
import { satisfies } from '../model/capabilities.ts';
import { resolveParams } from '../model/params.ts';
import { expandDeep, UnknownPlaceholderError } from '../model/template.ts';
import type { RuntimeStepDoc, Arch, BlockDoc, MpiStrategyDoc, PackageManager, ParamValue, PartitionDoc, PrimitiveDoc, SourceDoc, SystemDoc } from '../model/types.ts';
import { resolveBase, type ResolvedBase } from '../systems/base.ts';
import { BrickyardError } from '../util/errors.ts';

export interface Target {
  arch: Arch;
  cflags: string;
  gpuArch: string;
}

export interface ResolvedSource {
  name: string;
  url: string;
  sha256: string;
  /** Path of the verified download in the build context. */
  contextPath: string;
  origin: string;
}

export interface ContextFile {
  /** Path inside the build context (forward slashes). */
  path: string;
  abs: string;
}

export type Op =
  | { kind: 'run'; script: string }
  /** `standIns`: dependencies left out, each satisfied by an empty package that provides it (apt). */
  | { kind: 'packages'; manager: PackageManager; packages: string[]; standIns?: string[] }
  | { kind: 'fetch'; source: ResolvedSource; dest: string }
  | { kind: 'copy'; src: string; dest: string; mode: string | undefined }
  | { kind: 'env'; vars: Record<string, string> }
  | { kind: 'label'; labels: Record<string, string> }
  | { kind: 'user'; name: string }
  | { kind: 'workdir'; path: string }
  | { kind: 'entrypoint'; argv: string[] }
  /** Runtime stage only: copy these paths from the build stage to the same place. */
  | { kind: 'keep'; paths: string[] };

export interface Step {
  op: Op;
  /** `block:<name>` or `recipe:<name>@<version>`. */
  origin: string;
  comment: string | undefined;
}

export interface ComposedBlock {
  name: string;
  slot: '@mpi' | '@gpu' | undefined;
  params: Record<string, ParamValue>;
  entry: Entry<BlockDoc>;
}

export interface Composition {
  recipe: ResolvedRecipe;
  system: SystemDoc;
  /** The system template's file, for its digest in the lock. */
  systemFile: SourceFile;
  partition: PartitionDoc;
  strategy: MpiStrategyDoc | undefined;
  base: ResolvedBase;
  target: Target;
  blocks: ComposedBlock[];
  steps: Step[];
  /**
   * Multi-stage recipes: the runtime stage, built on the same base from the blocks' and the
   * recipe's runtime parts, then the image metadata (env, labels, entrypoint) of `steps`.
   * undefined: one stage, the image is what `steps` leave.
   */
  runtime: Step[] | undefined;
  sources: ResolvedSource[];
  context: ContextFile[];
}

/**
 * Strategies that bind the host's MPI into the container at run time: the image needs none of its own tools.
 * Not cxi-hook: on Alps the Container Engine's CXI hook replaces only libfabric and xpmem, and the image's
 * own MPICH runs (docs.cscs.ch/software/communication/mpich, read 2026-12-03), so it stays in the runtime stage.
 */
export const HOST_MPI_STRATEGIES: ReadonlySet<string> = new Set(['host-injection']);

/** Folders of the base system that a runtime part may not keep whole. */
const SYSTEM_DIRS: ReadonlySet<string> = new Set([
  '/',
  '/usr',
  '/usr/lib',
  '/usr/lib64',
  '/usr/bin',
  '/usr/local',
  '/usr/local/lib',
  '/usr/local/bin',
  '/usr/share',
  '/usr/include',
  '/lib',
  '/lib64',
  '/bin',
  '/sbin',
  '/etc',
  '/opt',
  '/var',
]);

/** Step kinds that are image metadata rather than content; the runtime stage repeats them. */
const METADATA_KINDS: ReadonlySet<Op['kind']> = new Set(['env', 'label', 'user', 'workdir', 'entrypoint']);

export function targetOf(part: PartitionDoc): Target {
  return { arch: part.cpu.arch, cflags: part.cpu.targetFlags, gpuArch: part.gpu?.arch ?? '' };
}

/** One pair being composed: what it is made of, every problem found so far (all are reported together), and what has been emitted. */
interface Composing {
  cat: Catalog;
  recipe: ResolvedRecipe;
  system: SystemDoc;
  partition: PartitionDoc;
  strategy: MpiStrategyDoc | undefined;
  base: ResolvedBase;
  target: Target;
  problems: string[];
  /** Where in the recipe's own file a problem belongs (the base line, a block entry), when known. */
  paths: Map<string, (string | number)[]>;
  steps: Step[];
  sources: ResolvedSource[];
  context: Map<string, ContextFile>;
}

/** A problem that belongs at `path` in the recipe's own file. */
function problemAt(c: Composing, path: (string | number)[], problem: string): void {
  c.problems.push(problem);
  c.paths.set(problem, path);
}

export function compose(cat: Catalog, recipe: ResolvedRecipe, systemEntry: Entry<SystemDoc>, partition: PartitionDoc, strategy: MpiStrategyDoc | undefined): Composition {
  const system = systemEntry.doc;
  const where = `${recipe.key} on ${system.id}/${partition.id}`;
  const target = targetOf(partition);
  const base = resolveBase(cat, system, recipe.doc.base, target.arch);
  if ('error' in base) throw renderError(where, [base.error]);
  const c: Composing = { cat, recipe, system, partition, strategy, base, target, problems: [], paths: new Map(), steps: [], sources: [], context: new Map() };
  const choice = chooseTargetFlags(cat, partition, recipe.doc.base, recipe.doc.cpuTarget);
  target.cflags = choice.flags;
  if (choice.problem) problemAt(c, recipe.entry.doc.base !== undefined ? ['base'] : ['extends'], choice.problem);

  const blocks = composeBlocks(c);
  checkCapabilities(c, blocks);
  const values = emitBuildSteps(c, blocks);
  emitImageMetadata(c);
  const runtime = recipe.runtime ? runtimeStage(c, blocks, values, recipe.runtime) : undefined;

  if (c.problems.length > 0) throw new ComposeError(where, c.problems, c.paths);
  return {
    recipe,
    system,
    systemFile: systemEntry.file,
    partition,
    strategy,
    base,
    target,
    blocks,
    steps: c.steps,
    runtime,
    sources: c.sources,
    context: [...c.context.values()].sort((a, b) => (a.path < b.path ? -1 : 1)),
  };
}

/** The recipe's blocks in order, the @mpi and @gpu slots filled by the system, their parameters resolved. */
function composeBlocks(c: Composing): ComposedBlock[] {
  const { cat, recipe, system, partition, strategy } = c;
  const blocks: ComposedBlock[] = [];
  const ownBlocks = recipe.entry.doc.blocks ?? [];
  for (const { item } of recipe.blocks) {
    const filled = fillSlot(c, item.use, { ...item.with });
    if (!filled) continue;
    const { name, slot, given } = filled;
    const entry = cat.blocks.get(name);
    if (!entry) {
      c.problems.push(`block ${name}${slot ? ` (filling ${slot})` : ''} is not in the catalogue`);
      continue;
    }
    const { values, problems: pp } = resolveParams(entry.doc, given);
    const bySystem = slot === '@mpi' ? strategy?.with : slot === '@gpu' ? partition.gpu?.toolkit.with : undefined;
    c.problems.push(
      ...pp.map((p) => {
        if (!slot) return p.message;
        return `${p.message} (${bySystem && p.param in bySystem ? `set by systems/${system.id}.yaml` : `asked by the recipe, filled here by block ${name}`} for ${slot})`;
      }),
    );
    const kit = toolkitProblem(cat, name, values, recipe.doc.base);
    if (kit) {
      const own = ownBlocks.indexOf(item);
      problemAt(c, own >= 0 ? ['blocks', own] : ['extends'], `${kit}${slot ? ` (the ${slot} release is set by systems/${system.id}.yaml)` : ''}`);
    }
    blocks.push({ name, slot, params: values, entry });
  }
  return blocks;
}

/** The block a recipe's entry names: itself, or what the system puts in the @mpi or @gpu slot (its parameters winning); undefined when the slot cannot be filled. */
function fillSlot(c: Composing, use: string, given: Record<string, ParamValue>): { name: string; slot: ComposedBlock['slot']; given: Record<string, ParamValue> } | undefined {
  const { system, partition, strategy } = c;
  if (use === '@mpi') {
    if (!strategy) {
      c.problems.push(`the @mpi slot needs an MPI strategy, and ${system.id}/${partition.id} has none that fits`);
      return undefined;
    }
    return { name: strategy.block, slot: '@mpi', given: { ...given, ...strategy.with } }; // the system's choice wins: it is what its MPI needs
  }
  if (use === '@gpu') {
    if (!partition.gpu) {
      c.problems.push(`the @gpu slot needs a GPU partition; ${system.id}/${partition.id} has no GPU`);
      return undefined;
    }
    return { name: partition.gpu.toolkit.block, slot: '@gpu', given: { ...given, ...partition.gpu.toolkit.with } };
  }
  return { name: use, slot: undefined, given };
}

/** Capabilities, in order: what a block requires must come from the base or an earlier block; no two blocks conflict. */
function checkCapabilities(c: Composing, blocks: ComposedBlock[]): void {
  const provided: string[] = [...c.base.provides];
  for (const b of blocks) {
    for (const need of b.entry.doc.requires ?? []) {
      if (!satisfies(provided, need)) c.problems.push(`block ${b.name} requires ${need}, which neither the base nor an earlier block provides`);
    }
    for (const conflict of b.entry.doc.conflicts ?? []) {
      const other = blocks.find((o) => o !== b && satisfies(o.entry.doc.provides, conflict));
      if (other) c.problems.push(`block ${b.name} conflicts with ${conflict}, which block ${other.name} provides`);
    }
    provided.push(...b.entry.doc.provides);
  }
}

function targetValues(target: Target): [string, string][] {
  return [
    ['target.arch', target.arch],
    ['target.cflags', target.cflags],
    ['target.gpuArch', target.gpuArch],
  ];
}

/** The placeholder values steps are expanded with: the recipe's, and each block's (its parameters). */
interface StepValues {
  recipe: Map<string, string>;
  blocks: Map<ComposedBlock, Map<string, string>>;
}

/** The build stage: each block's steps in order, the recipe's steps placed before or after their block, then the recipe's unplaced steps. */
function emitBuildSteps(c: Composing, blocks: ComposedBlock[]): StepValues {
  const { recipe } = c;
  const values: StepValues = { recipe: new Map<string, string>(targetValues(c.target)), blocks: new Map() };
  const recipeSources = recipe.sources.map((s) => s.item);
  const emitRecipeStep = ({ item, dir, origin }: (typeof recipe.steps)[number]): void => {
    const [name = '', version = ''] = (origin.split(':')[1] ?? '').split('@');
    emitStep(c, item, { origin, dir, contextPrefix: `recipes/${name}/${version}`, values: values.recipe, params: {} }, (n) => recipeSources.find((s) => s.name === n));
  };
  // Recipe steps placed around a block (by its name or its slot), e.g. xpmem before MPICH.
  const placed = (where: 'before' | 'after', b: ComposedBlock): typeof recipe.steps =>
    recipe.steps.filter((s) => s.item[where] !== undefined && (s.item[where] === b.name || s.item[where] === b.slot));
  for (const s of recipe.steps) {
    const target = s.item.before ?? s.item.after;
    if (target !== undefined && !blocks.some((b) => b.name === target || b.slot === target)) {
      c.problems.push(
        `${s.origin}: a step is placed ${s.item.before !== undefined ? 'before' : 'after'} ${target}, which this composition has no block for (blocks: ${blocks.map((b) => b.slot ?? b.name).join(', ')})`,
      );
    }
  }
  for (const b of blocks) {
    for (const s of placed('before', b)) emitRecipeStep(s);
    const mine = new Map<string, string>(targetValues(c.target));
    for (const [k, v] of Object.entries(b.params)) mine.set(k, String(v));
    values.blocks.set(b, mine);
    const lookup = (name: string): SourceDoc | undefined => {
      const src = (b.entry.doc.sources ?? []).find((s) => s.name === name && (s.version === undefined || s.version === String(b.params['version'])));
      return src && expandDeep(src, mine);
    };
    for (const step of b.entry.doc.steps)
      emitStep(c, step, { origin: `block:${b.name}`, dir: b.entry.dir, contextPrefix: `blocks/${b.name}`, values: mine, params: b.params }, lookup);
    for (const s of placed('after', b)) emitRecipeStep(s);
  }
  for (const s of recipe.steps) if (s.item.before === undefined && s.item.after === undefined) emitRecipeStep(s);
  return values;
}

/** Where a step comes from: its origin, its file's folder, its folder in the build context, and what its placeholders and `when` see. */
interface StepSource {
  origin: string;
  dir: string;
  contextPrefix: string;
  values: Map<string, string>;
  params: Record<string, ParamValue>;
}

/** One build-stage primitive: `when` applied, placeholders expanded, then emitted as its op. */
function emitStep(c: Composing, raw: PrimitiveDoc, from: StepSource, lookupSource: (name: string) => SourceDoc | undefined): void {
  if (raw.when && !whenHolds(raw.when, from.params)) return;
  const { when: _when, before: _before, after: _after, ...rest } = raw;
  let p: PrimitiveDoc;
  try {
    p = expandDeep(rest, from.values);
  } catch (e) {
    if (e instanceof UnknownPlaceholderError) {
      c.problems.push(`${from.origin}: ${e.message}`);
      return;
    }
    throw e;
  }
  const op = primitiveOp(c, p, from, lookupSource);
  if (op) c.steps.push({ op, origin: from.origin, comment: p.comment });
}

function primitiveOp(c: Composing, p: PrimitiveDoc, from: StepSource, lookupSource: (name: string) => SourceDoc | undefined): Op | undefined {
  const { base } = c;
  const { origin } = from;
  if (p.run !== undefined) return { kind: 'run', script: p.run.replace(/\s+$/, '') };
  if (p.packages) {
    const list = p.packages[base.packageManager];
    if (!list) c.problems.push(`${origin}: has no ${base.packageManager} packages for base ${base.name}`);
    return list ? { kind: 'packages', manager: base.packageManager, packages: list } : undefined;
  }
  if (p.fetch) {
    const src = lookupSource(p.fetch.source);
    if (!src) {
      c.problems.push(`${origin}: fetch names source "${p.fetch.source}", which it does not declare for these parameters`);
      return undefined;
    }
    const filename = src.filename ?? posix.basename(new URL(src.url).pathname);
    const resolved: ResolvedSource = { name: src.name, url: src.url, sha256: src.sha256, contextPath: `sources/${src.sha256.slice(0, 12)}-${filename}`, origin };
    if (!c.sources.some((s) => s.contextPath === resolved.contextPath)) c.sources.push(resolved);
    return { kind: 'fetch', source: resolved, dest: p.fetch.dest };
  }
  if (p.copy) {
    const files = listFiles(join(from.dir, p.copy.src));
    if (files.length === 0) {
      c.problems.push(`${origin}: copy source ${p.copy.src} does not exist beside its file`);
      return undefined;
    }
    for (const f of files) {
      const path = `${from.contextPrefix}/${relative(from.dir, f).split(sep).join('/')}`;
      c.context.set(path, { path, abs: f });
    }
    return { kind: 'copy', src: `${from.contextPrefix}/${p.copy.src.replace(/\/+$/, '')}`, dest: p.copy.dest, mode: p.copy.mode };
  }
  if (p.env) return { kind: 'env', vars: stringify(p.env) };
  if (p.label) return { kind: 'label', labels: stringify(p.label) };
  if (p.user !== undefined) return { kind: 'user', name: p.user };
  if (p.workdir !== undefined) return { kind: 'workdir', path: p.workdir };
  if (p.entrypoint) return { kind: 'entrypoint', argv: p.entrypoint };
  return undefined;
}

/** The recipe's environment, the image labels (OCI and Brickyard's own), its entrypoint. */
function emitImageMetadata(c: Composing): void {
  const { recipe, system, partition, base, strategy } = c;
  const origin = `recipe:${recipe.key}`;
  const doc = recipe.doc;
  if (doc.environment) c.steps.push({ op: { kind: 'env', vars: stringify(doc.environment) }, origin, comment: 'recipe environment' });
  const labels: Record<string, string> = {
    'org.opencontainers.image.title': doc.name,
    'org.opencontainers.image.version': doc.version,
    'org.opencontainers.image.description': doc.summary,
    ...(doc.license ? { 'org.opencontainers.image.licenses': doc.license } : {}),
    ...(doc.homepage ? { 'org.opencontainers.image.url': doc.homepage } : {}),
    'dev.brickyard.recipe': recipe.key,
    'dev.brickyard.revision': String(doc.revision),
    'dev.brickyard.system': `${system.id}/${partition.id}`,
    'dev.brickyard.base': base.reference,
    ...(strategy ? { 'dev.brickyard.mpi-strategy': strategy.id } : {}),
    ...stringify(doc.labels ?? {}),
  };
  c.steps.push({ op: { kind: 'label', labels }, origin, comment: 'image metadata' });
  if (doc.entrypoint) c.steps.push({ op: { kind: 'entrypoint', argv: doc.entrypoint }, origin, comment: undefined });
}

/** The runtime stage: the blocks' and the recipe's runtime parts (packages merged into one install), the kept files registered, then the image metadata. */
function runtimeStage(c: Composing, blocks: ComposedBlock[], values: StepValues, recipeRuntime: NonNullable<ResolvedRecipe['runtime']>): Step[] {
  const injected = c.strategy !== undefined && HOST_MPI_STRATEGIES.has(c.strategy.id);
  const own: Step[] = [];
  for (const b of blocks) {
    for (const item of b.entry.doc.runtime ?? []) own.push(...runtimeStep(c, item, `block:${b.name}`, values.blocks.get(b) ?? new Map<string, string>(), b.params, injected));
  }
  for (const { item, origin } of recipeRuntime) own.push(...runtimeStep(c, item, origin, values.recipe, {}, injected));
  const runtimeOrigin = `recipe:${c.recipe.key}`;
  const runtime: Step[] = [...runtimePackages(c, own, runtimeOrigin), ...own.filter((s) => s.op.kind !== 'packages')];
  if (own.some((s) => s.op.kind === 'keep')) {
    runtime.push({
      op: { kind: 'run', script: 'ldconfig && rm -f /var/cache/ldconfig/aux-cache' },
      origin: runtimeOrigin,
      comment: 'register the kept libraries (aux-cache holds file times: dropped for reproducible layers)',
    });
  }
  runtime.push(...c.steps.filter((s) => METADATA_KINDS.has(s.op.kind)));
  return runtime;
}

/** One runtime part as a step ([] when `when` or unlessHostMpi leaves it out, or it has a problem). */
function runtimeStep(c: Composing, raw: RuntimeStepDoc, origin: string, values: Map<string, string>, params: Record<string, ParamValue>, injected: boolean): Step[] {
  if (raw.when && !whenHolds(raw.when, params)) return [];
  if (raw.unlessHostMpi && injected) return [];
  const { when: _w, unlessHostMpi: _u, ...rest } = raw;
  let p: RuntimeStepDoc;
  try {
    p = expandDeep(rest, values);
  } catch (e) {
    if (e instanceof UnknownPlaceholderError) {
      c.problems.push(`${origin} (runtime): ${e.message}`);
      return [];
    }
    throw e;
  }
  const { base } = c;
  const step = (op: Op): Step[] => [{ op, origin, comment: p.comment }];
  if (p.packages) {
    const list = p.packages[base.packageManager];
    const standIns = base.packageManager === 'apt' ? p.leaveOut?.apt : undefined;
    if (list) return step({ kind: 'packages', manager: base.packageManager, packages: list, ...(standIns ? { standIns } : {}) });
    c.problems.push(`${origin} (runtime): has no ${base.packageManager} packages for base ${base.name}`);
  } else if (p.keep) {
    const notAbsolute = p.keep.filter((k) => !k.startsWith('/') || k.split('/').includes('..'));
    const systemDirs = p.keep.filter((k) => SYSTEM_DIRS.has(k.replace(/\/+$/, '') || '/'));
    if (notAbsolute.length > 0) c.problems.push(`${origin} (runtime): keep needs absolute paths without "..", not ${notAbsolute.join(', ')}`);
    else if (systemDirs.length > 0)
      c.problems.push(
        `${origin} (runtime): keep ${systemDirs.join(', ')} would copy the build stage's whole system folder (toolchain included) over the runtime base; install into a prefix of its own (e.g. /opt/NAME) or keep single files`,
      );
    else return step({ kind: 'keep', paths: p.keep });
  } else if (p.run !== undefined) return step({ kind: 'run', script: p.run.replace(/\s+$/, '') });
  return [];
}

/**
 * One install for every runtime package: one package-database rewrite and one index download
 * instead of one per block (each rewrite would be stored again in its own layer).
 */
function runtimePackages(c: Composing, own: Step[], runtimeOrigin: string): Step[] {
  const { base } = c;
  const packageSteps = own.filter((s) => s.op.kind === 'packages');
  const [only] = packageSteps;
  if (!only) return [];
  const noDocs: Step = {
    op: { kind: 'run', script: noDocsScript(base.packageManager) },
    origin: runtimeOrigin,
    comment: 'runtime stage: no documentation, manual pages or translations from packages (copyright files stay)',
  };
  const packages = [...new Set(packageSteps.flatMap((s) => (s.op.kind === 'packages' ? s.op.packages : [])))];
  const standIns = [...new Set(packageSteps.flatMap((s) => (s.op.kind === 'packages' ? (s.op.standIns ?? []) : [])))].sort();
  const wanted = standIns.filter((n) => packages.includes(n));
  if (wanted.length > 0) c.problems.push(`runtime: ${wanted.join(', ')} is both installed and left out; drop it from leaveOut or from packages`);
  const origins = [...new Set(packageSteps.map((s) => s.origin))];
  return [
    noDocs,
    packageSteps.length === 1
      ? only
      : {
          op: { kind: 'packages', manager: base.packageManager, packages, ...(standIns.length > 0 ? { standIns } : {}) },
          origin: runtimeOrigin,
          comment: `runtime packages of ${origins.join(', ')}`,
        },
  ];
}

/** Package-manager settings that keep documentation out of the runtime stage's packages. */
function noDocsScript(manager: PackageManager): string {
  switch (manager) {
    case 'apt':
      return [
        'mkdir -p /etc/dpkg/dpkg.cfg.d',
        "printf '%s\\n' 'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' 'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/info/*' 'path-exclude=/usr/share/locale/*' 'path-include=/usr/share/locale/locale.alias' 'path-exclude=/usr/share/lintian/*' > /etc/dpkg/dpkg.cfg.d/brickyard-runtime-nodoc",
      ].join('\n');
    case 'dnf':
      return "echo 'tsflags=nodocs' >> /etc/dnf/dnf.conf";
    default:
      return "sed -i 's/^#* *rpm.install.excludedocs *=.*/rpm.install.excludedocs = yes/' /etc/zypp/zypp.conf";
  }
}

function whenHolds(when: Record<string, ParamValue | ParamValue[]>, params: Record<string, ParamValue>): boolean {
  return Object.entries(when).every(([k, v]) => (Array.isArray(v) ? v.some((x) => x === params[k]) : params[k] === v));
}

function stringify(m: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
}

function listFiles(abs: string): string[] {
  let st;
  try {
    st = statSync(abs);
  } catch {
    return [];
  }
  if (st.isFile()) return [abs];
  if (!st.isDirectory()) return [];
  return readdirSync(abs, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .flatMap((d) => listFiles(join(abs, d.name)));
}

/** A composition that cannot be made, with every problem found. */
export class ComposeError extends BrickyardError {
  readonly problems: string[];
  /** For some problems, the path in the recipe's own file they belong to. */
  readonly paths: ReadonlyMap<string, (string | number)[]>;
  constructor(where: string, problems: string[], paths: ReadonlyMap<string, (string | number)[]> = new Map()) {
    super('RENDER_FAILED', `cannot render ${where}:\n  - ${problems.join('\n  - ')}`, {
      hint: 'run `brickyard validate` for the findings at file:line',
    });
    this.problems = problems;
    this.paths = paths;
  }
}

function renderError(where: string, problems: string[]): ComposeError {
  return new ComposeError(where, problems);
}
