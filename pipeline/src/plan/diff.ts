/** `brickyard diff`: for each affected pair, a unified diff of each rendered output against the base. */
import { createTwoFilesPatch } from 'diff';
import { FILE_NAMES, FORMATS } from '../render/index.ts';
import type { Workspace } from '../workspace.ts';
import type { PlannedPair } from './plan.ts';

export interface PairDiff {
  recipe: string;
  system: string;
  partition: string;
  /** added: no rendering on the base; changed: some output differs; unchanged: none does. */
  status: 'added' | 'changed' | 'unchanged';
  files: { name: string; patch: string }[];
}

export function diffPairs(head: Workspace, base: Workspace | undefined, pairs: readonly PlannedPair[]): PairDiff[] {
  return pairs.map((p) => {
    const [where] = head.partitionsOf(`${p.system}/${p.partition}`);
    const now = head.render(head.recipes.get(p.recipe)!, where!).files;
    let before: Record<string, string> | undefined;
    const old = base?.recipes.get(p.recipe);
    const oldWhere = base?.catalog.systems.get(p.system)?.doc.partitions.find((x) => x.id === p.partition);
    if (base && old && oldWhere) {
      try {
        before = base.render(old, { system: base.catalog.systems.get(p.system)!, partition: oldWhere }).files;
      } catch {
        before = undefined; // did not fit or did not render on the base
      }
    }
    const files: PairDiff['files'] = [];
    for (const f of FORMATS) {
      const a = before?.[f] ?? '';
      const b = now[f];
      if (a === b) continue;
      const name = FILE_NAMES[f];
      files.push({ name, patch: createTwoFilesPatch(`a/${name}`, `b/${name}`, a, b, undefined, undefined, { context: 3 }) });
    }
    return { recipe: p.recipe, system: p.system, partition: p.partition, status: before ? (files.length ? 'changed' : 'unchanged') : 'added', files };
  });
}
