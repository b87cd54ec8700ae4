/**
 * Every rendered format of every fitting pair of the shipped catalogue, read by a real parser:
 * job scripts by shellcheck, the Container Engine's EDF by a TOML parser (after bash has
 * written it), Apptainer definitions by the structural rules of the Apptainer user guide.
 * Each checker is also fed a near forgery, to show it can refuse.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { apptainerDefProblems } from '../helpers/apptainer-def.ts';
import { repoRoot } from '../helpers/fixture.ts';

const ws = Workspace.open(repoRoot);
const pairs = ws
  .checkAll()
  .filter((f) => f.fits)
  .map((f) => ({ name: `${f.recipe} on ${f.system}/${f.partition}`, files: ws.render(ws.pairOn(f.recipe, `${f.system}/${f.partition}`)).files }));

const hasShellcheck = spawnSync('sh', ['-c', 'command -v shellcheck']).status === 0;

/**
 * shellcheck over many scripts in one run (one start, not one per pair): each script's findings,
 * by the file it was written to; a script shellcheck could not read counts as failed.
 */
function shellcheckAll(scripts: string[]): { code: number | null; out: string[][] } {
  const dir = mkdtempSync(join(tmpdir(), 'by-shellcheck-'));
  const files = scripts.map((text, i) => {
    const f = join(dir, `${i}.sh`);
    writeFileSync(f, text);
    return f;
  });
  const r = spawnSync('shellcheck', ['--shell=bash', '--severity=style', '--format=gcc', ...files], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const out = files.map((f) => (r.stdout + r.stderr).split('\n').filter((l) => l.startsWith(`${f}:`)));
  return { code: r.status, out };
}

/** Run the job script up to the end of its EDF heredoc, in bash, and return the EDF's text. */
function writtenEdf(script: string): string {
  const lines = script.split('\n');
  const from = lines.findIndex((l) => l.startsWith('IMAGE='));
  const to = lines.indexOf(
    'BRICKYARD_EOF',
    lines.findIndex((l) => l.startsWith('cat > "$EDF"')),
  );
  const snippet = [...lines.slice(from, to + 1), 'cat "$EDF"; rm -f "$EDF"'].join('\n');
  const r = spawnSync('bash', ['--norc', '--noprofile', '-euc', snippet], {
    encoding: 'utf8',
    cwd: mkdtempSync(join(tmpdir(), 'by-edf-')),
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', USER: 'someone', PROJECT: 'proj' },
  });
  if (r.status !== 0) throw new Error(`bash failed: ${r.stderr}`);
  return r.stdout;
}

describe('rendered formats parse', () => {
  it('covers many pairs, among them the Alps EDF ones', () => {
    expect(pairs.length).toBeGreaterThan(40);
    expect(pairs.filter((p) => p.files.jobscript.includes('cat > "$EDF"')).length).toBeGreaterThan(2);
    // The real recipes re-expressed from centre documentation are among them, on each of their systems.
    const names = new Set(pairs.map((p) => p.name));
    for (const where of ['alps/normal', 'lumi/standard', 'frontier/batch', 'perlmutter/cpu']) expect(names.has(`osu-micro-benchmarks-xpmem@7.5.1 on ${where}`), where).toBe(true);
    for (const where of ['lumi/standard-g', 'frontier/batch', 'perlmutter/gpu', 'alps/normal']) expect(names.has(`pytorch-ofi@2.7.1 on ${where}`), where).toBe(true);
    expect(names.has('lammps-kokkos@20250722.6 on alps/normal')).toBe(true);
  });

  it.skipIf(!hasShellcheck)('shellcheck passes every job script, at style level', () => {
    const r = shellcheckAll(pairs.map((p) => p.files.jobscript));
    const failed = pairs.map((p, i) => ({ name: p.name, out: r.out[i]! })).filter((f) => f.out.length > 0);
    expect(failed.map((f) => `${f.name}\n${f.out.join('\n')}`)).toEqual([]);
    expect(r.code, 'shellcheck exits 0 when no script has a finding').toBe(0);
  });

  it.skipIf(!hasShellcheck)('shellcheck refuses a forged job script (unquoted image, unused variable)', () => {
    const forged = pairs[0]!.files.jobscript.replace('"$IMAGE"', '$IMAGE') + 'UNUSED=1\n';
    // Between two good scripts: the batched run names the forged one, and only it.
    const r = shellcheckAll([pairs[0]!.files.jobscript, forged, pairs[1]!.files.jobscript]);
    expect(r.code).not.toBe(0);
    expect(r.out[1]!.join('\n')).toMatch(/SC2086|SC2034/);
    expect([r.out[0], r.out[2]]).toEqual([[], []]);
  });

  it('each EDF the job script writes is TOML with the keys the Container Engine reads', () => {
    const edfs = pairs.filter((p) => p.files.jobscript.includes('cat > "$EDF"'));
    for (const p of edfs) {
      const doc = parseToml(writtenEdf(p.files.jobscript)) as Record<string, unknown>;
      expect(
        Object.keys(doc).every((k) => ['image', 'mounts', 'workdir', 'entrypoint', 'writable', 'env', 'annotations', 'base_environment'].includes(k)),
        p.name,
      ).toBe(true);
      expect(typeof doc['image'], p.name).toBe('string');
      expect(isAbsolute(doc['image'] as string), `${p.name}: ${String(doc['image'])}`).toBe(true);
      expect(Array.isArray(doc['mounts']), p.name).toBe(true);
      for (const v of Object.values((doc['env'] ?? {}) as Record<string, unknown>)) expect(typeof v, p.name).toBe('string');
    }
  });

  it('the TOML parser refuses a forged EDF (a value that is not quoted)', () => {
    expect(() => parseToml('image = /capstor/x.sqsh\nmounts = []\n')).toThrow();
  });

  it('every Apptainer definition is well formed', () => {
    const bad = pairs.map((p) => ({ name: p.name, problems: apptainerDefProblems(p.files.apptainer) })).filter((r) => r.problems.length > 0);
    expect(bad).toEqual([]);
  });

  it('the Apptainer check refuses forgeries: a repeated or unknown section, no From, stray text, a misspelt agent', () => {
    const def = pairs[0]!.files.apptainer;
    expect(apptainerDefProblems(def.replace('%runscript', '%post'))).toEqual(expect.arrayContaining([expect.stringMatching(/%post appears twice/)]));
    expect(apptainerDefProblems(def.replace('%runscript', '%runscripts'))).toEqual(expect.arrayContaining([expect.stringMatching(/unknown section %runscripts/)]));
    expect(apptainerDefProblems(def.replace(/^From: .*$/m, ''))).toEqual(expect.arrayContaining([expect.stringMatching(/stage without From/)]));
    expect(apptainerDefProblems(def.replace('\n%labels', '\nstray text\n%labels'))).toEqual(expect.arrayContaining([expect.stringMatching(/text outside any section/)]));
    expect(apptainerDefProblems(def.replace('Bootstrap: docker', 'Bootstrap: dokcer'))).toEqual(expect.arrayContaining([expect.stringMatching(/unknown bootstrap agent/)]));
  });
});
