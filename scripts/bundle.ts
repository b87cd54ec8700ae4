/**
 * `npm run bundle`: each action's src/index.ts into actions/<name>/dist/index.js, one ESM file
 * with its dependencies, for `runs: using: node24`. Deterministic: the check-dist workflow and
 * a test rebuild and compare.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function actionNames(): string[] {
  return readdirSync(join(repo, 'actions'))
    .filter((n) => existsSync(join(repo, 'actions', n, 'src', 'index.ts')))
    .sort();
}

/** Bundle every action into `<outRoot>/<name>/dist/index.js` (outRoot defaults to actions/). */
export async function bundleActions(outRoot = join(repo, 'actions')): Promise<string[]> {
  const written: string[] = [];
  for (const name of actionNames()) {
    const outfile = join(outRoot, name, 'dist', 'index.js');
    await build({
      entryPoints: [join(repo, 'actions', name, 'src', 'index.ts')],
      outfile,
      bundle: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      legalComments: 'none',
      logLevel: 'warning',
      // The same bytes wherever node_modules really lives (CI links it into a clean clone): paths
      // in the bundle's comments are relative to the repository, through the link.
      absWorkingDir: repo,
      preserveSymlinks: true,
      // Some CommonJS dependencies call require(); give the ESM bundle one.
      banner: { js: "import { createRequire as __brickyardCreateRequire } from 'node:module'; const require = __brickyardCreateRequire(import.meta.url);" },
    });
    written.push(outfile);
  }
  return written;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const f of await bundleActions()) process.stdout.write(`bundled ${f.slice(repo.length + 1)}\n`);
}
