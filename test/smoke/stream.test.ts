import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { performanceOf } from '../../pipeline/src/smoke/performance.ts';
import { evaluateStream, looksLikeStream, parseStream, type StreamRun } from '../../pipeline/src/smoke/stream.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const loaded = [fixture('stream-loaded-1.stdout'), fixture('stream-loaded-2.stdout')].map(parseStream);
const scaled = (r: StreamRun, f: number): StreamRun => ({ ...r, rates: { Copy: r.rates.Copy * f, Scale: r.rates.Scale * f, Add: r.rates.Add * f, Triad: r.rates.Triad * f } });

describe('parseStream', () => {
  it('reads the best rate of each kernel, the threads and the validation from stream.c 5.10', () => {
    expect(looksLikeStream(fixture('stream-loaded-1.stdout'))).toBe(true);
    expect(loaded[0]).toEqual({ rates: { Copy: 23253.2, Scale: 1931.7, Add: 3219.9, Triad: 3258.7 }, threads: 2, arraySize: 2000000, validates: true });
    expect(loaded[1]!.rates.Copy).toBe(2797);
  });

  it('names the kernel that is missing', () => {
    const cut = fixture('stream-loaded-1.stdout').replace(/^Triad:.*$/m, '');
    expect(looksLikeStream(cut)).toBe(false);
    expect(() => parseStream(cut)).toThrow(/no 'Triad:' line/);
    expect(looksLikeStream('Solution Validates\n')).toBe(false);
  });
});

describe('evaluateStream', () => {
  it('gives the container/host ratio per kernel from the best trials, with the spread as uncertainty', () => {
    // The same two recorded runs on both sides: the ratio is 1 whatever the load did to each.
    const r = evaluateStream({ name: 'validates-overhead', container: loaded, host: [...loaded].reverse() });
    expect(r.verdict).toBe('PASSED');
    expect(r.kind).toBe('stream');
    expect(r.figures).toMatchObject({ copy_MBps: 23253.2, host_copy_MBps: 23253.2, copy_ratio: 1, scale_ratio: 1, add_ratio: 1, triad_ratio: 1, trials: 2, host_trials: 2 });
    expect(Number(r.figures?.['copy_ratio_uncertainty'])).toBeCloseTo((23253.2 - 2797) / ((23253.2 + 2797) / 2), 2);
    expect(r.summary).toMatch(/^STREAM container\/host Copy x1 ±157\.\d %, Scale x1 ±/);
  });

  it('warns when a kernel is more than 10 % slower in the container, and says when the noise covers it', () => {
    const steady = [loaded[0]!, loaded[0]!];
    const clear = evaluateStream({ name: 's', container: steady.map((x) => scaled(x, 0.8)), host: steady });
    expect(clear.verdict).toBe('WARNED');
    expect(clear.summary).toMatch(/^Copy 18602\.56 MB\/s is 20 % below the host's 23253\.2 MB\/s; Scale/);
    expect(clear.summary).not.toMatch(/uncertain/);
    const noisy = evaluateStream({ name: 's', container: loaded.map((x) => scaled(x, 0.8)), host: loaded });
    expect(noisy.verdict).toBe('WARNED');
    expect(noisy.summary).toMatch(/Copy .* below the host's .* \(uncertain: the trials spread \d+/);
    expect(evaluateStream({ name: 's', container: steady.map((x) => scaled(x, 0.91)), host: steady }).verdict).toBe('PASSED');
  });

  it('is SKIPPED, never PASSED, without a host baseline, and says why', () => {
    const r = evaluateStream({ name: 's', container: loaded, host: [], hostMissing: "the image's /usr/local/bin/stream-smoke failed on the host (exit 127)" });
    expect(r.verdict).toBe('SKIPPED');
    expect(r.summary).toMatch(/^skipped: the image's \/usr\/local\/bin\/stream-smoke failed on the host/);
    expect(r.figures).toMatchObject({ copy_MBps: 23253.2 });
  });

  it("puts the STREAM and ping-pong ratios side by side in the report's performance section", () => {
    const s = evaluateStream({ name: 'validates-overhead', container: loaded, host: loaded });
    const p = performanceOf([
      {
        name: 'pingpong',
        kind: 'mpi-pingpong',
        verdict: 'PASSED',
        summary: '',
        figures: {
          node_local: 'no',
          transport: 'tcp',
          latency_8B_us: 12,
          latency_ratio: 1.02,
          latency_ratio_uncertainty: 0.1,
          bandwidth_ratio: 0.97,
          bandwidth_ratio_uncertainty: 0.05,
        },
      },
      s,
    ]);
    expect(p.pingpong).toEqual([
      { test: 'pingpong', placement: 'inter-node', transport: 'tcp', latencyUs: 12, latency: { ratio: 1.02, uncertainty: 0.1 }, bandwidth: { ratio: 0.97, uncertainty: 0.05 } },
    ]);
    expect(p.stream[0]!.kernels.Triad).toMatchObject({ ratio: 1, containerMBps: 3511.1, hostMBps: 3511.1 });
  });
});
