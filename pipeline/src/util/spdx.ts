/** SPDX licence expressions against an allow-list (site policies, centre image policies). */
import parseSpdx from 'spdx-expression-parse';

/** Whether an SPDX expression is allowed: AND needs both sides allowed, OR either. */
export function licenseAllowed(expression: string, allowed: readonly string[]): boolean {
  let ast: parseSpdx.Info;
  try {
    ast = parseSpdx(expression);
  } catch {
    return allowed.includes(expression);
  }
  const ok = (n: parseSpdx.Info): boolean => {
    if ('conjunction' in n) return n.conjunction === 'and' ? ok(n.left) && ok(n.right) : ok(n.left) || ok(n.right);
    // GPL-2.0+ (2.0 or any later version) may be taken as GPL-2.0, so an allowed GPL-2.0 allows it too.
    return allowed.includes(n.license + (n.plus ? '+' : '')) || (n.plus === true && allowed.includes(n.license));
  };
  return ok(ast);
}
