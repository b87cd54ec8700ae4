/**
 * The catalogue commands: `validate`, `check`, `render`, and the listings (`systems`, `recipes`,
 * `blocks`, `rules`). Each loads what it needs when it runs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { FILE_NAMES, FORMATS, type Format } from '../render/formats.ts';
import type { Rendered } from '../render/index.ts';
import { BrickyardError } from '../util/errors.ts';
import type { PartitionRef, ValidationReport, Workspace } from '../workspace.ts';
import type { CommandContext, Io } from './io.ts';
import { table } from './table.ts';
import { defaultStateDir } from '../state/layout.ts';

/** `validate`: schemas, references, lint rules, optionally versioning and image policies. */
export function registerValidate(program: Command, { io, rootOf, setExit }: CommandContext): void {
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
      setExit(report.errors > 0 ? 1 : 0);
    });
}

/** `check`: which pairs fit, and why not. */
export function registerCheck(program: Command, { io, open, setExit }: CommandContext): void {
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
      setExit(spec && opts.system && fits.every((f) => !f.fits) ? 1 : 0);
    });
}

/** `render`: the outputs of one recipe for its partitions, printed or written. */
export function registerRender(program: Command, { io, open }: CommandContext): void {
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
}

/** `systems list` and `systems show`. */
export function registerSystems(program: Command, { io, open }: CommandContext): void {
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
      io.out(JSON.stringify(firstPartition(ws, id).system.doc, null, 2) + '\n');
    });
}

/** `recipes`, `blocks` and `rules`. */
export function registerCatalogLists(program: Command, { io, open }: CommandContext): void {
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

/** The first partition `spec` names (a system's first, or the one given); unknown names are refused by partitionsOf. */
export function firstPartition(ws: Workspace, spec: string): PartitionRef {
  const [first] = ws.partitionsOf(spec);
  if (!first) throw new BrickyardError('PARTITION_NOT_FOUND', `system ${spec} has no partitions`, { hint: 'give the system template at least one partition' });
  return first;
}
