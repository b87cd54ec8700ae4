/**
 * CI at fleet scale: what a change costs, and what it need not rebuild.
 *
 * built-index.json records every build CI made, keyed by the pair's lock digest (lock.json's
 * lockDigest: the digest of every pinned input). A planned pair whose lock digest has an entry
 * with a passing smoke test is not built again. The index comes from a release asset, so it
 * is read defensively: size capped, schema-checked, and an entry is only trusted when its key,
 * its own lockDigest and the planned pair all agree. Anything else means "build it".
 *
 * The budget: a change that needs more builds than `.github/brickyard.yml` allows
 * (buildBudget) proceeds only with the approval label (budgetLabel, default large-build-ok).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { ajv2020 } from '../util/ajv.ts';
import { parse } from 'yaml';
import builtIndexSchema from '../../schemas/built-index.schema.json' with { type: 'json' };
import { BrickyardError } from '../util/errors.ts';
import type { Workspace } from '../workspace.ts';
import { hostedPairs, toMatrices, type Matrix, type Plan, type PlannedPair } from './plan.ts';
import { pairFolder, smokeLauncherOf, stateLayout } from '../state/layout.ts';
import { parseStateRecord, readBuildRecord, readSmokeReport } from '../state/records.ts';

export type SmokeVerdict = 'passed' | 'failed' | 'not-run';

export interface BuiltEntry {
  lockDigest: string;
  /** name@version */
  recipe: string;
  system: string;
  partition: string;
  /** The image manifest digest. */
  image: string;
  smoke: SmokeVerdict;
  /** A registry reference by digest, or a release asset URL. */
  where: string;
  builtAt?: string;
}

export interface BuiltIndex {
  kind: 'brickyard-built-index';
  version: 1;
  builds: Record<string, BuiltEntry>;
}

/** A planned pair with the lock digest of its rendering at the change's head. */
export interface LockedPair extends PlannedPair {
  /** null when no index was given (nothing to compare with, so the lock was not rendered). */
  lockDigest: string | null;
}

export interface BuildSelection {
  build: LockedPair[];
  reused: { pair: LockedPair; entry: BuiltEntry }[];
}

/** A release asset we download: generous, but bounded (about 2 kB an entry). */
export const MAX_INDEX_BYTES = 64 * 1024 * 1024;
export const DEFAULT_BUDGET_LABEL = 'large-build-ok';
/** GitHub: at most 256 jobs a matrix. One level of fan-out: 256 batches of 256 pairs. */
export const MAX_MATRIX_JOBS = 256;
/**
 * GitHub: at most 50,000 check runs in a check suite, and every job of a workflow run is one.
 * A fan-out of n pairs in b batches runs n build jobs, b selection jobs, b signing jobs (main
 * and release) and a few more: this cap, not the 256 × 256 matrices, is the first one a fleet
 * meets (about 49,500 pairs in 194 batches).
 */
export const MAX_CHECK_RUNS = 50_000;
/** Jobs of a run besides the fan-out (plan, executables, site systems, pages…), generously. */
const OTHER_JOBS = 64;

