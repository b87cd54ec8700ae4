/**
 * `brickyard build`: render a pair, make sure its base exists, assemble the build context, build
 * with the builder the system's policy names, export into the shared OCI image layout with
 * OCI annotations, enforce the size budget, write the SPDX SBOM and a build record.
 */
import { engineRoot } from '../util/engine-root.ts';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import { gitOrEmpty } from '../git/git.ts';
import { formatBytes, parseSize } from '../util/units.ts';

// Its home is util/units.ts; re-exported until the importers (cli/, web/, actions/) import it from there.
export { formatBytes };
import { imageReference } from '../render/jobscript.ts';
import { BrickyardError } from '../util/errors.ts';
import { openLog, run, runOk, which } from '../util/exec.ts';
import type { Rendered } from '../render/index.ts';
import type { Pair, PartitionRef, Workspace } from '../workspace.ts';
import { usableBuilder, type Builder } from './builders.ts';
import { writeContext, type BuildContext } from './context.ts';
import { diffLayers, layerEntries } from './layerdiff.ts';
import { annotateManifest, manifestFor, readConfigBlob, readManifestBlob, storedSize } from './oci.ts';
import { readInstalledPackages } from './package-db.ts';
import { spdxDocument } from './sbom.ts';
import { validateSpdx } from './spdx-validate.ts';
import { inspectImage } from './inspect.ts';
import { imageBreaks } from '../check/image-policy.ts';
import { buildSif, type SifRequest } from './sif.ts';
import { pairLayout, pairFolder, stateLayout } from '../state/layout.ts';
import { parseStateRecord, type BuildRecord } from '../state/records.ts';

/** Runtimes that run SIF files: a pair for them gets a SIF beside its OCI image. */
export const SIF_RUNTIMES: ReadonlySet<string> = new Set(['apptainer', 'singularityce', 'singularitypro']);

export interface BuildOptions {
  /** State folder: OCI layout, build records, caches (default <root>/.brickyard). */
  stateDir: string;
  checkReproducible?: boolean;
  /** Also make a SIF file (always done for partitions whose runtime is Apptainer or Singularity). */
  sif?: boolean;
  fetchImpl?: typeof fetch;
  /** Stage progress for people watching: "context", "build", … */
  onStage?: (stage: string, detail: string) => void;
  onOutput?: (chunk: string) => void;
}

// Its home is state/records.ts (read back validated there); re-exported for the importers.
export type { BuildRecord };

export function refNameOf(r: ResolvedRecipe, where: PartitionRef): string {
  return `${r.doc.name}_${r.doc.version}-${r.doc.revision}_${where.system.doc.id}-${where.partition.id}`;
}

export function pairDir(stateDir: string, r: ResolvedRecipe, where: PartitionRef): string {
  return pairLayout(stateDir, { recipe: r.key, system: where.system.doc.id, partition: where.partition.id }).dir;
}

/**
 * SOURCE_DATE_EPOCH when set; else the time of the last commit that touched the pair's inputs
 * (so an unchanged pair keeps its timestamps, and its build cache); else 0.
 */
export function sourceDateEpoch(root: string, inputs: string[] = []): number {
  const env = process.env['SOURCE_DATE_EPOCH'];
  if (env && /^\d+$/.test(env)) return Number(env);
  return Number(gitOrEmpty(root, ['log', '-1', '--format=%ct', '--', ...inputs])) || 0;
}

/** The commit that last touched the pair's inputs (so unchanged pairs keep their annotations) and the source URL. */
function gitInfo(root: string, inputs: string[]): { commit: string; source: string } {
  const q = (args: string[]): string => gitOrEmpty(root, args);
  const server = process.env['GITHUB_SERVER_URL'];
  const repo = process.env['GITHUB_REPOSITORY'];
  return {
    commit: q(['log', '-1', '--format=%H', '--', ...inputs]) || q(['rev-parse', 'HEAD']) || 'unknown',
    source: server && repo ? `${server}/${repo}` : q(['remote', 'get-url', 'origin']) || 'local',
  };
}

