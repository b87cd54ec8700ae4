/**
 * Semantic checks the schemas cannot express: references resolve (blocks, bases, extends,
 * systems, sources, files), parameters have the right types, capabilities line up, licences
 * are valid SPDX, provenance points at real fields. Each finding points at file:line:col.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import parseSpdx from 'spdx-expression-parse';
import { satisfies } from '../model/capabilities.ts';
import { resolveParams, typeMatches } from '../model/params.ts';
import { placeholders, stringsIn, TARGET_NAMES } from '../model/template.ts';
import type { BlockDoc, PrimitiveDoc, SystemDoc } from '../model/types.ts';
import type { Diagnostic } from '../util/diagnostics.ts';
import type { Catalog, Entry } from './load.ts';
import type { ResolvedRecipe } from './resolve.ts';
import { pointerToPath, type SourceFile } from './source.ts';

export function checkSemantics(cat: Catalog, resolved: Map<string, ResolvedRecipe>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const entry of cat.blocks.values()) out.push(...checkBlock(entry));
  for (const entry of cat.recipes.values()) out.push(...checkRecipe(cat, entry.file, entry.doc, entry.dir));
  for (const r of resolved.values()) out.push(...checkComposition(cat, r));
  for (const entry of cat.systems.values()) out.push(...checkSystem(cat, entry));
  return out;
}

export function licenseProblem(expr: string): string | undefined {
  try {
    parseSpdx(expr);
    return undefined;
  } catch {
    return `licence ${JSON.stringify(expr)} is not a valid SPDX expression (e.g. "MIT", "GPL-2.0-or-later", "BSD-3-Clause AND MIT")`;
  }
}

function checkBlock(entry: Entry<BlockDoc>): Diagnostic[] {
  const { file, doc } = entry;
  const out: Diagnostic[] = [];
  const params = doc.parameters ?? {};
  for (const [name, p] of Object.entries(params)) {
    if (p.default !== undefined && !typeMatches(p, p.default)) {
      out.push(file.diagnostic(['parameters', name, 'default'], 'error', 'param-type', `default of "${name}" must be a ${p.type}`));
    }
    if (p.default !== undefined && p.enum && !p.enum.includes(p.default)) {
      out.push(file.diagnostic(['parameters', name, 'default'], 'error', 'param-enum', `default of "${name}" is not one of its allowed values`));
    }
  }
  if (doc.license) {
    const problem = licenseProblem(doc.license);
    if (problem) out.push(file.diagnostic(['license'], 'error', 'license-spdx', problem));
  }
  const known = new Set<string>([...Object.keys(params), ...TARGET_NAMES]);
  out.push(...checkSteps(file, doc.steps, ['steps'], known, entry.dir, params));
  for (const [s, path] of stringsIn(doc.sources ?? [], ['sources'])) {
    for (const name of placeholders(s)) {
      if (!known.has(name)) out.push(file.diagnostic(path, 'error', 'template-unknown', `unknown placeholder {{ ${name} }}`));
    }
  }

  // Sources: unique per (name, version); versioned sources need a `version` parameter that offers each.
  const sources = doc.sources ?? [];
  const seen = new Set<string>();
  sources.forEach((src, i) => {
    const key = `${src.name}@${src.version ?? ''}`;
    if (seen.has(key))
      out.push(file.diagnostic(['sources', i, 'name'], 'error', 'source-duplicate', `source ${src.name}${src.version ? ` for version ${src.version}` : ''} is declared twice`));
    seen.add(key);
    if (src.version !== undefined && !params['version']) {
      out.push(file.diagnostic(['sources', i, 'version'], 'error', 'source-version', `source ${src.name} is tied to a version, but the block has no "version" parameter`));
    }
  });
  const versionParam = params['version'];
  if (versionParam?.enum) {
    const versioned = new Set(sources.filter((s) => s.version !== undefined).map((s) => s.name));
    for (const name of versioned) {
      for (const v of versionParam.enum) {
        if (!sources.some((s) => s.name === name && s.version === String(v))) {
          const i = sources.findIndex((s) => s.name === name);
          out.push(file.diagnostic(['sources', i], 'error', 'source-version', `source ${name} has no entry for version ${String(v)}, which the "version" parameter allows`));
        }
      }
    }
  }
  doc.steps.forEach((step, i) => {
    const name = step.fetch?.source;
    if (name && placeholders(name).length === 0 && !sources.some((s) => s.name === name)) {
      out.push(file.diagnostic(['steps', i, 'fetch', 'source'], 'error', 'source-unresolved', `fetch names source "${name}", which the block does not declare`));
    }
    for (const key of ['before', 'after'] as const) {
      if (step[key] !== undefined)
        out.push(file.diagnostic(['steps', i, key], 'error', 'step-placement', `"${key}" places recipe steps around a block; a block's own steps run in its order`));
    }
  });
  return out;
}

function checkSteps(
  file: SourceFile,
  steps: readonly PrimitiveDoc[],
  at: (string | number)[],
  known: ReadonlySet<string>,
  dir: string,
  params: BlockDoc['parameters'],
): Diagnostic[] {
  const out: Diagnostic[] = [];
  steps.forEach((step, i) => {
    for (const [k, v] of Object.entries(step.when ?? {})) {
      const p = params?.[k];
      if (!p) {
        out.push(file.diagnostic([...at, i, 'when', k], 'error', 'when-unknown', `"when" names "${k}", which is not a parameter here`, k));
        continue;
      }
      for (const value of Array.isArray(v) ? v : [v]) {
        if (p.enum && !p.enum.includes(value)) {
          out.push(file.diagnostic([...at, i, 'when', k], 'error', 'when-unknown', `"when" compares ${k} with ${JSON.stringify(value)}, which it can never be`));
        }
      }
    }
    for (const [s, path] of stringsIn(step, [...at, i])) {
      if (path[at.length + 1] === 'when') continue;
      for (const name of placeholders(s)) {
        if (!known.has(name)) {
          out.push(file.diagnostic(path, 'error', 'template-unknown', `unknown placeholder {{ ${name} }} (known here: ${[...known].join(', ')})`));
        }
      }
    }
    if (step.copy && placeholders(step.copy.src).length === 0 && !existsSync(join(dir, step.copy.src))) {
      out.push(file.diagnostic([...at, i, 'copy', 'src'], 'error', 'copy-missing', `copy source ${step.copy.src} does not exist beside ${file.rel}`));
    }
  });
  return out;
}

/** Checks on a recipe's own file (not what it inherits). */
function checkRecipe(cat: Catalog, file: SourceFile, doc: ResolvedRecipe['entry']['doc'], dir: string): Diagnostic[] {
  const out: Diagnostic[] = [];
  const problem = doc.license === undefined ? undefined : licenseProblem(doc.license);
  if (problem) out.push(file.diagnostic(['license'], 'error', 'license-spdx', problem));
  if (doc.base !== undefined && !cat.bases.has(doc.base)) {
    out.push(file.diagnostic(['base'], 'error', 'base-unresolved', `base ${doc.base} is not in catalog/bases.yaml (known: ${[...cat.bases.keys()].join(', ')})`));
  }
  (doc.blocks ?? []).forEach((use, i) => {
    if (use.use.startsWith('@')) return; // filled per system; checked when the pair is composed
    const block = cat.blocks.get(use.use);
    if (!block) {
      if (!cat.invalid.blocks.has(use.use)) {
        out.push(
          file.diagnostic(['blocks', i, 'use'], 'error', 'block-unresolved', `block ${use.use} is not in catalog/blocks/ (known: ${[...cat.blocks.keys()].sort().join(', ')})`),
        );
      }
      return;
    }
    for (const p of resolveParams(block.doc, use.with).problems) {
      const path: (string | number)[] = p.inWith && use.with && p.param in use.with ? ['blocks', i, 'with', p.param] : ['blocks', i];
      out.push(file.diagnostic(path, 'error', 'param-invalid', p.message));
    }
  });
  const sources = doc.sources ?? [];
  const known = new Set<string>(TARGET_NAMES);
  out.push(...checkSteps(file, doc.steps ?? [], ['steps'], known, dir, {}));
  (doc.steps ?? []).forEach((step, i) => {
    if (!step.fetch || doc.extends) return; // a child may fetch a parent's source: checked on the resolved recipe
    for (const name of sourceNamesFor(step.fetch.source, doc.requires?.architectures)) {
      if (!sources.some((s) => s.name === name)) {
        out.push(file.diagnostic(['steps', i, 'fetch', 'source'], 'error', 'source-unresolved', `fetch names source "${name}", which the recipe does not declare in sources`));
      }
    }
  });
  return out;
}

