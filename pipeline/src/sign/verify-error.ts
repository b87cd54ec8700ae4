/** The error every failed signature check throws, naming the check that failed. */
import { BrickyardError } from '../util/errors.ts';

/** The checks, as named in error messages. */
export type VerificationCheck =
  | 'bundle'
  | 'trusted root'
  | 'policy'
  | 'timestamps'
  | 'certificate'
  | 'public key'
  | 'transparency log'
  | 'checkpoint'
  | 'signature'
  | 'identity'
  | 'issuer'
  | 'subject digest'
  | 'message digest'
  | 'payload type';

export class SignatureVerificationError extends BrickyardError {
  readonly check: VerificationCheck;

  constructor(check: VerificationCheck, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('SIGNATURE_INVALID', `signature verification failed: ${check}: ${message}`, options);
    this.name = 'SignatureVerificationError';
    this.check = check;
  }
}
