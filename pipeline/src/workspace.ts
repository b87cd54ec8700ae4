/**
 * The library's entry point: a checkout opened once, then validated, checked and rendered.
 * The CLI and the GitHub Actions are thin shells over this.
 */
import { evaluatePolicies, type PolicyReport, type PolicyWhich } from './check/image-policy.ts';
import semver from 'semver';
import { findRoot, loadCatalog, type Catalog, type Entry } from './catalog/load.ts';
import { resolveRecipes, type ResolvedRecipe } from './catalog/resolve.ts';
import { checkSemantics } from './catalog/semantics.ts';
import { checkFit, type Fit, type FittedPair } from './check/fit.ts';
import { slotOverrides } from './check/overrides.ts';
import { lintCatalog } from './lint/rules.ts';
import type { PartitionDoc, SystemDoc } from './model/types.ts';
import { ComposeError, compose } from './render/compose.ts';
import { renderPair, type Rendered } from './render/index.ts';
import { countBySeverity, sortDiagnostics, type Diagnostic } from './util/diagnostics.ts';
import { BrickyardError } from './util/errors.ts';

export interface ValidationReport {
  diagnostics: Diagnostic[];
  errors: number;
  warnings: number;
  fits: Fit[];
}

export interface PartitionRef {
  system: Entry<SystemDoc>;
  partition: PartitionDoc;
}

/**
 * A recipe on one system partition, with its fit computed once (check/fit.ts). Made only by
 * Workspace.pair(), .pairs() or .variant(), memoised per workspace: callers that hold a Pair never
 * look the recipe, system or partition up again, and never recompute the fit. A Pair is also a
 * PartitionRef (its system and partition).
 */
export interface Pair extends PartitionRef, FittedPair {
  /** `name@version:system/partition`, plus `+label` for a variant. */
  readonly key: string;
  readonly recipe: ResolvedRecipe;
  readonly system: Entry<SystemDoc>;
  readonly partition: PartitionDoc;
  readonly fit: Fit;
  /** For a variant: what differs from the catalogue's partition (e.g. an MPI strategy); absent for a catalogue pair. */
  readonly variant?: string;
}

/** An unknown recipe, system or partition asked for as part of a pair; `which` and `id` name it. */
export class PairError extends BrickyardError {
  readonly which: 'recipe' | 'system' | 'partition';
  readonly id: string;

  constructor(which: PairError['which'], id: string, code: 'RECIPE_NOT_FOUND' | 'SYSTEM_NOT_FOUND' | 'PARTITION_NOT_FOUND' | 'USAGE', message: string, hint: string) {
    super(code, message, { hint });
    this.name = 'PairError';
    this.which = which;
    this.id = id;
  }
}

export class Workspace {
  readonly root: string;
  readonly catalog: Catalog;
  readonly recipes: Map<string, ResolvedRecipe>;
  private readonly resolveDiagnostics: Diagnostic[];
  /**
   * Every Pair this workspace made, by recipe object, then key: one per (recipe, partition) or
   * variant. By object, not by recipe key: a recipe changed in memory (tests, tools) under the
   * same key gets pairs of its own, never another's fit.
   */
  private readonly madePairs = new WeakMap<ResolvedRecipe, Map<string, Pair>>();
  private readonly ownPairs = new WeakSet<Pair>();

  private constructor(root: string) {
    this.root = root;
    this.catalog = loadCatalog(root);
    const { recipes, diagnostics } = resolveRecipes(this.catalog);
    this.recipes = recipes;
    this.resolveDiagnostics = diagnostics;
  }

  static open(root?: string): Workspace {
    return new Workspace(root ?? findRoot());
  }

  /** Every (system, partition), in file order. */
  partitions(): PartitionRef[] {
    return [...this.catalog.systems.values()].flatMap((system) => system.doc.partitions.map((partition) => ({ system, partition })));
  }

  /** Every recipe (or the given ones) on every partition (or the given ones): recipe-major, partitions in file order. */
  pairs(recipes?: readonly ResolvedRecipe[], partitions?: readonly PartitionRef[]): Pair[] {
    const rs = recipes ?? [...this.recipes.values()];
    const ps = partitions ?? this.partitions();
    return rs.flatMap((r) => ps.map((p) => this.pair(r, p.system.doc.id, p.partition.id)));
  }