let validator: ReturnType<Ajv2020['compile']> | undefined;
function validate(data: unknown): string[] {
  if (!validator) {
    const ajv = ajv2020({ allErrors: false }, { formats: true });
    validator = ajv.compile(builtIndexSchema as object);
  }
  if (validator(data)) return [];
  return (validator.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '(top)'} ${e.message ?? 'is invalid'}${'propertyName' in e.params ? ` (${String(e.params['propertyName'])})` : ''}`);
}

export function emptyBuiltIndex(): BuiltIndex {
  return { kind: 'brickyard-built-index', version: 1, builds: {} };
}

/** Parse and check an index's text; `file` names it in errors. */
export function parseBuiltIndex(text: string, file: string): BuiltIndex {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new BrickyardError('FILE_UNREADABLE', `${file} is not valid JSON: ${(e as Error).message}`, {
      hint: 'delete it, or download it again from the built-index release: CI then rebuilds what it cannot prove was built',
    });
  }
  const errors = validate(data);
  if (errors.length > 0) {
    throw new BrickyardError('FILE_UNREADABLE', `${file} is not a brickyard built index (version 1): ${errors.join('; ')}`, {
      hint: 'see pipeline/schemas/built-index.schema.json',
    });
  }
  const index = data as BuiltIndex;
  // Own keys only, in a null-prototype object: a key such as __proto__ cannot reach a prototype.
  const builds: Record<string, BuiltEntry> = Object.create(null) as Record<string, BuiltEntry>;
  for (const [k, v] of Object.entries(index.builds)) builds[k] = v;
  return { kind: index.kind, version: index.version, builds };
}

/** Read an index file; undefined when there is none (nothing was built yet: build everything). */
export function readBuiltIndex(path: string): BuiltIndex | undefined {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return undefined;
  }
  if (size > MAX_INDEX_BYTES) throw new BrickyardError('FILE_UNREADABLE', `${path} is ${size} bytes, over the ${MAX_INDEX_BYTES}-byte limit for a built index`);
  return parseBuiltIndex(readFileSync(path, 'utf8'), path);
}

/** Why an entry cannot stand for the pair, or undefined when it can. */
export function whyRebuild(pair: LockedPair, entry: BuiltEntry | undefined): string | undefined {
  if (pair.lockDigest === null) return 'no built index to compare with';
  if (!entry) return 'never built';
  if (entry.lockDigest !== pair.lockDigest) return `the entry says lock ${entry.lockDigest}, filed under ${pair.lockDigest}`;
  if (entry.recipe !== pair.recipe || entry.system !== pair.system || entry.partition !== pair.partition) {
    return `the entry is for ${entry.recipe} on ${entry.system}/${entry.partition}`;
  }
  if (entry.smoke !== 'passed') return `its smoke test ${entry.smoke === 'failed' ? 'failed' : 'did not run'}`;
  return undefined;
}

/** The pairs to build: every planned pair except those the index proves built and smoke-tested. */
export function pairsToBuild(pairs: readonly LockedPair[], index: BuiltIndex | undefined): BuildSelection {
  const out: BuildSelection = { build: [], reused: [] };
  for (const pair of pairs) {
    const key = pair.lockDigest;
    const entry = index && key !== null && Object.hasOwn(index.builds, key) ? index.builds[key] : undefined;
    if (entry && whyRebuild(pair, entry) === undefined) out.reused.push({ pair, entry });
    else out.build.push(pair);
  }
  return out;
}

/**
 * The builds a plan costs: with an index, each pair's lock is rendered and compared; without
 * one, every pair is a build (and no lock is rendered: 33,600 renderings for nothing).
 */
export function selectBuilds(ws: Workspace, pairs: readonly PlannedPair[], index: BuiltIndex | undefined): BuildSelection {
  if (!index) return { build: pairs.map((p) => ({ ...p, lockDigest: null })), reused: [] };
  return pairsToBuild(lockPairs(ws, pairs), index);
}

/** Each planned pair with its lock digest, rendered from the workspace at the change's head. */
export function lockPairs(ws: Workspace, pairs: readonly PlannedPair[]): LockedPair[] {
  return pairs.map((p) => {
    // An id the workspace does not know is refused there, naming it (PairError).
    const lock = parseStateRecord('lock', ws.render(ws.pair(p.recipe, p.system, p.partition)).files.lock, `the rendered lock of ${p.recipe} on ${p.system}/${p.partition}`);
    return { ...p, lockDigest: lock.lockDigest };
  });
}

// --- the budget ---------------------------------------------------------------------------------

export interface BudgetConfig {
  /** Most builds a change may cost without the label; undefined: no budget. */
  buildBudget: number | undefined;
  budgetLabel: string;
}

export type BudgetVerdict = 'no-budget' | 'within-budget' | 'approved' | 'over-budget';

export interface BuildCost {
  /** Pairs the change affects (that fit). */
  affected: number;
  /** Builds it costs: affected pairs without a passing build of the same lock digest. */
  builds: number;
  /** Affected pairs an existing build stands for. */
  reused: number;
  /** Matrix batches the builds take (256 jobs each). */
  batches: number;
  budget: number | null;
  label: string;
  verdict: BudgetVerdict;
}

/** The config file's budget section; defaults when the file or the keys are absent. */
export function readBudgetConfig(root: string): BudgetConfig {
  const file = join(root, '.github', 'brickyard.yml');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { buildBudget: undefined, budgetLabel: DEFAULT_BUDGET_LABEL };
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new BrickyardError('FILE_UNREADABLE', `.github/brickyard.yml is not valid YAML: ${(e as Error).message}`);
  }
  const d = (doc ?? {}) as Record<string, unknown>;
  if (typeof d !== 'object' || Array.isArray(d)) throw new BrickyardError('FILE_UNREADABLE', '.github/brickyard.yml: expected a mapping (buildBudget, budgetLabel)');
  const budget = d['buildBudget'];
  if (budget !== undefined && !(Number.isInteger(budget) && (budget as number) >= 0)) {
    throw new BrickyardError('FILE_UNREADABLE', `.github/brickyard.yml: buildBudget must be a whole number of builds (0 or more), got ${JSON.stringify(budget)}`);
  }
  const label = d['budgetLabel'] ?? DEFAULT_BUDGET_LABEL;
  if (typeof label !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,49}$/.test(label)) {
    throw new BrickyardError('FILE_UNREADABLE', `.github/brickyard.yml: budgetLabel must be a label name (letters, digits, space . _ : -), got ${JSON.stringify(label)}`);
  }
  return { buildBudget: budget as number | undefined, budgetLabel: label };
}

/** The verdict: over the budget proceeds only with the label, matched exactly. */
export function budgetVerdict(builds: number, config: BudgetConfig, labels: readonly string[]): BudgetVerdict {
  if (config.buildBudget === undefined) return 'no-budget';
  if (builds <= config.buildBudget) return 'within-budget';
  return labels.includes(config.budgetLabel) ? 'approved' : 'over-budget';
}

export function buildCost(selection: BuildSelection, batches: number, config: BudgetConfig, labels: readonly string[]): BuildCost {
  const builds = selection.build.length;
  return {
    affected: builds + selection.reused.length,
    builds,
    reused: selection.reused.length,
    batches,
    budget: config.buildBudget ?? null,
    label: config.budgetLabel,
    verdict: budgetVerdict(builds, config, labels),
  };
}

/** Labels from the workflow (a JSON array of names); anything else is no labels, not an error that could unlock a build. */
export function parseLabels(json: string | undefined): string[] {
  if (!json) return [];
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

/** batches.json: what the plan job uploads and each build-batch.yml run selects its batch from. */
export interface BatchesFile {
  kind: 'brickyard-batches';
  version: 1;
  batches: Matrix[];
}

export function batchesFile(batches: Matrix[]): BatchesFile {
  checkFanOut(
    batches.length,
    batches.reduce((n, b) => n + b.include.length, 0),
  );
  return { kind: 'brickyard-batches', version: 1, batches };
}

/**
 * The caller's matrix has one job per batch, so at most 256 batches; and the run's jobs (one per
 * pair, two per batch, a few more) stay within the 50,000 check runs of a check suite.
 */
export function checkFanOut(batches: number, pairs = 0): void {
  if (batches > MAX_MATRIX_JOBS) {
    throw new BrickyardError('PLAN_TOO_LARGE', `the change needs ${batches} batches of builds; one workflow fans out over at most ${MAX_MATRIX_JOBS} (GitHub's matrix limit)`, {
      hint: 'split the change, or run the release workflow per system',
    });
  }
  const jobs = pairs + 2 * batches + OTHER_JOBS;
  if (jobs > MAX_CHECK_RUNS) {
    throw new BrickyardError(
      'PLAN_TOO_LARGE',
      `the change needs about ${jobs} jobs (${pairs} builds in ${batches} batches); one workflow run holds at most ${MAX_CHECK_RUNS} (GitHub's check runs per check suite)`,
      {
        hint: 'split the change into pull requests of fewer builds',
      },
    );
  }
}

