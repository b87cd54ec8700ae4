/**
 * `extends`: a recipe built on a verified one. Merge rules (docs/recipes.md):
 * - the child always gives its own name, version, revision, summary and maintainers;
 * - base, entrypoint, sizeBudget, homepage, licence and launch are inherited unless the child sets them;
 * - blocks, sources, steps and smoke tests append to the parent's; an entry with the same
 *   `use` (block) or `name` (source, smoke test) replaces the parent's in place;
 * - environment and labels merge key by key, the child winning;
 * - runtime (what the runtime stage keeps) appends to the parent's; a child of a multi-stage
 *   recipe is multi-stage too;
 * - requires merges key by key (architectures, gpu, mpi), the child's value replacing the parent's;
 * - deprecated is never inherited.
 */
import type { Diagnostic } from '../util/diagnostics.ts';
import type { BlockUse, PrimitiveDoc, RecipeDoc, RuntimeStepDoc, SmokeTestDoc, SourceDoc } from '../model/types.ts';
import { recipeKey, type Catalog, type Entry } from './load.ts';

/** A recipe step or source with the folder its relative paths are read from and the file it came from. */
export interface Placed<T> {
  item: T;
  dir: string;
  /** `recipe:name@version` of the recipe that declared it. */
  origin: string;
}

export interface ResolvedRecipe {
  key: string;
  entry: Entry<RecipeDoc>;
  /** The recipe itself first, then its parents. */
  chain: Entry<RecipeDoc>[];
  doc: RecipeDoc & Required<Pick<RecipeDoc, 'base' | 'requires'>>;
  blocks: Placed<BlockUse>[];
  steps: Placed<PrimitiveDoc>[];
  sources: Placed<SourceDoc>[];
  smoke: SmokeTestDoc[];
  /** What the runtime stage keeps of the recipe's own steps; undefined: a single-stage image. */
  runtime?: Placed<RuntimeStepDoc>[];
}

export interface ResolveResult {
  recipes: Map<string, ResolvedRecipe>;
  diagnostics: Diagnostic[];
}

/** A recipe's own blocks, steps, sources and runtime parts, each with where it comes from. */
type OwnParts = Pick<ResolvedRecipe, 'blocks' | 'steps' | 'sources' | 'runtime'>;

export function resolveRecipes(cat: Catalog): ResolveResult {
  const out = new Map<string, ResolvedRecipe>();
  const failed = new Set<string>();
  const diagnostics: Diagnostic[] = [];

  const resolveOne = (key: string, stack: string[]): ResolvedRecipe | undefined => {
    const done = out.get(key);
    if (done) return done;
    if (failed.has(key)) return undefined;
    const entry = cat.recipes.get(key);
    if (!entry) return undefined;
    const doc = entry.doc;
    const origin = `recipe:${key}`;
    const own: OwnParts = {
      blocks: (doc.blocks ?? []).map((item) => ({ item, dir: entry.dir, origin })),
      steps: (doc.steps ?? []).map((item) => ({ item, dir: entry.dir, origin })),
      sources: (doc.sources ?? []).map((item) => ({ item, dir: entry.dir, origin })),
      ...(doc.runtime ? { runtime: doc.runtime.map((item) => ({ item, dir: entry.dir, origin })) } : {}),
    };
    if (!doc.extends) {
      const missing = (['base', 'requires'] as const).filter((k) => doc[k] === undefined);
      if (missing.length > 0) {
        failed.add(key);
        return undefined; // the schema already reported it
      }
      const r: ResolvedRecipe = {
        key,
        entry,
        chain: [entry],
        doc: doc as ResolvedRecipe['doc'],
        ...own,
        smoke: doc.smoke ?? [],
      };
      out.set(key, r);
      return r;
    }

    const parentKey = doc.extends;
    if (!parentFound(cat, key, entry, parentKey, stack, diagnostics)) {
      failed.add(key);
      return undefined;
    }
    const parent = resolveOne(parentKey, [...stack, key]);
    if (!parent) {
      failed.add(key);
      return undefined;
    }
    const r = inherit(key, entry, own, parent);
    out.set(key, r);
    return r;
  };

  for (const key of [...cat.recipes.keys()].sort()) resolveOne(key, []);
  return { recipes: out, diagnostics };
}