  /** Fit of every recipe (or the given ones) on every partition (or the given ones). */
  checkAll(recipes?: readonly ResolvedRecipe[], partitions?: readonly PartitionRef[]): Fit[] {
    return this.pairs(recipes, partitions).map((p) => p.fit);
  }

  /**
   * The pair of a recipe (a ResolvedRecipe, `name` or `name@version`) and a
   * system partition. Without a partition id: the first partition of the system the recipe fits,
   * or the first one when none does (rendering it explains why). The same arguments give the
   * same Pair object; its fit is computed here and nowhere else.
   */
  pair(recipeRef: ResolvedRecipe | string, systemId: string, partitionId?: string): Pair {
    const recipe = typeof recipeRef === 'string' ? this.recipe(recipeRef) : recipeRef;
    const system = this.catalog.systems.get(systemId);
    if (!system) {
      if (this.catalog.invalid.systems.has(systemId)) {
        throw new BrickyardError('CATALOG_INVALID', `system template systems/${systemId}.yaml has errors`, { hint: 'run `brickyard validate` to see them' });
      }
      throw new PairError('system', systemId, 'SYSTEM_NOT_FOUND', `no system ${systemId}`, `known systems: ${[...this.catalog.systems.keys()].join(', ')}`);
    }
    if (partitionId === undefined) {
      const all = system.doc.partitions.map((p) => this.pair(recipe, systemId, p.id));
      const first = all.find((p) => p.fit.fits) ?? all[0];
      if (!first) throw new PairError('partition', systemId, 'PARTITION_NOT_FOUND', `system ${systemId} has no partitions`, `add one to systems/${systemId}.yaml`);
      return first;
    }
    const partition = system.doc.partitions.find((p) => p.id === partitionId);
    if (!partition) {
      throw new PairError(
        'partition',
        partitionId,
        'PARTITION_NOT_FOUND',
        `system ${systemId} has no partition ${partitionId}`,
        `its partitions: ${system.doc.partitions.map((p) => p.id).join(', ')}`,
      );
    }
    return this.made(`${recipe.key}:${systemId}/${partitionId}`, recipe, system, partition);
  }

  /** The pair for `id/partition` as given, or for the first partition of `id` the recipe fits. */
  pairOn(recipeRef: ResolvedRecipe | string, spec: string): Pair {
    const [id, pid] = spec.split('/') as [string, string | undefined];
    return this.pair(recipeRef, id, pid);
  }

  /**
   * The pair of a recipe on a partition this workspace listed (partitions(), partitionsOf()). A
   * partition changed by hand is refused: a changed partition is a variant(), with its own fit.
   */
  pairAt(recipeRef: ResolvedRecipe | string, where: PartitionRef): Pair {
    const pair = this.pair(recipeRef, where.system.doc.id, where.partition.id);
    if (pair.system !== where.system || pair.partition !== where.partition) {
      throw new PairError(
        'partition',
        `${where.system.doc.id}/${where.partition.id}`,
        'USAGE',
        `${where.system.doc.id}/${where.partition.id} is not the partition of that name in this checkout's catalogue`,
        'ask for a changed partition as a variant of the pair (Workspace.variant)',
      );
    }
    return pair;
  }

  /**
   * A pair on a variant of its partition (tune: other compiler flags, one MPI strategy, a runtime
   * environment), with the fit computed for that variant. `label` says what differs and must
   * describe it completely: the same base and label give the same Pair, and a different
   * partition under a label already used is refused.
   */
  variant(base: Pair, label: string, partition: PartitionDoc): Pair {
    if (!this.ownPairs.has(base)) throw foreignPair(base);
    if (partition.id !== base.partition.id) {
      throw new PairError(
        'partition',
        partition.id,
        'USAGE',
        `a variant of ${base.key} must stay on partition ${base.partition.id}, not ${partition.id}`,
        'vary the partition, keep its id',
      );
    }
    const key = `${base.key}+${label}`;
    const known = this.madePairs.get(base.recipe)?.get(key);
    if (known && JSON.stringify(known.partition) !== JSON.stringify(partition)) {
      throw new PairError('partition', key, 'USAGE', `variant ${key} was already made with a different partition`, 'give each variant a label that describes all it changes');
    }
    return known ?? this.made(key, base.recipe, base.system, partition, label);
  }

