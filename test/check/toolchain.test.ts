/**
 * catalog/toolchains.yaml against real compilers, and `validate` refusing what would fail in
 * the build: a target flag the base image's GCC does not know, a toolkit release not published
 * for the base OS. Findings land in the recipe's file, at its line.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inRange, refusedFlags } from '../../pipeline/src/check/toolchain.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { copyOfShipped, repoRoot, tempDir } from '../helpers/fixture.ts';

const shipped = Workspace.open(repoRoot);
const table = shipped.catalog.toolchains!;

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Does this compiler accept these flags? It compiles an empty unit with them. */
function compiles(cc: string, flags: string): boolean {
  const dir = tempDir('by-cc-');
  writeFileSync(join(dir, 't.c'), 'int brickyard;\n');
  return spawnSync(cc, [...flags.split(' '), '-c', join(dir, 't.c'), '-o', join(dir, 't.o')]).status === 0;
}

const X86 = /^-march=(x86-64|znver|icelake|sapphire)/;

describe('the GCC target table agrees with real compilers', () => {
  // Debian 12's own GCC: what the debian-12 base builds with.
  const cases: [string, string, (flag: string) => boolean][] = [
    ['gcc', 'x86_64', (f) => X86.test(f)],
    ['aarch64-linux-gnu-gcc', 'aarch64', (f) => !X86.test(f)],
  ];
  for (const [cc, arch, mine] of cases) {
    it.skipIf(!has(cc))(`${cc} (${arch}) accepts exactly the flags the table says for its release`, () => {
      const version = execFileSync(cc, ['-dumpfullversion'], { encoding: 'utf8' }).trim();
      const flags = Object.keys(table.compilers.gcc!.targets).filter(mine);
      expect(flags.length).toBeGreaterThan(2);
      for (const flag of flags) {
        const predicted = refusedFlags(table, { name: 'gcc', version }, flag).length === 0;
        expect(compiles(cc, flag), `${cc} ${version} ${flag}`).toBe(predicted);
      }
    });
  }

  it('reads archspec ranges inclusively, series bounds included', () => {
    expect(inRange('12.2', '12.3:')).toBe(false);
    expect(inRange('12.3', '12.3:')).toBe(true);
    expect(inRange('11.5', '11.4:11.99')).toBe(true);
    expect(inRange('12.0', '11.4:11.99')).toBe(false);
    expect(inRange('13.2', '12.3:')).toBe(true);
  });

  it('refuses a flag the table does not list, rather than guessing', () => {
    expect(refusedFlags(table, { name: 'gcc', version: '14.2' }, '-O2 -march=znver9')).toEqual([
      '-march=znver9 is not in catalog/toolchains.yaml for gcc: add the releases that accept it, with a source',
    ]);
    // -O2 and other non-target flags are not looked up.
    expect(refusedFlags(table, { name: 'gcc', version: '12.2' }, '-O2 -fno-math-errno')).toEqual([]);
  });
});

