/**
 * Planning: from the files a change touches, the (recipe, system partition) pairs it affects.
 * A pair depends on its recipe and every recipe it extends, the blocks it is composed of
 * (including the ones the system puts in its @mpi and @gpu slots), its base, and its system
 * template. Pairs that do not fit are listed as skipped, with the reason. Files nothing renders
 * from (docs, the engine, tests) affect nothing.
 */
import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import type { ChangedFile } from '../git/git.ts';
import type { BasesDoc } from '../model/types.ts';
import type { Workspace } from '../workspace.ts';

export interface PlannedPair {
  recipe: string;
  name: string;
  version: string;
  system: string;
  partition: string;
  arch: string;
  runner: string[];
  strategy: string | null;
  /** Why the pair is affected, e.g. "block openmpi changed". */
  because: string[];
}

export interface SkippedPair {
  recipe: string;
  system: string;
  partition: string;
  because: string[];
  /** Why it does not fit. */
  reasons: string[];
}

export interface Plan {
  base: string;
  head: string;
  changed: ChangedFile[];
  /** Changed files nothing renders from. */
  ignored: string[];
  /** Recipes whose files were deleted (name@version). */
  removed: string[];
  pairs: PlannedPair[];
  skipped: SkippedPair[];
}

export interface MatrixEntry {
  /** The recipe's name (its version is separate, as the workflow passes them to the CLI). */
  recipe: string;
  version: string;
  system: string;
  partition: string;
  arch: string;
  runner: string[];
  strategy: string | null;
}

export interface Matrix {
  include: MatrixEntry[];
}

interface Changes {
  recipes: Set<string>;
  blocks: Set<string>;
  bases: Set<string>;
  systems: Set<string>;
  ignored: string[];
  removed: string[];
}

export function classify(ws: Workspace, changed: readonly ChangedFile[], basesBefore: () => string | undefined): Changes {
  const c: Changes = { recipes: new Set(), blocks: new Set(), bases: new Set(), systems: new Set(), ignored: [], removed: [] };
  for (const f of changed) {
    const p = f.path.split('/');
    const [top, area, name, version, file] = p;
    if (top === 'catalog' && area === 'recipes' && name !== undefined && version !== undefined && file !== undefined) {
      const key = `${name}@${version}`;
      c.recipes.add(key);
      if (f.status === 'D' && file === 'recipe.yaml' && !ws.catalog.recipes.has(key) && !ws.catalog.invalid.recipes.has(key)) c.removed.push(key);
    } else if (top === 'catalog' && area === 'blocks' && name !== undefined && p.length >= 4) {
      c.blocks.add(name);
    } else if (f.path === 'catalog/bases.yaml') {
      for (const base of changedBases(ws, basesBefore())) c.bases.add(base);
    } else if (top === 'systems' && area !== undefined && p.length === 2 && /\.ya?ml$/.test(area)) {
      c.systems.add(area.replace(/\.ya?ml$/, ''));
    } else {
      c.ignored.push(f.path);
    }
  }
  return c;
}

/** Base entries that differ between the old bases.yaml text and the current catalogue. */
function changedBases(ws: Workspace, before: string | undefined): string[] {
  let old: BasesDoc['bases'] = {};
  try {
    old = (parse(before ?? '') as BasesDoc | null)?.bases ?? {};
  } catch {
    old = {}; // unreadable before: treat every base as changed
  }
  const now = Object.fromEntries(ws.catalog.bases);
  const names = new Set([...Object.keys(old), ...Object.keys(now)]);
  return [...names].filter((n) => JSON.stringify(old[n]) !== JSON.stringify(now[n])).sort();
}

export function planChanges(ws: Workspace, changed: readonly ChangedFile[], refs: { base: string; head: string }, basesBefore: () => string | undefined): Plan {
  const c = classify(ws, changed, basesBefore);
  const pairs: PlannedPair[] = [];
  const skipped: SkippedPair[] = [];
  const nothing = c.recipes.size + c.blocks.size + c.bases.size + c.systems.size === 0;
  if (!nothing) {
    for (const r of ws.recipes.values()) {
      const chain = r.chain.map((e) => `${e.doc.name}@${e.doc.version}`);
      const own = chain.filter((k) => c.recipes.has(k)).map((k) => (k === r.key ? `recipe ${k} changed` : `extends ${k}, which changed`));
      const direct = r.blocks.map((b) => b.item.use).filter((u) => !u.startsWith('@'));
      const baseChanged = c.bases.has(r.doc.base) ? [`base ${r.doc.base} changed`] : [];
      for (const { system, partition, fit } of ws.pairs([r])) {
        const used = new Set(direct);
        if (fit.strategy && r.blocks.some((b) => b.item.use === '@mpi')) used.add(fit.strategy.block);
        if (partition.gpu && r.blocks.some((b) => b.item.use === '@gpu')) used.add(partition.gpu.toolkit.block);
        const because = [
          ...own,
          ...[...used]
            .filter((b) => c.blocks.has(b))
            .sort()
            .map((b) => `block ${b} changed`),
          ...baseChanged,
          ...(c.systems.has(system.doc.id) ? [`system template ${system.doc.id} changed`] : []),
        ];
        if (because.length === 0) continue;
        if (fit.fits) {
          pairs.push({
            recipe: r.key,
            name: r.doc.name,
            version: r.doc.version,
            system: system.doc.id,
            partition: partition.id,
            arch: partition.cpu.arch,
            runner: system.doc.policy.runnerLabels,
            strategy: fit.strategy?.id ?? null,
            because,
          });
        } else {
          skipped.push({ recipe: r.key, system: system.doc.id, partition: partition.id, because, reasons: fit.reasons });
        }
      }
    }
  }
  const order = (a: { recipe: string; system: string; partition: string }, b: typeof a): number =>
    a.recipe < b.recipe ? -1 : a.recipe > b.recipe ? 1 : a.system < b.system ? -1 : a.system > b.system ? 1 : a.partition < b.partition ? -1 : a.partition > b.partition ? 1 : 0;
  return { ...refs, changed: [...changed], ignored: c.ignored, removed: c.removed.sort(), pairs: pairs.sort(order), skipped: skipped.sort(order) };
}

/** Matrices of at most `maxJobs` entries each (GitHub allows 256 jobs per matrix). */
export function toMatrices(pairs: readonly PlannedPair[], maxJobs = 256): Matrix[] {
  const out: Matrix[] = [];
  for (let i = 0; i < pairs.length; i += maxJobs) {
    out.push({
      include: pairs.slice(i, i + maxJobs).map((p) => ({
        recipe: p.name,
        version: p.version,
        system: p.system,
        partition: p.partition,
        arch: p.arch,
        runner: p.runner,
        strategy: p.strategy,
      })),
    });
  }
  return out;
}

/** Pairs that run on GitHub-hosted runners (no self-hosted label): the build host system. */
export function hostedPairs<T extends PlannedPair>(pairs: readonly T[]): T[] {
  return pairs.filter((p) => !p.runner.includes('self-hosted'));
}

/** The text of a file at a commit, or undefined when it did not exist there. */
export function fileAt(root: string, commit: string, path: string): string | undefined {
  try {
    return execFileSync('git', ['show', `${commit}:${path}`], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}