  private made(key: string, recipe: ResolvedRecipe, system: Entry<SystemDoc>, partition: PartitionDoc, variant?: string): Pair {
    let mine = this.madePairs.get(recipe);
    if (!mine) {
      mine = new Map<string, Pair>();
      this.madePairs.set(recipe, mine);
    }
    const known = mine.get(key);
    if (known) return known;
    // The one place a pair's fit is computed.
    // Frozen, with its lists: every holder of the pair shares this one fit object.
    const fit = checkFit(this.catalog, recipe, system.doc, partition);
    Object.freeze(fit.reasons);
    Object.freeze(fit.doubts);
    Object.freeze(fit);
    const pair: Pair = Object.freeze({ key, recipe, system, partition, fit, ...(variant === undefined ? {} : { variant }) });
    mine.set(key, pair);
    this.ownPairs.add(pair);
    return pair;
  }

  /** Every fitting pair against each system's current or next image policy (check/image-policy.ts). */
  policyReport(which: PolicyWhich, pairs: readonly Pair[] = this.pairs()): PolicyReport {
    return evaluatePolicies(
      [...this.catalog.systems.values()].map((s) => s.doc),
      pairs,
      which,
    );
  }

  validate(): ValidationReport {
    const pairs = this.pairs();
    const fits = pairs.map((p) => p.fit);
    const found = [
      ...this.catalog.diagnostics,
      ...this.resolveDiagnostics,
      ...checkSemantics(this.catalog, this.recipes),
      ...lintCatalog(this.catalog, this.recipes, pairs),
      ...this.fitsNowhere(fits),
      ...slotOverrides(pairs),
    ];
    const broken = new Set(found.filter((d) => d.severity === 'error').map((d) => d.file));
    const diagnostics = sortDiagnostics([...found, ...this.compositions(pairs, broken)]);
    return { diagnostics, ...countBySeverity(diagnostics), fits };
  }

  /** A recipe that fits no partition at all would never be built: an error on the recipe itself. */
  private fitsNowhere(fits: readonly Fit[]): Diagnostic[] {
    const out: Diagnostic[] = [];
    if (this.catalog.systems.size === 0) return out;
    for (const r of this.recipes.values()) {
      const mine = fits.filter((f) => f.recipe === r.key);
      if (mine.length > 0 && mine.every((f) => !f.fits)) {
        const sample = mine.slice(0, 3).map((f) => `${f.system}/${f.partition}: ${f.reasons[0]}`);
        out.push(r.entry.file.diagnostic(['requires'], 'error', 'fits-nowhere', `fits no system partition (${sample.join('; ')}${mine.length > 3 ? '; …' : ''})`));
      }
    }
    return out;
  }

  /**
   * Compose every fitting pair once per distinct composition (recipe, slot fillers, base,
   * architecture), so problems that only show on some systems (a block with no packages for
   * the base's package manager, a slot filler that conflicts with a block) are findings too.
   */
  private compositions(pairs: readonly Pair[], broken: ReadonlySet<string>): Diagnostic[] {
    const out: Diagnostic[] = [];
    const seen = new Map<string, string[] | null>();
    const blockFile = (name: string | undefined): string | undefined => (name ? this.catalog.blocks.get(name)?.file.rel : undefined);
    for (const { recipe: r, system, partition, fit } of pairs) {
      if (!fit.fits) continue;
      // Files with errors of their own would only repeat them here.
      const inputs = [
        ...r.chain.map((e) => e.file.rel),
        system.file.rel,
        ...r.blocks.map((b) => blockFile(b.item.use)),
        blockFile(fit.strategy?.block),
        blockFile(partition.gpu?.toolkit.block),
      ];
      if (inputs.some((f) => f !== undefined && broken.has(f))) continue;
      const key = JSON.stringify([
        fit.recipe,
        fit.strategy?.block,
        fit.strategy?.with,
        partition.gpu?.toolkit,
        partition.cpu.arch,
        partition.cpu.targetFlags,
        r.doc.cpuTarget,
        system.doc.bases?.[r.doc.base] ?? null,
      ]);
      if (!seen.has(key)) {
        try {
          compose(this.catalog, r, system, partition, fit.strategy);
          seen.set(key, null);
        } catch (e) {
          if (!(e instanceof ComposeError)) throw e;
          seen.set(key, e.problems);
          for (const problem of e.problems) {
            out.push(r.entry.file.diagnostic(e.paths.get(problem) ?? ['blocks'], 'error', 'compose', `on ${fit.system}/${fit.partition}: ${problem}`));
          }
        }
      }
    }
    return out;
  }