async function imageExists(ref: string): Promise<boolean> {
  return (await run('buildah', ['inspect', '--type', 'image', ref])).code === 0;
}

/** A base the build host makes itself (the local system's debian-12) is built on first use. */
export async function ensureHostBuiltBase(reference: string, stage: BuildOptions['onStage']): Promise<void> {
  if (!which('buildah')) return; // the builder check explains what is missing
  if (await imageExists(reference)) return;
  const script = join(engineRoot(), 'scripts', 'build-base.sh');
  if (!existsSync(script)) {
    throw new BrickyardError('BASE_MISSING', `base image ${reference} is not in the builder's storage`, {
      hint: 'build it with scripts/build-base.sh from the Brickyard repository',
    });
  }
  stage?.('base', `building ${reference} with mmdebstrap (once; cached afterwards)`);
  await runOk('bash', [script], { what: `scripts/build-base.sh (base image ${reference})`, code: 'BASE_MISSING' });
}

/** Build a pair of this workspace (Workspace.pair, or a tune variant of one). */
export async function buildPair(ws: Workspace, pair: Pair, opts: BuildOptions): Promise<BuildRecord> {
  const { recipe: r } = pair;
  const where: PartitionRef = pair;
  const durations: Record<string, number> = {};
  const startedOn = new Date().toISOString();
  const timed = stopwatch(durations);
  const stage = opts.onStage;
  const system = where.system.doc;
  const builder: Builder = usableBuilder(system.policy.builder);

  stage?.('render', `${r.key} for ${system.id}/${where.partition.id}`);
  const rendered = await timed('render', () => ws.render(pair));
  const c = rendered.composition;
  const lock = parseStateRecord('lock', rendered.files.lock, `the rendered lock of ${r.key}`);

  const state = stateLayout(opts.stateDir);
  const folder = pairFolder(pairDir(opts.stateDir, r, where));
  mkdirSync(folder.dir, { recursive: true });
  const logPath = folder.buildLog;
  rmSync(logPath, { force: true });
  const log = openLog(logPath);
  const run: BuildRun = { pair, opts, builder, rendered, folder, log, timed };
  try {
    if (c.base.hostBuilt) await timed('base', () => ensureHostBuiltBase(c.base.reference, stage));

    stage?.('context', `${c.context.length} file(s), ${c.sources.length} pinned source(s)`);
    const ctx = await timed('context', () => writeContext(rendered, folder.context, state.cache, opts.fetchImpl));

    const inputs = [...r.chain.map((e) => dirname(e.file.rel)), ...c.blocks.map((b) => dirname(b.entry.file.rel)), c.systemFile.rel, 'catalog/bases.yaml'];
    const epoch = sourceDateEpoch(ws.root, inputs);
    const created = new Date(epoch * 1000).toISOString();
    const tag = imageReference(c);
    const annotations = imageAnnotations(pair, gitInfo(ws.root, inputs), created, lock.lockDigest);

    const req = await buildImage(run, ctx, tag, epoch, annotations);

    // The budget is checked before the image enters the layout, so an oversized image never does.
    const uncompressed = await builder.imageSize(tag);
    const { budget, budgetBytes } = checkSizeBudget(pair, uncompressed);

    const layout = state.oci;
    const refName = refNameOf(r, where);
    stage?.('export', `OCI layout ${relative(ws.root, layout) || layout} as ${refName}`);
    await timed('export', () => builder.exportOci(tag, layout, refName, log));
    annotateManifest(layout, refName, annotations);
    const stored = storedSize(layout, refName);
    const configDigest = readManifestBlob(layout, stored.manifest.digest).config.digest;

    stage?.('sbom', "SPDX 2.3 from the image's package database");
    const sbom = await timed('sbom', () => writeSbom(tag, folder.sbom, { r, created, manifestDigest: stored.manifest.digest, sources: c.sources }));

    const imagePolicy = imagePolicyOf(pair, layout, stored.manifest.digest);
    const sifBuild = opts.sif || SIF_RUNTIMES.has(where.partition.runtime.type) ? await makeSif(run, layout, refName, epoch) : undefined;
    const sif = sifBuild?.sif;
    const reproducible: BuildRecord['reproducible'] = opts.checkReproducible
      ? await checkReproducible(run, req, layout, refName, sifBuild)
      : { checked: false, identical: null, second: null };

    const record: BuildRecord = {
      kind: 'brickyard-build',
      version: 1,
      recipe: { name: r.doc.name, version: r.doc.version, revision: r.doc.revision },
      system: system.id,
      partition: where.partition.id,
      builder: builder.name,
      image: { reference: tag, ociLayout: layout, refName, manifestDigest: stored.manifest.digest, configDigest },
      lockDigest: lock.lockDigest,
      inputs: {
        base: c.base.reference,
        baseDigest: c.base.digest ?? null,
        sources: c.sources.map((s) => ({ name: s.name, url: s.url, sha256: s.sha256 })),
        context: c.context.length,
      },
      sizes: { uncompressedBytes: uncompressed, compressedBytes: stored.compressedBytes, budgetBytes, budget },
      reproducible,
      sbom,
      imagePolicy,
      ...(sif ? { sif } : {}),
      created,
      startedOn,
      finishedOn: new Date().toISOString(),
      durations,
      log: logPath,
    };
    writeBuildFiles(run, record);
    return record;
  } finally {
    log.end();
  }
}

