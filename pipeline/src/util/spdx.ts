/** SPDX licence expressions against an allow-list (site policies, centre image policies). */
import parseSpdx from 'spdx-expression-parse';

interface SpdxNode {
  license?: string;
  plus?: boolean;
  exception?: string;
  conjunction?: 'and' | 'or';
  left?: SpdxNode;
  right?: SpdxNode;
}

/** Whether an SPDX expression is allowed: AND needs both sides allowed, OR either. */
export function licenseAllowed(expression: string, allowed: readonly string[]): boolean {
  let ast: SpdxNode;
  try {
    ast = parseSpdx(expression);
  } catch {
    return allowed.includes(expression);
  }
  const ok = (n: SpdxNode): boolean => {
    if (n.conjunction === 'and') return ok(n.left!) && ok(n.right!);
    if (n.conjunction === 'or') return ok(n.left!) || ok(n.right!);
    return (n.license !== undefined && allowed.includes(n.license + (n.plus ? '+' : ''))) || (n.plus === true && allowed.includes(n.license!));
  };
  return ok(ast);
}
