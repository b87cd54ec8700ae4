/**
 * `check` says when the template fact a fit depends on is unverified or over a year old.
 */
import { describe, expect, it } from 'vitest';
import { checkFit } from '../../pipeline/src/check/fit.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { MINI, miniCatalog, repoRoot } from '../helpers/fixture.ts';

const BOX = MINI['systems/box.yaml']!;
const TODAY = new Date('2026-12-03T00:00:00Z');

function fitWith(box: string, today = TODAY) {
  const ws = Workspace.open(miniCatalog({ 'systems/box.yaml': box }));
  const system = ws.catalog.systems.get('box')!.doc;
  return checkFit(ws.catalog, ws.recipe('demo'), system, system.partitions[0]!, today);
}

const withMpiSource = (extra = ''): string =>
  BOX.replace('  - {path: /partitions/0/cpu, sources: [me]}', `  - {path: /partitions/0/cpu, sources: [me]}\n  - {path: /partitions/0/mpi, sources: [me]${extra}}`);

describe('doubts about deciding facts', () => {
  it('a strategy without provenance has no source', () => {
    const fit = fitWith(BOX);
    expect(fit.fits).toBe(true);
    expect(fit.doubts).toEqual(['MPI strategy hybrid-pmix has no source (systems/box.yaml /partitions/0/mpi/strategies/0)']);
  });

  it('a sourced strategy under a year old raises none; the same a year and a half later does', () => {
    expect(fitWith(withMpiSource()).doubts).toEqual([]);
    expect(fitWith(withMpiSource(), new Date('2027-06-01T00:00:00Z')).doubts).toEqual([
      'MPI strategy hybrid-pmix was last confirmed 2026-01-01, over a year ago (systems/box.yaml /partitions/0/mpi/strategies/0)',
    ]);
  });

  it('the most specific provenance entry decides: unverified below a verified parent', () => {
    const box = withMpiSource().replace(
      '  - {path: /partitions/0/mpi, sources: [me]}',
      '  - {path: /partitions/0/mpi, sources: [me]}\n  - {path: /partitions/0/mpi/strategies/0, unverified: true}',
    );
    expect(fitWith(box).doubts).toEqual(['MPI strategy hybrid-pmix is unverified (systems/box.yaml /partitions/0/mpi/strategies/0)']);
  });

  it('a refused driver floor says when the driver level itself is a guess', () => {
    const ws = Workspace.open(repoRoot);
    const system = ws.catalog.systems.get('perlmutter')!.doc;
    const recipe = ws.recipe('mpi-pingpong-gpu');
    const demanding = { ...recipe, doc: { ...recipe.doc, requires: { ...recipe.doc.requires, gpu: { vendor: 'nvidia' as const, minCuda: '12.8' } } } };
    const fit = checkFit(ws.catalog, demanding, system, system.partitions[0]!, TODAY);
    expect(fit.fits).toBe(false);
    expect(fit.reasons[0]).toBe(
      'needs CUDA >= 12.8; the driver on perlmutter/gpu supports CUDA <= 12.4 [the driver level (CUDA 12.4) is unverified (systems/perlmutter.yaml /partitions/0/gpu/driver)]',
    );
    // Alps' driver level is sourced (CSCS, 2026): no doubt there.
    const alps = ws.catalog.systems.get('alps')!.doc;
    expect(checkFit(ws.catalog, recipe, alps, alps.partitions[0]!, TODAY).doubts).toEqual([]);
  });
});
