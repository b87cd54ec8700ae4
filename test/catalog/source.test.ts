import { describe, expect, it } from 'vitest';
import { pointerToPath, SourceFile } from '../../pipeline/src/catalog/source.ts';

const text = `name: demo
blocks:
  - use: cc
  - use: "@mpi"
    with: {version: "4.1.6"}
requires:
  mpi: any
`;

describe('SourceFile', () => {
  it('locates values, keys and missing paths at line:col', () => {
    const f = new SourceFile('/r/x.yaml', '/r', text);
    expect(f.rel).toBe('x.yaml');
    expect(f.locate(['name'])).toEqual({ line: 1, col: 7 });
    expect(f.locate(['blocks', 1, 'use'])).toEqual({ line: 4, col: 10 });
    expect(f.locate(['blocks', 1, 'with', 'version'])).toEqual({ line: 5, col: 21 });
    expect(f.locate(['requires'], 'mpi')).toEqual({ line: 7, col: 3 });
    // A missing child points at the nearest ancestor that exists.
    expect(f.locate(['blocks', 7, 'use'])).toEqual({ line: 3, col: 3 });
  });

  it('reports YAML syntax errors with their position and no data', () => {
    const f = new SourceFile('/r/bad.yaml', '/r', 'name: a\nblocks: [\n  - x\n');
    expect(f.data).toBeUndefined();
    expect(f.syntaxErrors.length).toBeGreaterThan(0);
    expect(f.syntaxErrors[0]).toMatchObject({ file: 'bad.yaml', rule: 'yaml-syntax', severity: 'error' });
    expect(f.syntaxErrors[0]!.line).toBeGreaterThanOrEqual(2);
  });

  it('rejects duplicate keys', () => {
    const f = new SourceFile('/r/dup.yaml', '/r', 'name: a\nname: b\n');
    expect(f.syntaxErrors[0]).toMatchObject({ line: 2, rule: 'yaml-syntax' });
  });

  it('turns JSON pointers into paths', () => {
    expect(pointerToPath('')).toEqual([]);
    expect(pointerToPath('/partitions/0/a~1b/c~0d')).toEqual(['partitions', 0, 'a/b', 'c~d']);
  });
});
