/**
 * `brickyard tune`: build each variant a recipe declares (`tune.variants`: compiler flags in place
 * of the partition's target flags; no flags = the partition default), run the smoke tests for
 * each, choose the best by the declared metric (`tune.metric`: a figure of one smoke test, and
 * whether more or less is better), and record the choice with every variant's figures in an
 * in-toto statement about the chosen image's digest, signed (development signer locally). Render
 * then uses the recorded choice (`tunedPartition`).
 *
 * A variant whose build or smoke run FAILED, or that lacks the figure, cannot be chosen; it is
 * recorded with the reason. Ties go to the earlier variant (the declaration order is the
 * preference order).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import { buildPair } from '../build/build.ts';
import { attest, bundlePathFor, writeBundle } from '../sign/attest.ts';
import { signerFor } from '../sign/pair.ts';
import { BrickyardError } from '../util/errors.ts';
import type { PartitionRef, Workspace } from '../workspace.ts';
import { inTotoStatement, type InTotoStatement } from './predicate.ts';
import { smoke, type SmokeReport } from './run.ts';

export const TUNE_PREDICATE_TYPE = 'https://brickyard.dev/attestation/tune/v1';

export interface TuneVariantDoc {
  id: string;
  description?: string;
  /** Compiler flags for `{{ target.cflags }}`; absent: the partition's targetFlags. */
  cflags?: string;
}

export interface TuneDoc {
  metric: { test: string; figure: string; goal: 'max' | 'min' };
  variants: TuneVariantDoc[];
}

export interface VariantOutcome {
  id: string;
  cflags: string;
  imageDigest?: string;
  imageReference?: string;
  result: 'PASSED' | 'WARNED' | 'FAILED';
  /** The metric's value, when the smoke run produced it. */
  value?: number;
  /** Every figure of the metric's test (for the table). */
  figures: Record<string, number | string>;
  /** Why the variant cannot be chosen, if it cannot. */
  excluded?: string;
}

export interface TunePredicate {
  recipe: string;
  system: string;
  partition: string;
  metric: TuneDoc['metric'];
  chosen: string;
  chosenCflags: string;
  chosenImageDigest: string;
  variants: VariantOutcome[];
  tunedOn: string;
}

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

/** The figure a smoke report gives for the metric, and whether the variant can be chosen. */
export function outcomeOf(v: TuneVariantDoc, where: PartitionRef, metric: TuneDoc['metric'], report: Pick<SmokeReport, 'result' | 'tests' | 'image'>): VariantOutcome {
  const test = report.tests.find((t) => t.name === metric.test);
  const raw = test?.figures?.[metric.figure];
  const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : undefined;
  const out: VariantOutcome = {
    id: v.id,
    cflags: v.cflags ?? where.partition.cpu.targetFlags,
    imageDigest: report.image.manifestDigest,
    imageReference: report.image.reference,
    result: report.result,
    ...(value === undefined ? {} : { value }),
    figures: { ...(test?.figures ?? {}) },
  };
  if (report.result === 'FAILED') out.excluded = `its smoke run FAILED (${report.tests.filter((t) => t.verdict === 'FAILED').map((t) => t.name).join(', ')})`;
  else if (!test) out.excluded = `no smoke test named '${metric.test}' ran`;
  else if (value === undefined) out.excluded = `${metric.test} has no figure '${metric.figure}'${test.verdict === 'SKIPPED' ? ` (${test.summary})` : ''}`;
  return out;
}

/** The best variant by the metric; ties go to the earlier one. Throws when none can be chosen. */
export function choose(outcomes: VariantOutcome[], goal: 'max' | 'min'): VariantOutcome {
  let best: VariantOutcome | undefined;
  for (const o of outcomes) {
    if (o.excluded !== undefined || o.value === undefined) continue;
    if (!best || (goal === 'max' ? o.value > best.value! : o.value < best.value!)) best = o;
  }
  if (!best) {
    throw new BrickyardError('NO_VARIANT', `no variant can be chosen: ${outcomes.map((o) => `${o.id}: ${o.excluded ?? 'no value'}`).join('; ')}`);
  }
  return best;
}

export function tuneDir(stateDir: string, recipe: ResolvedRecipe, where: PartitionRef): string {
  return join(stateDir, 'tune', recipe.key, `${where.system.doc.id}-${where.partition.id}`);
}

export interface TuneOptions {
  stateDir: string;
  onStage?: (stage: string, detail: string) => void;
  /** Sign with keyless Sigstore (GitHub Actions) instead of the development signer. */
  keyless?: boolean;
  trials?: number;
}

