/**
 * Statistics for repeated smoke measurements. A loaded machine only ever makes a run slower (a
 * latency larger, a bandwidth smaller), never faster than the hardware allows, so the best trial
 * (the minimum latency, the maximum bandwidth) is the figure judged, the median is reported beside
 * it, and the spread says how much the runs disagreed. A verdict that depends on a difference
 * smaller than the spread is not certain and must not FAIL.
 */

export interface Sample {
  /** How many trials. */
  n: number;
  min: number;
  median: number;
  max: number;
  /** (max - min) / median: the relative range of the trials, 0 for a single trial. */
  spread: number;
}

/** Summary of one figure over trials; undefined for no (finite) values. */
export function sample(values: readonly number[]): Sample | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const min = v[0];
  const max = v.at(-1);
  if (min === undefined || max === undefined) return undefined;
  // The middle value, or the two middle values of an even count.
  const middle = v.slice((v.length - 1) >> 1, (v.length >> 1) + 1);
  const median = middle.reduce((s, x) => s + x, 0) / middle.length;
  return { n: v.length, min, median, max, spread: median > 0 ? (max - min) / median : 0 };
}

/**
 * A container/host ratio of two samples and its uncertainty. `lowerIsBetter` (latency): ratio of
 * the minima; otherwise (bandwidth): ratio of the maxima. `uncertainty` is the larger of the two
 * spreads: a ratio whose distance from 1 is within it could be noise.
 */
export interface Ratio {
  ratio: number;
  uncertainty: number;
  container: Sample;
  host: Sample;
}

export function ratioOf(container: Sample, host: Sample, lowerIsBetter: boolean): Ratio | undefined {
  const c = lowerIsBetter ? container.min : container.max;
  const h = lowerIsBetter ? host.min : host.max;
  if (!(h > 0) || !(c >= 0)) return undefined;
  return { ratio: c / h, uncertainty: Math.max(container.spread, host.spread), container, host };
}

/**
 * How many trials a smoke run makes of each probe, alternating container and host
 * (C H C H C H): a burst of load lands on both sides of the comparison, not on one.
 */
export const DEFAULT_TRIALS = 3;

/** Order in which a run interleaves `n` container trials with `n` host trials. */
export function interleave(n: number): ('container' | 'host')[] {
  const out: ('container' | 'host')[] = [];
  for (let i = 0; i < n; i++) out.push('container', 'host');
  return out;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** "0.23 (median 0.25, 3 trials, spread 12 %)" */
export function sampleText(s: Sample, unit: string, best: 'min' | 'max'): string {
  const b = best === 'min' ? s.min : s.max;
  if (s.n === 1) return `${b} ${unit}`;
  return `${b} ${unit} (best of ${s.n}; median ${round(s.median, 3)}, spread ${round(s.spread * 100, 1)} %)`;
}
