/**
 * Loads the catalogue (recipes, blocks, bases) and the system templates from a checkout,
 * checking YAML syntax, the JSON Schemas and the folder layout. Semantic checks live in
 * resolve.ts; lint rules in ../lint/.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { validateAgainstSchema, type SchemaKind } from './schemas.ts';
import type { BaseDoc, BasesDoc, BlockDoc, RecipeDoc, SystemDoc, ToolchainsDoc } from '../model/types.ts';
import type { Diagnostic } from '../util/diagnostics.ts';
import { BrickyardError } from '../util/errors.ts';
import { SourceFile } from './source.ts';

export interface Entry<T> {
  file: SourceFile;
  doc: T;
  /** Folder the entry's relative `copy` sources are read from. */
  dir: string;
}

export interface Catalog {
  root: string;
  recipes: Map<string, Entry<RecipeDoc>>;
  blocks: Map<string, Entry<BlockDoc>>;
  bases: Map<string, BaseDoc>;
  basesFile: SourceFile | undefined;
  /** catalog/toolchains.yaml, when the checkout has one: compiler flags and toolkit availability. */
  toolchains: ToolchainsDoc | undefined;
  systems: Map<string, Entry<SystemDoc>>;
  /** Entries that exist but failed their schema: references to them are not reported again. */
  invalid: { recipes: Set<string>; blocks: Set<string>; systems: Set<string> };
  diagnostics: Diagnostic[];
}

export const recipeKey = (name: string, version: string): string => `${name}@${version}`;

