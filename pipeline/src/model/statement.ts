/**
 * The in-toto Statement v1 (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md)
 * and its ResourceDescriptor: one home for every attestation Brickyard writes (provenance, SBOM,
 * test result, tuning), whichever area makes the predicate.
 */
import { BrickyardError } from '../util/errors.ts';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';

/** A ResourceDescriptor (in-toto attestation v1): each sets `digest` or `content`, as the spec requires. */
export interface ResourceDescriptor {
  name?: string;
  uri?: string;
  digest?: Record<string, string>;
  /** Base64. */
  content?: string;
  downloadLocation?: string;
  mediaType?: string;
  annotations?: Record<string, unknown>;
}

export interface Subject {
  name: string;
  digest: { sha256: string };
}

export interface InTotoStatement<P extends object = object> {
  _type: typeof STATEMENT_TYPE;
  subject: Subject[];
  predicateType: string;
  predicate: P;
}

/** A statement that cannot be made as asked (the caller's bug or bad input): says which field. */
export class StatementError extends BrickyardError {
  constructor(message: string) {
    super('STATEMENT_INVALID', message, { hint: 'the subject is an image digest (64 hex digits) and the predicate type a URI' });
    this.name = 'StatementError';
  }
}

/** An in-toto Statement v1 about one subject. */
export function inTotoStatement<P extends object>(subject: Subject, predicateType: string, predicate: P): InTotoStatement<P> {
  const sha256 = subject.digest.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new StatementError(`subject digest sha256 must be 64 hex digits, got '${subject.digest.sha256}'`);
  if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(predicateType)) throw new StatementError(`predicateType must be a URI, got '${predicateType}'`);
  return { _type: STATEMENT_TYPE, subject: [{ name: subject.name, digest: { sha256 } }], predicateType, predicate };
}
