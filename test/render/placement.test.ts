/**
 * Recipe steps placed before or after a named block or slot (xpmem must be built before the
 * MPICH that links it), without editing the shared block.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { copyOfShipped, MINI, miniCatalog } from '../helpers/fixture.ts';

const RECIPE = MINI['catalog/recipes/demo/1.0/recipe.yaml']!;
const withSteps = (steps: string): string => RECIPE.replace('entrypoint:', `steps:\n${steps}entrypoint:`);

function render(recipe: string) {
  const ws = Workspace.open(miniCatalog({ 'catalog/recipes/demo/1.0/recipe.yaml': recipe }));
  return { ws, r: ws.render(ws.pairOn('demo', 'box/cpu')) };
}

/** The origin of each run step, in order, with the first word of its script. */
const runs = (steps: readonly { op: { kind: string; script?: string }; origin: string }[]): string[] =>
  steps.filter((s) => s.op.kind === 'run').map((s) => `${s.origin}:${s.op.script!.split(/\s/)[0]}`);

describe('recipe steps around a block', () => {
  it('places steps before a slot, after a named block, and the rest at the end', () => {
    const { r } = render(withSteps('  - {run: "echo xpmem-first", before: "@mpi"}\n  - {run: "echo tail"}\n  - {run: "echo after-probe", after: probe}\n'));
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
    const found = Workspace.open(root)
      .validate()
      .diagnostics.filter((d) => d.rule === 'step-placement');
    expect(found.map((d) => [d.file, d.message])).toEqual([
      ['catalog/recipes/demo/1.0/recipe.yaml', 'step placed before nosuch, which is neither a block of this recipe nor in the catalogue (blocks: cc, @mpi, probe)'],
    ]);
  });

  it('a block may not place its own steps', () => {
    const block = MINI['catalog/blocks/probe/block.yaml']!.replace('  - run: mpicc', '  - before: cc\n    run: mpicc');
    const root = miniCatalog({ 'catalog/blocks/probe/block.yaml': block });
    const found = Workspace.open(root)
      .validate()
      .diagnostics.filter((d) => d.rule === 'step-placement');
    expect(found.map((d) => d.file)).toEqual(['catalog/blocks/probe/block.yaml']);
  });
});

describe('block parameters from the recipe, without editing the shared block', () => {
  it('OSU on Alps asks the @mpi slot for xpmem and installs xpmem before MPICH', () => {
    const root = copyOfShipped();
    const path = join(root, 'catalog/recipes/osu-micro-benchmarks/7.4/recipe.yaml');
    const text = readFileSync(path, 'utf8')
      .replace('  - use: "@mpi"\n', '  - use: "@mpi"\n    with: {xpmem: true}\n')
      .replace('steps:\n', 'steps:\n  - comment: xpmem user library for MPICH\n    before: "@mpi"\n    run: echo install-xpmem-into-/opt/xpmem\n')
      // xpmem is an MPICH parameter: the recipe then needs an MPICH-ABI system (Open MPI blocks refuse it).
      .replace('  mpi: any\n', '  mpi: mpich\n');
    writeFileSync(path, text);
    const ws = Workspace.open(root);
    expect(ws.validate().errors).toBe(0);
    const r = ws.render(ws.pairOn('osu-micro-benchmarks', 'alps/normal'));
    const mpich = r.composition.blocks.find((b) => b.slot === '@mpi')!;
    // The system's strategy still sets method, version and device; the recipe adds xpmem.
    expect(mpich.params).toMatchObject({ method: 'source', version: '4.1.2', device: 'ch4:ofi', xpmem: true });
    const cf = r.files.containerfile;
    expect(cf).toContain('if [ \\"true\\" = true ]; then');
    expect(cf).toContain('--with-xpmem=/opt/xpmem');
    expect(cf.indexOf('install-xpmem-into-/opt/xpmem')).toBeLessThan(cf.indexOf('mpich-4.1.2'));
    // The shared block on disk is unchanged by the recipe: other recipes build without xpmem.
    const plain = ws.render(ws.pairOn('mpi-pingpong', 'alps/normal'));
    expect(plain.composition.blocks.find((b) => b.slot === '@mpi')!.params['xpmem']).toBe(false);
  });
});
