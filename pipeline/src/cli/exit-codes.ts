/**
 * The CLI's exit status for each error code, in one table: 1 when a check ran and failed (a
 * finding, a refused bundle, a failed build or smoke test), 2 when the command could not do its
 * work (usage, unreadable or invalid input, a missing tool, the machine). Library errors carry
 * only their code; scripts and CI match on both.
 */
import type { ErrorCode } from '../util/errors.ts';

export const EXIT_CODES: Readonly<Record<ErrorCode, 1 | 2>> = {
  // A check ran and failed.
  AUDIT_LOG_INVALID: 1,
  BUILD_FAILED: 1,
  BUNDLE_INVALID: 1,
  BUNDLE_MISMATCH: 1,
  BUNDLE_PART_INVALID: 1,
  BUNDLE_UNSAFE: 1,
  INPUT_TOO_LARGE: 1,
  NO_VARIANT: 1,
  PAIR_DOES_NOT_FIT: 1,
  PATH_OUTSIDE_STORE: 1,
  POLICY_REFUSED: 1,
  PREREQUISITE_MISSING: 1,
  PUSH_MISMATCH: 1,
  ROLLBACK: 1,
  SIGNATURE_INVALID: 1,
  SIGNER_FAILED: 1,
  SIZE_BUDGET_EXCEEDED: 1,
  SMOKE_OUTPUT: 1,
  STORE_LOCKED: 1,
  // The command could not do its work: usage, input, tools, the machine.
  BASE_MISSING: 2,
  CATALOG_INVALID: 2,
  DISK_FULL: 2,
  FILE_UNREADABLE: 2,
  IMAGE_NOT_FOUND: 2,
  NOT_A_STORE: 2,
  PARTITION_NOT_FOUND: 2,
  PLAN_TOO_LARGE: 2,
  POLICY_INVALID: 2,
  RECIPE_NOT_FOUND: 2,
  RENDER_FAILED: 2,
  ROOT_NOT_FOUND: 2,
  SBOM_INVALID: 2,
  SIF_INVALID: 2,
  SIGNER_STATE_INVALID: 2,
  SIGNING_FAILED: 2,
  SITE_KEY_UNKNOWN: 2,
  SOURCE_MISMATCH: 2,
  SOURCE_UNAVAILABLE: 2,
  STATE_RECORD_INVALID: 2,
  STATEMENT_INVALID: 2,
  STORE_NOT_WRITABLE: 2,
  SUBJECT_MISMATCH: 2,
  TEST_RESULT_INVALID: 2,
  SYSTEM_NOT_FOUND: 2,
  TOOL_FAILED: 2,
  TOOL_MISSING: 2,
  TOOL_NOT_IN_STORE: 2,
  TRUSTED_ROOT_INVALID: 2,
  USAGE: 2,
};

/** The exit status for an error code (2 for a code this table does not know: the command could not do its work). */
export function exitCodeFor(code: string): 1 | 2 {
  return (EXIT_CODES as Record<string, 1 | 2 | undefined>)[code] ?? 2;
}
