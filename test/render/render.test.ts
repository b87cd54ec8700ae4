import { describe, expect, it } from 'vitest';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { MINI, miniCatalog } from '../helpers/fixture.ts';

function renderDemo(overrides: Record<string, string> = {}) {
  const ws = Workspace.open(miniCatalog(overrides));
  return ws.render(ws.pairOn('demo', 'box/cpu'));
}

/** The step markers of a rendered file, in order. */
const markers = (text: string): string[] => text.split('\n').filter((l) => /^# \[\d+\/\d+\] /.test(l));

describe('render', () => {
  it('fills the @mpi slot with the strategy block and its parameters', () => {
    const r = renderDemo();
    const c = r.composition;
    expect(c.blocks.map((b) => `${b.name}${b.slot ? `(${b.slot})` : ''}`)).toEqual(['cc', 'ompi(@mpi)', 'probe']);
    expect(c.blocks[1]!.params).toEqual({ method: 'distro', version: '4.1.6' });
    // method: distro keeps the distro step and drops the source build.
    expect(r.files.containerfile).toContain('apt-get install -y --no-install-recommends libopenmpi-dev');
    expect(r.files.containerfile).not.toContain('ompi.tar.bz2');
    expect(r.files.containerfile).toContain('RUN set -eu; mpicc -O2 -march=x86-64-v2 -o /usr/local/bin/probe /opt/probe/probe.c');
    expect(r.files.containerfile).toContain('COPY blocks/probe/files/probe.c /opt/probe/probe.c');
    expect(r.files.containerfile).toMatch(/^FROM docker\.io\/library\/debian:12@sha256:a{64}$/m);
    expect(r.files.containerfile).toContain('ENTRYPOINT ["/usr/local/bin/probe"]');
    expect(r.files.containerfile).toContain('"dev.brickyard.system"="box/cpu"');
  });

  it('renders a source build with its pinned download, checked in the image', () => {
    const box = MINI['systems/box.yaml']!.replace('with: {method: distro}', 'with: {method: source, version: "5.0.5"}');
    const r = renderDemo({ 'systems/box.yaml': box });
    const cf = r.files.containerfile;
    expect(cf).toContain(`COPY sources/222222222222-openmpi-5.0.5.tar.bz2 /tmp/ompi.tar.bz2`);
    expect(cf).toContain(`RUN set -eu; echo "${'2'.repeat(64)}  /tmp/ompi.tar.bz2" | sha256sum -c -`);
    // A multi-line script keeps its lines: exec form with the script as one argument.
    expect(cf).toContain(
      'RUN ["/bin/sh", "-euc", "cd /tmp && tar xf ompi.tar.bz2\\ncd openmpi-5.0.5 && ./configure CFLAGS=\\"-O2 -march=x86-64-v2\\" --prefix=/opt/ompi && make install\\n"]',
    );
    expect(cf).toContain('ENV PATH="/opt/ompi/bin:$PATH"');
    const lock = JSON.parse(r.files.lock);
    expect(lock.sources).toEqual([
      {
        name: 'tarball',
        url: 'https://example.org/openmpi-5.0.5.tar.bz2',
        sha256: '2'.repeat(64),
        contextPath: 'sources/222222222222-openmpi-5.0.5.tar.bz2',
        origin: 'block:ompi',
      },
    ]);
  });

  it('Containerfile and Apptainer definition carry the same steps in the same order', () => {
    const box = MINI['systems/box.yaml']!.replace('with: {method: distro}', 'with: {method: source}');
    const r = renderDemo({ 'systems/box.yaml': box });
    const a = markers(r.files.containerfile);
    expect(a.length).toBe(r.composition.steps.length);
    expect(markers(r.files.apptainer)).toEqual(a);
    // Every build script appears verbatim in both.
    for (const s of r.composition.steps) {
      if (s.op.kind === 'run') expect(r.files.apptainer).toContain(s.op.script);
    }
    expect(r.files.apptainer).toMatch(/^Bootstrap: docker\nFrom: docker\.io\/library\/debian:12@sha256:a{64}$/m);
    expect(r.files.apptainer).toContain('%files\n    sources/111111111111-openmpi-4.1.6.tar.bz2 /tmp/ompi.tar.bz2\n    blocks/probe/files/probe.c /opt/probe/probe.c\n');
    expect(r.files.apptainer).toContain('export PATH="/opt/ompi/bin:$PATH"');
    expect(r.files.apptainer).toContain('%runscript\nexec /usr/local/bin/probe "$@"');
  });

  it('is byte-identical for the same inputs, and the lock changes with any input', () => {
    const a = renderDemo();
    const b = renderDemo();
    expect(b.files).toEqual(a.files);
    const c = renderDemo({ 'catalog/blocks/probe/files/probe.c': 'int main(void) { return 1; }\n' });
    expect(c.files.containerfile).toEqual(a.files.containerfile);
    expect(JSON.parse(c.files.lock).lockDigest).not.toEqual(JSON.parse(a.files.lock).lockDigest);
  });

  it('writes a job script with directives, the strategy environment and the launcher', () => {
    const box = MINI['systems/box.yaml']!.replace('expectLibrary: Open MPI}', 'expectLibrary: Open MPI, containerEnv: {OMPI_MCA_btl: "^openib"}, binds: ["/run/munge"]}');
    const job = renderDemo({ 'systems/box.yaml': box }).files.jobscript;
    expect(job.startsWith('#!/bin/bash\n')).toBe(true);
    expect(job).toContain('#SBATCH --nodes=1\n#SBATCH --ntasks-per-node=2\n#SBATCH --partition=cpu');
    expect(job).toContain('IMAGE="${BRICKYARD_IMAGE:-localhost/brickyard/demo:1.0-1-box-cpu}"');
    expect(job).toContain('srun --nodes=1 --ntasks-per-node=2 --mpi=pmix podman run --rm --network=host -v "/run/munge:/run/munge" -e "OMPI_MCA_btl=^openib" "$IMAGE" "$@"');
  });

  it('refuses a pair that does not fit, with the reasons', () => {
    const ws = Workspace.open(miniCatalog({ 'catalog/recipes/demo/1.0/recipe.yaml': MINI['catalog/recipes/demo/1.0/recipe.yaml']!.replace('[x86_64]', '[aarch64]') }));
    expect(() => ws.render(ws.pairOn('demo', 'box/cpu'))).toThrow(/demo@1\.0 does not fit box\/cpu:\n {2}- needs aarch64; box\/cpu is x86_64/);
  });

  it('says which block lacks packages for the base', () => {
    const bases = MINI['catalog/bases.yaml']!.replace('packageManager: apt', 'packageManager: zypper');
    expect(() => renderDemo({ 'catalog/bases.yaml': bases })).toThrow(/block:cc: has no zypper packages for base debian-12/);
  });

  it('splits binds before filling in {project}, and gives CPU-only recipes no GPU settings', () => {
    const box = MINI['systems/box.yaml']!.replace('expectLibrary: Open MPI}', 'expectLibrary: Open MPI, binds: ["/scratch/{project}", "/opt/site:/site"]}').replace(
      '    runtime: {type: podman',
      '    gpu: {vendor: nvidia, model: A100, count: 4, arch: sm_80, driver: {cuda: "12.4"}, toolkit: {block: cc}, runtimeFlags: ["--gpus=all"], visibilityEnv: CUDA_VISIBLE_DEVICES, env: {NCCL_DEBUG: WARN}, selectWrapper: "export CUDA_VISIBLE_DEVICES=$SLURM_LOCALID"}\n    runtime: {type: podman',
    );
    const job = renderDemo({ 'systems/box.yaml': box }).files.jobscript;
    expect(job).toContain('-v "/scratch/${PROJECT:?set PROJECT to your project id}:/scratch/${PROJECT:?set PROJECT to your project id}" -v "/opt/site:/site"');
    expect(job).not.toContain('--gpus=all');
    expect(job).not.toContain('NCCL_DEBUG');
    expect(job).not.toContain('GPU_SELECT');
  });
});
