/** The real `brickyard` executable, run as a child process the way users and CI run it. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { copyOfShipped, repoRoot } from '../helpers/fixture.ts';

const node = join(repoRoot, 'node_modules', '.bin', 'node');
const bin = join(repoRoot, 'bin', 'brickyard.js');

function brickyard(args: string[], cwd = repoRoot): { code: number; out: string; err: string } {
  const r = spawnSync(node, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, BRICKYARD_DEBUG: '' } });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const COMMANDS = [[], ['validate'], ['check'], ['render'], ['systems'], ['systems', 'list'], ['systems', 'show'], ['recipes'], ['blocks'], ['rules'], ['run']];

describe('brickyard executable', () => {
  it('runs on Node 24 from the pinned devDependency', () => {
    const r = spawnSync(node, ['--version'], { encoding: 'utf8' });
    expect(r.stdout.trim()).toMatch(/^v24\./);
  });

  it.each(COMMANDS.map((c) => [c.join(' ') || 'brickyard', c] as const))('has --help for %s', (_name, cmd) => {
    const r = brickyard([...cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: brickyard/);
  });

  it('validates the shipped catalogue with exit 0', () => {
    const r = brickyard(['validate']);
    expect(r.err).toMatch(/^0 error\(s\)/m);
    expect(r.code).toBe(0);
  });

  it('prints every error of a broken copy at file:line, sorted, exit 1, no stack trace', () => {
    const root = copyOfShipped();
    writeFileSync(join(root, 'catalog', 'bases.yaml'), 'bases:\n  debian-12: [unclosed\n');
    writeFileSync(join(root, 'systems', 'lumi.yaml'), 'schemaVersion: 1\nid: lumi\nname: LUMI\n');
    const r = brickyard(['--root', root, 'validate']);
    expect(r.code).toBe(1);
    const lines = r.out.trim().split('\n');
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(l).toMatch(/^[\w./-]+:\d+:\d+: (error|warning): .+ \[[a-z-]+\]$/);
    expect([...lines].sort((a, b) => (a.split(':')[0]! < b.split(':')[0]! ? -1 : a.split(':')[0]! > b.split(':')[0]! ? 1 : 0))).toEqual(lines);
    expect(r.out).toMatch(/^catalog\/bases\.yaml:\d+:\d+: error: YAML syntax/m);
    expect(r.out).toContain('systems/lumi.yaml:1:1: error: the document is missing required key "production" [schema]');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('exits 2 on a usage error', () => {
    const r = brickyard(['render', 'mpi-pingpong', '--system', 'lumi/standard-g', '--format', 'docker']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/argument 'docker' is invalid/);
  });
});
