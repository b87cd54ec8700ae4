/**
 * The bundled CLI (scripts/build-cli.ts → dist/cli): bin/brickyard.js runs it only while it is
 * current, and it answers as the sources do. A source edited after the build makes it stale:
 * bin runs the sources and says why (BRICKYARD_DEBUG=1), as check-dist catches stale actions.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.ts';
import { repoRoot } from '../helpers/fixture.ts';

const node = join(repoRoot, 'node_modules', '.bin', 'node');

function cli(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(node, [join(repoRoot, 'bin', 'brickyard.js'), ...args], { encoding: 'utf8', env: { ...process.env, BRICKYARD_DEBUG: '1', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the bundled CLI', () => {
  let inputs: string[];
  beforeAll(async () => {
    inputs = await buildCli();
  }, 120_000);

  it('lists its sources, and none of the heavy libraries loads for --version or --help', () => {
    expect(inputs).toContain('pipeline/src/cli/main.ts');
    expect(inputs).toContain('pipeline/src/site/store.ts');
    expect(inputs).toContain('package-lock.json');
    // Every chunk the entry imports statically, and those they import: what `--version` loads.
    const loaded = new Map<string, string>();
    const visit = (file: string): void => {
      if (loaded.has(file)) return;
      const text = readFileSync(file, 'utf8');
      loaded.set(file, text);
      for (const m of text.matchAll(/^(?:import|export) (?:\{[^}]*\} from )?"(\.\.?\/[^"]+)";?$/gms)) visit(join(file, '..', m[1]!));
    };
    visit(join(repoRoot, 'dist', 'cli', 'entry.js'));
    expect(loaded.size).toBeGreaterThan(2);
    const eager = [...loaded.values()].join('\n');
    expect(eager).toContain('node_modules/commander/');
    for (const lib of ['@sigstore/verify', 'node_modules/ajv/', '@peculiar/x509', 'node_modules/yaml/', 'node_modules/tar/']) expect(eager, lib).not.toContain(lib);
  });

  it('runs the bundle when current, with the same answers as the sources', () => {
    for (const args of [['--version'], ['--help'], ['import', '--help'], ['nonsense']]) {
      const bundled = cli(args);
      expect(bundled.stderr).toMatch(/^brickyard: running the bundle dist\/cli\n/);
      const sources = cli(args, { BRICKYARD_FROM_SOURCES: '1' });
      expect(sources.stderr).toMatch(/^brickyard: running the sources: BRICKYARD_FROM_SOURCES is set\n/);
      expect({ ...bundled, stderr: bundled.stderr.split('\n').slice(1) }).toEqual({ ...sources, stderr: sources.stderr.split('\n').slice(1) });
    }
  });

  it('a source newer than the bundle makes it stale: the sources run, and bin says which file', () => {
    const source = join(repoRoot, 'pipeline', 'src', 'cli', 'table.ts');
    const { atime, mtime } = statSync(source);
    try {
      utimesSync(source, atime, new Date(Date.now() + 60_000));
      const r = cli(['--version']);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/^brickyard: running the sources: dist\/cli is stale: pipeline\/src\/cli\/table\.ts is newer/);
    } finally {
      utimesSync(source, atime, mtime);
    }
    expect(cli(['--version']).stderr).toMatch(/running the bundle/);
  });
});
