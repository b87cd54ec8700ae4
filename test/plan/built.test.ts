import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  batchIndices,
  budgetVerdict,
  buildCost,
  builtEntry,
  recordBuilds,
  lockPairs,
  MAX_INDEX_BYTES,
  pairsToBuild,
  parseBuiltIndex,
  parseLabels,
  readBudgetConfig,
  readBuiltIndex,
  selectBuilds,
  type BuiltEntry,
  type BuiltIndex,
  type LockedPair,
} from '../../pipeline/src/plan/built.ts';
import type { PlannedPair } from '../../pipeline/src/plan/plan.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { MINI, miniCatalog, tempDir } from '../helpers/fixture.ts';

const d = (c: string): string => `sha256:${c.repeat(64)}`;
const IMAGE = d('e');

function pair(recipe: string, partition: string, lockDigest: string | null): LockedPair {
  const [name, version] = recipe.split('@') as [string, string];
  return { recipe, name, version, system: 'local', partition, arch: 'x86_64', runner: ['ubuntu-24.04'], strategy: null, because: ['block x changed'], lockDigest };
}

function entry(p: LockedPair, over: Partial<BuiltEntry> = {}): BuiltEntry {
  return { lockDigest: p.lockDigest!, recipe: p.recipe, system: p.system, partition: p.partition, image: IMAGE, smoke: 'passed', where: `ghcr.io/o/r@${IMAGE}`, ...over };
}

function index(...entries: [string, BuiltEntry][]): BuiltIndex {
  return { kind: 'brickyard-built-index', version: 1, builds: Object.fromEntries(entries) };
}

const A = pair('demo@1.0', 'cpu', d('a'));
const B = pair('demo@1.0', 'gpu', d('b'));
const C = pair('other@2.0', 'cpu', d('c'));

describe('pairsToBuild', () => {
  it('skips exactly the pairs whose lock digest has a build with a passing smoke test', () => {
    const sel = pairsToBuild([A, B, C], index([A.lockDigest!, entry(A)], [C.lockDigest!, entry(C)]));
    expect(sel.build.map((p) => p.partition + ' ' + p.recipe)).toEqual(['gpu demo@1.0']);
    expect(sel.reused.map((r) => r.pair.recipe + '/' + r.pair.partition)).toEqual(['demo@1.0/cpu', 'other@2.0/cpu']);
    expect(sel.reused[0]!.entry.where).toBe(`ghcr.io/o/r@${IMAGE}`);
  });

  it('rebuilds a pair whose smoke test failed or did not run', () => {
    expect(pairsToBuild([A], index([A.lockDigest!, entry(A, { smoke: 'failed' })])).build).toEqual([A]);
    expect(pairsToBuild([A], index([A.lockDigest!, entry(A, { smoke: 'not-run' })])).build).toEqual([A]);
  });

  it('rebuilds when the lock digest changed (a new input: nothing matches)', () => {
    const changed = { ...A, lockDigest: d('f') };
    expect(pairsToBuild([changed], index([A.lockDigest!, entry(A)])).build).toEqual([changed]);
  });

  it('rebuilds when the entry is filed under the pair\u2019s digest but says another lock (a forged or mis-filed entry)', () => {
    const forged = entry(A, { lockDigest: d('9') });
    expect(pairsToBuild([A], index([A.lockDigest!, forged])).build).toEqual([A]);
  });

  it('rebuilds when the entry under the digest is for another pair', () => {
    expect(pairsToBuild([A], index([A.lockDigest!, entry(A, { partition: 'gpu' })])).build).toEqual([A]);
    expect(pairsToBuild([A], index([A.lockDigest!, entry(A, { recipe: 'demo@1.1' })])).build).toEqual([A]);
  });

  it('builds everything without an index, and a pair with no lock rendered', () => {
    expect(pairsToBuild([A, B], undefined).build).toEqual([A, B]);
    const unlocked = pair('demo@1.0', 'cpu', null);
    expect(pairsToBuild([unlocked], index([A.lockDigest!, entry(A)])).build).toEqual([unlocked]);
  });

  it('an inherited key (__proto__, constructor) is never an entry', () => {
    const p = { ...A, lockDigest: 'constructor' };
    expect(pairsToBuild([p], index()).build).toEqual([p]);
  });
});

