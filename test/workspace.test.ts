import { describe, expect, it, vi } from 'vitest';
import { checkFit } from '../pipeline/src/check/fit.ts';
import { PairError, Workspace } from '../pipeline/src/workspace.ts';
import { MINI, miniCatalog } from './helpers/fixture.ts';

// The real checkFit, wrapped so each call is counted (vi.mock is hoisted above the imports): the
// pair is where a fit is computed. The unit project shares modules between files (isolate: false),
// so the registry is reset first: workspace.ts must be loaded afresh, against the wrapped fit.
vi.hoisted(() => {
  vi.resetModules();
});
vi.mock('../pipeline/src/check/fit.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../pipeline/src/check/fit.ts')>();
  return { ...real, checkFit: vi.fn(real.checkFit) };
});
const fitCalls = vi.mocked(checkFit);

/** The mini catalogue with a second system, box2, whose only partition is `big`. */
function twoSystems(): Workspace {
  const box2 = (MINI['systems/box.yaml'] ?? '').replace('id: box', 'id: box2').replace('name: Box', 'name: Box 2').replace('- id: cpu', '- id: big');
  return Workspace.open(miniCatalog({ 'systems/box2.yaml': box2 }));
}

/** The error a call throws, for its fields. */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('Workspace.pair', () => {
  it('the same ids give the same Pair object, however they are asked for', () => {
    const ws = twoSystems();
    const p = ws.pair('demo', 'box', 'cpu');
    expect(p.key).toBe('demo@1.0:box/cpu');
    expect(p.recipe).toBe(ws.recipe('demo'));
    expect(p.system).toBe(ws.catalog.systems.get('box'));
    expect(p.fit).toMatchObject({ recipe: 'demo@1.0', system: 'box', partition: 'cpu', fits: true });
    expect(ws.pair('demo@1.0', 'box', 'cpu')).toBe(p);
    expect(ws.pair(ws.recipe('demo'), 'box', 'cpu')).toBe(p);
    expect(ws.pair('demo', 'box')).toBe(p); // the first partition it fits
    expect(ws.pairOn('demo', 'box/cpu')).toBe(p);
    const [box] = ws.partitionsOf('box/cpu');
    expect(box && ws.pairAt('demo', box)).toBe(p);
    expect(ws.pairs().filter((q) => q.key === p.key)).toEqual([p]);
    expect(ws.pairs().find((q) => q.key === p.key)).toBe(p);
    expect(Object.isFrozen(p)).toBe(true);
    // Shared, so not to be changed by one holder for the others.
    expect(Object.isFrozen(p.fit) && Object.isFrozen(p.fit.reasons)).toBe(true);
    // Another checkout is another workspace: its own pairs.
    expect(twoSystems().pair('demo', 'box', 'cpu')).not.toBe(p);
  });

  it('computes the fit once per pair: validate, check, policies, render and every caller share it', () => {
    const ws = twoSystems();
    fitCalls.mockClear();
    const pairs = ws.pairs();
    expect(pairs.map((p) => p.key)).toEqual(['demo@1.0:box/cpu', 'demo@1.0:box2/big']);
    expect(fitCalls).toHaveBeenCalledTimes(2);
    const report = ws.validate();
    const fits = ws.checkAll();
    ws.policyReport('next');
    const p = ws.pair('demo', 'box', 'cpu');
    ws.render(p);
    ws.render(ws.pair('demo', 'box2', 'big'));
    expect(fitCalls).toHaveBeenCalledTimes(2);
    // The very same fit objects, not equal copies.
    expect(report.fits[0]).toBe(p.fit);
    expect(fits[0]).toBe(p.fit);
    expect(fits[1]).toBe(pairs[1]?.fit);
  });

  it('refuses unknown ids with a typed error naming the id and what exists', () => {
    const ws = twoSystems();
    const recipe = thrown(() => ws.pair('nope', 'box', 'cpu'));
    expect(recipe).toBeInstanceOf(PairError);
    expect(recipe).toMatchObject({ code: 'RECIPE_NOT_FOUND', which: 'recipe', id: 'nope', hint: 'known recipes: demo' });
    const system = thrown(() => ws.pair('demo', 'nowhere', 'cpu'));
    expect(system).toMatchObject({ code: 'SYSTEM_NOT_FOUND', which: 'system', id: 'nowhere', message: 'no system nowhere', hint: 'known systems: box, box2' });
    const partition = thrown(() => ws.pair('demo', 'box', 'gpu'));
    expect(partition).toMatchObject({ code: 'PARTITION_NOT_FOUND', which: 'partition', id: 'gpu', message: 'system box has no partition gpu', hint: 'its partitions: cpu' });
    expect(() => ws.pairOn('demo', 'nowhere/cpu')).toThrow(PairError);
  });

  it('refuses a partition of another system (the nearest forgery), by id and by object', () => {
    const ws = twoSystems();
    expect(ws.pair('demo', 'box2', 'big').fit.fits).toBe(true);
    expect(thrown(() => ws.pair('demo', 'box', 'big'))).toMatchObject({ code: 'PARTITION_NOT_FOUND', which: 'partition', id: 'big', message: 'system box has no partition big' });
    const box = ws.catalog.systems.get('box');
    const big = ws.pair('demo', 'box2', 'big').partition;
    expect(box).toBeDefined();
    if (!box) return;
    // box's own entry with box2's partition: refused, not paired under either system.
    expect(thrown(() => ws.pairAt('demo', { system: box, partition: big }))).toMatchObject({ code: 'PARTITION_NOT_FOUND', id: 'big' });
    // box's partition changed by hand, under its own id: not the catalogue's, so refused too.
    const cpu = ws.pair('demo', 'box', 'cpu').partition;
    expect(thrown(() => ws.pairAt('demo', { system: box, partition: { ...cpu, cpu: { ...cpu.cpu, arch: 'aarch64' } } }))).toMatchObject({ code: 'USAGE', which: 'partition' });
  });

  it('renders only pairs it made: a hand-built pair claiming to fit is refused', () => {
    const ws = twoSystems();
    const p = ws.pair('demo', 'box', 'cpu');
    const forged = { ...p, fit: { ...p.fit, reasons: [] } };
    expect(() => ws.render(forged)).toThrow(/pair demo@1\.0:box\/cpu was not made by this workspace/);
    expect(() => twoSystems().render(p)).toThrow(/was not made by this workspace/);
    expect(ws.render(p).files.containerfile).toContain('FROM');
  });

  it('a variant is a pair of its own, fitted once, on the same partition id', () => {
    const ws = twoSystems();
    const p = ws.pair('demo', 'box', 'cpu');
    fitCalls.mockClear();
    const arm = { ...p.partition, cpu: { ...p.partition.cpu, arch: 'aarch64' as const } };
    const v = ws.variant(p, 'arch=aarch64', arm);
    expect(v).toMatchObject({ key: 'demo@1.0:box/cpu+arch=aarch64', variant: 'arch=aarch64', recipe: p.recipe, system: p.system, partition: arm });
    expect(v.fit.fits).toBe(false);
    expect(v.fit.reasons).toEqual(['needs x86_64; box/cpu is aarch64 (Test CPU)']);
    expect(ws.variant(p, 'arch=aarch64', { ...arm })).toBe(v);
    expect(fitCalls).toHaveBeenCalledTimes(1);
    expect(() => ws.render(v)).toThrow(/does not fit box\/cpu/);
    // The same label for another partition, another partition id, or a base it did not make: refused.
    expect(() => ws.variant(p, 'arch=aarch64', p.partition)).toThrow(/already made with a different partition/);
    expect(thrown(() => ws.variant(p, 'renamed', { ...p.partition, id: 'big' }))).toMatchObject({ code: 'USAGE', which: 'partition', id: 'big' });
    expect(() => ws.variant({ ...p }, 'x', p.partition)).toThrow(/not made by this workspace/);
  });
});
