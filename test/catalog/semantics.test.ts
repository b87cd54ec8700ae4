import { describe, expect, it } from 'vitest';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { formatDiagnostic } from '../../pipeline/src/util/diagnostics.ts';
import { MINI, miniCatalog } from '../helpers/fixture.ts';

const findings = (overrides: Record<string, string>): string[] => Workspace.open(miniCatalog(overrides)).validate().diagnostics.map(formatDiagnostic);

const RECIPE = MINI['catalog/recipes/demo/1.0/recipe.yaml']!;
const OMPI = MINI['catalog/blocks/ompi/block.yaml']!;
const BOX = MINI['systems/box.yaml']!;

describe('semantic checks', () => {
  it('finds nothing in the fixture', () => {
    expect(findings({})).toEqual([]);
  });

  it('reports unknown blocks and bases, with what exists', () => {
    const out = findings({
      'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('use: cc', 'use: gcc').replace('base: debian-12', 'base: debian-13'),
    });
    expect(out).toContain('catalog/recipes/demo/1.0/recipe.yaml:7:7: error: base debian-13 is not in catalog/bases.yaml (known: debian-12) [base-unresolved]');
    expect(out).toContain('catalog/recipes/demo/1.0/recipe.yaml:9:10: error: block gcc is not in catalog/blocks/ (known: cc, ompi, probe) [block-unresolved]');
  });

  it('checks parameters passed with `with`', () => {
    const out = findings({
      'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('  - use: cc', '  - use: ompi\n    with: {version: "6.0", flavour: x, method: 3}'),
    });
    const mine = out.filter((l) => l.includes('[param-invalid]'));
    expect(mine).toEqual([
      'catalog/recipes/demo/1.0/recipe.yaml:10:21: error: parameter "version" of block ompi must be one of "4.1.6", "5.0.5", got "6.0" [param-invalid]',
      'catalog/recipes/demo/1.0/recipe.yaml:10:37: error: block ompi has no parameter "flavour" (it has: version, method) [param-invalid]',
      'catalog/recipes/demo/1.0/recipe.yaml:10:48: error: parameter "method" of block ompi must be a string, got 3 [param-invalid]',
    ]);
  });

  it('checks capabilities in order, conflicts, slots and MPI requirements', () => {
    const reordered = RECIPE.replace('  - use: cc\n  - use: "@mpi"\n  - use: probe', '  - use: probe\n  - use: cc\n  - use: "@mpi"');
    const out = findings({ 'catalog/recipes/demo/1.0/recipe.yaml': reordered });
    expect(out).toContain(
      'catalog/recipes/demo/1.0/recipe.yaml:9:10: error: block probe requires mpi; add a block that provides it before this one (or use a base that provides it) [block-requires]',
    );
    const noMpi = findings({ 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('mpi: any', 'mpi: none') });
    expect(noMpi).toContain(
      'catalog/recipes/demo/1.0/recipe.yaml:10:10: error: uses the @mpi slot but requires.mpi is none: set requires.mpi to any, mpich or openmpi [mpi-requirement]',
    );
    const twoMpis = findings({ 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('  - use: "@mpi"', '  - use: "@mpi"\n  - use: ompi') });
    expect(twoMpis.some((l) => l.includes('[block-conflict]') && l.includes('conflicts with mpi'))).toBe(false); // slots are checked per system
    const dup = findings({ 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('  - use: "@mpi"', '  - use: ompi\n  - use: ompi') });
    expect(dup.filter((l) => l.includes('[block-conflict]')).length).toBe(2);
  });

  it('checks block templates, when, sources and copies', () => {
    const broken = OMPI.replace('openmpi-{{ version }}', 'openmpi-{{ verson }}')
      .replace('when: {method: distro}', 'when: {method: binary}')
      .replace('fetch: {source: tarball,', 'fetch: {source: tarbal,')
      .replace(`  - {name: tarball, version: "5.0.5"`, `  - {name: other, version: "5.0.5"`);
    const out = findings({ 'catalog/blocks/ompi/block.yaml': broken }).filter((l) => l.startsWith('catalog/blocks/ompi'));
    expect(out.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'error: source tarball has no entry for version 5.0.5, which the "version" parameter allows [source-version]',
      'error: source other has no entry for version 4.1.6, which the "version" parameter allows [source-version]',
      'error: "when" compares method with "binary", which it can never be [when-unknown]',
      'error: fetch names source "tarbal", which the block does not declare [source-unresolved]',
      'error: unknown placeholder {{ verson }} (known here: version, method, target.arch, target.cflags, target.gpuArch) [template-unknown]',
    ]);
    const noFile = findings({ 'catalog/blocks/probe/block.yaml': MINI['catalog/blocks/probe/block.yaml']!.replace('files/probe.c', 'files/missing.c') });
    expect(noFile.filter((l) => l.startsWith('catalog/blocks/'))).toEqual([
      'catalog/blocks/probe/block.yaml:7:17: error: copy source files/missing.c does not exist beside catalog/blocks/probe/block.yaml [copy-missing]',
    ]);
  });

  it('checks licences as SPDX expressions', () => {
    const out = findings({ 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('license: Apache-2.0', 'license: Apache 2') });
    expect(out).toContain(
      'catalog/recipes/demo/1.0/recipe.yaml:6:10: error: licence "Apache 2" is not a valid SPDX expression (e.g. "MIT", "GPL-2.0-or-later", "BSD-3-Clause AND MIT") [license-spdx]',
    );
  });

  it('checks system templates: provenance, strategy blocks and ABI, launcher placeholders', () => {
    const broken = BOX.replace('{path: /partitions/0/cpu, sources: [me]}', '{path: /partitions/0/gpu, sources: [you]}')
      .replace('abi: openmpi, block: ompi', 'abi: mpich, block: ompi')
      .replace('{mpi_flag} {container}', '{mpi} {container}');
    const out = findings({ 'systems/box.yaml': broken }).filter((l) => l.startsWith('systems/'));
    expect(out.map((l) => l.replace(/^\S+ /, ''))).toEqual([
      'error: provenance path /partitions/0/gpu does not point at a field of this file [provenance-path]',
      'error: source "you" is not declared under sources [provenance-source]',
      'error: launcher template has unknown placeholder {mpi} [template-unknown]',
      'error: block ompi does not provide mpi-abi:mpich, which strategy hybrid-pmix promises [mpi-abi]',
    ]);
  });

  it('a recipe that fits no system partition is an error naming why', () => {
    const out = findings({ 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('architectures: [x86_64]', 'architectures: [aarch64]') });
    expect(out).toEqual(['catalog/recipes/demo/1.0/recipe.yaml:13:3: error: fits no system partition (box/cpu: needs aarch64; box/cpu is x86_64 (Test CPU)) [fits-nowhere]']);
  });

  it('composes every fitting pair: problems that only show on some systems are findings', () => {
    const zypper = findings({ 'catalog/bases.yaml': MINI['catalog/bases.yaml']!.replace('packageManager: apt', 'packageManager: zypper') });
    expect(zypper).toContain('catalog/recipes/demo/1.0/recipe.yaml:9:3: error: on box/cpu: block:cc: has no zypper packages for base debian-12 [compose]');
    const twoMpis = findings({ 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('  - use: "@mpi"', '  - use: "@mpi"\n  - use: ompi') });
    expect(twoMpis.filter((l) => l.endsWith('[compose]'))).toEqual([
      'catalog/recipes/demo/1.0/recipe.yaml:9:3: error: on box/cpu: block ompi conflicts with mpi, which block ompi provides [compose]',
    ]);
  });
});