describe('parseBuiltIndex (the index comes from a release asset: hostile input)', () => {
  const good = JSON.stringify(index([A.lockDigest!, entry(A)]));
  const refuse = (text: string): string => {
    try {
      parseBuiltIndex(text, 'built-index.json');
    } catch (e) {
      expect(e).toBeInstanceOf(BrickyardError);
      expect((e as BrickyardError).code).toBe('FILE_UNREADABLE');
      return (e as Error).message;
    }
    throw new Error('accepted');
  };

  it('reads a valid index', () => {
    const ix = parseBuiltIndex(good, 'built-index.json');
    expect(ix.builds[A.lockDigest!]?.image).toBe(IMAGE);
  });

  it('refuses what is not JSON, naming the file', () => {
    expect(refuse('{"kind": "brickyard-built-index",')).toMatch(/^built-index\.json is not valid JSON/);
  });

  it('refuses another kind, another version, and extra fields', () => {
    expect(refuse(good.replace('brickyard-built-index', 'brickyard-plan'))).toMatch(/not a brickyard built index/);
    expect(refuse(good.replace('"version":1', '"version":2'))).toMatch(/version/);
    expect(refuse(good.replace('"smoke":"passed"', '"smoke":"passed","trusted":true'))).toMatch(/additional/);
  });

  it('refuses keys that are not lock digests (__proto__, tags, short digests)', () => {
    for (const key of ['__proto__', 'latest', 'sha256:abc', `sha256:${'A'.repeat(64)}`]) {
      const text = JSON.stringify({ kind: 'brickyard-built-index', version: 1, builds: { [key]: entry(A) } });
      expect(refuse(text)).toMatch(/builds|property name/);
    }
  });

  it('refuses a smoke verdict or an image that is not one of ours', () => {
    expect(refuse(good.replace('"smoke":"passed"', '"smoke":"PASSED"'))).toMatch(/smoke/);
    expect(refuse(good.replace(`"image":"${IMAGE}"`, '"image":"latest"'))).toMatch(/image/);
    expect(refuse(good.replace('"recipe":"demo@1.0"', '"recipe":"demo@1.0; rm -rf /"'))).toMatch(/recipe/);
  });

  it('refuses an entry missing its smoke verdict (unknown is not passed)', () => {
    const e = entry(A) as Partial<BuiltEntry>;
    delete e.smoke;
    expect(refuse(JSON.stringify(index([A.lockDigest!, e as BuiltEntry])))).toMatch(/smoke/);
  });

  it('readBuiltIndex: absent is undefined; too large is refused before it is read', () => {
    const dir = tempDir();
    expect(readBuiltIndex(join(dir, 'none.json'))).toBeUndefined();
    const path = join(dir, 'built-index.json');
    writeFileSync(path, good);
    expect(readBuiltIndex(path)?.builds[A.lockDigest!]?.smoke).toBe('passed');
    writeFileSync(path, Buffer.alloc(MAX_INDEX_BYTES + 1, 0x20));
    expect(() => readBuiltIndex(path)).toThrow(/over the .*-byte limit/);
  });
});