/** Runs one named step and records how long it took, in seconds, under its name. */
type Timed = <T>(name: string, f: () => Promise<T> | T) => Promise<T>;

function stopwatch(durations: Record<string, number>): Timed {
  return async <T>(name: string, f: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      durations[name] = Math.round(performance.now() - t) / 1000;
    }
  };
}

/** One build of a pair under way: what its steps share. */
interface BuildRun {
  pair: Pair;
  opts: BuildOptions;
  builder: Builder;
  rendered: Rendered;
  folder: ReturnType<typeof pairFolder>;
  log: WriteStream;
  timed: Timed;
}

/** The image built from the written context, under its tag; the request, for a second build. */
async function buildImage(run: BuildRun, ctx: BuildContext, tag: string, epoch: number, annotations: Record<string, string>): Promise<Parameters<Builder['build']>[0]> {
  const { builder, opts, log, timed } = run;
  opts.onStage?.('build', `${builder.name} → ${tag}`);
  // To check reproducibility, both builds start from nothing: a cached layer keeps the file times of the build that made it.
  const req = {
    contextDir: ctx.dir,
    containerfile: ctx.containerfile,
    apptainerDef: ctx.apptainer,
    tag,
    epoch,
    annotations,
    noCache: opts.checkReproducible === true,
    log,
    onOutput: opts.onOutput,
  };
  await timed('build', () => builder.build(req));
  return req;
}

/** The image's facts against the system's image policy, now and next. */
function imagePolicyOf(pair: Pair, layout: string, manifestDigest: string): NonNullable<BuildRecord['imagePolicy']> {
  const system = pair.system.doc;
  const facts = inspectImage(layout, manifestDigest);
  return {
    facts,
    current: system.imagePolicy ? imageBreaks(facts, system.imagePolicy) : [],
    next: system.imagePolicyNext ? imageBreaks(facts, system.imagePolicyNext) : [],
  };
}

/** The OCI annotations of the image: what it is, where it came from, and which pair and lock it was built for. */
function imageAnnotations(pair: Pair, git: { commit: string; source: string }, created: string, lockDigest: string): Record<string, string> {
  const r = pair.recipe;
  return {
    'org.opencontainers.image.title': r.doc.name,
    'org.opencontainers.image.version': r.doc.version,
    'org.opencontainers.image.revision': git.commit,
    'org.opencontainers.image.source': git.source,
    'org.opencontainers.image.created': created,
    ...(r.doc.license ? { 'org.opencontainers.image.licenses': r.doc.license } : {}),
    'dev.brickyard.recipe': r.key,
    'dev.brickyard.revision': String(r.doc.revision),
    'dev.brickyard.system': pair.system.doc.id,
    'dev.brickyard.partition': pair.partition.id,
    'dev.brickyard.lock-digest': lockDigest,
  };
}

