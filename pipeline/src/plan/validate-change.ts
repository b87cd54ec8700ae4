/** `validate --base` (the CLI and the validate action): the catalogue's own findings plus the versioning rules against the base. */
import { Change } from './change.ts';
import { countBySeverity, sortDiagnostics } from '../util/diagnostics.ts';
import type { ValidationReport, Workspace } from '../workspace.ts';

export function validateChange(root: string, base: string): ValidationReport & { workspace: Workspace } {
  using change = new Change(root, { base });
  const own = change.head.validate();
  const versioning = change.versioning();
  const diagnostics = sortDiagnostics([...own.diagnostics, ...versioning.diagnostics]);
  return { diagnostics, ...countBySeverity(diagnostics), fits: own.fits, workspace: change.head };
}
