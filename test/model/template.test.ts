import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { expand, expandDeep, placeholders, UnknownPlaceholderError } from '../../pipeline/src/model/template.ts';
import { resolveParams } from '../../pipeline/src/model/params.ts';
import { satisfies } from '../../pipeline/src/model/capabilities.ts';

describe('templates', () => {
  it('expands known names and refuses unknown ones', () => {
    const v = new Map([
      ['version', '4.1.6'],
      ['target.cflags', '-O2'],
    ]);
    expect(expand('openmpi-{{ version }} {{target.cflags}}', v)).toBe('openmpi-4.1.6 -O2');
    expect(() => expand('{{ nope }}', v)).toThrow(UnknownPlaceholderError);
    expect(placeholders('a {{ x }} b {{y.z}}')).toEqual(['x', 'y.z']);
  });

  it('leaves text without placeholders unchanged (property)', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes('{{')),
        (s) => {
          expect(expand(s, new Map())).toBe(s);
        },
      ),
    );
  });

  it('substitutes every occurrence, and only those (property)', () => {
    const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.string().filter((s) => !s.includes('{')),
            word,
          ),
        ),
        word,
        (parts, value) => {
          const text = parts.map(([t, name]) => `${t}{{ ${name} }}`).join('');
          const values = new Map(parts.map(([, name]) => [name, value]));
          const out = expand(text, values);
          expect(out).toBe(parts.map(([t]) => t + value).join(''));
        },
      ),
    );
  });

  it('expands strings at any depth', () => {
    expect(expandDeep({ a: ['{{ x }}', { b: '{{ x }}!' }], n: 3 }, new Map([['x', 'y']]))).toEqual({ a: ['y', { b: 'y!' }], n: 3 });
  });
});

describe('parameters', () => {
  const block = {
    name: 'b',
    summary: 's',
    provides: [],
    steps: [],
    parameters: {
      jobs: { type: 'integer' as const, default: 4, description: 'd' },
      mode: { type: 'string' as const, enum: ['a', 'b'], description: 'd' },
    },
  };
  it('applies defaults and reports missing, unknown and mistyped values', () => {
    expect(resolveParams(block, { mode: 'a' })).toEqual({ values: { mode: 'a', jobs: 4 }, problems: [] });
    expect(resolveParams(block, { jobs: 2.5, extra: 1 }).problems.map((p) => p.message)).toEqual([
      'parameter "jobs" of block b must be a integer, got 2.5',
      'block b has no parameter "extra" (it has: jobs, mode)',
      'block b needs a value for parameter "mode" (it has no default)',
    ]);
  });
});

describe('capabilities', () => {
  it('matches a bare requirement with any variant, a variant only exactly', () => {
    expect(satisfies(['mpi-abi:mpich'], 'mpi-abi')).toBe(true);
    expect(satisfies(['mpi-abi:mpich'], 'mpi-abi:openmpi')).toBe(false);
    expect(satisfies(['compiler'], 'compiler:c')).toBe(false);
    expect(satisfies(['compiler:c'], 'compiler:c')).toBe(true);
  });
});