/** Refuses an image over the recipe's size budget; the budget as written and in bytes. */
function checkSizeBudget(pair: Pair, uncompressed: number): { budget: string; budgetBytes: number } {
  const r = pair.recipe;
  const budget = r.doc.sizeBudget ?? '0 MiB';
  const budgetBytes = parseSize(budget);
  if (Number.isFinite(uncompressed) && uncompressed > budgetBytes) {
    throw new BrickyardError(
      'SIZE_BUDGET_EXCEEDED',
      `${r.key} on ${pair.system.doc.id}/${pair.partition.id} is ${formatBytes(uncompressed)}, over its size budget of ${budget} (${formatBytes(budgetBytes)})`,
      {
        hint: 'make the image smaller (clean caches, drop build tools) or raise sizeBudget in the recipe, with a reason in review',
      },
    );
  }
  return { budget, budgetBytes };
}

/** The SIF file of the exported image, and the request that made it (the reproducibility check makes it again). */
async function makeSif(run: BuildRun, layout: string, refName: string, epoch: number): Promise<{ sif: NonNullable<BuildRecord['sif']>; request: SifRequest }> {
  const { rendered, folder } = run;
  const c = rendered.composition;
  run.opts.onStage?.('sif', 'SIF file: umoci unpack, mksquashfs, siftool');
  const labels = Object.assign({}, ...c.steps.map((st) => (st.op.kind === 'label' ? st.op.labels : {}))) as Record<string, string>;
  const request: SifRequest = {
    layout,
    refName,
    out: folder.sif(refName),
    workDir: folder.sifWork,
    definition: rendered.files.apptainer,
    labels,
    arch: c.target.arch,
    epoch,
    log: run.log,
  };
  const sif = await run.timed('sif', () => buildSif(request));
  return { sif, request };
}

/** A second build without the layer cache, compared with the first (and its SIF, remade from the second). */
async function checkReproducible(
  run: BuildRun,
  req: Parameters<Builder['build']>[0],
  layout: string,
  refName: string,
  sifBuild: { sif: NonNullable<BuildRecord['sif']>; request: SifRequest } | undefined,
): Promise<BuildRecord['reproducible']> {
  const { folder } = run;
  run.opts.onStage?.('reproduce', 'second build without the layer cache');
  const firstSif = sifBuild?.request;
  const remakeSif = firstSif
    ? async (secondLayout: string, secondRef: string): Promise<string> =>
        (await buildSif({ ...firstSif, layout: secondLayout, refName: secondRef, out: `${folder.sifWorkSecond}.sif`, workDir: folder.sifWorkSecond })).sha256
    : undefined;
  const sif = sifBuild?.sif;
  const reproducible = await run.timed('reproduce', () => rebuildAndCompare(run.builder, req, { layout, refName, ...(sif ? { sifSha256: sif.sha256 } : {}) }, run.log, remakeSif));
  rmSync(`${folder.sifWorkSecond}.sif`, { force: true });
  return reproducible;
}

/** The build record and the rendered files it was built from, into the pair's state folder. */
function writeBuildFiles({ folder, rendered }: BuildRun, record: BuildRecord): void {
  writeFileSync(folder.buildRecord, JSON.stringify(record, null, 2) + '\n');
  for (const [path, text] of [
    [folder.containerfile, rendered.files.containerfile],
    [folder.apptainerDef, rendered.files.apptainer],
    [folder.jobScript, rendered.files.jobscript],
    [folder.lock, rendered.files.lock],
  ] as const) {
    writeFileSync(path, text);
  }
}

