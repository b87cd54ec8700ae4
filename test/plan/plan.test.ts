import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Change } from '../../pipeline/src/plan/change.ts';
import { toMatrices, hostedPairs, type Plan } from '../../pipeline/src/plan/plan.ts';
import { MINI, copyOfShipped, miniCatalog } from '../helpers/fixture.ts';
import { commit, initRepo } from '../helpers/git.ts';

/** Two systems: box (Open MPI, hosted runner) and cray (MPICH ABI, self-hosted); three recipes. */
function repo(): string {
  const root = miniCatalog({
    'catalog/blocks/mpich/block.yaml': `name: mpich
summary: MPICH
license: MPICH
provides: [mpi, mpi-abi:mpich]
requires: [compiler:c]
conflicts: [mpi]
steps:
  - packages: {apt: [libmpich-dev], dnf: [mpich-devel]}
`,
    'systems/cray.yaml': MINI['systems/box.yaml']!.replace('id: box', 'id: cray')
      .replace('name: Box', 'name: Cray')
      .replace('runnerLabels: [ubuntu-24.04]', 'runnerLabels: [self-hosted, cray]')
      .replace(
        '{id: hybrid-pmix, abi: openmpi, block: ompi, with: {method: distro}, pmi: pmix, expectLibrary: Open MPI}',
        '{id: host-injection, abi: mpich, block: mpich, pmi: none, expectLibrary: CRAY MPICH}',
      ),
    'catalog/recipes/demo-plus/2.0/recipe.yaml': `name: demo-plus
version: "2.0"
revision: 1
summary: Demo, extended
maintainers: [{name: T}]
extends: demo@1.0
environment: {X: "1"}
`,
    'catalog/recipes/solo/0.1/recipe.yaml': MINI['catalog/recipes/demo/1.0/recipe.yaml']!.replace('name: demo', 'name: solo')
      .replace('version: "1.0"', 'version: "0.1"')
      .replace('  - use: "@mpi"\n  - use: probe\n', '')
      .replace('mpi: any', 'mpi: none'),
    'README.md': '# test\n',
    'docs/guide.md': 'guide\n',
  });
  initRepo(root);
  return root;
}

function pairsOf(root: string, head = 'HEAD'): { pairs: string[]; skipped: string[]; plan: Plan } {
  using change = new Change(root, { base: 'HEAD~1', head });
  const plan = change.plan();
  return {
    plan,
    pairs: plan.pairs.map((p) => `${p.recipe} ${p.system}/${p.partition}: ${p.because.join('; ')}`),
    skipped: plan.skipped.map((p) => `${p.recipe} ${p.system}/${p.partition}: ${p.reasons.join('; ')}`),
  };
}

