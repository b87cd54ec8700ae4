/**
 * docs/system-templates.md says what the job script does; these checks hold its claims against
 * what the engine renders for the shipped catalogue, so the page cannot drift from the code again
 * (issue 10: it showed the GPU recipe's job script as mpi-pingpong's, and disagreed on GPU settings
 * and on how podman-hpc runs the entrypoint).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot } from '../helpers/fixture.ts';

const ws = Workspace.open(repoRoot);
const page = readFileSync(join(repoRoot, 'docs', 'system-templates.md'), 'utf8');
const jobscript = (recipe: string, where: string): string => ws.render(ws.pairOn(recipe, where)).files.jobscript;

/** The first fenced block after `intro` in `text`, without its fences. */
function blockAfter(text: string, intro: string): string {
  const at = text.indexOf(intro);
  if (at < 0) throw new Error(`docs/system-templates.md no longer says "${intro}"`);
  const m = /^```[a-z]*\n([\s\S]*?)^```$/m.exec(text.slice(at));
  if (!m?.[1]) throw new Error(`no code block after "${intro}"`);
  return m[1];
}

/** The rendered job script from its first #SBATCH line on, as the page shows it. */
const fromHeader = (script: string): string => script.slice(script.indexOf('#SBATCH'));

const INTRO = 'The rendered job script for the GPU recipe `mpi-pingpong-gpu` on `lumi/standard-g`';

describe('docs/system-templates.md agrees with the renders', () => {
  it('the job script shown is what mpi-pingpong-gpu renders on lumi/standard-g, byte for byte', () => {
    expect(blockAfter(page, INTRO)).toBe(fromHeader(jobscript('mpi-pingpong-gpu', 'lumi/standard-g')));
  });

  it('a page that shows another recipe or a changed line is caught', () => {
    const cpuOnly = fromHeader(jobscript('mpi-pingpong', 'lumi/standard-g'));
    expect(blockAfter(page, INTRO)).not.toBe(cpuOnly);
    const forged = page.replace('export MPICH_GPU_SUPPORT_ENABLED="1"\n', '');
    expect(blockAfter(forged, INTRO)).not.toBe(fromHeader(jobscript('mpi-pingpong-gpu', 'lumi/standard-g')));
  });

  it('as the page says, the CPU-only mpi-pingpong on the same partition gets no GPU environment, no MPICH_GPU_SUPPORT_ENABLED, no GPU_SELECT', () => {
    expect(page).toContain('(the CPU-only `mpi-pingpong` on the same partition gets neither the GPU environment, nor\n`MPICH_GPU_SUPPORT_ENABLED`, nor the `GPU_SELECT` wrapper)');
    const cpu = jobscript('mpi-pingpong', 'lumi/standard-g');
    expect(cpu).not.toContain('MPICH_GPU_SUPPORT_ENABLED');
    expect(cpu).not.toContain('GPU_SELECT');
    expect(cpu).not.toContain('NCCL_SOCKET_IFNAME'); // the GPU's env on LUMI-G
    expect(jobscript('mpi-pingpong-gpu', 'lumi/standard-g')).toContain('export NCCL_SOCKET_IFNAME="hsn"\n');
  });

  it('as the page says, podman-hpc --mpi (commandOnly) gets the entrypoint written after the image; plain podman does not', () => {
    expect(page).toContain('the entrypoint is written explicitly: `… "$IMAGE" <entrypoint> "$@"`');
    const launch = (where: string): string => jobscript('mpi-pingpong', where).trimEnd().split('\n').at(-1) ?? '';
    expect(launch('perlmutter/gpu')).toMatch(/podman-hpc run .*--mpi .*"\$IMAGE" \/usr\/local\/bin\/brickyard-pingpong "\$@"$/);
    expect(launch('local/debug')).not.toContain('"$IMAGE" /usr/local/bin/brickyard-pingpong');
  });

  it('as the page says, the Container Engine gets an absolute image path ($PWD) for a bare *.sqsh name', () => {
    expect(page).toContain('a relative `*.sqsh` in `$IMAGE` is made absolute with `$PWD` first');
    expect(jobscript('mpi-pingpong', 'alps/normal')).toContain('  *.sqsh) IMAGE="$PWD/$IMAGE" ;;\n');
  });
});
