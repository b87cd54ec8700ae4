import { describe, expect, it } from 'vitest';
import { ajv2020, ajvDraft07, validatorsOf } from '../../pipeline/src/util/ajv.ts';

describe('util/ajv', () => {
  it('is strict: an unknown keyword or an unknown format is a schema error, not ignored', () => {
    expect(() => ajv2020().compile({ type: 'object', propertys: {} })).toThrow(/unknown keyword/);
    expect(() => ajv2020().compile({ type: 'string', format: 'date-time' })).toThrow(/unknown format/);
  });

  it('checks formats when asked, and reports every error', () => {
    const check = ajv2020({}, { formats: true }).compile({
      type: 'object',
      properties: { at: { type: 'string', format: 'date-time' }, n: { type: 'integer' } },
    });
    expect(check({ at: '2026-12-03T15:00:00Z', n: 1 })).toBe(true);
    expect(check({ at: 'yesterday', n: 'one' })).toBe(false);
    expect(check.errors?.map((e) => e.instancePath)).toEqual(['/at', '/n']);
  });

  it('reads draft-07 schemas (SPDX 2.3) with the same strictness', () => {
    const check = ajvDraft07({}, { formats: true }).compile({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'string', format: 'uri' });
    expect(check('https://spdx.org')).toBe(true);
    expect(check('not a uri')).toBe(false);
    expect(() => ajvDraft07().compile({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'string', formatt: 'uri' })).toThrow(/unknown keyword/);
  });

  it('compiles a table entry on first use only, and keeps it', () => {
    let made = 0;
    const validator = validatorsOf({
      count: {
        ajv: (extra) => {
          made += 1;
          return ajv2020(extra);
        },
        schema: { type: 'integer' },
      },
    });
    expect(made).toBe(0);
    const first = validator('count');
    expect(validator('count')).toBe(first);
    expect(made).toBe(1);
    expect([first(3), first('3')]).toEqual([true, false]);
  });
});