async function writeSbom(
  tag: string,
  path: string,
  a: { r: ResolvedRecipe; created: string; manifestDigest: string; sources: { name: string; url: string; sha256: string; origin: string }[] },
): Promise<{ path: string; packages: number }> {
  // Mount the image's root file system read-only through a working container (we run as root).
  const ctr = (await runOk('buildah', ['from', '--pull-never', '--quiet', tag], { what: 'buildah from (for the SBOM)' })).stdout.trim();
  try {
    const mount = (await runOk('buildah', ['mount', ctr], { what: 'buildah mount (for the SBOM)' })).stdout.trim();
    const packages = readInstalledPackages(mount);
    const doc = spdxDocument({
      imageName: a.r.doc.name,
      imageDigest: a.manifestDigest,
      imageReference: tag,
      created: a.created,
      packages,
      sources: a.sources,
      recipe: { name: a.r.doc.name, version: a.r.doc.version, revision: a.r.doc.revision, ...(a.r.doc.license ? { license: a.r.doc.license } : {}) },
    });
    const errors = validateSpdx(doc);
    if (errors.length > 0) throw new BrickyardError('SBOM_INVALID', `the SBOM is not valid SPDX 2.3:\n  ${errors.slice(0, 10).join('\n  ')}`);
    writeFileSync(path, JSON.stringify(doc, null, 2) + '\n');
    return { path, packages: packages.length };
  } finally {
    await run('buildah', ['umount', ctr]);
    await run('buildah', ['rm', ctr]);
  }
}

/**
 * Build again without the layer cache and compare what the images are made of: the config and
 * every layer (the manifest of the first carries our annotations, so it cannot be compared as is).
 */
async function rebuildAndCompare(
  builder: Builder,
  req: Parameters<Builder['build']>[0],
  first: { layout: string; refName: string; sifSha256?: string },
  log: import('node:fs').WriteStream,
  remakeSif?: (layout: string, refName: string) => Promise<string>,
): Promise<BuildRecord['reproducible']> {
  const tag = `${req.tag}-reproduce`;
  const layout = mkdtempSync(join(tmpdir(), 'brickyard-repro-'));
  try {
    await builder.build({ ...req, tag, noCache: true });
    await builder.exportOci(tag, layout, 'second', log);
    const a = readManifestBlob(first.layout, manifestFor(first.layout, first.refName).digest);
    const second = manifestFor(layout, 'second').digest;
    const b = readManifestBlob(layout, second);
    const differing = a.layers.map((l, i) => (l.digest === b.layers[i]?.digest ? -1 : i)).filter((i) => i >= 0);
    const identical = a.config.digest === b.config.digest && a.layers.length === b.layers.length && differing.length === 0;
    const sifCheck = remakeSif && first.sifSha256 ? await remakeSif(layout, 'second').then((sha) => ({ identical: sha === first.sifSha256, second: sha })) : undefined;
    if (identical) return { checked: true, identical, second, ...(sifCheck ? { sif: sifCheck } : {}) };
    // Name what differs: the files of each differing layer, and the config's differing keys.
    const blob = (dir: string, digest: string): string => join(dir, 'blobs', 'sha256', digest.slice(7));
    const differingFiles: { layer: number; path: string; why: string }[] = [];
    for (const i of differing) {
      const [la, lb] = [a.layers[i], b.layers[i]];
      if (!la || !lb) continue;
      const files = diffLayers(await layerEntries(blob(first.layout, la.digest)), await layerEntries(blob(layout, lb.digest)));
      differingFiles.push(...files.map((f) => ({ layer: i, ...f })));
    }
    const ca = readConfigBlob(first.layout, a.config.digest);
    const cb = readConfigBlob(layout, b.config.digest);
    const differingConfig = [...new Set([...Object.keys(ca), ...Object.keys(cb)])].filter((k) => k !== 'rootfs' && JSON.stringify(ca[k]) !== JSON.stringify(cb[k])).sort();
    return { checked: true, identical, second, differingLayers: differing, differingFiles, differingConfig, ...(sifCheck ? { sif: sifCheck } : {}) };
  } finally {
    await builder.remove(tag);
    rmSync(layout, { recursive: true, force: true });
  }
}
