import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../pipeline/src/cli/main.ts';
import { MINI, miniCatalog, tempDir } from '../helpers/fixture.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

describe('brickyard CLI', () => {
  it('validate: exit 0 on a clean catalogue, 1 with findings, JSON on request', async () => {
    const root = miniCatalog();
    const ok = await run('--root', root, 'validate');
    expect(ok.code).toBe(0);
    expect(ok.err).toMatch(/^0 error\(s\), 0 warning\(s\) in 1 recipe\(s\), 3 block\(s\), 1 system\(s\); 1 of 1 recipe × partition pairs fit/);
    const bad = miniCatalog({ 'catalog/recipes/demo/1.0/recipe.yaml': MINI['catalog/recipes/demo/1.0/recipe.yaml']!.replace('use: cc', 'use: gcc') });
    const found = await run('--root', bad, 'validate');
    expect(found.code).toBe(1);
    expect(found.out).toMatch(/^catalog\/recipes\/demo\/1\.0\/recipe\.yaml:9:10: error: block gcc is not in catalog\/blocks\//m);
    const json = await run('--root', bad, 'validate', '--json');
    expect(json.code).toBe(1);
    const parsed = JSON.parse(json.out);
    expect(parsed.ok).toBe(false);
    expect(parsed.diagnostics[0]).toMatchObject({ file: 'catalog/recipes/demo/1.0/recipe.yaml', line: 9, col: 10, rule: 'block-unresolved' });
  });

  it('exit 2 for usage errors and unreadable input, with a hint and no stack trace', async () => {
    const usage = await run('render');
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/error: (missing required argument 'recipe'|required option '--system)/);
    const nowhere = await run('--root', tempDir(), 'validate');
    expect(nowhere.code).toBe(2);
    expect(nowhere.err).toMatch(/is not a Brickyard checkout .* \[ROOT_NOT_FOUND\]\n {2}hint: /);
    expect(nowhere.err).not.toMatch(/\n\s+at /);
    const unknown = await run('--root', miniCatalog(), 'render', 'nope', '--system', 'box');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no recipe nope in the catalogue [RECIPE_NOT_FOUND]\n  hint: known recipes: demo');
    const part = await run('--root', miniCatalog(), 'render', 'demo', '--system', 'box/gpu');
    expect(part.code).toBe(2);
    expect(part.err).toContain('system box has no partition gpu');
  });

  it('render prints one format, or writes all four into a folder', async () => {
    const root = miniCatalog();
    const one = await run('--root', root, 'render', 'demo@1.0', '--system', 'box/cpu', '--format', 'containerfile');
    expect(one.code).toBe(0);
    expect(one.out.startsWith('# Containerfile rendered by Brickyard')).toBe(true);
    const out = join(tempDir(), 'r');
    const all = await run('--root', root, 'render', 'demo', '--system', 'box', '--out', out);
    expect(all.code).toBe(0);
    for (const f of ['Containerfile', 'apptainer.def', 'job.sh', 'lock.json']) expect(existsSync(join(out, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'lock.json'), 'utf8')).recipe.name).toBe('demo');
    const bad = await run('--root', root, 'render', 'demo', '--system', 'box/cpu', '--format', 'dockerfile');
    expect(bad.code).toBe(2);
  });

  it('check explains pairs that do not fit, and fails for a named pair that does not', async () => {
    const root = miniCatalog({ 'catalog/recipes/demo/1.0/recipe.yaml': MINI['catalog/recipes/demo/1.0/recipe.yaml']!.replace('[x86_64]', '[aarch64]') });
    const r = await run('--root', root, 'check', 'demo', '--system', 'box/cpu');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/demo@1\.0 +box\/cpu +no +needs aarch64; box\/cpu is x86_64 \(Test CPU\)/);
    const json = await run('--root', root, 'check', '--json');
    expect(JSON.parse(json.out)).toEqual([
      { recipe: 'demo@1.0', system: 'box', partition: 'cpu', fits: false, reasons: ['needs aarch64; box/cpu is x86_64 (Test CPU)'], strategy: null, doubts: [] },
    ]);
    expect(json.code).toBe(0);
  });

  it('lists systems, recipes, blocks and rules', async () => {
    const root = miniCatalog();
    const systems = JSON.parse((await run('--root', root, 'systems', 'list', '--json')).out);
    expect(systems).toEqual([
      {
        id: 'box',
        name: 'Box',
        production: false,
        scheduler: 'slurm',
        interconnect: 'loopback',
        partitions: [{ id: 'cpu', arch: 'x86_64', cpu: 'Test CPU', gpu: null, runtime: 'podman', mpi: ['hybrid-pmix'] }],
      },
    ]);
    expect((await run('--root', root, 'recipes')).out).toMatch(/demo@1\.0 +1 +Demo/);
    expect((await run('--root', root, 'blocks', '--json')).out).toContain('"name": "ompi"');
    expect((await run('rules')).out).toContain('no-curl-pipe-shell (error)');
  });

  it('run --render-only renders every fitting pair and says where the job stops', async () => {
    const root = miniCatalog();
    const r = await run('--root', root, 'run', '--render-only', '--json');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.out);
    expect(summary).toMatchObject({ recipes: 1, systems: 1, pairs: 1, rendered: 1, stages: { build: 'skipped', sign: 'not run', import: 'not run' } });
    expect(existsSync(join(root, '.brickyard', 'render', 'demo@1.0', 'box-cpu', 'Containerfile'))).toBe(true);
  });

  it('attest and sign explain what is missing', async () => {
    const root = miniCatalog();
    const a = await run('--root', root, 'attest', 'demo', '--system', 'box', '--out', tempDir());
    expect(a.code).toBe(2);
    expect(a.err).toContain('demo@1.0 has not been built for box/cpu [IMAGE_NOT_FOUND]\n  hint: run: npx brickyard build demo@1.0 --system box/cpu');
    const file = join(tempDir(), 'not-a-statement.json');
    writeFileSync(file, '{"predicate": {}}');
    const s = await run('--root', root, 'sign', file, '--state', tempDir());
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/refusing to sign: _type must be https:\/\/in-toto\.io\/Statement\/v1/);
  });
});