function mergeMaps<T extends object>(a: T | undefined, b: T | undefined): T | undefined {
  if (!a) return b;
  if (!b) return a;
  return { ...a, ...b };
}

function appendReplacing<T>(parent: readonly T[], child: readonly T[], id: (x: T) => string): T[] {
  const result = [...parent];
  for (const c of child) {
    const i = result.findIndex((x) => id(x) === id(c));
    if (i >= 0) result[i] = c;
    else result.push(c);
  }
  return result;
}

export { recipeKey };

/** The recipe a recipe extends is in the catalogue and not on the chain already (a cycle); the finding is recorded where it is not. */
function parentFound(cat: Catalog, key: string, entry: Entry<RecipeDoc>, parentKey: string, stack: string[], diagnostics: Diagnostic[]): boolean {
  if (stack.includes(parentKey) || parentKey === key) {
    const cycle = [...stack.slice(stack.indexOf(parentKey)), key, parentKey].join(' -> ');
    diagnostics.push(entry.file.diagnostic(['extends'], 'error', 'extends-cycle', `extends forms a cycle: ${cycle}`));
    return false;
  }
  if (!cat.recipes.has(parentKey)) {
    if (!cat.invalid.recipes.has(parentKey)) {
      const [pname] = parentKey.split('@');
      const versions = [...cat.recipes.values()].filter((e) => e.doc.name === pname).map((e) => e.doc.version);
      diagnostics.push(
        entry.file.diagnostic(
          ['extends'],
          'error',
          'extends-unresolved',
          `extends ${parentKey}, which is not in the catalogue` + (versions.length ? ` (versions of ${pname}: ${versions.join(', ')})` : ''),
        ),
      );
    }
    return false;
  }
  return true;
}

/** A recipe over its resolved parent: its own fields win, maps merge, blocks and sources replace the parent's of the same name. */
function inherit(key: string, entry: Entry<RecipeDoc>, own: OwnParts, parent: ResolvedRecipe): ResolvedRecipe {
  const doc = entry.doc;
  const p = parent.doc;
  const merged = {
    ...doc,
    base: doc.base ?? p.base,
    entrypoint: doc.entrypoint ?? p.entrypoint,
    sizeBudget: doc.sizeBudget ?? p.sizeBudget,
    homepage: doc.homepage ?? p.homepage,
    license: doc.license ?? p.license,
    environment: mergeMaps(p.environment, doc.environment),
    labels: mergeMaps(p.labels, doc.labels),
    requires: { ...p.requires, ...doc.requires },
    launch: doc.launch ?? p.launch,
    cpuTarget: doc.cpuTarget ?? p.cpuTarget,
  } as ResolvedRecipe['doc'];
  for (const k of ['entrypoint', 'homepage', 'environment', 'labels', 'launch', 'cpuTarget'] as const) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- k is one of the fixed optional keys listed above
    if (merged[k] === undefined) delete merged[k];
  }
  return {
    key,
    entry,
    chain: [entry, ...parent.chain],
    doc: merged,
    blocks: appendReplacing(parent.blocks, own.blocks, (b) => b.item.use),
    steps: [...parent.steps, ...own.steps],
    sources: appendReplacing(parent.sources, own.sources, (s) => s.item.name),
    smoke: appendReplacing(parent.smoke, doc.smoke ?? [], (s) => s.name),
    ...(parent.runtime || own.runtime ? { runtime: [...(parent.runtime ?? []), ...(own.runtime ?? [])] } : {}),
  };
}
