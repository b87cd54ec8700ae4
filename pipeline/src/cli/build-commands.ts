/** The commands that build and test on this machine: `build`, `smoke` and `run` (the main job). */
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import type { BuildRecord } from '../build/build.ts';
import { firstPartition } from './catalog-commands.ts';
import type { CommandContext } from './io.ts';
import { table } from './table.ts';
import { DEFAULT_STATE_DIR, defaultStateDir } from '../state/layout.ts';

/** `build`: one pair, with its SBOM and build record. */
export function registerBuild(program: Command, { io, open }: CommandContext): void {
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
}

/** `smoke`: an image's smoke tests on a partition. */
export function registerSmoke(program: Command, { io, open, setExit }: CommandContext): void {
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
      const where = spec.includes('/') || spec.endsWith('.json') ? firstPartition(ws, opts.system) : ws.pairOn(spec, opts.system);
      const image = await resolveImage(ws, spec, where, stateDir);
      const started = performance.now();
      const report = await smoke(ws, image, ws.pairAt(image.recipe, where), { stateDir, launcher: opts.launcher, onStage: (s, d) => io.err(`[${elapsed(started)}] ${s}: ${d}\n`) });
      if (opts.json) io.out(JSON.stringify(report, null, 2) + '\n');
      else io.out(smokeSummary(report));
      setExit(report.result === 'FAILED' ? 1 : 0);
    });
}

/** `run` (`demo`): the main job on embedded defaults. */
export function registerRun(program: Command, { io, open, setExit }: CommandContext): void {
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
      setExit(
        await runMainJob(ws, io, {
          outDir: resolve(ws.root, opts.out),
          json: opts.json === true,
          build: opts.build
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          renderOnly: opts.renderOnly === true,
        }),
      );
    });
}

function elapsed(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)}s`;
}

function reproducibleReport(r: BuildRecord['reproducible']): string {
  const sif = r.sif
    ? `SIF reproducible: ${r.sif.identical ? 'yes: the SIF made from the second image has the same bytes' : `no: the SIF made from the second image is sha256:${r.sif.second}`}\n`
    : '';
  if (r.identical) return 'reproducible: yes: a second build without the cache gave the same config and layers, bit for bit\n' + sif;
  const lines = [`reproducible: no: ${r.differingLayers?.length ? `layers ${r.differingLayers.join(', ')}` : 'the image config'} differ in a second build without the cache`];
  for (const f of r.differingFiles ?? []) lines.push(`  layer ${f.layer}: ${f.path}: ${f.why}`);
  if (r.differingConfig?.length) lines.push(`  config: ${r.differingConfig.join(', ')} differ`);
  return lines.join('\n') + '\n' + sif;
}
