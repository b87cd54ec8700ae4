/**
 * A refusal of a bundle (or of an import): a BrickyardError with a stable `reason` tests and
 * scripts can match (e.g. 'path-escape', 'link', 'digest', 'rollback') and the entry it is about.
 */
import { BrickyardError, type ErrorCode } from '../util/errors.ts';

export class BundleError extends BrickyardError {
  readonly reason: string;
  readonly entry: string | undefined;

  constructor(code: ErrorCode, reason: string, message: string, entry?: string, options: { hint?: string; cause?: unknown } = {}) {
    super(code, message, options);
    this.name = 'BundleError';
    this.reason = reason;
    this.entry = entry;
  }
}
