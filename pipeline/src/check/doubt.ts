/**
 * How far to trust a fact of a system template: its provenance says whether it is unverified,
 * and its sources say how old it is. A deciding fact (the driver level a GPU floor is held
 * against, the MPI strategy a pair is built for) that is unverified or over a year old is shown
 * beside the answer, so nobody mistakes a guess for a measurement.
 */
import type { SystemDoc } from '../model/types.ts';

const YEAR_MS = 365 * 24 * 3600 * 1000;

/**
 * The doubt about the field at `pointer` (e.g. `/partitions/0/gpu/driver`), or undefined when
 * its provenance is verified and less than a year old. The most specific provenance entry on
 * the path decides.
 */
export function factDoubt(system: SystemDoc, pointer: string, label: string, today: Date): string | undefined {
  const entries = (system.provenance ?? []).filter((p) => pointer === p.path || pointer.startsWith(`${p.path}/`));
  const entry = entries.sort((a, b) => b.path.length - a.path.length)[0];
  const where = `systems/${system.id}.yaml ${pointer}`;
  if (!entry) return `${label} has no source (${where})`;
  if (entry.unverified) return `${label} is unverified (${where})`;
  const dates = (entry.sources ?? []).map((s) => system.sources[s]?.asOf).filter((d): d is string => d !== undefined);
  if (dates.length === 0) return `${label} has no dated source (${where})`;
  const newest = dates.reduce((a, b) => (b > a ? b : a));
  if (today.getTime() - Date.parse(newest) > YEAR_MS) return `${label} was last confirmed ${newest}, over a year ago (${where})`;
  return undefined;
}
