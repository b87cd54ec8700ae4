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
    const now = head.render(head.pair(p.recipe, p.system, p.partition)).files;
    let before: Record<string, string> | undefined;
    if (base) {
      try {
        before = base.render(base.pair(p.recipe, p.system, p.partition)).files;
      } catch {
        before = undefined; // not on the base, did not fit or did not render there
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

export interface DiffFilter {
  system?: string;
  recipe?: string;
  /** A FILE_NAMES value or a format key (containerfile, jobscript, …). */
  format?: string;
}

/** Only the pairs and files asked for: `--system lumi` or `lumi/standard-g`, `--recipe name[@version]`, `--format`. */
export function filterDiffs(diffs: readonly PairDiff[], f: DiffFilter): PairDiff[] {
  const fileName = f.format === undefined ? undefined : f.format in FILE_NAMES ? FILE_NAMES[f.format as keyof typeof FILE_NAMES] : f.format;
  return diffs
    .filter((d) => !f.system || d.system === f.system || `${d.system}/${d.partition}` === f.system)
    .filter((d) => !f.recipe || d.recipe === f.recipe || d.recipe.split('@')[0] === f.recipe)
    .map((d) => (fileName ? { ...d, files: d.files.filter((x) => x.name === fileName) } : d))
    .filter((d) => !fileName || d.files.length > 0 || d.status === 'unchanged');
}

export interface FileStat {
  name: string;
  added: number;
  removed: number;
}

/** Lines added and removed per file, as `git diff --stat` counts them. */
export function diffStat(d: PairDiff): FileStat[] {
  return d.files.map((f) => {
    let added = 0;
    let removed = 0;
    for (const line of f.patch.split('\n')) {
      if (line.startsWith('+++') || line.startsWith('---')) continue;
      if (line.startsWith('+')) added++;
      else if (line.startsWith('-')) removed++;
    }
    return { name: f.name, added, removed };
  });
}

/** One line per pair: `recipe on system/partition (status): file +a -r, …`. */
export function formatStat(diffs: readonly PairDiff[]): string {
  const lines = diffs.map((d) => {
    const files = diffStat(d).map((s) => `${s.name} +${s.added} -${s.removed}`);
    return `${d.recipe} on ${d.system}/${d.partition} (${d.status})${files.length ? `: ${files.join(', ')}` : ''}`;
  });
  const total = diffs.flatMap(diffStat).reduce((a, s) => ({ added: a.added + s.added, removed: a.removed + s.removed }), { added: 0, removed: 0 });
  return [...lines, `${diffs.length} pair(s), +${total.added} -${total.removed} lines`].join('\n') + '\n';
}
