/**
 * The `brickyard` command line: a thin shell over the library. Exit codes: 0 ok, 1 findings or
 * a failed check, 2 usage or input errors. Errors never print a stack trace (set
 * BRICKYARD_DEBUG=1 to see one).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
// Only light modules load up front: each command imports what it needs (Ajv, Sigstore, the
// renderers, the builders) when it runs, so `--version` and `--help` start at once.
import { FILE_NAMES, FORMATS, type Format } from '../render/formats.ts';
import type { Rendered } from '../render/index.ts';
import { BrickyardError } from '../util/errors.ts';
import { exitCodeFor } from './exit-codes.ts';
import { VERSION } from '../version.ts';
import type { Workspace, ValidationReport } from '../workspace.ts';
import { registerAttest } from './attest-command.ts';
import { registerTune } from './tune-command.ts';
import { registerBundle } from './bundle-command.ts';
import { registerSite } from './site-command.ts';
import { registerUpgrade } from './upgrade-command.ts';
import { registerBuiltIndex } from './built-index-command.ts';
import { table } from './table.ts';
import { registerVerify } from './verify-command.ts';

import type { Io } from './io.ts';
import { DEFAULT_STATE_DIR, defaultStateDir } from '../state/layout.ts';

export type { Io };

const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};

export { VERSION };

/** What the site executable holds (scripts/build-sea.ts): what a secure site runs, offline. */
export const SITE_COMMANDS = ['verify', 'check-bundle', 'import', 'inventory', 'audit', 'admit', 'smoke', 'site', 'upgrade'] as const;

export interface MainOptions {
  /** Only these commands (the site executable); default every one. */
  only?: readonly string[];
}

