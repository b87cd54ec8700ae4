/** Brickyard validate action: validation (and versioning against a base) with annotations at file:line. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import * as core from '@actions/core';
import { validateChange } from '../../../pipeline/src/plan/validate-change.ts';
import { annotate, escapeHtml, repoPath } from '../../../pipeline/src/pr/annotate.ts';
import { validateReport } from '../../../pipeline/src/pr/report.ts';
import { policyDiagnostics } from '../../../pipeline/src/check/image-policy.ts';
import { formatDiagnostic, sortDiagnostics } from '../../../pipeline/src/util/diagnostics.ts';
import { Workspace } from '../../../pipeline/src/workspace.ts';

export interface Inputs {
  root: string;
  base: string;
  report: string;
  workspace: string;
}

export async function run(inputs: Inputs): Promise<void> {
  try {
    const root = resolve(inputs.workspace, inputs.root);
    const result = inputs.base ? validateChange(root, inputs.base) : Workspace.open(root).validate();
    // What the centres' announced (next) image policies would break shows up as warnings, in the annotations and the PR comment.
    const pending = policyDiagnostics(Workspace.open(root).policyReport('next'));
    const diagnostics = sortDiagnostics([...result.diagnostics, ...pending]);
    const { errors } = result;
    const warnings = result.warnings + pending.length;
    annotate(core, diagnostics, root, inputs.workspace);

    const reportPath = resolve(inputs.workspace, inputs.report);
    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, JSON.stringify(validateReport(inputs.base || null, diagnostics, errors, warnings), null, 2) + '\n');

    const summary = core.summary
      .addHeading('Brickyard validation', 2)
      .addRaw(`<p>${errors} error(s), ${warnings} warning(s)${inputs.base ? `; versioning checked against ${escapeHtml(inputs.base)}` : ''}.</p>`, true);
    if (diagnostics.length > 0) {
      summary.addTable([
        [
          { data: 'where', header: true },
          { data: 'severity', header: true },
          { data: 'finding', header: true },
          { data: 'rule', header: true },
        ],
        ...diagnostics.map((d) => [escapeHtml(`${repoPath(d.file, root, inputs.workspace)}:${d.line}:${d.col}`), d.severity, escapeHtml(d.message), escapeHtml(d.rule)]),
      ]);
    }
    await summary.write();
    for (const d of diagnostics) core.info(formatDiagnostic(d));

    core.setOutput('errors', String(errors));
    core.setOutput('warnings', String(warnings));
    core.setOutput('report', reportPath);
    if (errors > 0) core.setFailed(`${errors} error(s) in the catalogue: see the annotations and the job summary`);
  } catch (e) {
    core.setFailed(`brickyard validate: ${(e as Error).message}`);
  }
}
