/**
 * `npm run bench`: validate, check and render on a synthetic catalogue of 1,000 recipes × 30
 * systems made from the shipped one (its blocks, bases and system templates, recipes cloned
 * under new names), plus validate + check of the shipped catalogue as the everyday baseline.
 * Prints a table and writes bench-results.json when --json is given.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { Change } from '../pipeline/src/plan/change.ts';
import { toMatrices } from '../pipeline/src/plan/plan.ts';
import { Workspace } from '../pipeline/src/workspace.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RECIPES = Number(process.env['BENCH_RECIPES'] ?? 1000);
const SYSTEMS = Number(process.env['BENCH_SYSTEMS'] ?? 30);

/** The i-th of `items` taken round and round (clones cycle through the shipped files). */
function cyclic<T>(items: readonly T[], i: number, what: string): T {
  const item = items[i % items.length];
  if (item === undefined) throw new Error(`no ${what} to clone`);
  return item;
}

function time<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const r = fn();
  return [r, (performance.now() - t) / 1000];
}

/** A catalogue with `recipes` recipes (clones of the shipped ones) and `systems` system templates. */
export function makeSynthetic(root: string, recipes: number, systems: number): void {
  cpSync(join(repo, 'catalog', 'blocks'), join(root, 'catalog', 'blocks'), { recursive: true });
  cpSync(join(repo, 'catalog', 'bases.yaml'), join(root, 'catalog', 'bases.yaml'));
  mkdirSync(join(root, 'systems'), { recursive: true });
  const shippedSystems = readdirSync(join(repo, 'systems'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  for (let i = 0; i < systems; i++) {
    const file = cyclic(shippedSystems, i, 'system templates in systems/');
    const id = file.replace(/\.yaml$/, '');
    const newId = i < shippedSystems.length ? id : `${id}-${Math.floor(i / shippedSystems.length)}`;
    const text = readFileSync(join(repo, 'systems', file), 'utf8').replace(/^id: .*$/m, `id: ${newId}`);
    writeFileSync(join(root, 'systems', `${newId}.yaml`), text);
  }
  // Templates: every shipped recipe that does not extend another (so clones stand alone).
  const templates: { dir: string; text: string; version: string }[] = [];
  for (const name of readdirSync(join(repo, 'catalog', 'recipes')).sort()) {
    for (const version of readdirSync(join(repo, 'catalog', 'recipes', name)).sort()) {
      const dir = join(repo, 'catalog', 'recipes', name, version);
      const text = readFileSync(join(dir, 'recipe.yaml'), 'utf8');
      if (!/^extends:/m.test(text)) templates.push({ dir, text, version });
    }
  }
  for (let i = 0; i < recipes; i++) {
    const t = cyclic(templates, i, 'stand-alone recipes (without extends:) in catalog/recipes/');
    const name = `synthetic-${String(i).padStart(4, '0')}`;
    const dest = join(root, 'catalog', 'recipes', name, t.version);
    cpSync(t.dir, dest, { recursive: true });
    writeFileSync(join(dest, 'recipe.yaml'), t.text.replace(/^name: .*$/m, `name: ${name}`));
  }
}

function main(): void {
  const results: Record<string, number | string> = {};

  // Baseline: the shipped catalogue, as a contributor runs it.
  const [shipped, openShipped] = time(() => Workspace.open(repo));
  const [shippedReport, validateShipped] = time(() => shipped.validate());
  results['shipped: pairs'] = shippedReport.fits.length;
  results['shipped: open + validate + check (s)'] = round(openShipped + validateShipped);

  const root = mkdtempSync(join(tmpdir(), 'brickyard-bench-'));
  try {
    const [, gen] = time(() => makeSynthetic(root, RECIPES, SYSTEMS));
    const [ws, open] = time(() => Workspace.open(root));
    const [report, validate] = time(() => ws.validate());
    if (report.errors > 0) throw new Error(`synthetic catalogue has ${report.errors} errors`);
    // validate() made every pair (and its fit) on ws: the check is timed on a fresh workspace.
    const fresh = Workspace.open(root);
    const [pairs, check] = time(() => fresh.pairs());
    const fits = pairs.map((p) => p.fit);
    const fitting = pairs.filter((p) => p.fit.fits);
    const [, render] = time(() => {
      for (const p of fitting) fresh.render(p);
    });
    const partitions = ws.partitions().length;
    results['synthetic: recipes × systems (partitions)'] = `${ws.recipes.size} × ${ws.catalog.systems.size} (${partitions})`;
    results['synthetic: pairs checked / fitting'] = `${fits.length} / ${fitting.length}`;
    results['synthetic: generate (s)'] = round(gen);
    results['synthetic: load + schema (s)'] = round(open);
    results['synthetic: validate incl. lint and fit of every pair (s)'] = round(validate);
    results['synthetic: check every pair (s)'] = round(check);
    results['synthetic: render every fitting pair, all formats (s)'] = round(render);
    results['synthetic: render per pair (ms)'] = round((render * 1000) / Math.max(1, fitting.length));

    // Planning after a change to a block every recipe uses (gcc), in a real git repository.
    const env = { ...process.env, GIT_AUTHOR_NAME: 'b', GIT_AUTHOR_EMAIL: 'b@example.org', GIT_COMMITTER_NAME: 'b', GIT_COMMITTER_EMAIL: 'b@example.org' };
    const git = (...args: string[]): void => void execFileSync('git', args, { cwd: root, env, stdio: 'ignore' });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'synthetic');
    const block = join(root, 'catalog', 'blocks', 'gcc', 'block.yaml');
    writeFileSync(block, readFileSync(block, 'utf8') + '# tuned\n');
    git('commit', '-qam', 'change gcc');
    const [planned, plan] = time(() => {
      using change = new Change(root, { base: 'HEAD~1', head: 'HEAD' });
      return change.plan();
    });
    results['synthetic: plan after a change to gcc, head from git (s)'] = round(plan);
    results['synthetic: plan: affected pairs / matrix batches'] = `${planned.pairs.length} / ${toMatrices(planned.pairs).length}`;
    const [, planTree] = time(() => {
      using change = new Change(root, { base: 'HEAD~1' });
      return change.plan();
    });
    results['synthetic: plan, head = working tree (s)'] = round(planTree);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  const width = Math.max(...Object.keys(results).map((k) => k.length));
  for (const [k, v] of Object.entries(results)) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  if (process.argv.includes('--json')) writeFileSync(join(repo, 'bench-results.json'), JSON.stringify(results, null, 2) + '\n');
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (import.meta.url === `file://${process.argv[1]}`) main();
