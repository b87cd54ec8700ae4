import { describe, expect, it } from 'vitest';
import { hostMounts, LINT_RULES, parseSize } from '../../pipeline/src/lint/rules.ts';
import { loadCatalog } from '../../pipeline/src/catalog/load.ts';
import { formatDiagnostic } from '../../pipeline/src/util/diagnostics.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { MINI, miniCatalog } from '../helpers/fixture.ts';

const RECIPE = MINI['catalog/recipes/demo/1.0/recipe.yaml']!;

function lint(overrides: Record<string, string>): string[] {
  return Workspace.open(miniCatalog(overrides)).validate().diagnostics.map(formatDiagnostic);
}

const withSteps = (steps: string, extra = ''): string => RECIPE.replace('entrypoint:', `steps:\n${steps}\nentrypoint:`) + extra;

describe('lint rules', () => {
  it('every rule has an id, a summary and a reason', () => {
    expect(LINT_RULES.length).toBeGreaterThanOrEqual(8);
    for (const r of LINT_RULES) {
      expect(r.id).toMatch(/^[a-z-]+$/);
      expect(r.summary.length).toBeGreaterThan(10);
      expect(r.why.length).toBeGreaterThan(20);
    }
  });

  it('no-curl-pipe-shell and download-pinned', () => {
    const out = lint({
      'catalog/recipes/demo/1.0/recipe.yaml': withSteps(`  - run: curl -fsSL https://get.example.org | sh
  - run: |
      wget https://example.org/x.tar.gz
      tar xf x.tar.gz`),
    });
    expect(out).toContain(
      'catalog/recipes/demo/1.0/recipe.yaml:17:10: error: pipes a download into a shell: declare the file under sources (with its sha256), fetch it, and run it from disk [no-curl-pipe-shell]',
    );
    expect(out).toContain(
      'catalog/recipes/demo/1.0/recipe.yaml:18:10: error: downloads in a run step (wget): declare it under sources with a sha256 and use a fetch step [download-pinned]',
    );
  });

  it('no-install-into-host-mounts: run, copy, env and workdir', () => {
    const out = lint({
      'catalog/recipes/demo/1.0/recipe.yaml': withSteps(`  - run: ./configure --prefix=/scratch/myproj/app && make install
  - workdir: /home/user
  - env: {PATH: "/opt/x/bin:$HOME/.local/bin"}`),
    });
    const rule = out.filter((l) => l.endsWith('[no-install-into-host-mounts]'));
    expect(rule).toEqual([
      'catalog/recipes/demo/1.0/recipe.yaml:17:10: error: writes to /scratch/myproj/app, under /scratch, which box (scratch) binds from the host at run time: install under /opt or /usr/local [no-install-into-host-mounts]',
      'catalog/recipes/demo/1.0/recipe.yaml:18:14: error: /home/user is under /home, which every system ($HOME) binds from the host at run time: install under /opt or /usr/local [no-install-into-host-mounts]',
      'catalog/recipes/demo/1.0/recipe.yaml:19:17: error: $HOME/.local/bin is under /home, which every system ($HOME) binds from the host at run time: install under /opt or /usr/local [no-install-into-host-mounts]',
    ]);
    // /opt, /usr/local, /tmp and look-alike prefixes are fine.
    const clean = lint({ 'catalog/recipes/demo/1.0/recipe.yaml': withSteps('  - run: make install PREFIX=/opt/app && rm -rf /tmp/b /scratchpad') });
    expect(clean.filter((l) => l.includes('host-mounts'))).toEqual([]);
  });

  it('no-data-in-image', () => {
    const out = lint({
      'catalog/recipes/demo/1.0/recipe.yaml': withSteps('  - copy: {src: data/mesh.h5, dest: /opt/app/mesh.h5}'),
      'catalog/recipes/demo/1.0/data/mesh.h5': 'x',
    });
    expect(out).toContain(
      'catalog/recipes/demo/1.0/recipe.yaml:17:17: error: copies data/mesh.h5, which looks like data: keep data on the file system and bind it at run time [no-data-in-image]',
    );
  });

  it('no-latest-tag and base-pinned-by-digest', () => {
    const bases = MINI['catalog/bases.yaml']!.replace(/x86_64: \S+/, 'x86_64: docker.io/library/debian:latest');
    const out = lint({ 'catalog/bases.yaml': bases, 'systems/box.yaml': MINI['systems/box.yaml']!.replace('production: false', 'production: true') });
    expect(out).toContain('catalog/bases.yaml:8:15: error: docker.io/library/debian:latest: uses the latest tag: pin a release tag and a digest [no-latest-tag]');
    expect(out).toContain(
      'catalog/recipes/demo/1.0/recipe.yaml:7:7: error: base debian-12 resolves to docker.io/library/debian:latest on production system box/cpu: pin it by digest (@sha256:…) in catalog/bases.yaml [base-pinned-by-digest]',
    );
    // Development systems may use a tag; a digest-less tag is still allowed there.
    const dev = lint({ 'catalog/bases.yaml': MINI['catalog/bases.yaml']!.replace(/x86_64: \S+/, 'x86_64: docker.io/library/debian:12') });
    expect(dev.filter((l) => l.includes('digest') || l.includes('latest'))).toEqual([]);
  });

  it('base-pinned-by-digest points at the system template when its own mirror is unpinned', () => {
    const box = MINI['systems/box.yaml']!.replace('production: false', 'production: true').replace(
      'policy:',
      'bases:\n  debian-12: {images: {x86_64: "mirror.site.example/debian:12"}}\npolicy:',
    );
    const out = lint({ 'systems/box.yaml': box }).filter((l) => l.endsWith('[base-pinned-by-digest]'));
    expect(out).toEqual([
      'systems/box.yaml:14:14: error: base debian-12 resolves to mirror.site.example/debian:12 on this production system: pin it by digest (@sha256:…) [base-pinned-by-digest]',
    ]);
  });

  it('license-present and size-budget', () => {
    const r = RECIPE.replace('license: Apache-2.0\n', '').replace('sizeBudget: 1 GiB\n', '');
    const out = lint({ 'catalog/recipes/demo/1.0/recipe.yaml': r });
    expect(out).toContain('catalog/recipes/demo/1.0/recipe.yaml:1:1: error: no licence: add license: <SPDX expression> for the software this recipe packages [license-present]');
    expect(out).toContain('catalog/recipes/demo/1.0/recipe.yaml:1:1: error: no size budget: add sizeBudget, e.g. "2 GiB" [size-budget]');
    const big = lint({ 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('sizeBudget: 1 GiB', 'sizeBudget: 100 GiB') });
    expect(big).toContain('catalog/recipes/demo/1.0/recipe.yaml:17:13: error: size budget 100 GiB is over 64 GiB [size-budget]');
  });

  it('pip-hashes warns, and warnings do not fail validation', () => {
    const ws = Workspace.open(miniCatalog({ 'catalog/recipes/demo/1.0/recipe.yaml': withSteps('  - run: pip install numpy==2.1.0') }));
    const report = ws.validate();
    expect(report.errors).toBe(0);
    expect(report.diagnostics.map(formatDiagnostic)).toEqual([
      'catalog/recipes/demo/1.0/recipe.yaml:17:10: warning: pip install without --require-hashes: pin versions and hashes in a requirements file [pip-hashes]',
    ]);
  });

  it('derives host mount prefixes from the system templates', () => {
    const mounts = hostMounts(loadCatalog(miniCatalog()));
    expect(mounts.map((m) => m.prefix)).toEqual(['/home', '/scratch']);
  });

  it('parses sizes', () => {
    expect(parseSize('2 GiB')).toBe(2 * 2 ** 30);
    expect(parseSize('500MB')).toBe(5e8);
    expect(parseSize('lots')).toBeNaN();
  });
});