/** The batch indices a caller workflow fans out over: [0, 1, …, n-1]. */
export function batchIndices(batches: number): number[] {
  return Array.from({ length: batches }, (_, i) => i);
}

export interface CostedPlan {
  selection: BuildSelection;
  cost: BuildCost;
  /** The pairs to build, in batches of at most maxJobs. */
  matrices: Matrix[];
  /** The pairs to build on hosted runners (what the pull-request and main workflows fan out over). */
  hosted: Matrix[];
}

/** A plan's builds, batches and budget verdict: what the CLI prints and the plan action outputs. */
export function costPlan(ws: Workspace, plan: Plan, opts: { index: BuiltIndex | undefined; config: BudgetConfig; labels: readonly string[]; maxJobs: number }): CostedPlan {
  const selection = selectBuilds(ws, plan.pairs, opts.index);
  const matrices = toMatrices(selection.build, opts.maxJobs);
  const hosted = toMatrices(hostedPairs(selection.build), opts.maxJobs);
  checkFanOut(
    hosted.length,
    hosted.reduce((n, b) => n + b.include.length, 0),
  );
  return { selection, cost: buildCost(selection, matrices.length, opts.config, opts.labels), matrices, hosted };
}

// --- recording builds -----------------------------------------------------------------------------

/** The parts of a build record (build.json) and a smoke report (smoke-*.json) the index keeps. */
export interface BuildFacts {
  build: { recipe: { name: string; version: string }; system: string; partition: string; lockDigest: string; image: { manifestDigest: string } };
  smoke: { result: string; image: { manifestDigest: string } } | undefined;
}

