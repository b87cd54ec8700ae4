/**
 * The main job (`npm start`): validate the catalogue, check every pair, render every pair that
 * fits. Build, smoke tests, signing, bundling and the offline import are later stages; until
 * they land the job stops after rendering and says so.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FILE_NAMES, FORMATS } from '../render/index.ts';
import { formatDiagnostic } from '../util/diagnostics.ts';
import type { Workspace } from '../workspace.ts';
import type { Io } from './main.ts';
import { table } from './table.ts';

export function runMainJob(ws: Workspace, outDir: string, io: Io, json: boolean): number {
  const t0 = performance.now();
  const report = ws.validate();
  const tValidate = performance.now() - t0;
  for (const d of report.diagnostics) io.err(formatDiagnostic(d) + '\n');
  if (report.errors > 0) {
    io.err(`validate: ${report.errors} error(s); fix them and run again (nothing was rendered)\n`);
    return 1;
  }

  const renderDir = join(outDir, 'render');
  rmSync(renderDir, { recursive: true, force: true }); // a rerun leaves no stale pairs behind
  const t1 = performance.now();
  const perRecipe = new Map<string, { fits: number; skipped: number; systems: Set<string> }>();
  let rendered = 0;
  for (const fit of report.fits) {
    const row = perRecipe.get(fit.recipe) ?? { fits: 0, skipped: 0, systems: new Set<string>() };
    perRecipe.set(fit.recipe, row);
    if (!fit.fits) {
      row.skipped++;
      continue;
    }
    row.fits++;
    row.systems.add(fit.system);
    const recipe = ws.recipes.get(fit.recipe)!;
    const [where] = ws.partitionsOf(`${fit.system}/${fit.partition}`);
    const r = ws.render(recipe, where!);
    const dir = join(renderDir, fit.recipe, `${fit.system}-${fit.partition}`);
    mkdirSync(dir, { recursive: true });
    for (const f of FORMATS) writeFileSync(join(dir, FILE_NAMES[f]), r.files[f]);
    rendered++;
  }
  const tRender = performance.now() - t1;

  const summary = {
    recipes: ws.recipes.size,
    systems: ws.catalog.systems.size,
    pairs: report.fits.length,
    rendered,
    warnings: report.warnings,
    out: relative(ws.root, renderDir) || renderDir,
    seconds: { validateAndCheck: round(tValidate / 1000), render: round(tRender / 1000) },
    stages: { validate: 'done', render: 'done', build: 'not yet implemented', smoke: 'not yet implemented', sign: 'not yet implemented', bundle: 'not yet implemented', import: 'not yet implemented' },
  };
  if (json) {
    io.out(JSON.stringify(summary, null, 2) + '\n');
    return 0;
  }
  io.out(
    table(
      ['recipe', 'pairs rendered', 'skipped', 'systems'],
      [...perRecipe].map(([k, v]) => [k, String(v.fits), String(v.skipped), [...v.systems].join(' ')]),
    ),
  );
  io.out(
    `\nvalidate + check: ${summary.seconds.validateAndCheck} s (${report.fits.length} pairs, ${report.warnings} warning(s)); render: ${summary.seconds.render} s (${rendered} pairs) -> ${summary.out}/\n`,
  );
  io.out('The main job stops here: build, smoke tests, signing, bundle and offline import are not implemented yet.\n');
  return 0;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