/** Checks on the merged recipe: slots, MPI and GPU requirements, capabilities in order. */
function checkComposition(cat: Catalog, r: ResolvedRecipe): Diagnostic[] {
  const out: Diagnostic[] = [];
  const file = r.entry.file;
  const mpi = r.doc.requires.mpi ?? 'none';
  const vendor = r.doc.requires.gpu?.vendor ?? 'none';
  const slotIndex = (slot: string): number => (r.entry.doc.blocks ?? []).findIndex((b) => b.use === slot);
  const has = (slot: string): boolean => r.blocks.some((b) => b.item.use === slot);
  const at = (slot: string): (string | number)[] => (slotIndex(slot) >= 0 ? ['blocks', slotIndex(slot), 'use'] : ['requires']);
  if (has('@mpi') && mpi === 'none') {
    out.push(file.diagnostic(at('@mpi'), 'error', 'mpi-requirement', 'uses the @mpi slot but requires.mpi is none: set requires.mpi to any, mpich or openmpi'));
  }
  if (has('@gpu') && vendor === 'none') {
    out.push(file.diagnostic(at('@gpu'), 'error', 'gpu-requirement', 'uses the @gpu slot but requires.gpu.vendor is none: set it to any, nvidia or amd'));
  }
  // What each block requires must be provided before it: the base, slots (as their capability), earlier blocks.
  const base = cat.bases.get(r.doc.base);
  const provided: string[] = [...(base?.provides ?? [])];
  r.blocks.forEach(({ item, origin }) => {
    const own = origin === `recipe:${r.key}`;
    const idx = (r.entry.doc.blocks ?? []).indexOf(item);
    const path: (string | number)[] = own && idx >= 0 ? ['blocks', idx, 'use'] : ['extends'];
    if (item.use === '@mpi') {
      provided.push('mpi', 'mpi-abi', 'pmix');
      return;
    }
    if (item.use === '@gpu') {
      provided.push('gpu', 'gpu:cuda', 'gpu:rocm');
      return;
    }
    const block = cat.blocks.get(item.use)?.doc;
    if (!block) return;
    for (const need of block.requires ?? []) {
      if (!satisfies(provided, need)) {
        out.push(
          file.diagnostic(path, 'error', 'block-requires', `block ${block.name} requires ${need}; add a block that provides it before this one (or use a base that provides it)`),
        );
      }
    }
    for (const c of block.conflicts ?? []) {
      const other = r.blocks.find((b) => b.item !== item && !b.item.use.startsWith('@') && satisfies(cat.blocks.get(b.item.use)?.doc.provides ?? [], c));
      if (other) out.push(file.diagnostic(path, 'error', 'block-conflict', `block ${block.name} conflicts with ${c}, which block ${other.item.use} also provides`));
    }
    provided.push(...block.provides);
  });
  if (mpi !== 'none' && !provided.some((p) => p === 'mpi')) {
    out.push(file.diagnostic(['requires', 'mpi'], 'error', 'mpi-requirement', `requires.mpi is ${mpi} but no block provides MPI: add {use: "@mpi"} to blocks`));
  }
  const uses = new Set(r.blocks.map((b) => b.item.use));
  (r.entry.doc.steps ?? []).forEach((step, i) => {
    for (const key of ['before', 'after'] as const) {
      const target = step[key];
      // A slot's block is chosen per system, so a concrete name is accepted when the catalogue has it.
      if (target !== undefined && !uses.has(target) && !cat.blocks.has(target)) {
        out.push(
          file.diagnostic(
            ['steps', i, key],
            'error',
            'step-placement',
            `step placed ${key} ${target}, which is neither a block of this recipe nor in the catalogue (blocks: ${[...uses].join(', ')})`,
          ),
        );
      }
    }
  });
  if (r.entry.doc.extends) {
    const sources = r.sources.map((s) => s.item.name);
    (r.entry.doc.steps ?? []).forEach((step, i) => {
      const name = step.fetch?.source;
      if (name && placeholders(name).length === 0 && !sources.includes(name)) {
        out.push(file.diagnostic(['steps', i, 'fetch', 'source'], 'error', 'source-unresolved', `fetch names source "${name}", which neither this recipe nor its parents declare`));
      }
    });
  }
  return out;
}

