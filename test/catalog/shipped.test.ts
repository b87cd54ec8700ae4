/** The shipped catalogue and system templates: valid, real, and rendering what each system needs. */
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot } from '../helpers/fixture.ts';

const ws = Workspace.open(repoRoot);

describe('shipped catalogue', () => {
  it('validates with no errors', () => {
    const report = ws.validate();
    expect(report.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('has the systems, blocks and recipes the project promises', () => {
    expect([...ws.catalog.systems.keys()].sort()).toEqual(
      ['alps', 'frontier', 'fugaku', 'generic-rocky9', 'juwels-booster', 'leonardo', 'local', 'lumi', 'marenostrum5', 'perlmutter'].sort(),
    );
    expect(ws.partitionsOf('lumi').map((p) => p.partition.id)).toEqual(['standard-g', 'small-g', 'standard', 'small']);
    expect(ws.partitionsOf('perlmutter').map((p) => p.partition.id)).toEqual(['gpu', 'cpu']);
    for (const b of ['gcc', 'openmpi', 'mpich', 'libfabric', 'ucx', 'cuda', 'rocm', 'python', 'pingpong', 'gpu-query']) {
      expect(ws.catalog.blocks.has(b), b).toBe(true);
    }
    const names = new Set([...ws.recipes.values()].map((r) => r.doc.name));
    for (const r of ['mpi-pingpong', 'osu-micro-benchmarks', 'stream', 'pytorch-mpi', 'julia-mpi']) expect(names.has(r), r).toBe(true);
    expect([...ws.recipes.values()].some((r) => r.entry.doc.extends)).toBe(true);
  });

  it('every download in every block and recipe carries a sha256', () => {
    for (const { doc } of ws.catalog.blocks.values()) for (const s of doc.sources ?? []) expect(s.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const r of ws.recipes.values()) for (const s of r.sources) expect(s.item.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('every system fact has a source, and the real systems are production systems', () => {
    for (const { doc } of ws.catalog.systems.values()) {
      expect(Object.keys(doc.sources).length, doc.id).toBeGreaterThan(0);
      expect((doc.provenance ?? []).length, doc.id).toBeGreaterThan(0);
      expect(doc.production, doc.id).toBe(doc.id !== 'local');
    }
  });

  it('mpi-pingpong renders for LUMI with an MPICH-ABI MPI, host injection and LUMI binds', () => {
    const r = ws.render(ws.pairOn('mpi-pingpong', 'lumi/standard-g'));
    expect(r.composition.strategy?.id).toBe('host-injection');
    expect(r.composition.blocks.find((b) => b.slot === '@mpi')?.name).toBe('mpich');
    expect(r.files.containerfile).toContain('--with-device=');
    expect(r.files.containerfile).toMatch(/COPY sources\/[0-9a-f]{12}-mpich-3\.4\.3\.tar\.gz /);
    expect(r.files.jobscript).toContain('singularity exec');
    expect(r.files.jobscript).toMatch(/--bind "[^"]*\/opt\/cray[^"]*\/run\/cxi/);
    // singularity-bindings sets the container's library path; the job script leaves it alone.
    expect(r.files.jobscript).not.toContain('export SINGULARITYENV_LD_LIBRARY_PATH=');
    expect(r.files.jobscript).toContain('module load singularity-bindings');
    expect(r.files.jobscript).not.toContain('--mpi=');
  });

  it('mpi-pingpong renders for local with Debian Open MPI and srun --mpi=pmix, from apt only', () => {
    const r = ws.render(ws.pairOn('mpi-pingpong', 'local/debug'));
    expect(r.composition.strategy?.id).toBe('hybrid-pmix');
    expect(r.composition.sources).toEqual([]); // builds with only the distribution's repositories
    const [build, runtime] = r.files.containerfile.split(/^FROM .* AS runtime$/m);
    expect(build).toMatch(/apt-get install[^\n]*libopenmpi-dev/);
    expect(build).toMatch(/^FROM localhost\/brickyard\/base-debian-12:bookworm AS build$/m);
    // The image itself: Open MPI's library and launcher, the probe from the build stage, no toolchain.
    expect(runtime).toMatch(/apt-get install[^\n]*openmpi-bin libopenmpi3/);
    expect(runtime).toContain('COPY --from=build /usr/local/bin/brickyard-pingpong /usr/local/bin/brickyard-pingpong');
    expect(runtime).not.toMatch(/libopenmpi-dev|gfortran |g\+\+ /);
    expect(r.files.jobscript).toContain('--mpi=pmix podman run');
  });

  it('Fugaku gets a PJM job script and mpiexec', () => {
    const r = ws.render(ws.pairOn('mpi-pingpong', 'fugaku/small'));
    expect(r.files.jobscript).toMatch(/^#PJM -L node=2$/m);
    expect(r.files.jobscript).not.toContain('#SBATCH');
    expect(r.files.jobscript).toMatch(/^mpiexec -n 2 singularity exec /m);
  });

  it('GPU recipes get CUDA on NVIDIA partitions and ROCm on AMD ones, and explain where they do not fit', () => {
    const gpu = ws.recipe('mpi-pingpong-gpu');
    const lumi = ws.render(ws.pairOn(gpu, 'lumi/standard-g'));
    expect(lumi.composition.blocks.find((b) => b.slot === '@gpu')?.name).toBe('rocm');
    const pm = ws.render(ws.pairOn(gpu, 'perlmutter/gpu'));
    expect(pm.composition.blocks.find((b) => b.slot === '@gpu')?.name).toBe('cuda');
    const fits = ws.checkAll([gpu], ws.partitionsOf('local'));
    expect(fits[0]!.fits).toBe(false);
    expect(fits[0]!.reasons).toEqual(['needs a GPU; local/debug has none']);
  });

  it('validate and check of every pair stay well under a second', () => {
    const t = performance.now();
    const fresh = Workspace.open(repoRoot);
    fresh.validate();
    // Generous bound for a loaded 2-core CI machine; the benchmark gives the real figure.
    expect(performance.now() - t).toBeLessThan(3000);
  });
});
