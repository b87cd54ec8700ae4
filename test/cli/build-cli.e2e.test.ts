/**
 * The bundled CLI (scripts/build-cli.ts → dist/cli): bin/brickyard.js runs it only while it is
 * current, and it answers as the sources do. A source edited after the build makes it stale:
 * bin runs the sources and says why (BRICKYARD_DEBUG=1), as check-dist catches stale actions.
 * In the e2e project: it builds the bundle with esbuild and starts a dozen Node processes.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../scripts/build-cli.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';

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
    expect(inputs).toContain('pipeline/schemas/site-policy.schema.json'); // the precompiled validators' source
    expect(inputs.filter((i) => i.includes(':'))).toEqual([]);
    // Every chunk a file imports statically, and those they import: what a run loads up front.
    const staticGraph = (start: string): string => {
      const loaded = new Map<string, string>();
      const visit = (file: string): void => {
        if (loaded.has(file)) return;
        const text = readFileSync(file, 'utf8');
        loaded.set(file, text);
        for (const m of text.matchAll(/^(?:import|export) (?:\{[^}]*\} from )?"(\.\.?\/[^"]+)";?$/gms)) visit(join(file, '..', m[1]!));
      };
      visit(start);
      return [...loaded.values()].join('\n');
    };
    const entry = join(repoRoot, 'dist', 'cli', 'entry.js');
    // `--version` answers from the entry: not even commander loads.
    const version = staticGraph(entry);
    expect(version).not.toContain('node_modules/commander/');
    // `--help`: the command table (main, loaded by the entry's one dynamic import), no heavy library, no crypto.
    const main = /import\("(\.\/chunks\/main-[^"]+)"\)/.exec(readFileSync(entry, 'utf8'))?.[1];
    expect(main).toBeDefined();
    const help = staticGraph(join(repoRoot, 'dist', 'cli', main!));
    expect(help).toContain('node_modules/commander/');
    for (const lib of ['@sigstore/verify', 'node_modules/ajv/', '@peculiar/x509', 'node_modules/yaml/', 'node_modules/tar/', '"node:crypto"']) expect(help, lib).not.toContain(lib);
  });

  it('runs the bundle when current, with the same answers as the sources', () => {
    // A policy with a typo: the precompiled validator finds what Ajv compiled from the schema finds.
    const policy = join(tempDir('brickyard-policy-'), 'site-policy.yaml');
    writeFileSync(policy, 'version: 2\nsytem: x\n');
    for (const args of [['--version'], ['--help'], ['import', '--help'], ['nonsense'], ['check-bundle', 'none.tar', '--policy', policy]]) {
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

  it('a site signing its admission records loads no network client (only keyless signing in CI does)', () => {
    // What `import` loads to sign admissions (site/admit.ts's signing stack), in a fresh process: CommonJS modules show in require.cache.
    const script = [
      "import { createRequire } from 'node:module';",
      "await import('./pipeline/src/site/admit.ts');",
      "await Promise.all([import('./pipeline/src/sign/attest.ts'), import('./pipeline/src/sign/site-key.ts')]);",
      'console.log(JSON.stringify(Object.keys(createRequire(import.meta.url).cache)));',
    ].join('\n');
    const r = spawnSync(node, ['--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    // From node_modules/ on: a clean clone may share another checkout's node_modules through a link.
    const loaded = (JSON.parse(r.stdout) as string[]).map((f) => /node_modules\/.*$/.exec(f)?.[0] ?? f);
    expect(loaded).toContain('node_modules/@sigstore/sign/dist/bundler/dsse.js'); // the builder it signs with
    for (const client of ['node_modules/@sigstore/sign/dist/index.js', 'node_modules/make-fetch-happen/', 'node_modules/@sigstore/sign/dist/signer/fulcio/']) {
      expect(
        loaded.filter((f) => f.startsWith(client)),
        client,
      ).toEqual([]);
    }
  });
});