  /** `name` (newest non-deprecated version) or `name@version`. */
  recipe(spec: string): ResolvedRecipe {
    const [name, version] = spec.split('@') as [string, string | undefined];
    if (version !== undefined) {
      const r = this.recipes.get(`${name}@${version}`);
      if (r) return r;
      if (this.catalog.invalid.recipes.has(`${name}@${version}`) || this.catalog.recipes.has(`${name}@${version}`)) {
        throw new BrickyardError('CATALOG_INVALID', `recipe ${spec} has errors`, { hint: 'run `brickyard validate` to see them' });
      }
    } else {
      const all = [...this.recipes.values()].filter((r) => r.doc.name === name);
      const pick = all.filter((r) => !r.doc.deprecated).sort((a, b) => compareVersions(b.doc.version, a.doc.version))[0] ?? all[0];
      if (pick) return pick;
      if ([...this.catalog.invalid.recipes].some((k) => k.startsWith(`${name}@`))) {
        throw new BrickyardError('CATALOG_INVALID', `recipe ${name} has errors`, { hint: 'run `brickyard validate` to see them' });
      }
    }
    const names = [...new Set([...this.recipes.values()].map((r) => r.doc.name))].sort();
    throw new PairError('recipe', spec, 'RECIPE_NOT_FOUND', `no recipe ${spec} in the catalogue`, `known recipes: ${names.join(', ')}`);
  }

  /** `id` (every partition) or `id/partition`. */
  partitionsOf(spec: string): PartitionRef[] {
    const [id, pid] = spec.split('/') as [string, string | undefined];
    const system = this.catalog.systems.get(id);
    if (!system) {
      if (this.catalog.invalid.systems.has(id)) {
        throw new BrickyardError('CATALOG_INVALID', `system template systems/${id}.yaml has errors`, { hint: 'run `brickyard validate` to see them' });
      }
      throw new PairError('system', id, 'SYSTEM_NOT_FOUND', `no system ${id}`, `known systems: ${[...this.catalog.systems.keys()].join(', ')}`);
    }
    if (pid === undefined) return system.doc.partitions.map((partition) => ({ system, partition }));
    const partition = system.doc.partitions.find((p) => p.id === pid);
    if (!partition) {
      throw new PairError('partition', pid, 'PARTITION_NOT_FOUND', `system ${id} has no partition ${pid}`, `its partitions: ${system.doc.partitions.map((p) => p.id).join(', ')}`);
    }
    return [{ system, partition }];
  }

  /** Render a pair of this workspace; refuses, with the reasons, a pair that does not fit. */
  render(pair: Pair): Rendered {
    if (!this.ownPairs.has(pair)) throw foreignPair(pair);
    const { recipe, system, partition, fit } = pair;
    if (!fit.fits) {
      throw new BrickyardError('PAIR_DOES_NOT_FIT', `${recipe.key} does not fit ${system.doc.id}/${partition.id}:\n  - ${fit.reasons.join('\n  - ')}`, {
        hint: 'run `brickyard check` to see where it fits',
      });
    }
    return renderPair(this.catalog, recipe, system, partition, fit.strategy);
  }
}

/** A Pair this workspace did not make (another checkout's, or built by hand): its fit is not one this workspace computed. */
function foreignPair(pair: Pair): BrickyardError {
  return new BrickyardError('USAGE', `pair ${pair.key} was not made by this workspace`, { hint: 'ask the workspace for it: ws.pair(recipe, system, partition)' });
}

/** Newest first works for semver and for versions such as 5.10 or 2024.1. */
export function compareVersions(a: string, b: string): number {
  const ca = semver.coerce(a, { loose: true });
  const cb = semver.coerce(b, { loose: true });
  if (ca && cb && !semver.eq(ca, cb)) return semver.compare(ca, cb);
  return a < b ? -1 : a > b ? 1 : 0;
}