/** The checkout around `start`: the nearest folder holding both catalog/ and systems/. */
export function findRoot(start: string = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    if (isDir(join(dir, 'catalog')) && isDir(join(dir, 'systems'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new BrickyardError('ROOT_NOT_FOUND', `no Brickyard checkout around ${resolve(start)}`, {
        hint: 'run inside the repository, or pass --root DIR (a folder with catalog/ and systems/)',
      });
    }
    dir = parent;
  }
}

export function loadCatalog(root: string): Catalog {
  if (!isDir(join(root, 'catalog')) || !isDir(join(root, 'systems'))) {
    throw new BrickyardError('ROOT_NOT_FOUND', `${root} is not a Brickyard checkout (catalog/ and systems/ are needed)`, {
      hint: 'pass --root DIR pointing at the repository',
    });
  }
  const cat: Catalog = {
    root,
    recipes: new Map(),
    blocks: new Map(),
    bases: new Map(),
    basesFile: undefined,
    toolchains: undefined,
    systems: new Map(),
    invalid: { recipes: new Set(), blocks: new Set(), systems: new Set() },
    diagnostics: [],
  };

  const read = (abs: string, kind: SchemaKind): SourceFile | undefined => readValid(cat, abs, kind);
  loadRecipes(cat, read);
  loadBlocks(cat, read);
  loadBasesAndToolchains(cat, read);
  loadSystems(cat, read);
  return cat;
}

/** Reads a catalogue file: the parsed file when it is valid YAML that passes its schema; otherwise its findings are recorded. */
type ReadValid = (abs: string, kind: SchemaKind) => SourceFile | undefined;

function readValid(cat: Catalog, abs: string, kind: SchemaKind): SourceFile | undefined {
  const file = SourceFile.read(abs, cat.root);
  if (file.syntaxErrors.length > 0) {
    cat.diagnostics.push(...file.syntaxErrors);
    return undefined;
  }
  const findings = validateAgainstSchema(kind, file);
  cat.diagnostics.push(...findings);
  return findings.length === 0 ? file : undefined;
}

/** Recipes: catalog/recipes/<name>/<version>/recipe.yaml, named as their folders. */
function loadRecipes(cat: Catalog, read: ReadValid): void {
  const { root } = cat;
  const recipesDir = join(root, 'catalog', 'recipes');
  for (const name of subdirs(recipesDir)) {
    for (const version of subdirs(join(recipesDir, name))) {
      const dir = join(recipesDir, name, version);
      const abs = join(dir, 'recipe.yaml');
      if (!existsSync(abs)) {
        cat.diagnostics.push(layout(root, dir, `catalog/recipes/${name}/${version} has no recipe.yaml`));
        continue;
      }
      const key = recipeKey(name, version);
      const file = read(abs, 'recipe');
      if (!file) {
        cat.invalid.recipes.add(key);
        continue;
      }
      const doc = file.data as RecipeDoc;
      if (doc.name !== name || doc.version !== version) {
        cat.diagnostics.push(
          file.diagnostic(
            [doc.name !== name ? 'name' : 'version'],
            'error',
            'layout',
            `recipe declares ${recipeKey(doc.name, doc.version)} but lives in catalog/recipes/${name}/${version}/: the folder names must be the name and version`,
          ),
        );
        cat.invalid.recipes.add(key);
        continue;
      }
      cat.recipes.set(key, { file, doc, dir });
    }
  }
}

/** Blocks: catalog/blocks/<name>/block.yaml, named as their folder. */
function loadBlocks(cat: Catalog, read: ReadValid): void {
  const { root } = cat;
  const blocksDir = join(root, 'catalog', 'blocks');
  for (const name of subdirs(blocksDir)) {
    const dir = join(blocksDir, name);
    const abs = join(dir, 'block.yaml');
    if (!existsSync(abs)) {
      cat.diagnostics.push(layout(root, dir, `catalog/blocks/${name} has no block.yaml`));
      continue;
    }
    const file = read(abs, 'block');
    if (!file) {
      cat.invalid.blocks.add(name);
      continue;
    }
    const doc = file.data as BlockDoc;
    if (doc.name !== name) {
      cat.diagnostics.push(file.diagnostic(['name'], 'error', 'layout', `block is named "${doc.name}" but lives in catalog/blocks/${name}/`));
      cat.invalid.blocks.add(name);
      continue;
    }
    cat.blocks.set(name, { file, doc, dir });
  }
}

/** catalog/bases.yaml (required) and catalog/toolchains.yaml (optional). */
function loadBasesAndToolchains(cat: Catalog, read: ReadValid): void {
  const { root } = cat;
  const basesAbs = join(root, 'catalog', 'bases.yaml');
  if (existsSync(basesAbs)) {
    const file = read(basesAbs, 'bases');
    if (file) {
      cat.basesFile = file;
      for (const [name, base] of Object.entries((file.data as BasesDoc).bases)) cat.bases.set(name, base);
    }
  } else {
    cat.diagnostics.push(layout(root, join(root, 'catalog'), 'catalog/bases.yaml is missing'));
  }

  const toolchainsAbs = join(root, 'catalog', 'toolchains.yaml');
  if (existsSync(toolchainsAbs)) {
    const file = read(toolchainsAbs, 'toolchains');
    if (file) cat.toolchains = file.data as ToolchainsDoc;
  }
}

/** Systems: systems/<id>.yaml, its id the file's name. */
function loadSystems(cat: Catalog, read: ReadValid): void {
  const { root } = cat;
  const systemsDir = join(root, 'systems');
  for (const entry of readdirSync(systemsDir).sort()) {
    if (!entry.endsWith('.yaml') && !entry.endsWith('.yml')) continue;
    const id = entry.replace(/\.ya?ml$/, '');
    const file = read(join(systemsDir, entry), 'system');
    if (!file) {
      cat.invalid.systems.add(id);
      continue;
    }
    const doc = file.data as SystemDoc;
    if (doc.id !== id) {
      cat.diagnostics.push(file.diagnostic(['id'], 'error', 'layout', `system id "${doc.id}" must match its file name systems/${id}.yaml`));
      cat.invalid.systems.add(id);
      continue;
    }
    cat.systems.set(id, { file, doc, dir: systemsDir });
  }
}

function layout(root: string, abs: string, message: string): Diagnostic {
  const rel = abs
    .slice(root.length + 1)
    .split('\\')
    .join('/');
  return { file: rel, line: 1, col: 1, severity: 'error', message, rule: 'layout' };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function subdirs(p: string): string[] {
  if (!isDir(p)) return [];
  return readdirSync(p, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}
