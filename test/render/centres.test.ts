/**
 * Job scripts for real centres, held to what each centre's documentation says the runtime does.
 * One test per render bug found in the trial of issue 10; the shell snippets are run by bash.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { MINI, miniCatalog, repoRoot } from '../helpers/fixture.ts';

const ws = Workspace.open(repoRoot);
const job = (recipe: string, where: string): string => ws.render(ws.pairOn(recipe, where)).files.jobscript;
const launchLine = (script: string): string => script.trimEnd().split('\n').at(-1)!;

/** Run a piece of a job script in bash and return what it prints. */
function bash(script: string, env: Record<string, string> = {}, cwd?: string): string {
  return execFileSync('bash', ['--norc', '--noprofile', '-euc', script], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, cwd });
}

describe('Perlmutter: podman-hpc --mpi runs only the command it is given', () => {
  it('passes the image entrypoint explicitly after the image', () => {
    const entry = ws.recipe('mpi-pingpong').doc.entrypoint!;
    const line = launchLine(job('mpi-pingpong', 'perlmutter/gpu'));
    expect(line).toContain('podman-hpc run --rm --mpi');
    // shared-run execs only the arguments: without the entrypoint the job would run just "$@".
    expect(line.endsWith(`"$IMAGE" ${entry.join(' ')} "$@"`)).toBe(true);
  });

  it('keeps plain podman on the image entrypoint (no doubled command)', () => {
    const w = Workspace.open(miniCatalog());
    const line = launchLine(w.render(w.pairOn('demo', 'box/cpu')).files.jobscript);
    expect(line.endsWith('"$IMAGE" "$@"')).toBe(true);
  });

  it('a commandOnly strategy on plain podman also gets the command', () => {
    const box = MINI['systems/box.yaml']!.replace('expectLibrary: Open MPI}', 'expectLibrary: Open MPI, commandOnly: true}');
    const w = Workspace.open(miniCatalog({ 'systems/box.yaml': box }));
    expect(launchLine(w.render(w.pairOn('demo', 'box/cpu')).files.jobscript)).toMatch(/"\$IMAGE" \/usr\/local\/bin\/probe "\$@"$/);
  });
});

describe('Alps: the EDF names the image file by an absolute path', () => {
  const script = job('mpi-pingpong', 'alps/normal');
  // The lines from IMAGE= up to the end of the EDF heredoc, then print the EDF.
  const lines = script.split('\n');
  const from = lines.findIndex((l) => l.startsWith('IMAGE='));
  const to = lines.indexOf('BRICKYARD_EOF', from);
  const snippet = [...lines.slice(from, to + 1), 'cat "$EDF"; rm -f "$EDF"'].join('\n');

  it('turns the default file name into $PWD/<file>', () => {
    const dir = mkdtempSync(join(tmpdir(), 'by-edf-'));
    const edf = bash(snippet, {}, dir);
    const image = /^image = "(.*)"$/m.exec(edf)?.[1];
    expect(image).toBe(join(dir, 'mpi-pingpong_1.0.0-2_alps-normal.sqsh'));
  });

  it('keeps absolute paths, ./ paths and registry references as given', () => {
    for (const given of ['/capstor/x.sqsh', './x.sqsh', 'nvcr.io#nvidia/pytorch:24.01-py3']) {
      const edf = bash(snippet, { BRICKYARD_IMAGE: given });
      expect(/^image = "(.*)"$/m.exec(edf)?.[1]).toBe(given);
    }
  });
});

describe('LUMI: singularity-bindings owns the container library path', () => {
  it('does not overwrite it with the old 24.03 stack paths', () => {
    const script = job('mpi-pingpong', 'lumi/standard-g');
    expect(script).toContain('module load singularity-bindings');
    expect(script).not.toMatch(/SINGULARITYENV_LD_LIBRARY_PATH=/);
    expect(script).not.toMatch(/8\.1\.29|1\.15\.2\.0|rocm-6\.0\.3|LUMI\/24\.03/);
  });

  it('a strategy library path is added to what a module set, never replacing it', () => {
    const box = MINI['systems/box.yaml']!.replace(
      'runtime: {type: podman, command: podman, flags: ["--network=host"]}',
      'runtime: {type: singularityce, command: singularity}',
    ).replace('expectLibrary: Open MPI}', 'expectLibrary: Open MPI, containerEnv: {LD_LIBRARY_PATH: /opt/extra/lib}}');
    const w = Workspace.open(miniCatalog({ 'systems/box.yaml': box }));
    const script = w.render(w.pairOn('demo', 'box/cpu')).files.jobscript;
    const line = script.split('\n').find((l) => l.startsWith('export SINGULARITYENV_LD_LIBRARY_PATH='));
    expect(line, script).toBeDefined();
    expect(bash(`${line}; echo "$SINGULARITYENV_LD_LIBRARY_PATH"`, { SINGULARITYENV_LD_LIBRARY_PATH: '/from/module' }).trim()).toBe('/opt/extra/lib:/from/module');
    expect(bash(`${line}; echo "$SINGULARITYENV_LD_LIBRARY_PATH"`).trim()).toBe('/opt/extra/lib');
  });
});

describe('Frontier: GPU-aware MPI only for recipes that use the GPU', () => {
  it('a CPU-only recipe gets no GTL preload, no MPICH_GPU_SUPPORT_ENABLED and no rocm module', () => {
    const script = job('mpi-pingpong', 'frontier/batch');
    expect(script).not.toMatch(/MPICH_GPU_SUPPORT_ENABLED|LD_PRELOAD|libmpi_gtl|module load rocm|--rocm/);
    expect(script).toContain('module load cray-mpich-abi/8.1.31');
  });

  it('the GPU recipe gets all of it, with --rocm', () => {
    const script = job('mpi-pingpong-gpu', 'frontier/batch');
    expect(script).toContain('export MPICH_GPU_SUPPORT_ENABLED="1"');
    expect(script).toContain('export APPTAINERENV_LD_PRELOAD="$CRAY_MPICH_ROOTDIR/gtl/lib/libmpi_gtl_hsa.so.0:"');
    expect(script).toContain('module load rocm/6.2.4');
    expect(launchLine(script)).toContain('apptainer exec --rocm ');
  });
});
