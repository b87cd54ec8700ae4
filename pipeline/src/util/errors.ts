/**
 * Typed errors: every failure the user can act on carries a stable code and says what to do.
 * What a code means to a process (its exit status) is the CLI's business: pipeline/src/cli/exit-codes.ts.
 */
export type ErrorCode =
  | 'ROOT_NOT_FOUND'
  | 'FILE_UNREADABLE'
  | 'CATALOG_INVALID'
  | 'RECIPE_NOT_FOUND'
  | 'SYSTEM_NOT_FOUND'
  | 'PARTITION_NOT_FOUND'
  | 'PAIR_DOES_NOT_FIT'
  | 'RENDER_FAILED'
  | 'TOOL_MISSING'
  | 'TOOL_FAILED'
  | 'SOURCE_UNAVAILABLE'
  | 'SOURCE_MISMATCH'
  | 'BASE_MISSING'
  | 'BUILD_FAILED'
  | 'SIZE_BUDGET_EXCEEDED'
  | 'IMAGE_NOT_FOUND'
  | 'SMOKE_OUTPUT'
  | 'USAGE'
  | 'BUNDLE_INVALID'
  | 'BUNDLE_UNSAFE'
  | 'BUNDLE_MISMATCH'
  | 'BUNDLE_PART_INVALID'
  | 'SIGNATURE_INVALID'
  | 'POLICY_INVALID'
  | 'POLICY_REFUSED'
  | 'ROLLBACK'
  | 'PREREQUISITE_MISSING'
  | 'STORE_LOCKED'
  | 'AUDIT_LOG_INVALID'
  | 'SIGNER_STATE_INVALID'
  | 'SIGNING_FAILED'
  | 'PATH_OUTSIDE_STORE'
  | 'DISK_FULL'
  | 'STORE_NOT_WRITABLE'
  | 'NOT_A_STORE'
  | 'TRUSTED_ROOT_INVALID'
  | 'INPUT_TOO_LARGE'
  | 'PLAN_TOO_LARGE'
  | 'SIF_INVALID'
  | 'SBOM_INVALID'
  | 'SUBJECT_MISMATCH'
  | 'TOOL_NOT_IN_STORE'
  | 'SITE_KEY_UNKNOWN'
  | 'SIGNER_FAILED'
  | 'PUSH_MISMATCH'
  | 'NO_VARIANT'
  | 'TEST_RESULT_INVALID'
  | 'STATE_RECORD_INVALID'
  | 'STATEMENT_INVALID';

export class BrickyardError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BrickyardError';
    this.code = code;
    this.hint = options.hint;
  }
}

/**
 * A broken invariant of Brickyard's own code (a lookup its caller guarantees, a list it just
 * filled): a bug, not bad input, so it carries no ErrorCode and the CLI reports it as a bug.
 */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InternalError';
  }
}
