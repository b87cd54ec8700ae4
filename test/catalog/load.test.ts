import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRoot, loadCatalog } from '../../pipeline/src/catalog/load.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { formatDiagnostic } from '../../pipeline/src/util/diagnostics.ts';
import { MINI, miniCatalog, tempDir } from '../helpers/fixture.ts';

describe('loadCatalog', () => {
  it('loads a valid catalogue without findings', () => {
    const cat = loadCatalog(miniCatalog());
    expect(cat.diagnostics).toEqual([]);
    expect([...cat.recipes.keys()]).toEqual(['demo@1.0']);
    expect([...cat.blocks.keys()].sort()).toEqual(['cc', 'ompi', 'probe']);
    expect([...cat.systems.keys()]).toEqual(['box']);
    expect(cat.bases.get('debian-12')?.packageManager).toBe('apt');
  });

  it('reports a recipe whose folder does not match its name and version', () => {
    const root = miniCatalog({
      'catalog/recipes/demo/2.0/recipe.yaml': MINI['catalog/recipes/demo/1.0/recipe.yaml']!,
    });
    const cat = loadCatalog(root);
    expect(cat.diagnostics.map(formatDiagnostic)).toEqual([
      'catalog/recipes/demo/2.0/recipe.yaml:2:10: error: recipe declares demo@1.0 but lives in catalog/recipes/demo/2.0/: the folder names must be the name and version [layout]',
    ]);
    expect(cat.invalid.recipes.has('demo@2.0')).toBe(true);
  });

  it('reports malformed YAML and schema errors in every file, not just the first', () => {
    const root = miniCatalog({
      'catalog/blocks/cc/block.yaml': 'name: cc\nsummary: [unclosed\n',
      'systems/box.yaml': MINI['systems/box.yaml']!.replace('production: false', 'production: maybe'),
    });
    const found = loadCatalog(root).diagnostics.map(formatDiagnostic);
    expect(found.some((l) => l.startsWith('catalog/blocks/cc/block.yaml:') && l.endsWith('[yaml-syntax]'))).toBe(true);
    expect(found).toContain('systems/box.yaml:4:13: error: "production" must be boolean [schema]');
  });

  it('flags a version folder without recipe.yaml and a system whose id is not its file name', () => {
    const root = miniCatalog({ 'catalog/recipes/demo/0.9/README.md': 'x', 'systems/other.yaml': MINI['systems/box.yaml']! });
    const found = loadCatalog(root).diagnostics.map(formatDiagnostic);
    expect(found).toContain('catalog/recipes/demo/0.9:1:1: error: catalog/recipes/demo/0.9 has no recipe.yaml [layout]');
    expect(found).toContain('systems/other.yaml:2:5: error: system id "box" must match its file name systems/other.yaml [layout]');
  });

  it('finds the checkout from a subfolder and refuses a folder that is not one', () => {
    const root = miniCatalog();
    expect(findRoot(join(root, 'catalog', 'blocks'))).toBe(root);
    const empty = tempDir();
    expect(() => findRoot(empty)).toThrow(BrickyardError);
    expect(() => loadCatalog(empty)).toThrow(/not a Brickyard checkout/);
  });

  it('treats a missing bases.yaml as a finding', () => {
    const root = miniCatalog();
    rmSync(join(root, 'catalog', 'bases.yaml'));
    writeFileSync(join(root, 'catalog', 'README.md'), 'x');
    expect(loadCatalog(root).diagnostics.map((d) => d.message)).toContain('catalog/bases.yaml is missing');
  });
});