export async function main(argv: readonly string[], io: Io = processIo, options: MainOptions = {}): Promise<number> {
  let exitCode = 0;
  const program = new Command('brickyard')
    .description(
      options.only
        ? 'Brickyard for a secure site: verify and import air-gap bundles offline under the site policy, admit, audit, smoke-test and show what the site holds'
        : 'Verified HPC container recipes: validate, plan and render them per system; build, smoke-test, sign and bundle them; verify and import them offline at a secure site',
    )
    .version(VERSION)
    .option('--root <dir>', 'the Brickyard checkout to work on (default: the repository around the current directory)')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();

  const rootOf = async (): Promise<string> => {
    const root = program.opts<{ root?: string }>().root;
    return root === undefined ? (await import('../catalog/load.ts')).findRoot() : resolve(root);
  };
  const open = async (): Promise<Workspace> => (await import('../workspace.ts')).Workspace.open(await rootOf());

  program
    .command('validate')
    .description('check every recipe, block, base and system template: schemas, references, lint rules; findings as file:line:col')
    .option('--base <ref>', "also apply the versioning rules against this git ref (a pull request's base)")
    .option('--policy <which>', "also re-evaluate every fitting pair against each system's image policy: current, or next (the stricter one a centre has announced)")
    .option('--json', 'machine-readable output')
    .action(async (opts: { base?: string; policy?: string; json?: boolean }) => {
      const root = await rootOf();
      const [{ validateChange }, { Workspace }, { formatDiagnostic, sortDiagnostics }, { policyDiagnostics }] = await Promise.all([
        import('../plan/validate-change.ts'),
        import('../workspace.ts'),
        import('../util/diagnostics.ts'),
        import('../check/image-policy.ts'),
      ]);
      let ws: Workspace;
      let report: ValidationReport;
      if (opts.base) {
        ({ workspace: ws, ...report } = validateChange(root, opts.base));
      } else {
        ws = Workspace.open(root);
        report = ws.validate();
      }
      if (opts.policy !== undefined) {
        if (opts.policy !== 'current' && opts.policy !== 'next') throw new BrickyardError('USAGE', `--policy takes current or next, not ${opts.policy}`);
        const policy = ws.policyReport(opts.policy);
        const found = policyDiagnostics(policy);
        report = {
          ...report,
          diagnostics: sortDiagnostics([...report.diagnostics, ...found]),
          errors: report.errors + found.filter((d) => d.severity === 'error').length,
          warnings: report.warnings + found.filter((d) => d.severity === 'warning').length,
        };
        if (!opts.json) {
          const pairs = new Set(policy.breaks.map((b) => `${b.recipe} on ${b.system}/${b.partition}`));
          io.err(
            `${opts.policy} image policies: ${policy.systems.map((s) => `${s.id}${s.effective ? ` from ${s.effective}` : ''}${s.imageRules.length ? ` (checked on the build: ${s.imageRules.join(', ')})` : ''}`).join('; ') || 'none'}; ${pairs.size} pair(s) would break${pairs.size ? `: ${[...pairs].join(', ')}` : ''}\n`,
          );
        }
      }
      if (opts.json) {
        io.out(JSON.stringify({ ok: report.errors === 0, errors: report.errors, warnings: report.warnings, diagnostics: report.diagnostics }, null, 2) + '\n');
      } else {
        for (const d of report.diagnostics) io.out(formatDiagnostic(d) + '\n');
        const fits = report.fits.filter((f) => f.fits).length;
        io.err(
          `${report.errors} error(s), ${report.warnings} warning(s) in ${ws.recipes.size} recipe(s), ${ws.catalog.blocks.size} block(s), ${ws.catalog.systems.size} system(s); ${fits} of ${report.fits.length} recipe × partition pairs fit${opts.base ? `; versioning checked against ${opts.base}` : ''}\n`,
        );
      }
      exitCode = report.errors > 0 ? 1 : 0;
    });

  program
    .command('check')
    .description('for each system partition, whether a recipe fits it, and why not')
    .argument('[recipe]', 'name or name@version (default: every recipe)')
    .option('--system <id[/partition]>', 'only this system or partition')
    .option('--json', 'machine-readable output')
    .option('--fitting', 'list only the pairs that fit')
    .option('--policy <which>', "also say what each system's image policy (current, or next: announced, not yet in force) would refuse")
    .action(async (spec: string | undefined, opts: { system?: string; json?: boolean; fitting?: boolean; policy?: string }) => {
      const ws = await open();
      const recipes = spec ? [ws.recipe(spec)] : [...ws.recipes.values()];
      const where = opts.system ? ws.partitionsOf(opts.system) : undefined;
      const pairs = ws.pairs(recipes, where);
      let fits = pairs.map((p) => p.fit);
      if (opts.fitting) fits = fits.filter((f) => f.fits);
      if (opts.policy !== undefined) {
        if (opts.policy !== 'current' && opts.policy !== 'next') throw new BrickyardError('USAGE', `--policy takes current or next, not ${opts.policy}`);
        const breaks = ws.policyReport(opts.policy, pairs).breaks;
        // A pair that fits today but that the policy refuses is reported as not fitting, with the policy's reason.
        fits = fits.map((f) => {
          const mine = breaks.filter((b) => b.recipe === f.recipe && b.system === f.system && b.partition === f.partition);
          return mine.length && f.fits ? { ...f, fits: false, reasons: mine.map((b) => `${opts.policy} policy: ${b.message}`) } : f;
        });
      }
      if (opts.json) {
        io.out(
          JSON.stringify(
            fits.map((f) => ({ ...f, strategy: f.strategy?.id ?? null })),
            null,
            2,
          ) + '\n',
        );
      } else {
        io.out(
          table(
            ['recipe', 'system/partition', 'fits', 'MPI strategy / why not'],
            fits.map((f) => [
              f.recipe,
              `${f.system}/${f.partition}`,
              f.fits ? (f.doubts.length ? 'yes (in doubt)' : 'yes') : 'no',
              f.fits ? [f.strategy?.id ?? '-', ...f.doubts].join('; ') : f.reasons.join('; '),
            ]),
          ),
        );
      }
      // A check of one recipe on one named system fails when it does not fit.
      exitCode = spec && opts.system && fits.every((f) => !f.fits) ? 1 : 0;
    });

  program
    .command('render')
    .description('render a recipe for a system partition: Containerfile, Apptainer definition, job script, lock, deployment diagram')
    .argument('<recipe>', 'name or name@version')
    .requiredOption('--system <id[/partition]>', 'system, or system/partition (default: every partition the recipe fits)')
    .addOption(new Option('--format <format>', 'what to render').choices([...FORMATS, 'all']).default('all'))
    .option('--out <dir>', 'write files into DIR (one folder per partition when there are several) instead of printing')
    .action(async (spec: string, opts: { system: string; format: Format | 'all'; out?: string }) => {
      const ws = await open();
      const recipe = ws.recipe(spec);
      const all = ws.pairs([recipe], ws.partitionsOf(opts.system));
      const fitting = all.filter((p) => p.fit.fits);
      // One named partition, or none fits: the first one (render() explains why it does not fit).
      const pairs = opts.system.includes('/') || fitting.length === 0 ? all.slice(0, 1) : fitting;
      const formats = opts.format === 'all' ? [...FORMATS] : [opts.format];
      const { tunedPair, variantRuntime } = await import('../smoke/tune.ts');
      for (const p0 of pairs) {
        // A recorded `brickyard tune` choice for this pair replaces the partition's target flags (and its MPI strategy and runtime environment).
        const { pair: w, choice } = tunedPair(ws, defaultStateDir(ws.root), p0);
        if (choice)
          io.err(
            `using the tuned variant ${choice.chosen} (${choice.chosenCflags}; ${variantRuntime({ env: choice.chosenEnv, mpiStrategy: choice.chosenMpiStrategy })}) recorded by brickyard tune on ${choice.tunedOn}\n`,
          );
        const rendered = ws.render(w);
        if (opts.out) writeRendered(rendered, pairs.length > 1 ? join(opts.out, w.partition.id) : opts.out, formats, io);
        else printRendered(rendered, formats, io, formats.length > 1 || pairs.length > 1);
      }
    });

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
        bumped = bumpRevisions(root, needs).map((b) => ({
          ...b,
          ...rebuildCount(
            change.head,
            needs.find((n) => n.recipe === b.recipe)!,
          ),
        }));
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

  program
    .command('build')
    .description('build a recipe for a system partition with the builder its policy names; writes an OCI layout, an SPDX SBOM and a build record')
    .argument('<recipe>', 'name or name@version')
    .requiredOption('--system <id[/partition]>', 'system, or system/partition (default: the first partition the recipe fits)')
    .option('--out <dir>', 'state folder for the OCI layout, build records and caches (default: .brickyard in the checkout)')
    .option('--sif', 'also make a SIF file for Apptainer/Singularity (always made for systems whose runtime is one of them)')
    .option('--check-reproducible', 'build twice without the layer cache and report whether the two images have the same config and layers')
    .option('--json', 'print the build record as JSON')
    .option('--quiet', 'no build output on the terminal (it is always in the build log)')
    .action(async (spec: string, opts: { system: string; out?: string; checkReproducible?: boolean; sif?: boolean; json?: boolean; quiet?: boolean }) => {
      const ws = await open();
      const { buildPair, formatBytes, pairDir } = await import('../build/build.ts');
      const where = ws.pairOn(spec, opts.system);
      const recipe = where.recipe;
      const stateDir = resolve(opts.out ?? defaultStateDir(ws.root));
      const started = performance.now();
      const record = await buildPair(ws, where, {
        stateDir,
        checkReproducible: opts.checkReproducible === true,
        sif: opts.sif === true,
        onStage: (stage, detail) => io.err(`[${elapsed(started)}] ${stage}: ${detail}\n`),
        ...(opts.quiet || opts.json ? {} : { onOutput: (s: string) => io.err(s) }),
      });
      if (opts.json) io.out(JSON.stringify(record, null, 2) + '\n');
      else {
        io.out(
          table(
            ['image', 'manifest digest', 'size', 'budget', 'SBOM packages', 'build s'],
            [
              [
                record.image.reference,
                record.image.manifestDigest,
                formatBytes(record.sizes.uncompressedBytes),
                record.sizes.budget,
                String(record.sbom.packages),
                String(record.durations['build'] ?? ''),
              ],
            ],
          ),
        );
        if (record.reproducible.checked) io.out(reproducibleReport(record.reproducible));
        if (record.sif) io.out(`SIF: ${record.sif.path} (${formatBytes(record.sif.size)}, sha256:${record.sif.sha256})\n`);
        io.out(`OCI layout: ${record.image.ociLayout} (ref ${record.image.refName}); record: ${join(pairDir(stateDir, recipe, where), 'build.json')}\n`);
      }
    });

  program
    .command('smoke')
    .description("run an image's smoke tests on a system partition: MPI ping-pong, GPU check, the recipe's own commands")
    .argument('<image>', 'recipe@version (its build for the system), a build folder or build.json, or a local image reference')
    .requiredOption('--system <id[/partition]>', 'system, or system/partition')
    .addOption(new Option('--launcher <launcher>', 'how the MPI test starts (sif: the SIF root file system under ch-run)').choices(['direct', 'slurm', 'sif']).default('direct'))
    .option('--out <dir>', 'state folder (default: .brickyard in the checkout)')
    .option('--json', 'print the report, with its in-toto test-result statement, as JSON')
    .action(async (spec: string, opts: { system: string; launcher: 'direct' | 'slurm' | 'sif'; out?: string; json?: boolean }) => {
      const ws = await open();
      const [{ resolveImage, smoke }, { smokeSummary }] = await Promise.all([import('../smoke/run.ts'), import('./summary.ts')]);
      const stateDir = resolve(opts.out ?? defaultStateDir(ws.root));
      const where = spec.includes('/') || spec.endsWith('.json') ? ws.partitionsOf(opts.system)[0]! : ws.pairOn(spec, opts.system);
      const image = await resolveImage(ws, spec, where, stateDir);
      const started = performance.now();
      const report = await smoke(ws, image, ws.pairAt(image.recipe, where), { stateDir, launcher: opts.launcher, onStage: (s, d) => io.err(`[${elapsed(started)}] ${s}: ${d}\n`) });
      if (opts.json) io.out(JSON.stringify(report, null, 2) + '\n');
      else io.out(smokeSummary(report));
      exitCode = report.result === 'FAILED' ? 1 : 0;
    });

  registerAttest(program, io, open);
  registerTune(program, io, open);
  registerBundle(program, io, open, (code) => (exitCode = code), VERSION);

  const systems = program.command('systems').description('the system templates');
  systems
    .command('list')
    .description('every system and its partitions')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const ws = await open();
      const rows = [...ws.catalog.systems.values()].map(({ doc }) => ({
        id: doc.id,
        name: doc.name,
        production: doc.production,
        scheduler: doc.scheduler.type,
        interconnect: doc.interconnect.type,
        partitions: doc.partitions.map((p) => ({
          id: p.id,
          arch: p.cpu.arch,
          cpu: p.cpu.model,
          gpu: p.gpu ? { vendor: p.gpu.vendor, model: p.gpu.model, count: p.gpu.count, arch: p.gpu.arch } : null,
          runtime: p.runtime.type,
          mpi: p.mpi.strategies.map((s) => s.id),
        })),
      }));
      if (opts.json) io.out(JSON.stringify(rows, null, 2) + '\n');
      else
        io.out(
          table(
            ['system/partition', 'arch', 'GPU', 'runtime', 'MPI strategies', 'scheduler'],
            rows.flatMap((s) =>
              s.partitions.map((p) => [`${s.id}/${p.id}`, p.arch, p.gpu ? `${p.gpu.count}x ${p.gpu.model} (${p.gpu.arch})` : '-', p.runtime, p.mpi.join(', '), s.scheduler]),
            ),
          ),
        );
    });
  systems
    .command('show')
    .description('one system template, as the engine reads it')
    .argument('<id>')
    .action(async (id: string) => {
      const ws = await open();
      const [first] = ws.partitionsOf(id);
      io.out(JSON.stringify(first!.system.doc, null, 2) + '\n');
    });

  program
    .command('recipes')
    .description('every recipe and version in the catalogue')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const ws = await open();
      const rows = [...ws.recipes.values()].map((r) => ({
        name: r.doc.name,
        version: r.doc.version,
        revision: r.doc.revision,
        summary: r.doc.summary,
        extends: r.entry.doc.extends ?? null,
        deprecated: r.doc.deprecated ? true : false,
        file: r.entry.file.rel,
      }));
      if (opts.json) io.out(JSON.stringify(rows, null, 2) + '\n');
      else
        io.out(
          table(
            ['recipe', 'rev', 'summary'],
            rows.map((r) => [`${r.name}@${r.version}`, String(r.revision), r.summary]),
          ),
        );
    });

  program
    .command('blocks')
    .description('every building block, with what it provides and requires')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const ws = await open();
      const rows = [...ws.catalog.blocks.values()].map(({ doc }) => ({
        name: doc.name,
        summary: doc.summary,
        parameters: Object.keys(doc.parameters ?? {}),
        provides: doc.provides,
        requires: doc.requires ?? [],
      }));
      if (opts.json) io.out(JSON.stringify(rows, null, 2) + '\n');
      else
        io.out(
          table(
            ['block', 'provides', 'requires', 'parameters'],
            rows.map((b) => [b.name, b.provides.join(' '), b.requires.join(' '), b.parameters.join(' ')]),
          ),
        );
    });

  program
    .command('rules')
    .description('the lint rules, with the reason for each')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { LINT_RULES } = await import('../lint/rules.ts');
      if (opts.json) io.out(JSON.stringify(LINT_RULES, null, 2) + '\n');
      else for (const r of LINT_RULES) io.out(`${r.id} (${r.severity})\n  ${r.summary}\n  why: ${r.why}\n\n`);
    });

  program
    .command('run')
    .alias('demo')
    .description(
      'the main job on embedded defaults: validate, check and render every pair; build mpi-pingpong for the local system, smoke-test it directly and through Slurm, sign, bundle, and verify and import it offline into .brickyard/store',
    )
    .option('--out <dir>', 'where to write results', DEFAULT_STATE_DIR)
    .option('--build <recipes>', 'comma-separated recipes to build and smoke-test on the local system', 'mpi-pingpong')
    .option('--render-only', 'stop after rendering')
    .option('--json', 'machine-readable summary')
    .action(async (opts: { out: string; build: string; renderOnly?: boolean; json?: boolean }) => {
      const ws = await open();
      const { runMainJob } = await import('./run.ts');
      exitCode = await runMainJob(ws, io, {
        outDir: resolve(ws.root, opts.out),
        json: opts.json === true,
        build: opts.build
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        renderOnly: opts.renderOnly === true,
      });
    });

  registerVerify(program, io, (code) => (exitCode = code));
  registerSite(program, io, (code) => (exitCode = code));
  registerUpgrade(program, io, VERSION);
  registerBuiltIndex(program, io, (code) => (exitCode = code));

  if (options.only) {
    const keep = new Set(options.only);
    const commands = program.commands as Command[];
    commands.splice(0, commands.length, ...commands.filter((c) => keep.has(c.name())));
  }

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (e) {
    return reportError(e, io);
  }
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)}s`;
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

const SYSTEM_ERRORS: Record<string, string> = {
  ENOSPC: 'the disk is full: free space (or give a folder on a larger disk) and run it again; an import that stops leaves the store as it was',
  EDQUOT: 'the disk quota is used up: free space (or give a folder on another disk) and run it again; an import that stops leaves the store as it was',
  EROFS: 'the file system is read-only: give a folder on a writable one',
  EACCES: 'permission denied: run as a user who may read the input and write the output folder',
  EPERM: 'operation not permitted: run as a user who may read the input and write the output folder',
  EIO: 'the disk reported an input/output error: check the medium (dmesg) and run it again',
};

function reportError(e: unknown, io: Io): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return 2; // commander already printed the message
  }
  if (e instanceof BrickyardError) {
    io.err(`brickyard: ${e.message} [${e.code}]\n`);
    if (e.hint) io.err(`  hint: ${e.hint}\n`);
    return exitCodeFor(e.code);
  }
  const system = (e as NodeJS.ErrnoException | null | undefined)?.code;
  if (system !== undefined && system in SYSTEM_ERRORS) {
    // The machine, not Brickyard: a full disk, a read-only or forbidden folder.
    io.err(`brickyard: ${(e as Error).message} [${system}]\n  hint: ${SYSTEM_ERRORS[system]}\n`);
    return 2;
  }
  io.err(`brickyard: internal error: ${(e as Partial<Error> | null | undefined)?.message ?? String(e)}\n`);
  if (process.env['BRICKYARD_DEBUG']) io.err(`${(e as Partial<Error> | null | undefined)?.stack ?? ''}\n`);
  else io.err('  hint: this is a bug in Brickyard; run again with BRICKYARD_DEBUG=1 and report the stack trace\n');
  return 2;
}

function writeRendered(r: Rendered, dir: string, formats: Format[], io: Io): void {
  mkdirSync(dir, { recursive: true });
  for (const f of formats) {
    const path = join(dir, FILE_NAMES[f]);
    writeFileSync(path, r.files[f], f === 'jobscript' ? { mode: 0o755 } : {});
    io.err(`wrote ${path}\n`);
  }
}

function printRendered(r: Rendered, formats: Format[], io: Io, withHeaders: boolean): void {
  const c = r.composition;
  for (const f of formats) {
    if (withHeaders) io.out(`==> ${c.system.id}/${c.partition.id}: ${FILE_NAMES[f]} <==\n`);
    io.out(r.files[f]);
    if (withHeaders) io.out('\n');
  }
}

/** `--check-reproducible`'s verdict, with the differing files and why when the builds differ. */
function reproducibleReport(r: import('../build/build.ts').BuildRecord['reproducible']): string {
  const sif = r.sif
    ? `SIF reproducible: ${r.sif.identical ? 'yes: the SIF made from the second image has the same bytes' : `no: the SIF made from the second image is sha256:${r.sif.second}`}\n`
    : '';
  if (r.identical) return 'reproducible: yes: a second build without the cache gave the same config and layers, bit for bit\n' + sif;
  const lines = [`reproducible: no: ${r.differingLayers?.length ? `layers ${r.differingLayers.join(', ')}` : 'the image config'} differ in a second build without the cache`];
  for (const f of r.differingFiles ?? []) lines.push(`  layer ${f.layer}: ${f.path}: ${f.why}`);
  if (r.differingConfig?.length) lines.push(`  config: ${r.differingConfig.join(', ')} differ`);
  return lines.join('\n') + '\n' + sif;
}