describe('validate refuses builds that would fail, at the recipe file:line', () => {
  function validateWith(edit: (root: string) => void): ReturnType<Workspace['validate']> {
    const root = copyOfShipped();
    edit(root);
    return Workspace.open(root).validate();
  }
  const editFile = (root: string, rel: string, from: string | RegExp, to: string): void => {
    const p = join(root, rel);
    const text = readFileSync(p, 'utf8');
    const next = text.replace(from, to);
    if (next === text) throw new Error(`${rel}: nothing replaced`);
    writeFileSync(p, next);
  };

  it('the shipped catalogue validates with the fallback flags on Alps', () => {
    const report = shipped.validate();
    expect(report.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  it('-mcpu=neoverse-v2 on Alps without the fallback: every Debian 12 recipe is refused at its base line', () => {
    const report = validateWith((root) => {
      editFile(root, 'systems/alps.yaml', /\n\s+targetFlagsFallback: .*\n/, '\n');
      editFile(root, 'systems/alps.yaml', /\n {2}- path: \/partitions\/0\/cpu\/targetFlagsFallback\n(?: {4}.*\n)+/, '\n');
    });
    const errors = report.diagnostics.filter((d) => d.rule === 'compose');
    expect(errors.length).toBeGreaterThanOrEqual(4);
    for (const e of errors) {
      expect(e.file).toMatch(/^catalog\/recipes\//);
      expect(e.message).toContain('-mcpu=neoverse-v2 is not accepted by gcc 12.2');
    }
    const pingpong = errors.find((e) => e.file === 'catalog/recipes/mpi-pingpong/1.0.0/recipe.yaml')!;
    const lines = readFileSync(join(repoRoot, pingpong.file), 'utf8').split('\n');
    expect(lines[pingpong.line - 1]).toMatch(/^base: debian-12/);
    // Never the system template it was merged with.
    expect(report.diagnostics.some((d) => d.file === 'systems/alps.yaml' && d.severity === 'error')).toBe(false);
  });

  it('CUDA 12.4 on Ubuntu 24.04 is refused at the recipe, naming the releases that exist', () => {
    const report = validateWith((root) => {
      editFile(root, 'catalog/recipes/mpi-pingpong/1.0.0/recipe.yaml', /^base: debian-12$/m, 'base: ubuntu-24.04');
    });
    const gpu = report.diagnostics.filter((d) => d.rule === 'compose' && d.message.includes('cuda 12.4'));
    expect(gpu.length).toBeGreaterThan(0);
    const onPerlmutter = gpu.find((d) => d.message.startsWith('on perlmutter/gpu'))!;
    expect(onPerlmutter.file).toBe('catalog/recipes/mpi-pingpong-gpu/1.0.0/recipe.yaml');
    expect(onPerlmutter.message).toContain('cuda 12.4 is not published for base ubuntu-24.04');
    expect(onPerlmutter.message).toContain('releases for ubuntu-24.04: 12.6');
    // The @gpu entry of the recipe's own blocks.
    const lines = readFileSync(join(repoRoot, onPerlmutter.file), 'utf8').split('\n');
    expect(lines[onPerlmutter.line - 1]).toContain('use: "@gpu"');
  });

  it('the old LUMI toolkit (ROCm 6.0.3) on Debian 12 is refused', () => {
    const report = validateWith((root) =>
      editFile(root, 'systems/lumi.yaml', 'toolkit: {block: rocm, with: {version: "6.3.4"}}', 'toolkit: {block: rocm, with: {version: "6.0.3"}}'),
    );
    const found = report.diagnostics.find((d) => d.rule === 'compose' && d.message.startsWith('on lumi/standard-g') && d.message.includes('rocm 6.0.3'));
    expect(found?.message).toContain('rocm 6.0.3 is not published for base debian-12');
  });

  it('a forged table entry is refused by the schema', () => {
    const root = copyOfShipped();
    const p = join(root, 'catalog', 'toolchains.yaml');
    writeFileSync(p, readFileSync(p, 'utf8').replace('"-march=znver3": ["10.3:"]', '"-march=znver3": ["ten:"]'));
    const report = Workspace.open(root).validate();
    expect(report.diagnostics.some((d) => d.file === 'catalog/toolchains.yaml' && d.severity === 'error')).toBe(true);
  });
});

describe('CPU target per recipe', () => {
  it('cpuTarget: portable builds with the architecture baseline; the default follows the partition', () => {
    const root = copyOfShipped();
    const path = join(root, 'catalog/recipes/stream/5.10/recipe.yaml');
    writeFileSync(path, `${readFileSync(path, 'utf8')}cpuTarget: portable\n`);
    const ws = Workspace.open(root);
    expect(ws.validate().errors).toBe(0);
    const flags = (recipe: string, where: string): string => ws.render(ws.pairOn(recipe, where)).composition.target.cflags;
    expect(flags('stream', 'alps/normal')).toBe('-O2 -march=armv8-a');
    expect(flags('stream', 'lumi/standard')).toBe('-O2 -march=x86-64-v2');
    expect(flags('mpi-pingpong', 'lumi/standard')).toBe('-O2 -march=znver3');
    // Alps' own flags need GCC 12.3; Debian 12 recipes take the template's fallback.
    expect(flags('mpi-pingpong', 'alps/normal')).toBe('-O2 -march=armv9-a+i8mm+bf16 -mtune=cortex-a710');
  });
});
