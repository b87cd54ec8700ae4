/** `brickyard site --out DIR [--state DIR]`: the static catalogue site. */
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Io } from './io.ts';
import { defaultStateDir } from '../state/layout.ts';

export function registerSite(program: Command, io: Io, setExit: (code: number) => void): void {
  program
    .command('site')
    .description(
      'build the static catalogue site: recipes, the recipe × system matrix with build and smoke status, signatures, run commands and deployment diagrams (works offline)',
    )
    .requiredOption('--out <dir>', 'folder to write the site into (new, empty, or written by this command before)')
    .option('--state <dir>', 'state folder with build records and smoke reports, and a bundle manifest (default: .brickyard in the checkout, when it exists)')
    .option('--manifest <file>', 'a bundle manifest.json to show (default: the newest in the state folder)')
    .action(async (opts: { out: string; state?: string; manifest?: string }) => {
      const [{ findRoot }, { buildSite }, { Workspace }] = await Promise.all([import('../catalog/load.ts'), import('../web/site.ts'), import('../workspace.ts')]);
      const root = program.opts<{ root?: string }>().root;
      const ws = Workspace.open(root === undefined ? findRoot() : resolve(root));
      const fallback = defaultStateDir(ws.root);
      const stateDir = opts.state !== undefined ? resolve(opts.state) : existsSync(fallback) ? fallback : undefined;
      const out = resolve(opts.out);
      const result = buildSite(ws, out, { ...(stateDir ? { stateDir } : {}), ...(opts.manifest ? { manifest: resolve(opts.manifest) } : {}) });
      for (const s of result.skipped) io.err(`skipped unreadable state file ${s}\n`);
      io.err(`state: ${stateDir ?? 'none'}\n`);
      const shown = relative(process.cwd(), out);
      const where = shown === '' ? '.' : shown.startsWith('..') ? out : shown;
      io.out(`wrote ${result.pages.length} pages (${result.files.length} files) to ${where}; open ${join(where, 'index.html')}\n`);
      setExit(0);
    });
}
