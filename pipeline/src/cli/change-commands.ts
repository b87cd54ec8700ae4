/** The commands about a change: `plan`, `diff` and `bump`, each against a base git ref. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BrickyardError } from '../util/errors.ts';
import type { CommandContext } from './io.ts';

/** `plan`: the pairs a change affects, as matrices, with their cost. */
export function registerPlan(program: Command, { io, rootOf }: CommandContext): void {
  program
    .command('plan')
    .description('the (recipe, system partition) pairs a change affects, as GitHub Actions matrices, and the pairs skipped with the reason')
    .requiredOption('--base <ref>', 'git ref to compare with (e.g. origin/main, HEAD~1)')
    .option('--head <ref>', 'git ref of the change (default: the working tree, uncommitted files included)')
    .option('--max-jobs <n>', 'most jobs per matrix', (v) => positiveInt(v, '--max-jobs'), 256)
    .option('--built-index <file>', 'built-index.json: pairs whose lock digest has a build with a passing smoke test are not built again')
    .option('--budget <n>', 'most builds without the approval label (default: buildBudget in .github/brickyard.yml)', (v) => nonNegativeInt(v, '--budget'))
    .option(
      '--label <name>',
      'a label the change carries (repeatable): the approval label lets a change over the budget proceed',
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option('--json', 'machine-readable output: the plan, its matrices and its cost')
    .action(async (opts: { base: string; head?: string; maxJobs: number; builtIndex?: string; budget?: number; label: string[]; json?: boolean }) => {
      const [{ Change }, { costPlan, readBudgetConfig, readBuiltIndex }, { costSummary, planSummary }] = await Promise.all([
        import('../plan/change.ts'),
        import('../plan/built.ts'),
        import('./summary.ts'),
      ]);
      using change = new Change(await rootOf(), { base: opts.base, head: opts.head });
      const plan = change.plan();
      const config = readBudgetConfig(change.root);
      if (opts.budget !== undefined) config.buildBudget = opts.budget;
      const index = opts.builtIndex ? readBuiltIndex(resolve(opts.builtIndex)) : undefined;
      if (opts.builtIndex && !index)
        throw new BrickyardError('FILE_UNREADABLE', `${opts.builtIndex}: no such file`, { hint: 'leave out --built-index to build every affected pair' });
      const costed = costPlan(change.head, plan, { index, config, labels: opts.label, maxJobs: opts.maxJobs });
      if (opts.json) {
        const reused = costed.selection.reused.map((r) => ({
          recipe: r.pair.recipe,
          system: r.pair.system,
          partition: r.pair.partition,
          lockDigest: r.pair.lockDigest,
          image: r.entry.image,
          where: r.entry.where,
        }));
        io.out(JSON.stringify({ ...plan, matrices: costed.matrices, hosted: costed.hosted, cost: costed.cost, reused }, null, 2) + '\n');
        return;
      }
      io.out(planSummary(plan, costed.matrices.length) + costSummary(costed.cost));
    });
}

/** `diff`: what a change does to each affected pair's rendered outputs. */
export function registerDiff(program: Command, { io, rootOf }: CommandContext): void {
  program
    .command('diff')
    .description('for each pair a change affects, a unified diff of each rendered output against the base')
    .requiredOption('--base <ref>', 'git ref to compare with')
    .option('--head <ref>', 'git ref of the change (default: the working tree)')
    .option('--system <id[/partition]>', 'only pairs on this system or partition')
    .option('--recipe <name[@version]>', 'only pairs of this recipe')
    .option('--format <format>', 'only this output (containerfile, apptainer, jobscript, lock, diagram)')
    .option('--stat', 'lines added and removed per pair and file instead of the patches')
    .option('--json', 'machine-readable output')
    .action(async (opts: { base: string; head?: string; system?: string; recipe?: string; format?: string; stat?: boolean; json?: boolean }) => {
      const [{ Change }, { diffStat, filterDiffs, formatStat }] = await Promise.all([import('../plan/change.ts'), import('../plan/diff.ts')]);
      using change = new Change(await rootOf(), { base: opts.base, head: opts.head });
      const diffs = filterDiffs(change.diffs(), { system: opts.system, recipe: opts.recipe, format: opts.format });
      if (opts.json) {
        io.out(JSON.stringify(opts.stat ? diffs.map((d) => ({ ...d, files: diffStat(d) })) : diffs, null, 2) + '\n');
        return;
      }
      if (opts.stat) {
        io.out(formatStat(diffs));
        return;
      }
      for (const d of diffs) {
        io.out(`==> ${d.recipe} on ${d.system}/${d.partition}: ${d.status} <==\n`);
        for (const f of d.files) io.out(f.patch);
      }
      if (diffs.length === 0) io.err('no pair is affected\n');
    });
}

/** `bump`: the revision of every released recipe a change alters. */
export function registerBump(program: Command, { io, rootOf }: CommandContext): void {
  program
    .command('bump')
    .description('bump the revision of every released recipe whose rendered output a change alters (after changing a block, say)')
    .requiredOption('--base <ref>', 'git ref holding the released versions (e.g. origin/main)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { base: string; json?: boolean }) => {
      const root = await rootOf();
      const [{ Change }, { bumpRevisions, rebuildCount }] = await Promise.all([import('../plan/change.ts'), import('../plan/bump.ts')]);
      let bumped;
      {
        using change = new Change(root, { base: opts.base });
        const needs = change.versioning().needsBump;
        bumped = bumpRevisions(root, needs).map((b) => {
          const need = needs.find((n) => n.recipe === b.recipe);
          if (!need) throw new Error(`internal: ${b.recipe} was bumped without being asked for`);
          return { ...b, ...rebuildCount(change.head, need) };
        });
      }
      if (opts.json) io.out(JSON.stringify(bumped, null, 2) + '\n');
      else if (bumped.length === 0) io.err('nothing to bump: no released version renders differently\n');
      else {
        for (const b of bumped) {
          io.out(
            `${b.file}: ${b.recipe} revision ${b.from} -> ${b.to}; ${b.rebuilds} rebuild(s): ${b.changed} changed, ${b.rebuilds - b.changed} for the new revision label only\n`,
          );
        }
        const total = bumped.reduce((a, b) => a + b.rebuilds, 0);
        io.out(`${total} rebuild(s) in all\n`);
      }
    });
}

function nonNegativeInt(v: string, flag: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new BrickyardError('USAGE', `${flag} must be a whole number (0 or more), got ${JSON.stringify(v)}`);
  return n;
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new BrickyardError('USAGE', `${flag} must be a positive whole number, got ${JSON.stringify(v)}`);
  return n;
}