/**
 * An index entry for one finished build. The smoke verdict counts only when the report is about
 * the same image (manifest digest); WARNED is not PASSED: such a pair is built again next time.
 */
export function builtEntry(facts: BuildFacts, where: string, builtAt: string): BuiltEntry {
  const { build, smoke } = facts;
  let verdict: SmokeVerdict = 'not-run';
  if (smoke?.image.manifestDigest === build.image.manifestDigest) verdict = smoke.result === 'PASSED' ? 'passed' : 'failed';
  return {
    lockDigest: build.lockDigest,
    recipe: `${build.recipe.name}@${build.recipe.version}`,
    system: build.system,
    partition: build.partition,
    image: build.image.manifestDigest,
    smoke: verdict,
    where,
    builtAt,
  };
}

/** The index with the new entries (the newest verdict for a lock digest wins); checked against the schema. */
export function recordBuilds(index: BuiltIndex | undefined, entries: readonly BuiltEntry[]): BuiltIndex {
  const builds: Record<string, BuiltEntry> = { ...(index?.builds ?? {}) };
  for (const e of entries) builds[e.lockDigest] = e;
  const sorted = Object.fromEntries(Object.entries(builds).sort(([a], [b]) => (a < b ? -1 : 1)));
  const out: BuiltIndex = { kind: 'brickyard-built-index', version: 1, builds: sorted };
  return parseBuiltIndex(JSON.stringify(out), 'the updated built index');
}

/** Every build record under <state>/builds/<recipe@version>/<system-partition>/, with its smoke reports. */
export function collectBuilds(stateDir: string, where: string, builtAt: string): { entries: BuiltEntry[]; skipped: string[] } {
  const entries: BuiltEntry[] = [];
  const skipped: string[] = [];
  const builds = stateLayout(stateDir).builds;
  if (!existsSync(builds)) return { entries, skipped };
  for (const recipe of readdirSync(builds).sort()) {
    for (const pair of readdirSync(join(builds, recipe)).sort()) {
      const folder = pairFolder(join(builds, recipe, pair));
      const record = folder.buildRecord;
      if (!existsSync(record)) continue;
      try {
        const build = readBuildRecord(record);
        // Every launcher's smoke report must pass; the worst one counts.
        const smokes = readdirSync(folder.dir)
          .map(smokeLauncherOf)
          .filter((l) => l !== undefined)
          .map((l) => readSmokeReport(folder.smokeReport(l)));
        const worst = smokes.find((s) => s.result !== 'PASSED' || s.image.manifestDigest !== build.image.manifestDigest) ?? smokes[0];
        entries.push(builtEntry({ build, smoke: worst }, where, builtAt));
      } catch (e) {
        skipped.push(`${record}: ${(e as Error).message}`);
      }
    }
  }
  return { entries, skipped };
}
