import { describe, expect, it } from 'vitest';
import { formatBytes, parseSize } from '../../pipeline/src/util/units.ts';

describe('parseSize', () => {
  it('reads binary and decimal units, with or without a space', () => {
    expect(parseSize('2 GiB')).toBe(2 * 2 ** 30);
    expect(parseSize('1.5MiB')).toBe(1.5 * 2 ** 20);
    expect(parseSize('500MB')).toBe(5e8);
    expect(parseSize('3 GB')).toBe(3e9);
  });

  it('gives NaN for anything else', () => {
    for (const s of ['lots', '2', '2 gib', '2  GiB', '-1 GiB', '2 TiB', ' 2 GiB', '2 GiB ']) expect(parseSize(s), s).toBeNaN();
  });
});

describe('formatBytes', () => {
  it('prints binary units with one decimal, bytes whole', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1024)).toBe('1.0 KiB');
    expect(formatBytes(1.5 * 2 ** 20)).toBe('1.5 MiB');
    expect(formatBytes(5 * 2 ** 40)).toBe('5120.0 GiB'); // GiB is the largest unit
  });

  it('says unknown for a size that is not a number', () => {
    expect(formatBytes(Number.NaN)).toBe('unknown');
    expect(formatBytes(Number.POSITIVE_INFINITY)).toBe('unknown');
  });
});
