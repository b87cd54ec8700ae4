/**
 * What real recipes say they need: GPU-aware MPI, and a network plugin for their collective
 * library on the fabric. A pair that cannot give it does not fit, with a reason to act on; a
 * site-injected plugin is switched on in the job script only for recipes that ask for it.
 */
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { checkFit } from '../../pipeline/src/check/fit.ts';
import type { ResolvedRecipe } from '../../pipeline/src/catalog/resolve.ts';
import type { RequiresDoc } from '../../pipeline/src/model/types.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot } from '../helpers/fixture.ts';

const ws = Workspace.open(repoRoot);
const base = ws.recipe('mpi-pingpong-gpu');
const needing = (extra: RequiresDoc): ResolvedRecipe => ({ ...base, doc: { ...base.doc, requires: { ...base.doc.requires, ...extra } } });

function fit(r: ResolvedRecipe, where: string) {
  const { system, partition } = ws.partitionsOf(where)[0]!;
  return checkFit(ws.catalog, r, system.doc, partition);
}

describe('requirements a system must meet', () => {
  it('GPU-aware MPI: Frontier offers it, LUMI too, a strategy without gpuAware does not', () => {
    const r = needing({ gpuAwareMpi: true });
    expect(fit(r, 'frontier/batch').fits).toBe(true);
    expect(fit(r, 'lumi/standard-g').fits).toBe(true);
    expect(fit(r, 'perlmutter/gpu').reasons).toEqual(['needs GPU-aware MPI; the host-injection strategy of perlmutter/gpu offers none']);
  });

  it('NCCL across nodes: a site plugin fits, a Slingshot partition without one is refused by name', () => {
    const r = needing({ gpu: { vendor: 'nvidia' }, collectives: ['nccl'] });
    expect(fit(r, 'perlmutter/gpu').fits).toBe(true);
    expect(fit(r, 'alps/normal').fits).toBe(true);
    // The nearest forgery: Perlmutter as it is, less its plugin.
    const { system, partition } = ws.partitionsOf('perlmutter/gpu')[0]!;
    const bare = { ...partition, gpu: { ...partition.gpu!, collectives: [] } };
    expect(checkFit(ws.catalog, r, { ...system.doc, partitions: [bare] }, bare).reasons).toEqual([
      'needs NCCL across nodes; perlmutter/gpu names no network plugin for NCCL on its slingshot-11 fabric (e.g. aws-ofi-nccl)',
    ]);
  });

  it('NCCL on InfiniBand needs no plugin: NCCL has its own verbs transport', () => {
    const r = needing({ gpu: { vendor: 'nvidia' }, collectives: ['nccl'] });
    expect(ws.catalog.systems.get('juwels-booster')!.doc.interconnect.type).toMatch(/^infiniband/);
    expect(fit(r, 'juwels-booster/booster').reasons).toEqual([]);
  });

  it('a recipe for both vendors names NCCL and RCCL; each is asked only of its vendor', () => {
    const r = needing({ gpu: { vendor: 'any' }, collectives: ['nccl', 'rccl'] });
    expect(fit(r, 'perlmutter/gpu').fits).toBe(true);
    // LUMI asks for RCCL's plugin in the image, not for NCCL's.
    expect(fit(r, 'lumi/standard-g').reasons).toEqual([
      'needs RCCL across nodes; on lumi/standard-g the image must carry aws-ofi-rccl, and no block of the recipe provides collective-plugin:rccl',
    ]);
    // A partition without a GPU gets the GPU reason, not one per collective library.
    expect(fit(r, 'lumi/standard').reasons).toEqual(['needs a GPU; lumi/standard has none']);
  });

  it('Frontier: OLCF has users build the RCCL plugin, so it must come from the image', () => {
    const r = needing({ gpu: { vendor: 'amd' }, collectives: ['rccl'] });
    expect(fit(r, 'frontier/batch').reasons).toEqual([
      'needs RCCL across nodes; on frontier/batch the image must carry aws-ofi-rccl, and no block of the recipe provides collective-plugin:rccl',
    ]);
  });

  it('RCCL on LUMI needs the plugin in the image: refused until a block provides it', () => {
    const r = needing({ gpu: { vendor: 'amd' }, collectives: ['rccl'] });
    expect(fit(r, 'lumi/standard-g').reasons).toEqual([
      'needs RCCL across nodes; on lumi/standard-g the image must carry aws-ofi-rccl, and no block of the recipe provides collective-plugin:rccl',
    ]);
  });

  it('the site plugin is switched on only for recipes that ask for it', () => {
    const where = ws.partitionsOf('perlmutter/gpu')[0]!;
    const plain = ws.render(ws.pairAt(base, where)).files.jobscript;
    expect(plain).not.toContain('--nccl');
    const withNccl = ws.render(ws.pairAt(needing({ gpu: { vendor: 'nvidia' }, collectives: ['nccl'] }), where)).files.jobscript;
    expect(withNccl.trimEnd().split('\n').at(-1)).toContain('podman-hpc run --rm --gpu --mpi --nccl ');
  });

  it('on Alps the AWS OFI hook becomes EDF annotations that parse as CSCS writes them', () => {
    const job = ws.render(ws.pairOn(needing({ gpu: { vendor: 'nvidia' }, collectives: ['nccl'] }), 'alps/normal')).files.jobscript;
    const lines = job.split('\n');
    const from = lines.indexOf('cat > "$EDF" <<BRICKYARD_EOF');
    const edf = lines
      .slice(from + 1, lines.indexOf('BRICKYARD_EOF', from))
      .join('\n')
      .replace('${IMAGE}', '/x.sqsh');
    const doc = parseToml(edf) as { annotations?: { com?: { hooks?: { aws_ofi_nccl?: Record<string, string> } } } };
    expect(doc.annotations?.com?.hooks?.aws_ofi_nccl).toEqual({ enabled: 'true', variant: 'cuda-dl' });
  });
});
