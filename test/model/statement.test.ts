import { describe, expect, it } from 'vitest';
import { inTotoStatement, STATEMENT_TYPE, StatementError } from '../../pipeline/src/model/statement.ts';
import { TEST_RESULT_PREDICATE_TYPE } from '../../pipeline/src/smoke/predicate.ts';

const SHA = 'a3f1c0de'.repeat(8);

describe('inTotoStatement', () => {
  it('wraps the predicate in a Statement v1, the digest lower-cased', () => {
    const predicate = { result: 'PASSED' };
    const s = inTotoStatement({ name: 'ghcr.io/brickyard/mpi-pingpong', digest: { sha256: SHA.toUpperCase() } }, TEST_RESULT_PREDICATE_TYPE, predicate);
    expect(s).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'ghcr.io/brickyard/mpi-pingpong', digest: { sha256: SHA } }],
      predicateType: 'https://in-toto.io/attestation/test-result/v0.1',
      predicate,
    });
    expect(STATEMENT_TYPE).toBe('https://in-toto.io/Statement/v1');
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });

  it('refuses a prefixed or short digest and a predicate type that is not a URI, with a typed error', () => {
    const refusal = (f: () => unknown): unknown => {
      try {
        f();
      } catch (e) {
        return e;
      }
      throw new Error('expected a refusal');
    };
    const prefixed = refusal(() => inTotoStatement({ name: 'x', digest: { sha256: 'sha256:' + SHA } }, TEST_RESULT_PREDICATE_TYPE, {}));
    expect(prefixed).toBeInstanceOf(StatementError);
    expect(prefixed).toMatchObject({ code: 'STATEMENT_INVALID', message: expect.stringMatching(/64 hex/) as unknown });
    expect(() => inTotoStatement({ name: 'x', digest: { sha256: SHA.slice(1) } }, TEST_RESULT_PREDICATE_TYPE, {})).toThrow(/64 hex/);
    expect(() => inTotoStatement({ name: 'x', digest: { sha256: SHA } }, 'test-result', {})).toThrow(/URI/);
  });
});
