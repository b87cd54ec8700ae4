/** GitHub annotations and job summaries for findings, through the small part of @actions/core we use. */
import { relative, resolve } from 'node:path';
import type { Diagnostic } from '../util/diagnostics.ts';

export interface AnnotationSink {
  error(message: string, props: { title: string; file: string; startLine: number; startColumn: number }): void;
  warning(message: string, props: { title: string; file: string; startLine: number; startColumn: number }): void;
}

/** GitHub shows 10 errors and 10 warnings per step; the rest go to the job summary. */
export const ANNOTATION_LIMIT = 10;

export function annotate(sink: AnnotationSink, diagnostics: readonly Diagnostic[], root: string, workspace: string): void {
  let errors = 0;
  let warnings = 0;
  for (const d of diagnostics) {
    const props = { title: d.rule, file: repoPath(d.file, root, workspace), startLine: d.line, startColumn: d.col };
    if (d.severity === 'error' && errors++ < ANNOTATION_LIMIT) sink.error(d.message, props);
    if (d.severity === 'warning' && warnings++ < ANNOTATION_LIMIT) sink.warning(d.message, props);
  }
}

/** A catalogue-relative path as GitHub wants it: relative to the checkout. */
export function repoPath(file: string, root: string, workspace: string): string {
  return relative(resolve(workspace), resolve(root, file)).split('\\').join('/');
}

// Table cells of the job summary go through escapeHtml: @actions/core's summary does not escape HTML.
export { escapeHtml } from '../util/html.ts';
