/** Findings reported as `path:line:col: severity: message [rule-id]`, the format editors and CI annotations read. */
export type Severity = 'error' | 'warning';

export interface Diagnostic {
  /** Path relative to the catalogue root, with forward slashes. */
  file: string;
  line: number;
  col: number;
  severity: Severity;
  message: string;
  rule: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity}: ${d.message} [${d.rule}]`;
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return cmp(a.file, b.file) || a.line - b.line || a.col - b.col || cmp(a.rule, b.rule) || cmp(a.message, b.message);
}

/** Sorted, with exact duplicates removed (a shared block can be reached from several recipes). */
export function sortDiagnostics(list: Iterable<Diagnostic>): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const d of [...list].sort(compareDiagnostics)) {
    const key = formatDiagnostic(d);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(d);
    }
  }
  return out;
}

export function countBySeverity(list: readonly Diagnostic[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const d of list) {
    if (d.severity === 'error') errors++;
    else warnings++;
  }
  return { errors, warnings };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
