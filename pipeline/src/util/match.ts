/** Reading regular-expression matches without non-null assertions. */

/**
 * Capture group `n` of a match whose pattern always captures it (a group outside any `?`, `*` or
 * alternative). A group that took no part is a bug in the pattern, reported as such.
 */
export function group(m: RegExpExecArray | RegExpMatchArray, n: number): string {
  const g = m[n];
  if (g === undefined) throw new Error(`internal: the pattern matched ${JSON.stringify(m[0])} without capturing group ${n}`);
  return g;
}