describe('plan', () => {
  it('a README or docs change affects nothing', () => {
    const root = repo();
    commit(root, { 'README.md': '# changed\n', 'docs/guide.md': 'new\n' });
    const r = pairsOf(root);
    expect(r.pairs).toEqual([]);
    expect(r.skipped).toEqual([]);
    expect(r.plan.ignored).toEqual(['README.md', 'docs/guide.md']);
  });

  it('a block change affects exactly the pairs composed from it, slots included', () => {
    const root = repo();
    commit(root, { 'catalog/blocks/ompi/block.yaml': MINI['catalog/blocks/ompi/block.yaml']!.replace('summary: Open MPI', 'summary: Open MPI 4') });
    // ompi fills @mpi on box only; cray fills it with mpich; solo has no MPI.
    expect(pairsOf(root).pairs).toEqual(['demo-plus@2.0 box/cpu: block ompi changed', 'demo@1.0 box/cpu: block ompi changed']);
    commit(root, { 'catalog/blocks/mpich/block.yaml': readFileSync(join(root, 'catalog/blocks/mpich/block.yaml'), 'utf8') + '# note\n' });
    expect(pairsOf(root).pairs).toEqual(['demo-plus@2.0 cray/cpu: block mpich changed', 'demo@1.0 cray/cpu: block mpich changed']);
    commit(root, { 'catalog/blocks/cc/block.yaml': MINI['catalog/blocks/cc/block.yaml']! + '# note\n' });
    expect(pairsOf(root).pairs).toHaveLength(6);
  });

  it('a change to an extended recipe affects its children, transitively', () => {
    const root = repo();
    commit(root, { 'catalog/recipes/demo/1.0/recipe.yaml': MINI['catalog/recipes/demo/1.0/recipe.yaml']!.replace('summary: Demo', 'summary: Demo!') });
    expect(pairsOf(root).pairs).toEqual([
      'demo-plus@2.0 box/cpu: extends demo@1.0, which changed',
      'demo-plus@2.0 cray/cpu: extends demo@1.0, which changed',
      'demo@1.0 box/cpu: recipe demo@1.0 changed',
      'demo@1.0 cray/cpu: recipe demo@1.0 changed',
    ]);
  });

  it('a recipe file change affects only that recipe; files beside it count too', () => {
    const root = repo();
    commit(root, { 'catalog/recipes/solo/0.1/files/extra.txt': 'x\n' });
    expect(pairsOf(root).pairs).toEqual(['solo@0.1 box/cpu: recipe solo@0.1 changed', 'solo@0.1 cray/cpu: recipe solo@0.1 changed']);
  });

  it('a system template change affects every recipe on it', () => {
    const root = repo();
    commit(root, { 'systems/cray.yaml': readFileSync(join(root, 'systems/cray.yaml'), 'utf8').replace('memoryGiB: 8', 'memoryGiB: 16') });
    expect(pairsOf(root).pairs).toEqual([
      'demo-plus@2.0 cray/cpu: system template cray changed',
      'demo@1.0 cray/cpu: system template cray changed',
      'solo@0.1 cray/cpu: system template cray changed',
    ]);
  });

  it('a base change affects the recipes on that base only', () => {
    const root = repo();
    const bases =
      MINI['catalog/bases.yaml']! +
      `  rocky-9:\n    distro: rockylinux\n    release: "9"\n    packageManager: dnf\n    images:\n      x86_64: quay.io/rockylinux/rockylinux:9@sha256:${'b'.repeat(64)}\n`;
    commit(root, { 'catalog/bases.yaml': bases }, 'add a base');
    expect(pairsOf(root).pairs).toEqual([]); // nothing uses the new base
    commit(root, { 'catalog/bases.yaml': bases.replace(`debian:12@sha256:${'a'.repeat(64)}\n      aarch64`, `debian:12@sha256:${'c'.repeat(64)}\n      aarch64`) });
    expect(pairsOf(root).pairs).toHaveLength(6);
    expect(pairsOf(root).pairs[0]).toBe('demo-plus@2.0 box/cpu: base debian-12 changed');
  });

  it('lists affected pairs that do not fit as skipped, with the reason', () => {
    const root = repo();
    commit(root, { 'catalog/recipes/solo/0.1/recipe.yaml': readFileSync(join(root, 'catalog/recipes/solo/0.1/recipe.yaml'), 'utf8').replace('[x86_64]', '[aarch64]') });
    const r = pairsOf(root);
    expect(r.pairs).toEqual([]);
    expect(r.skipped).toEqual(['solo@0.1 box/cpu: needs aarch64; box/cpu is x86_64 (Test CPU)', 'solo@0.1 cray/cpu: needs aarch64; cray/cpu is x86_64 (Test CPU)']);
  });

  it('reports a deleted recipe as removed', () => {
    const root = repo();
    commit(root, { 'catalog/recipes/solo': null });
    expect(pairsOf(root).plan.removed).toEqual(['solo@0.1']);
  });

  it('plans the working tree when no head is given, untracked files included', () => {
    const root = repo();
    commit(root, { 'README.md': 'x\n' });
    mkdirSync(join(root, 'catalog/recipes/solo/0.1/files'), { recursive: true });
    writeFileSync(join(root, 'catalog/recipes/solo/0.1/files/new.txt'), 'x');
    using change = new Change(root, { base: 'HEAD' });
    expect(change.plan().pairs.map((p) => p.recipe)).toEqual(['solo@0.1', 'solo@0.1']);
  });

  it('plans a head that is not checked out from git itself', () => {
    const root = repo();
    commit(root, { 'catalog/recipes/solo/0.1/files/a.txt': 'a\n' });
    commit(root, { 'README.md': 'later\n' });
    using change = new Change(root, { base: 'HEAD~2', head: 'HEAD~1' });
    expect(change.head.root).not.toBe(root);
    expect(change.plan().pairs.map((p) => `${p.recipe} ${p.system}`)).toEqual(['solo@0.1 box', 'solo@0.1 cray']);
  });

  it('splits matrices at the job limit and picks the hosted pairs', () => {
    const root = repo();
    commit(root, { 'catalog/blocks/cc/block.yaml': MINI['catalog/blocks/cc/block.yaml']! + '# note\n' });
    const { plan } = pairsOf(root);
    const m = toMatrices(plan.pairs, 4);
    expect(m.map((x) => x.include.length)).toEqual([4, 2]);
    expect(m[0]!.include[0]).toEqual({ recipe: 'demo-plus', version: '2.0', system: 'box', partition: 'cpu', arch: 'x86_64', runner: ['ubuntu-24.04'], strategy: 'hybrid-pmix' });
    expect(hostedPairs(plan.pairs).map((p) => p.system)).toEqual(['box', 'box', 'box']);
  });

  it('on the shipped catalogue, a change to the Open MPI block plans exactly the pairs whose MPI is Open MPI', () => {
    const root = copyOfShipped();
    initRepo(root);
    const block = readFileSync(join(root, 'catalog/blocks/openmpi/block.yaml'), 'utf8');
    commit(root, { 'catalog/blocks/openmpi/block.yaml': block + '# tuned\n' });
    const { plan } = pairsOf(root);
    expect(plan.pairs.length).toBeGreaterThan(0);
    for (const p of plan.pairs) {
      expect(p.because).toEqual(['block openmpi changed']);
      expect(['hybrid-pmix', 'container-only']).toContain(p.strategy);
    }
    const systems = new Set(plan.pairs.map((p) => p.system));
    expect(systems.has('lumi')).toBe(false); // host injection: MPICH
    expect(systems.has('local')).toBe(true);
    expect(
      plan.pairs
        .filter((p) => p.recipe === 'mpi-pingpong@1.0.0')
        .map((p) => `${p.system}/${p.partition}`)
        .sort(),
    ).toEqual(['fugaku/small', 'generic-rocky9/gpu', 'juwels-booster/booster', 'leonardo/booster', 'local/debug', 'marenostrum5/acc']);
  });
});
