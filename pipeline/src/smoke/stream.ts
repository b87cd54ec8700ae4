/**
 * STREAM (John McCalpin's stream.c; Copy, Scale, Add, Triad) in the image against the same binary
 * on the host, trials alternating, as the container's memory-bandwidth cost: the ratio of the best
 * rates per kernel with the trials' spread as its uncertainty (stats.ts). Performance never FAILS
 * the image here: a container more than 10 % slower than the host WARNS, and says when the gap is
 * within the noise. A run whose solution does not validate is the command test's business.
 */
import { BrickyardError } from '../util/errors.ts';
import type { TestResult, Verdict } from './evaluate.ts';
import { ratioOf, round, sample, type Ratio } from './stats.ts';

export const STREAM_KERNELS = ['Copy', 'Scale', 'Add', 'Triad'] as const;
export type StreamKernel = (typeof STREAM_KERNELS)[number];

export interface StreamRun {
  /** Best rate per kernel, MB/s (1e6 B/s). */
  rates: Record<StreamKernel, number>;
  threads?: number;
  arraySize?: number;
  validates: boolean;
}

/** The container is warned about when a kernel is more than this fraction slower than on the host. */
export const STREAM_RATIO_WARN = 0.1;

/** True when stdout is STREAM's report (its results table is there). */
export function looksLikeStream(stdout: string): boolean {
  return /^Function\s+Best Rate MB\/s/m.test(stdout) && /^Triad:/m.test(stdout);
}

/** Parse stream.c's report. Throws SMOKE_OUTPUT naming the kernel that is missing. */
export function parseStream(stdout: string): StreamRun {
  const rates = {} as Record<StreamKernel, number>;
  for (const k of STREAM_KERNELS) {
    const m = new RegExp(`^${k}:\\s+(\\d+(?:\\.\\d+)?)\\s`, 'm').exec(stdout);
    if (!m) throw new BrickyardError('SMOKE_OUTPUT', `STREAM output has no '${k}:' line with a best rate`, { hint: 'is this the output of stream.c 5.10?' });
    rates[k] = Number(m[1]);
  }
  const threads = /^Number of Threads counted = (\d+)/m.exec(stdout);
  const size = /^Array size = (\d+)/m.exec(stdout);
  return {
    rates,
    ...(threads ? { threads: Number(threads[1]) } : {}),
    ...(size ? { arraySize: Number(size[1]) } : {}),
    validates: /^Solution Validates/m.test(stdout),
  };
}

export interface StreamComparison {
  /** Test name, e.g. 'validates-overhead'. */
  name: string;
  container: StreamRun[];
  host: StreamRun[];
  /** Why there is no host baseline, when `host` is empty. */
  hostMissing?: string;
}

export interface KernelRatio extends Ratio {
  kernel: StreamKernel;
}

export function streamRatios(container: StreamRun[], host: StreamRun[]): KernelRatio[] {
  const out: KernelRatio[] = [];
  for (const kernel of STREAM_KERNELS) {
    const c = sample(container.map((r) => r.rates[kernel]));
    const h = sample(host.map((r) => r.rates[kernel]));
    const r = c && h ? ratioOf(c, h, false) : undefined;
    if (r) out.push({ ...r, kernel });
  }
  return out;
}

export function evaluateStream(cmp: StreamComparison): TestResult {
  const figures: Record<string, number | string> = { trials: cmp.container.length, host_trials: cmp.host.length };
  // The threads STREAM counted: shows that a runtime variant's OMP_NUM_THREADS took effect.
  const threads = cmp.container.find((r) => r.threads !== undefined)?.threads;
  const hostThreads = cmp.host.find((r) => r.threads !== undefined)?.threads;
  if (threads !== undefined) figures.threads = threads;
  if (hostThreads !== undefined) figures.host_threads = hostThreads;
  const thresholds = { ratio_warn_pct: STREAM_RATIO_WARN * 100 };
  for (const k of STREAM_KERNELS) {
    const c = sample(cmp.container.map((r) => r.rates[k]));
    const key = k.toLowerCase();
    if (c) Object.assign(figures, { [`${key}_MBps`]: c.max, [`${key}_median_MBps`]: round(c.median, 1), [`${key}_spread_pct`]: round(c.spread * 100, 1) });
  }
  if (cmp.container.length === 0) {
    return { name: cmp.name, kind: 'stream', verdict: 'SKIPPED', summary: 'skipped: no STREAM output from the container', figures, thresholds, details: [] };
  }
  if (cmp.host.length === 0) {
    const why = cmp.hostMissing ?? 'no host baseline';
    return { name: cmp.name, kind: 'stream', verdict: 'SKIPPED', summary: `skipped: ${why}; container figures recorded`, figures, thresholds, details: [why] };
  }
  const warn: string[] = [];
  const parts: string[] = [];
  for (const r of streamRatios(cmp.container, cmp.host)) {
    const key = r.kernel.toLowerCase();
    Object.assign(figures, { [`host_${key}_MBps`]: r.host.max, [`${key}_ratio`]: round(r.ratio, 3), [`${key}_ratio_uncertainty`]: round(r.uncertainty, 3) });
    parts.push(`${r.kernel} x${round(r.ratio, 2)} ±${round(r.uncertainty * 100, 1)} %`);
    if (r.ratio < 1 - STREAM_RATIO_WARN - 1e-9) {
      const unsure = 1 - r.ratio <= r.uncertainty ? ` (uncertain: the trials spread ${round(r.uncertainty * 100, 1)} %)` : '';
      warn.push(`${r.kernel} ${r.container.max} MB/s is ${round((1 - r.ratio) * 100, 1)} % below the host's ${r.host.max} MB/s${unsure}`);
    }
  }
  const verdict: Verdict = warn.length ? 'WARNED' : 'PASSED';
  const measured = `STREAM container/host ${parts.join(', ')} (best of ${cmp.container.length} against best of ${cmp.host.length}; warns more than ${STREAM_RATIO_WARN * 100} % slower)`;
  const details = [...warn];
  cmp.container.forEach((r, i) => details.push(`container ${i + 1}: ${STREAM_KERNELS.map((k) => `${k} ${r.rates[k]}`).join(' ')}`));
  cmp.host.forEach((r, i) => details.push(`host ${i + 1}: ${STREAM_KERNELS.map((k) => `${k} ${r.rates[k]}`).join(' ')}`));
  return { name: cmp.name, kind: 'stream', verdict, summary: warn.length ? `${warn.join('; ')}. Measured: ${measured}` : measured, figures, thresholds, details };
}
