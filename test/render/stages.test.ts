/**
 * Multi-stage renders: a recipe with `runtime` gives a build stage with every step and a runtime
 * stage with only the runtime parts, in the Containerfile and the Apptainer definition alike.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateAgainstSchema } from '../../pipeline/src/catalog/schemas.ts';
import { SourceFile } from '../../pipeline/src/catalog/source.ts';
import { standInCommand } from '../../pipeline/src/render/common.ts';
import { formatDiagnostic } from '../../pipeline/src/util/diagnostics.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { MINI, miniCatalog, tempDir } from '../helpers/fixture.ts';

const markers = (text: string): string[] => text.split('\n').filter((l) => /^# \[\d+\/\d+\] /.test(l));

const OMPI_RUNTIME = `runtime:
  - when: {method: distro}
    packages: {apt: [libopenmpi3], dnf: [openmpi]}
  - when: {method: distro}
    unlessHostMpi: true
    packages: {apt: [openmpi-bin], dnf: [openmpi]}
  - when: {method: source}
    keep: [/opt/ompi]
`;
const PROBE_RUNTIME = `runtime:
  - keep: [/usr/local/bin/probe]
`;

function files(extra: { recipe?: string; ompi?: string; probe?: string; box?: (s: string) => string } = {}): Record<string, string> {
  return {
    'catalog/blocks/ompi/block.yaml': MINI['catalog/blocks/ompi/block.yaml']! + (extra.ompi ?? OMPI_RUNTIME),
    'catalog/blocks/probe/block.yaml': MINI['catalog/blocks/probe/block.yaml']! + (extra.probe ?? PROBE_RUNTIME),
    'catalog/recipes/demo/1.0/recipe.yaml': MINI['catalog/recipes/demo/1.0/recipe.yaml']! + (extra.recipe ?? 'runtime: []\n'),
    ...(extra.box ? { 'systems/box.yaml': extra.box(MINI['systems/box.yaml']!) } : {}),
  };
}

function render(overrides: Record<string, string>) {
  const ws = Workspace.open(miniCatalog(overrides));
  return ws.render(ws.pairOn('demo', 'box/cpu'));
}

describe('multi-stage render', () => {
  it('a recipe without runtime stays one stage', () => {
    const r = render({});
    expect(r.composition.runtime).toBeUndefined();
    expect(r.files.containerfile.match(/^FROM /gm)).toHaveLength(1);
    expect(r.files.apptainer).not.toContain('Stage:');
  });

  it('emits a build and a runtime stage: runtime packages, kept paths, then the image metadata', () => {
    const r = render(files());
    const cf = r.files.containerfile;
    const [build, runtime = ''] = cf.split(/^FROM \S+ AS runtime$/m);
    expect(build).toMatch(/^FROM docker\.io\/library\/debian:12@sha256:a{64} AS build$/m);
    expect(build).toContain('libopenmpi-dev');
    // The runtime packages of every block in one install.
    expect(runtime).toContain('apt-get install -y --no-install-recommends libopenmpi3 openmpi-bin &&');
    expect(runtime.match(/apt-get install/g)).toHaveLength(1);
    expect(runtime).not.toContain('libopenmpi-dev');
    expect(runtime).not.toContain('gcc');
    expect(runtime).toContain('COPY --from=build /usr/local/bin/probe /usr/local/bin/probe');
    expect(runtime).toContain('ldconfig && rm -f /var/cache/ldconfig/aux-cache');
    expect(runtime).toContain('path-exclude=/usr/share/doc/*');
    // Metadata comes last, so the runtime steps run as root before any USER.
    expect(runtime.trimEnd().endsWith('ENTRYPOINT ["/usr/local/bin/probe"]')).toBe(true);
    expect(runtime).toContain('"dev.brickyard.system"="box/cpu"');
  });

  it('Containerfile and Apptainer definition carry the same steps of both stages in the same order', () => {
    const r = render(files());
    const c = r.composition;
    const a = markers(r.files.containerfile);
    expect(a.length).toBe(c.steps.length + c.runtime!.length);
    expect(markers(r.files.apptainer)).toEqual(a);
    const def = r.files.apptainer;
    expect(def).toMatch(/^Bootstrap: docker\nFrom: \S+\nStage: build$/m);
    expect(def).toMatch(/^Bootstrap: docker\nFrom: \S+\nStage: runtime$/m);
    const [buildDef, runtimeDef] = def.split('Stage: runtime');
    expect(runtimeDef).toContain('%files from build\n    /usr/local/bin/probe /usr/local/bin/probe\n');
    // Labels and runscript belong to the final stage only.
    expect(buildDef).not.toContain('%labels');
    expect(buildDef).not.toContain('%runscript');
    expect(runtimeDef).toContain('%runscript\nexec /usr/local/bin/probe "$@"');
    for (const s of c.runtime!) if (s.op.kind === 'run') expect(runtimeDef).toContain(s.op.script);
  });

  it('a source build keeps its prefix; the recipe keeps its own outputs', () => {
    const r = render(files({ box: (s) => s.replace('with: {method: distro}', 'with: {method: source}'), recipe: 'runtime:\n  - keep: [/opt/demo/share]\n' }));
    const runtime = r.files.containerfile.split(/^FROM \S+ AS runtime$/m)[1]!;
    expect(runtime).toContain('COPY --from=build /opt/ompi /opt/ompi');
    expect(runtime).toContain('COPY --from=build /opt/demo/share /opt/demo/share');
    expect(runtime).not.toContain('apt-get');
  });

  it('a host-injection strategy leaves the MPI launcher out of the runtime stage', () => {
    const r = render(files({ box: (s) => s.replace('{id: hybrid-pmix,', '{id: host-injection,') }));
    const runtime = r.files.containerfile.split(/^FROM \S+ AS runtime$/m)[1]!;
    expect(runtime).toContain('libopenmpi3');
    expect(runtime).not.toContain('openmpi-bin');
  });

  it('refuses to keep a whole system folder, and names the block', () => {
    expect(() => render(files({ probe: 'runtime:\n  - keep: [/usr/lib/]\n' }))).toThrow(
      /block:probe \(runtime\): keep \/usr\/lib\/ would copy the build stage's whole system folder/,
    );
  });

  it('says which block lacks runtime packages for the base', () => {
    const bases = MINI['catalog/bases.yaml']!.replace('packageManager: apt', 'packageManager: dnf');
    expect(() => render({ ...files({ ompi: 'runtime:\n  - when: {method: distro}\n    packages: {apt: [libopenmpi3]}\n' }), 'catalog/bases.yaml': bases })).toThrow(
      /block:ompi \(runtime\): has no dnf packages for base debian-12/,
    );
  });

  it('a child of a multi-stage recipe inherits the runtime stage and adds to it', () => {
    const child = `name: child
version: "1.0"
revision: 1
summary: Child
maintainers: [{name: Test}]
extends: demo@1.0
steps:
  - run: mkdir -p /opt/child
runtime:
  - keep: [/opt/child]
`;
    const ws = Workspace.open(miniCatalog({ ...files(), 'catalog/recipes/child/1.0/recipe.yaml': child }));
    const r = ws.render(ws.pairOn('child', 'box/cpu'));
    const keeps = r.composition.runtime!.filter((s) => s.op.kind === 'keep').map((s) => `${s.origin} ${(s.op as { paths: string[] }).paths.join(' ')}`);
    expect(keeps).toEqual(['block:probe /usr/local/bin/probe', 'recipe:child@1.0 /opt/child']);
  });

  describe('leaveOut: a hard dependency replaced by an empty stand-in', () => {
    const LEAVE_OUT = OMPI_RUNTIME.replace(
      'packages: {apt: [libopenmpi3], dnf: [openmpi]}',
      'packages: {apt: [libopenmpi3], dnf: [openmpi]}\n    leaveOut: {apt: [libhwloc-plugins]}',
    );

    it('installs the stand-in before apt runs, in the same step, in both formats', () => {
      const r = render(files({ ompi: LEAVE_OUT }));
      const runtime = r.files.containerfile.split(/^FROM \S+ AS runtime$/m)[1]!;
      const install = runtime.split('\n').find((l) => l.includes('apt-get install'))!;
      expect(install).toContain('dpkg -i /tmp/brickyard-stand-in-libhwloc-plugins.deb');
      expect(install.indexOf('dpkg -i')).toBeLessThan(install.indexOf('apt-get install'));
      expect(install).toContain('--no-install-recommends libopenmpi3 openmpi-bin');
      expect(runtime).toMatch(/^# \[\d+\/\d+\] recipe:demo@1\.0: packages \(apt; left out: libhwloc-plugins\)/m);
      expect(r.files.apptainer).toContain(install.replace(/^RUN set -eu; /, ''));
      expect(markers(r.files.apptainer)).toEqual(markers(r.files.containerfile));
      // The build stage keeps the full dependency set.
      expect(r.files.containerfile.split(/^FROM \S+ AS runtime$/m)[0]).not.toContain('stand-in');
    });

    const hasDpkgDeb = spawnSync('sh', ['-c', 'command -v dpkg-deb']).status === 0;
    it.skipIf(!hasDpkgDeb)(`the stand-in is a package dpkg-deb builds, that provides the name and nothing else${hasDpkgDeb ? '' : ' (skipped: no dpkg-deb on this host)'}`, () => {
      const dir = tempDir('brickyard-stand-in-');
      // The command up to its installation, into a folder of the test's own.
      const build = standInCommand('libhwloc-plugins').replaceAll('/tmp/brickyard-stand-in-', join(dir, 's-')).split(' && dpkg -i ')[0]!;
      execFileSync('sh', ['-euc', build]);
      const deb = join(dir, 's-libhwloc-plugins.deb');
      const field = (name: string): string => execFileSync('dpkg-deb', ['--field', deb, name], { encoding: 'utf8' }).trim();
      expect(field('Package')).toBe('brickyard-stand-in-libhwloc-plugins');
      expect(field('Provides')).toBe('libhwloc-plugins');
      expect(field('Depends')).toBe('');
      expect(execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8' }).trim().split('\n')).toEqual([expect.stringMatching(/ \.\/$/)]);
    });

    it('a name that is no Debian package name is refused, not pasted into the shell', () => {
      expect(() => standInCommand("x'; rm -rf / #")).toThrow(/not a Debian package name/);
      const block = MINI['catalog/blocks/ompi/block.yaml']! + LEAVE_OUT.replace('[libhwloc-plugins]', '["libhwloc-plugins;id"]');
      const found = validateAgainstSchema('block', new SourceFile('/r/f.yaml', '/r', block)).map(formatDiagnostic);
      expect(found.join('\n')).toMatch(/leaveOut\.apt\.0" has the value "libhwloc-plugins;id", which does not match/);
    });

    it('leaveOut without packages is a schema error', () => {
      const block = MINI['catalog/blocks/ompi/block.yaml']! + 'runtime:\n  - keep: [/opt/ompi]\n    leaveOut: {apt: [libhwloc-plugins]}\n';
      const found = validateAgainstSchema('block', new SourceFile('/r/f.yaml', '/r', block)).map(formatDiagnostic);
      expect(found).toEqual(['f.yaml:25:5: error: "runtime.0" must have property packages when property leaveOut is present [schema]']);
    });

    it('a package both installed and left out is an error that says which', () => {
      const probe = 'runtime:\n  - packages: {apt: [libhwloc-plugins], dnf: [hwloc-libs]}\n';
      expect(() => render(files({ ompi: LEAVE_OUT, probe }))).toThrow(/libhwloc-plugins is both installed and left out/);
    });

    it('has no effect on a dnf base (RPM dependencies are not stood in for)', () => {
      const bases = MINI['catalog/bases.yaml']!.replace('packageManager: apt', 'packageManager: dnf');
      const r = render({ ...files({ ompi: LEAVE_OUT }), 'catalog/bases.yaml': bases });
      expect(r.files.containerfile).not.toContain('stand-in');
      expect(r.files.containerfile).toContain('dnf install -y --setopt=install_weak_deps=False openmpi');
    });
  });
});
