/**
 * Capabilities blocks provide, require and conflict with: `mpi`, `mpi-abi:mpich`, `compiler:c`, …
 * A requirement `x` is met by `x` or any `x:…`; a requirement `x:y` only by `x:y`.
 */
export function satisfies(provided: Iterable<string>, required: string): boolean {
  for (const p of provided) {
    if (p === required) return true;
    if (!required.includes(':') && p.startsWith(required + ':')) return true;
  }
  return false;
}
