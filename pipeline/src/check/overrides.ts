/**
 * Findings about what a system silently changes in a recipe: a slot parameter the recipe asks
 * for that the system's MPI strategy or GPU toolkit sets otherwise.
 */
import type { Diagnostic } from '../util/diagnostics.ts';
import type { FittedPair } from './fit.ts';

/**
 * A recipe that asks its @mpi or @gpu slot for a parameter (MPICH 4.3.1) that a system's
 * strategy or toolkit sets otherwise (4.1.2): the system wins, because it is what its MPI or
 * driver needs, but the recipe's author is told where and by whom, once per recipe and value.
 */
export function slotOverrides(pairs: readonly FittedPair[]): Diagnostic[] {
  const found = new Map<string, { diag: Omit<Diagnostic, 'message'>; head: string; where: string[] }>();
  for (const { recipe: r, partition, fit } of pairs) {
    if (!fit.fits) continue;
    const own = r.entry.doc.blocks ?? [];
    own.forEach((item, i) => {
      const setBySystem = item.use === '@mpi' ? fit.strategy?.with : item.use === '@gpu' ? partition.gpu?.toolkit.with : undefined;
      const by = item.use === '@mpi' ? `MPI strategy ${fit.strategy?.id}` : 'GPU toolkit';
      for (const [key, asked] of Object.entries(item.with ?? {})) {
        const given = setBySystem?.[key];
        if (given === undefined || given === asked) continue;
        const id = `${r.key}|${i}|${key}|${String(asked)}`;
        const d = r.entry.file.diagnostic(['blocks', i, 'with', key], 'warning', 'slot-override', '');
        const entry = found.get(id) ?? {
          diag: d,
          head: `${item.use} asks ${key} ${String(asked)}; the system sets it instead, and the system wins:`,
          where: [],
        };
        entry.where.push(`${fit.system}/${fit.partition} (${by}: ${String(given)})`);
        found.set(id, entry);
      }
    });
  }
  return [...found.values()].map(({ diag, head, where }) => ({
    ...diag,
    message: `${head} ${where.slice(0, 4).join(', ')}${where.length > 4 ? ` and ${where.length - 4} more` : ''}`,
  }));
}
