/**
 * Versioning rules for a pull request, against the catalogue on its base:
 * - a released version (present on the base) whose rendered output changes on any system
 *   partition must bump its revision, or the change goes into a new version;
 * - a released version may only be deleted once the base marks it deprecated;
 * - a revision never goes down.
 * "Rendered output" is what a build consumes: the Containerfile, Apptainer definition and job
 * script, the pinned sources and the files copied into the image. Comments and formatting of
 * the YAML do not count.
 */
import type { Diagnostic } from '../util/diagnostics.ts';
import { sha256Hex } from '../util/hash.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import type { Pair, Workspace } from '../workspace.ts';

export interface RevisionChange {
  recipe: string;
  file: string;
  from: number;
  /** Partitions whose rendered output differs from the base. */
  changedOn: string[];
  /** The inputs that differ from the base: `block mpich`, `base debian-12`, `systems/alps.yaml`, … */
  causes: string[];
}

export interface VersioningResult {
  diagnostics: Diagnostic[];
  /** Released versions that render differently and did not bump their revision. */
  needsBump: RevisionChange[];
}

/**
 * The pair of a recipe of `ws` on a partition, or undefined when that checkout has no such
 * partition. Base and head are different workspaces: each makes (and fits) its own pairs.
 */
function pairIn(ws: Workspace, r: ResolvedRecipe, systemId: string, partitionId: string): Pair | undefined {
  const known = ws.catalog.systems.get(systemId)?.doc.partitions.some((p) => p.id === partitionId) ?? false;
  return known ? ws.pair(r, systemId, partitionId) : undefined;
}

/** What a build of this pair consumes, as one digest, or null when there is no such pair or it does not fit. */
export function renderFingerprint(ws: Workspace, pair: Pair | undefined): string | null {
  if (!pair?.fit.fits) return null;
  let rendered;
  try {
    rendered = ws.render(pair);
  } catch {
    return 'unrenderable';
  }
  const c = rendered.composition;
  // Only compared at equal revisions, so the revision inside the outputs cannot differ.
  return sha256Hex(
    JSON.stringify({
      containerfile: rendered.files.containerfile,
      apptainer: rendered.files.apptainer,
      jobscript: rendered.files.jobscript,
      sources: c.sources.map((s) => [s.url, s.sha256]),
      context: c.context.map((f) => [f.path, sha256Hex(readFileSync(f.abs))]),
    }),
  );
}

export function checkVersioning(head: Workspace, base: Workspace, only?: ReadonlySet<string>): VersioningResult {
  const diagnostics: Diagnostic[] = [];
  const needsBump: RevisionChange[] = [];
  const released = [...base.catalog.recipes].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [key, before] of released) {
    if (only && !only.has(key)) continue;
    const relFile = before.file.rel;
    const now = head.catalog.recipes.get(key);
    if (!now) {
      if (head.catalog.invalid.recipes.has(key)) continue; // its own errors are reported
      if (!before.doc.deprecated) {
        diagnostics.push({
          file: relFile,
          line: 1,
          col: 1,
          severity: 'error',
          rule: 'version-deleted',
          message: `released version ${key} was deleted without being marked deprecated first: restore it, add deprecated: {reason: …} and merge that, then delete it in a later change`,
        });
      }
      continue;
    }
    if (now.doc.revision < before.doc.revision) {
      diagnostics.push(
        now.file.diagnostic(
          ['revision'],
          'error',
          'revision-decreased',
          `revision went from ${before.doc.revision} to ${now.doc.revision}; a released version's revision never goes down`,
        ),
      );
      continue;
    }
    if (now.doc.revision > before.doc.revision) continue;
    const rNow = head.recipes.get(key);
    const rBefore = base.recipes.get(key);
    if (!rNow || !rBefore) continue; // unresolvable: reported by validate
    const changedOn: string[] = [];
    for (const { system, partition } of head.partitions()) {
      const a = renderFingerprint(base, pairIn(base, rBefore, system.doc.id, partition.id));
      const b = renderFingerprint(head, head.pair(rNow, system.doc.id, partition.id));
      if (a !== b) changedOn.push(`${system.doc.id}/${partition.id}`);
    }
    for (const sys of base.catalog.systems.values()) {
      if (head.catalog.systems.has(sys.doc.id)) continue;
      for (const p of sys.doc.partitions) if (renderFingerprint(base, base.pair(rBefore, sys.doc.id, p.id)) !== null) changedOn.push(`${sys.doc.id}/${p.id} (removed)`);
    }
    if (changedOn.length === 0) continue;
    const causes = bumpCauses(head, base, rNow, rBefore, changedOn);
    needsBump.push({ recipe: key, file: now.file.rel, from: before.doc.revision, changedOn, causes });
    const list = changedOn.length > 4 ? `${changedOn.slice(0, 4).join(', ')} and ${changedOn.length - 4} more` : changedOn.join(', ');
    const why = causes.length ? ` (because of ${causes.join(', ')})` : '';
    diagnostics.push(
      now.file.diagnostic(
        ['revision'],
        'error',
        'revision-not-bumped',
        `${key} is released and what it renders changed on ${list}${why}: bump revision to ${before.doc.revision + 1} (npx brickyard bump --base <ref>) or put the change in a new version`,
      ),
    );
  }
  return { diagnostics, needsBump };
}