function checkSystem(cat: Catalog, entry: Entry<SystemDoc>): Diagnostic[] {
  const { file, doc } = entry;
  const out: Diagnostic[] = [];
  (doc.provenance ?? []).forEach((p, i) => {
    const path = pointerToPath(p.path);
    if (!exists(doc, path)) {
      out.push(file.diagnostic(['provenance', i, 'path'], 'error', 'provenance-path', `provenance path ${p.path} does not point at a field of this file`));
    }
    (p.sources ?? []).forEach((s, j) => {
      if (!(s in doc.sources)) {
        out.push(file.diagnostic(['provenance', i, 'sources', j], 'error', 'provenance-source', `source "${s}" is not declared under sources`));
      }
    });
  });
  const ids = new Set<string>();
  doc.partitions.forEach((part, pi) => {
    if (ids.has(part.id)) out.push(file.diagnostic(['partitions', pi, 'id'], 'error', 'partition-duplicate', `partition ${part.id} is declared twice`));
    ids.add(part.id);
    part.mpi.strategies.forEach((s, si) => {
      const at: (string | number)[] = ['partitions', pi, 'mpi', 'strategies', si];
      const block = cat.blocks.get(s.block);
      if (!block) {
        if (!cat.invalid.blocks.has(s.block))
          out.push(file.diagnostic([...at, 'block'], 'error', 'block-unresolved', `MPI strategy ${s.id} uses block ${s.block}, which is not in catalog/blocks/`));
        return;
      }
      if (!block.doc.provides.includes(`mpi-abi:${s.abi}`)) {
        out.push(file.diagnostic([...at, 'block'], 'error', 'mpi-abi', `block ${s.block} does not provide mpi-abi:${s.abi}, which strategy ${s.id} promises`));
      }
      for (const p of resolveParams(block.doc, s.with).problems) {
        out.push(file.diagnostic(s.with && p.param in s.with ? [...at, 'with', p.param] : at, 'error', 'param-invalid', p.message));
      }
    });
    const gpu = part.gpu;
    if (gpu) {
      const at: (string | number)[] = ['partitions', pi, 'gpu', 'toolkit'];
      const block = cat.blocks.get(gpu.toolkit.block);
      if (!block) {
        if (!cat.invalid.blocks.has(gpu.toolkit.block))
          out.push(file.diagnostic([...at, 'block'], 'error', 'block-unresolved', `GPU toolkit block ${gpu.toolkit.block} is not in catalog/blocks/`));
      } else {
        if (block.doc.gpuVendor !== gpu.vendor) {
          out.push(
            file.diagnostic(
              [...at, 'block'],
              'error',
              'gpu-toolkit',
              `block ${gpu.toolkit.block} is not a ${gpu.vendor} toolkit (its gpuVendor is ${block.doc.gpuVendor ?? 'unset'})`,
            ),
          );
        }
        for (const p of resolveParams(block.doc, gpu.toolkit.with).problems) {
          out.push(file.diagnostic(gpu.toolkit.with && p.param in gpu.toolkit.with ? [...at, 'with', p.param] : at, 'error', 'param-invalid', p.message));
        }
      }
    }
    const unknown = placeholders(part.launcher.template.replace(/\{(\w+)\}/g, '{{ $1 }}')).filter(
      (n) => !['ranks', 'nodes', 'ranks_per_node', 'mpi_flag', 'wrapper', 'container'].includes(n),
    );
    for (const n of unknown) out.push(file.diagnostic(['partitions', pi, 'launcher', 'template'], 'error', 'template-unknown', `launcher template has unknown placeholder {${n}}`));
  });
  for (const name of Object.keys(doc.bases ?? {})) {
    if (!cat.bases.has(name)) out.push(file.diagnostic(['bases', name], 'error', 'base-unresolved', `base ${name} is not in catalog/bases.yaml`));
  }
  return out;
}

/** The source names a fetch can resolve to: itself, or one per architecture for `{{ target.arch }}`. */
function sourceNamesFor(name: string, archs: readonly string[] = ['x86_64', 'aarch64']): string[] {
  const names = placeholders(name);
  if (names.length === 0) return [name];
  if (names.every((n) => n === 'target.arch')) return archs.map((a) => name.replace(/\{\{\s*target\.arch\s*\}\}/g, a));
  return []; // depends on parameters: resolved when the pair is composed
}

function exists(doc: unknown, path: (string | number)[]): boolean {
  let node: unknown = doc;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return false;
    if (!(String(seg) in node)) return false;
    node = (node as Record<string, unknown>)[String(seg)];
  }
  return true;
}
