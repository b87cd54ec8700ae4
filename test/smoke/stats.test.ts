import { describe, expect, it } from 'vitest';
import { interleave, ratioOf, sample, sampleText } from '../../pipeline/src/smoke/stats.ts';

describe('sample', () => {
  it('gives min, median, max and the relative range, ignoring non-numbers', () => {
    expect(sample([37.04, 21.1, 33.22])).toEqual({ n: 3, min: 21.1, median: 33.22, max: 37.04, spread: (37.04 - 21.1) / 33.22 });
    expect(sample([4, 1, 3, 2])).toMatchObject({ median: 2.5, spread: 3 / 2.5 });
    expect(sample([5, NaN])).toEqual({ n: 1, min: 5, median: 5, max: 5, spread: 0 });
    expect(sample([])).toBeUndefined();
    expect(sample([NaN])).toBeUndefined();
  });

  it('compares the best trials: minima for latency, maxima for bandwidth, with the larger spread as uncertainty', () => {
    const c = sample([0.3, 0.6])!;
    const h = sample([0.24, 0.25])!;
    const lat = ratioOf(c, h, true)!;
    expect(lat.ratio).toBeCloseTo(1.25);
    expect(lat.uncertainty).toBeCloseTo(0.3 / 0.45);
    const bw = ratioOf(sample([900, 1000])!, sample([1000])!, false)!;
    expect(bw.ratio).toBe(1);
    expect(ratioOf(c, sample([0])!, true)).toBeUndefined();
  });

  it('interleaves container and host trials and writes the sample for a report', () => {
    expect(interleave(3)).toEqual(['container', 'host', 'container', 'host', 'container', 'host']);
    expect(sampleText(sample([2])!, 'µs', 'min')).toBe('2 µs');
    expect(sampleText(sample([2, 3, 4])!, 'µs', 'min')).toBe('2 µs (best of 3; median 3, spread 66.7 %)');
  });
});
