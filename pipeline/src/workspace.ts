/**
 * The library's entry point: a checkout opened once, then validated, checked and rendered.
 * The CLI and the GitHub Actions are thin shells over this.
 */
import { evaluatePolicies, type PolicyReport, type PolicyWhich } from './check/image-policy.ts';
import semver from 'semver';
import { findRoot, loadCatalog, type Catalog, type Entry } from './catalog/load.ts';
import { resolveRecipes, type ResolvedRecipe } from './catalog/resolve.ts';
import { checkSemantics } from './catalog/semantics.ts';
import { checkFit, type Fit } from './check/fit.ts';
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

export class Workspace {
  readonly root: string;
  readonly catalog: Catalog;
  readonly recipes: Map<string, ResolvedRecipe>;
  private readonly resolveDiagnostics: Diagnostic[];

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

  /** Fit of every recipe (or the given ones) on every partition (or the given ones). */
  checkAll(recipes?: readonly ResolvedRecipe[], partitions?: readonly PartitionRef[]): Fit[] {
    const rs = recipes ?? [...this.recipes.values()];
    const ps = partitions ?? this.partitions();
    const fits: Fit[] = [];
    for (const r of rs) for (const p of ps) fits.push(checkFit(this.catalog, r, p.system.doc, p.partition));
    return fits;
  }

  /** Every fitting pair against each system's current or next image policy (check/image-policy.ts). */
  policyReport(which: PolicyWhich, fits: readonly Fit[] = this.checkAll()): PolicyReport {
    return evaluatePolicies(
      this.recipes,
      [...this.catalog.systems.values()].map((s) => s.doc),
      fits,
      which,
    );
  }

  validate(): ValidationReport {
    const fits = this.checkAll();
    const found = [
      ...this.catalog.diagnostics,
      ...this.resolveDiagnostics,
      ...checkSemantics(this.catalog, this.recipes),
      ...lintCatalog(this.catalog, this.recipes, fits),
      ...this.fitsNowhere(fits),
      ...slotOverrides(this.recipes, this.catalog, fits),
    ];
    const broken = new Set(found.filter((d) => d.severity === 'error').map((d) => d.file));
    const diagnostics = sortDiagnostics([...found, ...this.compositions(fits, broken)]);
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
  private compositions(fits: readonly Fit[], broken: ReadonlySet<string>): Diagnostic[] {
    const out: Diagnostic[] = [];
    const seen = new Map<string, string[] | null>();
    const blockFile = (name: string | undefined): string | undefined => (name ? this.catalog.blocks.get(name)?.file.rel : undefined);
    for (const fit of fits) {
      if (!fit.fits) continue;
      const r = this.recipes.get(fit.recipe)!;
      const system = this.catalog.systems.get(fit.system)!;
      const partition = system.doc.partitions.find((p) => p.id === fit.partition)!;
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
    throw new BrickyardError('RECIPE_NOT_FOUND', `no recipe ${spec} in the catalogue`, { hint: `known recipes: ${names.join(', ')}` });
  }

  /** `id` (every partition) or `id/partition`. */
  partitionsOf(spec: string): PartitionRef[] {
    const [id, pid] = spec.split('/') as [string, string | undefined];
    const system = this.catalog.systems.get(id);
    if (!system) {
      if (this.catalog.invalid.systems.has(id)) {
        throw new BrickyardError('CATALOG_INVALID', `system template systems/${id}.yaml has errors`, { hint: 'run `brickyard validate` to see them' });
      }
      throw new BrickyardError('SYSTEM_NOT_FOUND', `no system ${id}`, { hint: `known systems: ${[...this.catalog.systems.keys()].join(', ')}` });
    }
    if (pid === undefined) return system.doc.partitions.map((partition) => ({ system, partition }));
    const partition = system.doc.partitions.find((p) => p.id === pid);
    if (!partition) {
      throw new BrickyardError('PARTITION_NOT_FOUND', `system ${id} has no partition ${pid}`, {
        hint: `its partitions: ${system.doc.partitions.map((p) => p.id).join(', ')}`,
      });
    }
    return [{ system, partition }];
  }

  /** `id/partition` as given, or the first partition of `id` the recipe fits (the first one when none does: rendering it explains why). */
  firstFitting(recipe: ResolvedRecipe, spec: string): PartitionRef {
    const wheres = this.partitionsOf(spec);
    return wheres.find((w) => checkFit(this.catalog, recipe, w.system.doc, w.partition).fits) ?? wheres[0]!;
  }

  /** Render a pair; refuses, with the reasons, a pair that does not fit. */
  render(recipe: ResolvedRecipe, where: PartitionRef): Rendered {
    const fit = checkFit(this.catalog, recipe, where.system.doc, where.partition);
    if (!fit.fits) {
      throw new BrickyardError('PAIR_DOES_NOT_FIT', `${recipe.key} does not fit ${where.system.doc.id}/${where.partition.id}:\n  - ${fit.reasons.join('\n  - ')}`, {
        hint: 'run `brickyard check` to see where it fits',
      });
    }
    return renderPair(this.catalog, recipe, where.system, where.partition, fit.strategy);
  }
}

/** Newest first works for semver and for versions such as 5.10 or 2024.1. */
export function compareVersions(a: string, b: string): number {
  const ca = semver.coerce(a, { loose: true });
  const cb = semver.coerce(b, { loose: true });
  if (ca && cb && !semver.eq(ca, cb)) return semver.compare(ca, cb);
  return a < b ? -1 : a > b ? 1 : 0;
}
