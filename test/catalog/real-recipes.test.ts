/**
 * The real recipes re-expressed from centre documentation: CSCS's OSU/MPICH build with xpmem for
 * Alps, and PyTorch with the OFI plugin for NCCL/RCCL. What each pair renders, which pairs fit
 * and why the others do not, and that every download is pinned with the value cited.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFit } from '../../pipeline/src/check/fit.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot } from '../helpers/fixture.ts';

const ws = Workspace.open(repoRoot);
const FOUR = ['alps/normal', 'lumi/standard-g', 'lumi/standard', 'frontier/batch', 'perlmutter/gpu', 'perlmutter/cpu'];

function fits(recipe: string): Record<string, string[]> {
  const r = ws.recipe(recipe);
  return Object.fromEntries(
    FOUR.map((w) => {
      const { system, partition } = ws.partitionsOf(w)[0]!;
      return [w, checkFit(ws.catalog, r, system.doc, partition).reasons];
    }),
  );
}

describe('OSU micro-benchmarks with xpmem (CSCS recipe)', () => {
  const recipe = ws.recipe('osu-micro-benchmarks-xpmem');

  it('fits every CPU and GPU partition of the four Slingshot systems (CPU only, MPICH ABI)', () => {
    for (const [where, reasons] of Object.entries(fits('osu-micro-benchmarks-xpmem'))) expect(reasons, where).toEqual([]);
  });

  it('pins xpmem 2.6.3 and OSU 7.5.1 with the sha256 Spack lists', () => {
    expect(recipe.sources.map((s) => [s.item.name, s.item.sha256])).toEqual([
      ['xpmem', 'ee239a32269f33234cdbdb94db29c12287862934c0784328d34aff82a9fa8b54'],
      ['osu-micro-benchmarks', '160d0d5e3c3cb022520ecb247e9875bb0973b1d3cadccd6c17624f8407c52e22'],
    ]);
  });

  it('on Alps: libfabric, then xpmem, then MPICH --with-xpmem, and the image keeps its MPICH (the CXI hook swaps only libfabric and xpmem)', () => {
    const r = ws.render(ws.pairOn(recipe, 'alps/normal'));
    const mpich = r.composition.blocks.find((b) => b.slot === '@mpi')!;
    expect(mpich.name).toBe('mpich');
    expect(mpich.params).toMatchObject({ xpmem: true, device: 'ch4:ofi', prefix: '/opt/mpich' });
    const cf = r.files.containerfile;
    const at = (text: string): number => {
      const i = cf.indexOf(text);
      expect(i, text).toBeGreaterThan(0);
      return i;
    };
    expect(at('--with-libfabric=/opt/libfabric')).toBeGreaterThan(at('libfabric-1.22.0'));
    expect(at('/opt/xpmem/lib/libxpmem.so.0 lib/libxpmem.c')).toBeLessThan(at('block:mpich: run'));
    expect(cf).toContain('xpmem_flags=\\"--with-xpmem=/opt/xpmem\\"');
    const runtime = cf.split(/^FROM .* AS runtime$/m)[1]!;
    expect(runtime).toContain('COPY --from=build /opt/mpich/lib /opt/mpich/lib');
    expect(runtime).toContain('COPY --from=build /opt/xpmem /opt/xpmem');
    expect(r.files.jobscript).toContain('--mpi=pmi2 --environment="$EDF"');
  });

  it('on LUMI the host injects Cray MPICH: the image keeps no MPICH of its own, but xpmem and OSU', () => {
    const r = ws.render(ws.pairOn(recipe, 'lumi/standard'));
    expect(r.composition.strategy?.id).toBe('host-injection');
    const runtime = r.files.containerfile.split(/^FROM .* AS runtime$/m)[1]!;
    expect(runtime).not.toContain('libmpi');
    expect(runtime).toContain('COPY --from=build /opt/osu /opt/osu');
  });
});

describe('PyTorch with the OFI collective plugin', () => {
  it('2.7.1 fits the GPU partitions of LUMI, Frontier, Perlmutter and Alps; CPU partitions say why not', () => {
    expect(ws.recipe('pytorch-ofi').key).toBe('pytorch-ofi@2.7.1');
    expect(fits('pytorch-ofi@2.7.1')).toEqual({
      'alps/normal': [],
      'lumi/standard-g': [],
      'lumi/standard': ['needs a GPU; lumi/standard has none'],
      'frontier/batch': [],
      'perlmutter/gpu': [],
      'perlmutter/cpu': ['needs a GPU; perlmutter/cpu has none'],
    });
  });

  it('2.5.1 stays x86_64 only (no aarch64 CUDA wheels announced before 2.7): Alps says why not', () => {
    expect(fits('pytorch-ofi@2.5.1')['alps/normal']).toEqual(['needs x86_64; alps/normal is aarch64 (4x NVIDIA Grace 72-core (Arm Neoverse-V2))']);
  });

  it('2.7.1 takes the CUDA 12.8 wheel from the PyTorch index for both CPUs, and the ROCm 6.3 one for AMD', () => {
    const files = join(repoRoot, 'catalog', 'recipes', 'pytorch-mpi', '2.7.1', 'files');
    const cuda = readFileSync(join(files, 'requirements-cuda.txt'), 'utf8');
    expect(cuda).toMatch(/^--extra-index-url https:\/\/download\.pytorch\.org\/whl\/cu128$/m);
    expect(cuda).toMatch(/^torch==2\.7\.1\+cu128$/m);
    const rocm = readFileSync(join(files, 'requirements-rocm.txt'), 'utf8');
    expect(rocm).toMatch(/^--extra-index-url https:\/\/download\.pytorch\.org\/whl\/rocm6\.3$/m);
    expect(rocm).toMatch(/^torch==2\.7\.1\+rocm6\.3$/m);
    // Every requirement is pinned to one exact version.
    for (const line of [...cuda.split('\n'), ...rocm.split('\n')].filter((l) => /^[A-Za-z]/.test(l))) expect(line).toMatch(/^[A-Za-z0-9._-]+==[^=\s;]+(; .+)?$/);
    // A driver below the wheels' floor does not fit: CUDA 12 wheels need a CUDA 12 driver.
    const r = ws.recipe('pytorch-ofi@2.7.1');
    const { system, partition } = ws.partitionsOf('alps/normal')[0]!;
    const old = { ...partition, gpu: { ...partition.gpu!, driver: { cuda: '11.8' } } };
    expect(checkFit(ws.catalog, r, system.doc, old).reasons).toEqual([expect.stringMatching(/^needs CUDA >= 12\.0; the driver on alps\/normal supports CUDA <= 11\.8/)]);
  });

  it('without its plugin block it would not fit where the plugin must come from the image', () => {
    const r = ws.recipe('pytorch-ofi@2.7.1');
    const bare = { ...r, blocks: r.blocks.filter((b) => b.item.use !== 'aws-ofi-nccl') };
    for (const where of ['lumi/standard-g', 'frontier/batch']) {
      const { system, partition } = ws.partitionsOf(where)[0]!;
      expect(checkFit(ws.catalog, bare, system.doc, partition).reasons, where).toEqual([
        `needs RCCL across nodes; on ${where} the image must carry aws-ofi-rccl, and no block of the recipe provides collective-plugin:rccl`,
      ]);
    }
  });

  it('pins aws-ofi-nccl 1.18.0 with the sha256 Spack lists, and builds it for the toolkit in the image', () => {
    const block = ws.catalog.blocks.get('aws-ofi-nccl')!.doc;
    expect(block.sources?.map((s) => [s.url, s.sha256])).toEqual([
      ['https://github.com/aws/aws-ofi-nccl/archive/v1.18.0.tar.gz', '12fd67f05872600c485d74b8e3c3a640d063322371170f3a9c17d67a5a2ca681'],
    ]);
    const cf = ws.render(ws.pairOn('pytorch-ofi@2.7.1', 'lumi/standard-g')).files.containerfile;
    expect(cf).toContain('--with-rocm=');
    expect(cf.indexOf('block:aws-ofi-nccl: run')).toBeGreaterThan(cf.indexOf('block:rocm:'));
  });

  it('job scripts: one rank per GPU, Slurm binds it, the site plugin switched on where the site injects it', () => {
    const job = (where: string): string => ws.render(ws.pairOn('pytorch-ofi@2.7.1', where)).files.jobscript;
    const srun = (where: string): string => job(where).trimEnd().split('\n').at(-1)!;
    expect(srun('perlmutter/gpu')).toMatch(/^srun --nodes=2 --ntasks-per-node=4 --cpus-per-task=\d+ --gpus-per-task=1 --gpu-bind=closest podman-hpc run --rm --gpu --mpi --nccl /);
    expect(srun('lumi/standard-g')).toMatch(/^srun --nodes=2 --ntasks-per-node=8 --cpus-per-task=7 --gpus-per-task=1 --gpu-bind=closest singularity exec /);
    // OLCF's own PyTorch launch on Frontier: srun -N2 -n16 -c7 --gpus-per-task=1 --gpu-bind=closest.
    expect(srun('frontier/batch')).toMatch(/^srun --nodes=2 --ntasks-per-node=8 --cpus-per-task=7 --gpus-per-task=1 --gpu-bind=closest apptainer exec --rocm /);
    expect(job('frontier/batch')).toContain('#SBATCH --ntasks-per-node=8\n');
    // Alps: one rank per GH200, the Container Engine's AWS OFI hook switched on in the EDF.
    expect(srun('alps/normal')).toMatch(/^srun --nodes=2 --ntasks-per-node=4 --mpi=pmi2 --cpus-per-task=72 --gpus-per-task=1 --gpu-bind=closest --environment="\$EDF" /);
    expect(job('alps/normal')).toContain('com.hooks.aws_ofi_nccl.enabled = "true"\n');
  });
});