export async function tune(ws: Workspace, recipe: ResolvedRecipe, where: PartitionRef, opts: TuneOptions): Promise<TuneRecord> {
  const doc = tuneDocOf(recipe);
  const dir = tuneDir(opts.stateDir, recipe, where);
  mkdirSync(dir, { recursive: true });
  const outcomes: VariantOutcome[] = [];
  // One variant at a time, build then smoke: the variants share the image tag in container storage.
  for (const v of doc.variants) {
    const whereV = withFlags(where, v.cflags);
    const stateV = join(dir, v.id);
    opts.onStage?.('variant', `${v.id}: ${v.cflags ?? `${where.partition.cpu.targetFlags} (partition default)`}`);
    try {
      const record = await buildPair(ws, recipe, whereV, { stateDir: stateV, ...(opts.onStage ? { onStage: opts.onStage } : {}) });
      const report = await smoke(ws, { recipe, reference: record.image.reference, manifestDigest: record.image.manifestDigest }, whereV, {
        stateDir: stateV,
        launcher: 'direct',
        ...(opts.trials === undefined ? {} : { trials: opts.trials }),
        ...(opts.onStage ? { onStage: opts.onStage } : {}),
      });
      outcomes.push(outcomeOf(v, where, doc.metric, report));
    } catch (e) {
      outcomes.push({ id: v.id, cflags: v.cflags ?? where.partition.cpu.targetFlags, result: 'FAILED', figures: {}, excluded: `build or smoke failed: ${(e as Error).message}` });
    }
  }
  return recordChoice(recipe, where, doc.metric, outcomes, opts);
}

/**
 * Choose among measured variants and write the signed record: tune.intoto.json (an in-toto
 * statement about the chosen image's digest) and its Sigstore bundle, in tuneDir().
 */
export async function recordChoice(recipe: ResolvedRecipe, where: PartitionRef, metric: TuneDoc['metric'], outcomes: VariantOutcome[], opts: Pick<TuneOptions, 'stateDir' | 'keyless'>): Promise<TuneRecord> {
  const best = choose(outcomes, metric.goal);
  const predicate: TunePredicate = {
    recipe: recipe.key,
    system: where.system.doc.id,
    partition: where.partition.id,
    metric,
    chosen: best.id,
    chosenCflags: best.cflags,
    chosenImageDigest: best.imageDigest!,
    variants: outcomes,
    tunedOn: new Date().toISOString(),
  };
  const statement = inTotoStatement({ name: best.imageReference!, digest: { sha256: best.imageDigest!.replace(/^sha256:/, '') } }, TUNE_PREDICATE_TYPE, predicate);
  const dir = tuneDir(opts.stateDir, recipe, where);
  mkdirSync(dir, { recursive: true });
  const statementPath = join(dir, 'tune.intoto.json');
  writeFileSync(statementPath, JSON.stringify(statement, null, 2) + '\n');
  const bundlePath = bundlePathFor(statementPath);
  writeBundle(bundlePath, await attest(statement, await signerFor(opts.stateDir, { keyless: opts.keyless ?? false })));
  return { statement, statementPath, bundlePath };
}

/** The recorded choice for a pair, if `tune` ran for it under this state folder. */
export function recordedChoice(stateDir: string, recipe: ResolvedRecipe, where: PartitionRef): TunePredicate | undefined {
  const path = join(tuneDir(stateDir, recipe, where), 'tune.intoto.json');
  if (!existsSync(path)) return undefined;
  const s = JSON.parse(readFileSync(path, 'utf8')) as InTotoStatement<TunePredicate>;
  if (s.predicateType !== TUNE_PREDICATE_TYPE || s.predicate.recipe !== recipe.key || s.predicate.system !== where.system.doc.id || s.predicate.partition !== where.partition.id) {
    throw new BrickyardError('FILE_UNREADABLE', `${path} is not a tune record for ${recipe.key} on ${where.system.doc.id}/${where.partition.id}`, { hint: 'run brickyard tune again' });
  }
  return s.predicate;
}

/** The partition as render should see it: the recorded choice's flags, when there is one. */
export function tunedPartition(stateDir: string, recipe: ResolvedRecipe, where: PartitionRef): { where: PartitionRef; choice?: TunePredicate } {
  const choice = recordedChoice(stateDir, recipe, where);
  return choice ? { where: withFlags(where, choice.chosenCflags), choice } : { where };
}

/** The table for people: one row per variant. */
export function tuneTable(p: TunePredicate): string[][] {
  return p.variants.map((v) => [v.id === p.chosen ? `${v.id} *` : v.id, v.cflags, v.result, v.value === undefined ? '-' : String(v.value), (v.imageDigest ?? '-').slice(0, 19), v.excluded ?? '']);
}
