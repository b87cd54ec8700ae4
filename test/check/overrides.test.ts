/**
 * A recipe's requested slot parameter that a system overrides is a finding at the recipe's line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { MINI, miniCatalog } from '../helpers/fixture.ts';

const RECIPE = MINI['catalog/recipes/demo/1.0/recipe.yaml']!;

function validate(recipe: string, box = MINI['systems/box.yaml']!) {
  const root = miniCatalog({ 'catalog/recipes/demo/1.0/recipe.yaml': recipe, 'systems/box.yaml': box });
  return { root, report: Workspace.open(root).validate() };
}

describe('slot overrides', () => {
  it('reports the version a strategy replaces, at the recipe line that asked for it', () => {
    // box's strategy sets method: distro; the recipe asks for a source build of 5.0.5.
    const { root, report } = validate(RECIPE.replace('  - use: "@mpi"\n', '  - use: "@mpi"\n    with: {method: source, version: "5.0.5"}\n'));
    const found = report.diagnostics.filter((d) => d.rule === 'slot-override');
    expect(found.map((d) => d.message)).toEqual(['@mpi asks method source; the system sets it instead, and the system wins: box/cpu (MPI strategy hybrid-pmix: distro)']);
    expect(found[0]!.severity).toBe('warning');
    const line = readFileSync(join(root, found[0]!.file), 'utf8').split('\n')[found[0]!.line - 1]!;
    expect(line).toContain('method: source');
    // version is not set by the strategy, so the recipe's 5.0.5 stands: no finding for it.
    expect(found.some((d) => d.message.includes('version'))).toBe(false);
  });

  it('says nothing when the recipe asks for what the system gives', () => {
    const { report } = validate(RECIPE.replace('  - use: "@mpi"\n', '  - use: "@mpi"\n    with: {method: distro}\n'));
    expect(report.diagnostics.filter((d) => d.rule === 'slot-override')).toEqual([]);
  });
});
