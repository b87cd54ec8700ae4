/** `brickyard bump`: raise the revision of released recipes whose rendered output changed. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFile } from '../catalog/source.ts';
import { BrickyardError } from '../util/errors.ts';
import type { RevisionChange } from './versioning.ts';
import type { Workspace } from '../workspace.ts';

export interface Bumped {
  recipe: string;
  file: string;
  from: number;
  to: number;
}

/** Rewrites only the revision's digits, so comments and formatting stay as they are. */
export function bumpRevisions(root: string, changes: readonly RevisionChange[]): Bumped[] {
  const out: Bumped[] = [];
  for (const c of changes) {
    const file = SourceFile.read(join(root, c.file), root);
    const range = file.scalarRange(['revision']);
    if (!range) throw new BrickyardError('CATALOG_INVALID', `${c.file} has no revision to bump`, { hint: 'add revision: <n> to the recipe' });
    const to = c.from + 1;
    writeFileSync(file.abs, file.text.slice(0, range[0]) + String(to) + file.text.slice(range[1]));
    out.push({ recipe: c.recipe, file: c.file, from: c.from, to });
  }
  return out;
}

/**
 * What a bump costs: the new revision label changes every partition the recipe fits, so each is
 * rebuilt; `changed` of them render differently apart from the label.
 */
export function rebuildCount(head: Workspace, c: RevisionChange): { rebuilds: number; changed: number } {
  const r = head.recipes.get(c.recipe);
  const rebuilds = r ? head.checkAll([r]).filter((f) => f.fits).length : 0;
  return { rebuilds, changed: c.changedOn.length };
}