/**
 * Which inputs of a recipe differ between base and head: its own file and its parents, the
 * blocks it uses (its own and those the changed partitions put in its slots), its base image,
 * the system templates of the changed partitions, the toolchain table. Empty when none does
 * (then the engine itself changed what it renders).
 */
function bumpCauses(head: Workspace, base: Workspace, rNow: ResolvedRecipe, rBefore: ResolvedRecipe, changedOn: readonly string[]): string[] {
  const causes: string[] = [];
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
  const chainText = (r: ResolvedRecipe): string[] => r.chain.map((e) => e.file.text);
  if (!same(chainText(rNow), chainText(rBefore))) causes.push(rNow.chain.length > 1 ? 'the recipe or its parents' : 'the recipe itself');
  const blocks = new Set(rNow.blocks.map((b) => b.item.use).filter((u) => !u.startsWith('@')));
  const systems = new Set(changedOn.map((w) => w.slice(0, w.indexOf('/'))));
  for (const id of systems) {
    for (const part of head.catalog.systems.get(id)?.doc.partitions ?? []) {
      if (!changedOn.includes(`${id}/${part.id}`)) continue;
      const { fit } = head.pair(rNow, id, part.id);
      if (fit.strategy && rNow.blocks.some((b) => b.item.use === '@mpi')) blocks.add(fit.strategy.block);
      if (part.gpu && rNow.blocks.some((b) => b.item.use === '@gpu')) blocks.add(part.gpu.toolkit.block);
    }
  }
  for (const name of [...blocks].sort()) {
    const a = head.catalog.blocks.get(name);
    const b = base.catalog.blocks.get(name);
    if (a?.file.text !== b?.file.text || !a || !b || !sameFiles(a.dir, b.dir)) causes.push(`block ${name}`);
  }
  if (!same(head.catalog.bases.get(rNow.doc.base), base.catalog.bases.get(rBefore.doc.base))) causes.push(`base ${rNow.doc.base}`);
  for (const id of [...systems].sort()) {
    const a = head.catalog.systems.get(id);
    const b = base.catalog.systems.get(id);
    if (a?.file.text !== b?.file.text || !a) causes.push(`systems/${id}.yaml`);
  }
  if (!same(head.catalog.toolchains, base.catalog.toolchains)) causes.push('catalog/toolchains.yaml');
  return causes;
}

/** The files beside a block (copied into images) are the same in both checkouts. */
function sameFiles(a: string, b: string): boolean {
  const list = (dir: string): string[] => {
    try {
      return readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => join(d.parentPath, d.name).slice(dir.length))
        .sort();
    } catch {
      return [];
    }
  };
  const fa = list(a);
  const fb = list(b);
  return same2(fa, fb) && fa.every((f) => readFileSync(join(a, f)).equals(readFileSync(join(b, f))));
}

function same2(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
