/**
 * Recipe steps placed before or after a named block or slot (xpmem must be built before the
 * MPICH that links it), without editing the shared block.
 */
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { MINI, miniCatalog } from '../helpers/fixture.ts';

const RECIPE = MINI['catalog/recipes/demo/1.0/recipe.yaml']!;
const withSteps = (steps: string): string => RECIPE.replace('entrypoint:', `steps:\n${steps}entrypoint:`);

function render(recipe: string) {
  const ws = Workspace.open(miniCatalog({ 'catalog/recipes/demo/1.0/recipe.yaml': recipe }));
  return { ws, r: ws.render(ws.recipe('demo'), ws.partitionsOf('box/cpu')[0]!) };
}

/** The origin of each run step, in order, with the first word of its script. */
const runs = (steps: readonly { op: { kind: string; script?: string }; origin: string }[]): string[] =>
  steps.filter((s) => s.op.kind === 'run').map((s) => `${s.origin}:${s.op.script!.split(/\s/)[0]}`);

describe('recipe steps around a block', () => {
  it('places steps before a slot, after a named block, and the rest at the end', () => {
    const { r } = render(
      withSteps(
        '  - {run: "echo xpmem-first", before: "@mpi"}\n  - {run: "echo tail"}\n  - {run: "echo after-probe", after: probe}\n',
      ),
    );
    const order = r.composition.steps.filter((s) => s.op.kind === 'run').map((s) => (s.op as { script: string }).script);
    const at = (text: string): number => order.findIndex((s) => s.includes(text));
    expect(at('echo xpmem-first')).toBeGreaterThanOrEqual(0);
    // Before every ompi step, after the cc block's; "after probe" follows probe's build; "tail" is last.
    const ompiFirst = r.composition.steps.findIndex((s) => s.origin === 'block:ompi');
    const xpmem = r.composition.steps.findIndex((s) => s.op.kind === 'run' && s.op.script.includes('xpmem-first'));
    expect(xpmem).toBeLessThan(ompiFirst);
    expect(r.composition.steps[xpmem - 1]?.origin).not.toBe('block:ompi');
    const probeLast = r.composition.steps.findLastIndex((s) => s.origin === 'block:probe');
    const after = r.composition.steps.findIndex((s) => s.op.kind === 'run' && s.op.script.includes('after-probe'));
    expect(after).toBe(probeLast + 1);
    expect(order.at(-1)).toBe('echo tail');
    expect(runs(r.composition.steps).length).toBe(order.length);
    // The rendered Containerfile keeps that order: the step comes before Open MPI's packages.
    const cf = r.files.containerfile;
    expect(cf.indexOf('echo xpmem-first')).toBeGreaterThan(0);
    expect(cf.indexOf('echo xpmem-first')).toBeLessThan(cf.indexOf('libopenmpi-dev'));
  });

  it('validate refuses a placement around a block the recipe does not have, at the step', () => {
    const root = miniCatalog({ 'catalog/recipes/demo/1.0/recipe.yaml': withSteps('  - {run: "echo x", before: nosuch}\n') });
    const found = Workspace.open(root).validate().diagnostics.filter((d) => d.rule === 'step-placement');
    expect(found.map((d) => [d.file, d.message])).toEqual([
      ['catalog/recipes/demo/1.0/recipe.yaml', 'step placed before nosuch, which is neither a block of this recipe nor in the catalogue (blocks: cc, @mpi, probe)'],
    ]);
  });

  it('a block may not place its own steps', () => {
    const block = MINI['catalog/blocks/probe/block.yaml']!.replace('  - run: mpicc', '  - before: cc\n    run: mpicc');
    const root = miniCatalog({ 'catalog/blocks/probe/block.yaml': block });
    const found = Workspace.open(root).validate().diagnostics.filter((d) => d.rule === 'step-placement');
    expect(found.map((d) => d.file)).toEqual(['catalog/blocks/probe/block.yaml']);
  });
});
