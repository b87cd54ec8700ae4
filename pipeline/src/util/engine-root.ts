/**
 * The folder of Brickyard's own files (scripts/, catalog/blocks/…): found by walking up from this
 * module to the package.json named "brickyard", so that it is the same whether the code runs from
 * its sources (pipeline/src/…) or from the bundled CLI (dist/cli/…).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let found: string | undefined;

export function engineRoot(): string {
  if (found !== undefined) return found;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'brickyard') return (found = dir);
      } catch {
        /* another package.json: keep walking */
      }
    }
    const up = dirname(dir);
    if (up === dir) return (found = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..'));
    dir = up;
  }
}
