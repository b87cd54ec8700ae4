import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../pipeline/src/catalog/load.ts';
import { resolveRecipes } from '../../pipeline/src/catalog/resolve.ts';
import { formatDiagnostic } from '../../pipeline/src/util/diagnostics.ts';
import { miniCatalog } from '../helpers/fixture.ts';

const child = (extra = ''): string => `name: demo-plus
version: "1.0"
revision: 2
summary: Demo with more
maintainers: [{name: Test}]
extends: demo@1.0
environment: {A: "1"}
blocks:
  - use: probe
    with: {}
smoke:
  - {name: hello, type: command, run: "echo hi", expect: {stdoutContains: hi}}
${extra}`;

describe('extends', () => {
  it('inherits what the child leaves out and appends what it adds', () => {
    const root = miniCatalog({ 'catalog/recipes/demo-plus/1.0/recipe.yaml': child('requires: {architectures: [x86_64, aarch64]}\n') });
    const { recipes, diagnostics } = resolveRecipes(loadCatalog(root));
    expect(diagnostics).toEqual([]);
    const r = recipes.get('demo-plus@1.0')!;
    expect(r.doc.base).toBe('debian-12');
    expect(r.doc.license).toBe('Apache-2.0');
    expect(r.doc.sizeBudget).toBe('1 GiB');
    expect(r.doc.entrypoint).toEqual(['/usr/local/bin/probe']);
    expect(r.doc.revision).toBe(2);
    // Same `use` replaces the parent's entry in place; nothing is duplicated.
    expect(r.blocks.map((b) => b.item.use)).toEqual(['cc', '@mpi', 'probe']);
    expect(r.blocks[2]!.origin).toBe('recipe:demo-plus@1.0');
    // requires merges key by key.
    expect(r.doc.requires).toEqual({ architectures: ['x86_64', 'aarch64'], gpu: { vendor: 'none' }, mpi: 'any' });
    expect(r.doc.environment).toEqual({ A: '1' });
    expect(r.smoke.map((s) => s.name)).toEqual(['hello']);
    expect(r.chain.map((e) => e.doc.name)).toEqual(['demo-plus', 'demo']);
  });

  it('reports a parent that does not exist, with the versions that do', () => {
    const root = miniCatalog({ 'catalog/recipes/demo-plus/1.0/recipe.yaml': child().replace('demo@1.0', 'demo@9.9') });
    const { recipes, diagnostics } = resolveRecipes(loadCatalog(root));
    expect(recipes.has('demo-plus@1.0')).toBe(false);
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      'catalog/recipes/demo-plus/1.0/recipe.yaml:6:10: error: extends demo@9.9, which is not in the catalogue (versions of demo: 1.0) [extends-unresolved]',
    ]);
  });

  it('reports a cycle once per recipe in it', () => {
    const a = child().replace('name: demo-plus', 'name: a').replace('extends: demo@1.0', 'extends: b@1.0');
    const b = child().replace('name: demo-plus', 'name: b').replace('extends: demo@1.0', 'extends: a@1.0');
    const root = miniCatalog({ 'catalog/recipes/a/1.0/recipe.yaml': a, 'catalog/recipes/b/1.0/recipe.yaml': b });
    const { diagnostics } = resolveRecipes(loadCatalog(root));
    expect(diagnostics.map((d) => d.rule)).toEqual(['extends-cycle']);
    expect(diagnostics[0]!.message).toMatch(/cycle: (a@1\.0 -> b@1\.0 -> a@1\.0|b@1\.0 -> a@1\.0 -> b@1\.0)/);
  });
});