describe('selectBuilds on a real workspace (lock digests rendered)', () => {
  it('a pair built at its current lock is skipped; after its inputs change it is built again', () => {
    const root = miniCatalog({
      'systems/box2.yaml': MINI['systems/box.yaml']!.replace('id: box', 'id: box2').replace('name: Box', 'name: Box 2'),
      'catalog/recipes/demo-plus/2.0/recipe.yaml':
        'name: demo-plus\nversion: "2.0"\nrevision: 1\nsummary: Demo, extended\nmaintainers: [{name: T}]\nextends: demo@1.0\nenvironment: {X: "1"}\n',
    });
    const ws = Workspace.open(root);
    const pairs: PlannedPair[] = ws.partitions().flatMap((w) =>
      [...ws.recipes.values()]
        .filter((r) => {
          try {
            ws.render(ws.pairAt(r, w));
            return true;
          } catch {
            return false;
          }
        })
        .map((r) => ({
          recipe: r.key,
          name: r.doc.name,
          version: r.doc.version,
          system: w.system.doc.id,
          partition: w.partition.id,
          arch: w.partition.cpu.arch,
          runner: w.system.doc.policy.runnerLabels,
          strategy: null,
          because: ['test'],
        })),
    );
    expect(pairs.length).toBe(4); // demo and demo-plus on box and box2
    const locked = lockPairs(ws, pairs);
    for (const p of locked) expect(p.lockDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(new Set(locked.map((p) => p.lockDigest)).size).toBe(locked.length);
    const first = locked[0]!;
    const ix = index([first.lockDigest!, entry(first)]);
    const sel = selectBuilds(ws, pairs, ix);
    expect(sel.reused.map((r) => r.pair.recipe + ' ' + r.pair.system + '/' + r.pair.partition)).toEqual([`${first.recipe} ${first.system}/${first.partition}`]);
    expect(sel.build).toHaveLength(pairs.length - 1);
    // Without an index nothing is rendered and everything is built.
    expect(selectBuilds(ws, pairs, undefined).build.every((p) => p.lockDigest === null)).toBe(true);

    // Change the first pair's recipe: its lock digest moves, so it is built again.
    const recipe = ws.recipes.get(first.recipe)!;
    writeFileSync(recipe.entry.file.abs, recipe.entry.file.text.replace(/summary: .*/, 'summary: changed'));
    expect(lockPairs(Workspace.open(root), [first])[0]!.lockDigest).not.toBe(first.lockDigest);
    const again = selectBuilds(Workspace.open(root), pairs, ix);
    expect(again.reused).toEqual([]);
    expect(again.build).toHaveLength(pairs.length);
  });
});

describe('the budget', () => {
  const config = { buildBudget: 100, budgetLabel: 'large-build-ok' };

  it('within the budget, over it, and over it with the label (matched exactly)', () => {
    expect(budgetVerdict(100, config, [])).toBe('within-budget');
    expect(budgetVerdict(101, config, [])).toBe('over-budget');
    expect(budgetVerdict(101, config, ['large-build-ok'])).toBe('approved');
    expect(budgetVerdict(101, config, ['Large-Build-OK', 'large-build-ok ', 'large-build'])).toBe('over-budget');
    expect(budgetVerdict(10_000, { buildBudget: undefined, budgetLabel: 'x' }, [])).toBe('no-budget');
    expect(budgetVerdict(1, { buildBudget: 0, budgetLabel: 'x' }, [])).toBe('over-budget');
  });

  it('the cost counts builds, not affected pairs: reused builds are free', () => {
    const sel = pairsToBuild([A, B, C], index([A.lockDigest!, entry(A)]));
    expect(buildCost(sel, 1, { buildBudget: 2, budgetLabel: 'large-build-ok' }, [])).toEqual({
      affected: 3,
      builds: 2,
      reused: 1,
      batches: 1,
      budget: 2,
      label: 'large-build-ok',
      verdict: 'within-budget',
    });
    expect(buildCost(sel, 1, { buildBudget: 1, budgetLabel: 'large-build-ok' }, []).verdict).toBe('over-budget');
  });

  it('labels from the workflow: anything but a JSON array of strings is no label', () => {
    expect(parseLabels('["bug","large-build-ok"]')).toEqual(['bug', 'large-build-ok']);
    expect(parseLabels('"large-build-ok"')).toEqual([]);
    expect(parseLabels('[{"name":"large-build-ok"}]')).toEqual([]);
    expect(parseLabels('not json')).toEqual([]);
    expect(parseLabels(undefined)).toEqual([]);
  });

  it('.github/brickyard.yml: defaults, values, and clear refusals', () => {
    const root = tempDir();
    expect(readBudgetConfig(root)).toEqual({ buildBudget: undefined, budgetLabel: 'large-build-ok' });
    mkdirSync(join(root, '.github'));
    const file = join(root, '.github', 'brickyard.yml');
    writeFileSync(file, 'buildBudget: 500\nbudgetLabel: fleet-ok\n');
    expect(readBudgetConfig(root)).toEqual({ buildBudget: 500, budgetLabel: 'fleet-ok' });
    writeFileSync(file, 'buildBudget: -1\n');
    expect(() => readBudgetConfig(root)).toThrow(/buildBudget must be a whole number/);
    writeFileSync(file, 'buildBudget: "500"\n');
    expect(() => readBudgetConfig(root)).toThrow(/buildBudget/);
    writeFileSync(file, 'budgetLabel: "ok\\nrm"\n');
    expect(() => readBudgetConfig(root)).toThrow(/budgetLabel must be a label name/);
  });

  it('batch indices are 0..n-1', () => {
    expect(batchIndices(0)).toEqual([]);
    expect(batchIndices(3)).toEqual([0, 1, 2]);
  });
});

describe('recording builds', () => {
  const facts = (smoke: string | undefined, smokeImage = IMAGE) => ({
    build: { recipe: { name: 'demo', version: '1.0' }, system: 'local', partition: 'cpu', lockDigest: A.lockDigest!, image: { manifestDigest: IMAGE } },
    smoke: smoke === undefined ? undefined : { result: smoke, image: { manifestDigest: smokeImage } },
  });

  it('a passing smoke test of the same image is passed; anything else is not', () => {
    expect(builtEntry(facts('PASSED'), 'run 1', '2026-12-03T09:00:00Z')).toEqual({ ...entry(A), where: 'run 1', builtAt: '2026-12-03T09:00:00Z' });
    expect(builtEntry(facts('FAILED'), 'w', '2026-12-03T09:00:00Z').smoke).toBe('failed');
    expect(builtEntry(facts('WARNED'), 'w', '2026-12-03T09:00:00Z').smoke).toBe('failed');
    expect(builtEntry(facts(undefined), 'w', '2026-12-03T09:00:00Z').smoke).toBe('not-run');
    // A passing report about another image does not vouch for this one.
    expect(builtEntry(facts('PASSED', d('0')), 'w', '2026-12-03T09:00:00Z').smoke).toBe('not-run');
  });

  it('recordBuilds: the newest verdict wins, and what it writes reads back; a bad entry is refused', () => {
    const first = recordBuilds(undefined, [builtEntry(facts('PASSED'), 'run 1', '2026-12-03T09:00:00Z')]);
    expect(pairsToBuild([A], first).reused).toHaveLength(1);
    const second = recordBuilds(first, [builtEntry(facts('FAILED'), 'run 2', '2026-12-03T10:00:00Z')]);
    expect(pairsToBuild([A], second).build).toEqual([A]);
    expect(parseBuiltIndex(JSON.stringify(second), 'x').builds[A.lockDigest!]?.where).toBe('run 2');
    expect(() => recordBuilds(first, [{ ...entry(A), lockDigest: 'sha256:short' }])).toThrow(/not a brickyard built index/);
  });
});
