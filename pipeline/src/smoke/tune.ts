/**
 * `brickyard tune`: build each variant a recipe declares (`tune.variants`: compiler flags in place
 * of the partition's target flags, no flags = the partition default; a runtime environment such
 * as OMP_NUM_THREADS, run on the same image as the variant it shares its build with; an MPI
 * strategy, and with `tune.mpiStrategies: fitting` every variant once per strategy of the
 * partition that fits), run the smoke tests for each, choose the best by the declared metric
 * (`tune.metric`: a figure of one smoke test, and whether more or less is better), and record the
 * choice with every variant's figures in an in-toto statement about the chosen image's digest,
 * signed (development signer locally). Render then uses the recorded choice (`tunedPair`).
 *
 * A variant whose build or smoke run FAILED, or that lacks the figure, cannot be chosen; it is
 * recorded with the reason. Ties go to the earlier variant (the declaration order is the
 * preference order).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import { buildPair } from '../build/build.ts';
import { attest, bundlePathFor, writeBundle } from '../sign/attest.ts';
import { signerFor } from '../sign/pair.ts';
import { BrickyardError } from '../util/errors.ts';
import type { Pair, PartitionRef, Workspace } from '../workspace.ts';
import { inTotoStatement, type InTotoStatement } from '../model/statement.ts';
import { smoke, type SmokeReport } from './run.ts';
import { TUNE_RECORD, tuneFolder } from '../state/layout.ts';
import { readStateRecord, type TuneMetric, type TunePredicate, type VariantOutcome } from '../state/records.ts';

export const TUNE_PREDICATE_TYPE = 'https://brickyard.dev/attestation/tune/v1';

export interface TuneVariantDoc {
  id: string;
  description?: string;
  /** Compiler flags for `{{ target.cflags }}`; absent: the partition's targetFlags. */
  cflags?: string;
  /**
   * Environment of the smoke runs (in the container and for the host baseline), e.g.
   * OMP_NUM_THREADS: a runtime variant. Variants that differ only here share one image.
   */
  env?: Record<string, string>;
  /** The partition's MPI strategy to build and run with; absent: the one the fit check picks. */
  mpiStrategy?: string;
}

export interface TuneDoc {
  metric: TuneMetric;
  variants: TuneVariantDoc[];
  /** `fitting`: try every variant with each MPI strategy of the partition that fits the recipe. */
  mpiStrategies?: 'default' | 'fitting';
}

// Their home is state/records.ts, where the tuning record is read back validated; re-exported for the importers.
export type { TunePredicate, VariantOutcome };

export interface TuneRecord {
  statement: InTotoStatement<TunePredicate>;
  statementPath: string;
  bundlePath: string;
}

/** The tune section of a recipe, checked; a recipe without one cannot be tuned. */
export function tuneDocOf(recipe: ResolvedRecipe): TuneDoc {
  const doc = (recipe.doc as { tune?: TuneDoc }).tune;
  if (!doc) throw new BrickyardError('USAGE', `${recipe.key} declares no tune section (tune.metric, tune.variants)`, { hint: 'see catalog/recipes/stream for an example' });
  const ids = new Set<string>();
  for (const v of doc.variants) {
    if (ids.has(v.id)) throw new BrickyardError('CATALOG_INVALID', `${recipe.key}: tune variant '${v.id}' is declared twice`);
    ids.add(v.id);
    for (const name of Object.keys(v.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new BrickyardError('CATALOG_INVALID', `${recipe.key}: tune variant '${v.id}' sets '${name}', which is not an environment variable name`);
    }
  }
  if (!recipe.smoke.some((t) => t.name === doc.metric.test || `${t.name}-overhead` === doc.metric.test)) {
    throw new BrickyardError('CATALOG_INVALID', `${recipe.key}: tune.metric.test '${doc.metric.test}' is not one of its smoke tests (or a command's '-overhead' comparison)`);
  }
  return doc;
}

/** The partition as a variant builds for it: its flags in place of the target flags. */
export function withFlags(where: PartitionRef, cflags: string | undefined): PartitionRef {
  if (cflags === undefined) return where;
  return { system: where.system, partition: { ...where.partition, cpu: { ...where.partition.cpu, targetFlags: cflags } } };
}

/** The partition with only the named MPI strategy, so that the fit check (and render) picks it. */
export function withStrategy(where: PartitionRef, strategy: string | null | undefined): PartitionRef {
  if (!strategy) return where;
  const chosen = where.partition.mpi.strategies.filter((s) => s.id === strategy);
  if (chosen.length === 0) {
    throw new BrickyardError(
      'USAGE',
      `${where.system.doc.id}/${where.partition.id} has no MPI strategy '${strategy}' (it has ${where.partition.mpi.strategies.map((s) => s.id).join(', ') || 'none'})`,
    );
  }
  return { system: where.system, partition: { ...where.partition, mpi: { ...where.partition.mpi, strategies: chosen } } };
}

/**
 * The pair a variant builds and runs as: the pair's partition with the variant's flags in place of
 * the target flags and only its MPI strategy, its own fit computed by the workspace (a strategy
 * can fit where the default one does not, and the other way round). No flags and no strategy: the
 * pair itself.
 */
export function variantPair(ws: Workspace, pair: Pair, v: { cflags?: string | undefined; mpiStrategy?: string | null | undefined }): Pair {
  if (v.cflags === undefined && !v.mpiStrategy) return pair;
  const label = [...(v.cflags === undefined ? [] : [`cflags=${v.cflags}`]), ...(v.mpiStrategy ? [`mpi=${v.mpiStrategy}`] : [])].join(',');
  return ws.variant(pair, label, withStrategy(withFlags(pair, v.cflags), v.mpiStrategy).partition);
}

/** The ids of the partition's MPI strategies that fit the recipe, in the partition's order (empty: the recipe uses no MPI). */
export function fittingStrategies(ws: Workspace, pair: Pair): string[] {
  return pair.partition.mpi.strategies
    .filter((s) => {
      const fit = variantPair(ws, pair, { mpiStrategy: s.id }).fit;
      return fit.fits && fit.strategy !== undefined;
    })
    .map((s) => s.id);
}

/**
 * The variants to build and measure: the declared ones, and with `mpiStrategies: fitting` each of
 * them once per fitting MPI strategy (`<variant>+<strategy>`) where more than one fits. A variant
 * that names a strategy keeps it. Fewer than two is an error: there would be nothing to choose.
 */
export function expandVariants(doc: TuneDoc, ws: Workspace, where: Pair): TuneVariantDoc[] {
  const recipe = where.recipe;
  const fitting = doc.mpiStrategies === 'fitting' ? fittingStrategies(ws, where) : [];
  const out: TuneVariantDoc[] = [];
  for (const v of doc.variants) {
    if (v.mpiStrategy !== undefined) {
      withStrategy(where, v.mpiStrategy); // names one the partition has
      out.push(v);
    } else if (fitting.length > 1) {
      for (const s of fitting) out.push({ ...v, id: `${v.id}+${s}`, mpiStrategy: s });
    } else out.push(v);
  }
  if (out.length < 2) {
    throw new BrickyardError('USAGE', `${recipe.key} has ${out.length} tune variant on ${where.system.doc.id}/${where.partition.id}: nothing to choose between`, {
      hint: 'declare at least two tune.variants, or set tune.mpiStrategies: fitting on a partition with several fitting MPI strategies',
    });
  }
  return out;
}

/** Variants with the same flags and MPI strategy are runtime variants of one image: this key groups them. */
export function buildKey(v: TuneVariantDoc, where: PartitionRef): string {
  return JSON.stringify([v.cflags ?? where.partition.cpu.targetFlags, v.mpiStrategy ?? null]);
}

/** The figure a smoke report gives for the metric, and whether the variant can be chosen. */
export function outcomeOf(
  v: TuneVariantDoc,
  where: PartitionRef,
  metric: TuneDoc['metric'],
  report: Pick<SmokeReport, 'result' | 'tests' | 'image'> & Partial<Pick<SmokeReport, 'statement'>>,
): VariantOutcome {
  const test = report.tests.find((t) => t.name === metric.test);
  const raw = test?.figures?.[metric.figure];
  const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
  const out: VariantOutcome = {
    id: v.id,
    cflags: v.cflags ?? where.partition.cpu.targetFlags,
    env: { ...(v.env ?? {}) },
    mpiStrategy: strategyOf(report) ?? v.mpiStrategy ?? null,
    imageDigest: report.image.manifestDigest,
    imageReference: report.image.reference,
    result: report.result,
    ...(value === undefined ? {} : { value }),
    figures: { ...(test?.figures ?? {}) },
  };
  const threads = test?.figures?.['threads'];
  const wanted = v.env?.['OMP_NUM_THREADS'];
  if (report.result === 'FAILED')
    out.excluded = `its smoke run FAILED (${report.tests
      .filter((t) => t.verdict === 'FAILED')
      .map((t) => t.name)
      .join(', ')})`;
  else if (!test) out.excluded = `no smoke test named '${metric.test}' ran`;
  else if (value === undefined) out.excluded = `${metric.test} has no figure '${metric.figure}'${test.verdict === 'SKIPPED' ? ` (${test.summary})` : ''}`;
  // A runtime variant that did not take effect measured something else: it cannot be chosen as what it says.
  else if (wanted !== undefined && threads !== undefined && String(threads) !== wanted)
    out.excluded = `it asked for OMP_NUM_THREADS=${wanted} but the program counted ${threads} threads`;
  return out;
}

/** The MPI strategy the smoke report's statement names as its target, if any. */
function strategyOf(report: object): string | undefined {
  const s = (report as { statement?: { predicate?: { brickyardSmoke?: { target?: { mpiStrategy?: unknown } } } } }).statement?.predicate?.brickyardSmoke?.target?.mpiStrategy;
  return typeof s === 'string' ? s : undefined;
}

/** The best variant by the metric; ties go to the earlier one. Throws when none can be chosen. */
export function choose(outcomes: VariantOutcome[], goal: 'max' | 'min'): VariantOutcome {
  let best: VariantOutcome | undefined;
  let bestValue = 0;
  for (const o of outcomes) {
    if (o.excluded !== undefined || o.value === undefined) continue;
    if (!best || (goal === 'max' ? o.value > bestValue : o.value < bestValue)) {
      best = o;
      bestValue = o.value;
    }
  }
  if (!best) {
    throw new BrickyardError('NO_VARIANT', `no variant can be chosen: ${outcomes.map((o) => `${o.id}: ${o.excluded ?? 'no value'}`).join('; ')}`);
  }
  return best;
}

export function tuneDir(stateDir: string, recipe: ResolvedRecipe, where: PartitionRef): string {
  return tuneFolder(stateDir, { recipe: recipe.key, system: where.system.doc.id, partition: where.partition.id });
}

export interface TuneOptions {
  stateDir: string;
  onStage?: (stage: string, detail: string) => void;
  /** Sign with keyless Sigstore (GitHub Actions) instead of the development signer. */
  keyless?: boolean;
  trials?: number;
}

export async function tune(ws: Workspace, where: Pair, opts: TuneOptions): Promise<TuneRecord> {
  const recipe = where.recipe;
  const doc = tuneDocOf(recipe);
  const variants = expandVariants(doc, ws, where);
  const dir = tuneDir(opts.stateDir, recipe, where);
  mkdirSync(dir, { recursive: true });
  const outcomes: VariantOutcome[] = [];
  // One image per build key (flags, MPI strategy), in the folder of the first variant that needs
  // it; runtime variants (env only) smoke-test that image again. Build then smoke, one variant at
  // a time: the variants share the image tag in container storage, so a runtime variant whose
  // image is not the last one built rebuilds it (the build cache makes that quick).
  const buildDirs = new Map<string, string>();
  let last: { key: string; record: Awaited<ReturnType<typeof buildPair>> } | undefined;
  for (const v of variants) {
    const key = buildKey(v, where);
    const builtBy = buildDirs.get(key) ?? v.id;
    buildDirs.set(key, builtBy);
    const whereV = variantPair(ws, where, v);
    const stateV = join(dir, builtBy);
    const env = v.env ?? {};
    const envText = Object.entries(env)
      .map(([k, x]) => `${k}=${x}`)
      .join(' ');
    opts.onStage?.(
      'variant',
      `${v.id}: ${v.cflags ?? `${where.partition.cpu.targetFlags} (partition default)`}${v.mpiStrategy ? `, MPI ${v.mpiStrategy}` : ''}${envText ? `, ${envText}` : ''}`,
    );
    try {
      const record = last?.key === key ? last.record : await buildPair(ws, whereV, { stateDir: stateV, ...(opts.onStage ? { onStage: opts.onStage } : {}) });
      last = { key, record };
      const report = await smoke(ws, { recipe, reference: record.image.reference, manifestDigest: record.image.manifestDigest }, whereV, {
        stateDir: join(stateV, 'runs', v.id),
        launcher: 'direct',
        env,
        ...(opts.trials === undefined ? {} : { trials: opts.trials }),
        ...(opts.onStage ? { onStage: opts.onStage } : {}),
      });
      outcomes.push({ ...outcomeOf(v, where, doc.metric, report), ...(builtBy === v.id ? {} : { sharesImageOf: builtBy }) });
    } catch (e) {
      last = undefined;
      outcomes.push({
        id: v.id,
        cflags: v.cflags ?? where.partition.cpu.targetFlags,
        env: { ...env },
        mpiStrategy: v.mpiStrategy ?? null,
        result: 'FAILED',
        figures: {},
        excluded: `build or smoke failed: ${(e as Error).message}`,
      });
    }
  }
  return recordChoice(recipe, where, doc.metric, outcomes, opts);
}

/**
 * Choose among measured variants and write the signed record: tune.intoto.json (an in-toto
 * statement about the chosen image's digest) and its Sigstore bundle, in tuneDir().
 */
export async function recordChoice(
  recipe: ResolvedRecipe,
  where: PartitionRef,
  metric: TuneDoc['metric'],
  outcomes: VariantOutcome[],
  opts: Pick<TuneOptions, 'stateDir' | 'keyless'>,
): Promise<TuneRecord> {
  const best = choose(outcomes, metric.goal);
  const { imageDigest, imageReference } = best;
  if (imageDigest === undefined || imageReference === undefined) throw new BrickyardError('NO_VARIANT', `variant ${best.id} has a value but no image to record`);
  const predicate: TunePredicate = {
    recipe: recipe.key,
    system: where.system.doc.id,
    partition: where.partition.id,
    metric,
    chosen: best.id,
    chosenCflags: best.cflags,
    chosenEnv: best.env,
    chosenMpiStrategy: best.mpiStrategy,
    chosenImageDigest: imageDigest,
    variants: outcomes,
    tunedOn: new Date().toISOString(),
  };
  const statement = inTotoStatement({ name: imageReference, digest: { sha256: imageDigest.replace(/^sha256:/, '') } }, TUNE_PREDICATE_TYPE, predicate);
  const dir = tuneDir(opts.stateDir, recipe, where);
  mkdirSync(dir, { recursive: true });
  const statementPath = join(dir, TUNE_RECORD);
  writeFileSync(statementPath, JSON.stringify(statement, null, 2) + '\n');
  const bundlePath = bundlePathFor(statementPath);
  writeBundle(bundlePath, await attest(statement, await signerFor(opts.stateDir, { keyless: opts.keyless ?? false })));
  return { statement, statementPath, bundlePath };
}

/** The recorded choice for a pair, if `tune` ran for it under this state folder. */
export function recordedChoice(stateDir: string, recipe: ResolvedRecipe, where: PartitionRef): TunePredicate | undefined {
  const path = join(tuneDir(stateDir, recipe, where), TUNE_RECORD);
  if (!existsSync(path)) return undefined;
  const s = readStateRecord('tuneStatement', path);
  if (s.predicateType !== TUNE_PREDICATE_TYPE || s.predicate.recipe !== recipe.key || s.predicate.system !== where.system.doc.id || s.predicate.partition !== where.partition.id) {
    throw new BrickyardError('FILE_UNREADABLE', `${path} is not a tune record for ${recipe.key} on ${where.system.doc.id}/${where.partition.id}`, {
      hint: 'run brickyard tune again',
    });
  }
  return s.predicate;
}

/**
 * The pair as render should see it: a variant with the recorded choice's flags and MPI strategy,
 * and its runtime environment exported by the job script (podman passes no environment by
 * default, so each variable is also forwarded into the container with --env=NAME). Without a
 * recorded choice: the pair itself.
 */
export function tunedPair(ws: Workspace, stateDir: string, pair: Pair): { pair: Pair; choice?: TunePredicate } {
  const choice = recordedChoice(stateDir, pair.recipe, pair);
  if (!choice) return { pair };
  const w = withStrategy(withFlags(pair, choice.chosenCflags), choice.chosenMpiStrategy);
  // Records written before runtime variants existed have no chosenEnv.
  const env = (choice as Partial<TunePredicate>).chosenEnv ?? {};
  const rt = w.partition.runtime;
  const forward = rt.type === 'podman' || rt.type === 'podman-hpc' ? Object.keys(env).map((k) => `--env=${k}`) : [];
  const partition =
    Object.keys(env).length === 0 ? w.partition : { ...w.partition, env: { ...(w.partition.env ?? {}), ...env }, runtime: { ...rt, flags: [...(rt.flags ?? []), ...forward] } };
  const label = `tuned=${JSON.stringify([choice.chosen, choice.chosenCflags, choice.chosenMpiStrategy, env])}`;
  return { pair: ws.variant(pair, label, partition), choice };
}

/** What a variant ran with besides its flags: the MPI strategy and the environment. */
export function variantRuntime(v: { env?: Record<string, string>; mpiStrategy?: string | null }): string {
  const env = Object.entries(v.env ?? {}).map(([k, x]) => `${k}=${x}`);
  return [...(v.mpiStrategy ? [`MPI ${v.mpiStrategy}`] : []), ...env].join(' ') || '-';
}

/** The column names of tuneTable(p). */
export function tuneTableHeader(p: TunePredicate): string[] {
  return ['variant', 'flags', 'runtime', 'smoke', p.metric.figure, 'image', 'excluded'];
}

/** The table for people: one row per variant. */
export function tuneTable(p: TunePredicate): string[][] {
  return p.variants.map((v) => [
    v.id === p.chosen ? `${v.id} *` : v.id,
    v.cflags,
    variantRuntime(v),
    v.result,
    v.value === undefined ? '-' : String(v.value),
    (v.imageDigest ?? '-').slice(0, 19),
    v.excluded ?? '',
  ]);
}
