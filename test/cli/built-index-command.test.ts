/** `brickyard plan` with its cost and budget, and `brickyard built-index record`, through the CLI. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../pipeline/src/cli/main.ts';
import { lockPairs } from '../../pipeline/src/plan/built.ts';
import { Change } from '../../pipeline/src/plan/change.ts';
import { MINI, miniCatalog, tempDir } from '../helpers/fixture.ts';
import { commit, initRepo } from '../helpers/git.ts';
import { buildRecordOf, smokeReportOf } from '../helpers/state-records.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

const IMAGE = `sha256:${'e'.repeat(64)}`;

function changedRepo(): string {
  const root = miniCatalog({ 'README.md': '# r\n' });
  initRepo(root);
  commit(root, { 'catalog/blocks/ompi/block.yaml': MINI['catalog/blocks/ompi/block.yaml']!.replace('libopenmpi-dev]', 'libopenmpi-dev, openmpi-bin]') });
  return root;
}

/** A state folder as a build job leaves it: build.json and a smoke report for the pair. */
function stateWithBuild(root: string, smokeResult: 'PASSED' | 'FAILED'): string {
  using change = new Change(root, { base: 'HEAD~1', head: 'HEAD' });
  const [pair] = lockPairs(change.head, change.plan().pairs);
  const state = tempDir();
  const dir = join(state, 'builds', pair!.recipe, `${pair!.system}-${pair!.partition}`);
  mkdirSync(dir, { recursive: true });
  const record = buildRecordOf({
    name: pair!.name,
    version: pair!.version,
    system: pair!.system,
    partition: pair!.partition,
    lockDigest: pair!.lockDigest ?? undefined,
    manifestDigest: IMAGE,
  });
  writeFileSync(join(dir, 'build.json'), JSON.stringify(record));
  writeFileSync(join(dir, 'smoke-direct.json'), JSON.stringify(smokeReportOf({ result: smokeResult, manifestDigest: IMAGE })));
  return state;
}

describe('brickyard plan: what a change costs', () => {
  it('prints the builds and the budget verdict; the label approves', async () => {
    const root = changedRepo();
    const over = await run('--root', root, 'plan', '--base', 'HEAD~1', '--head', 'HEAD', '--budget', '0');
    expect(over.code).toBe(0);
    expect(over.out).toContain('Build cost: 1 build(s) in 1 batch(es)\n');
    expect(over.out).toContain('Over the build budget of 0: needs the label "large-build-ok" to proceed.');
    const ok = await run('--root', root, 'plan', '--base', 'HEAD~1', '--head', 'HEAD', '--budget', '0', '--label', 'large-build-ok', '--json');
    expect(JSON.parse(ok.out).cost).toEqual({ affected: 1, builds: 1, reused: 0, batches: 1, budget: 0, label: 'large-build-ok', verdict: 'approved' });
    expect((await run('--root', root, 'plan', '--base', 'HEAD~1', '--budget', '-3')).code).not.toBe(0);
  });

  it('a pair recorded as built with a passing smoke test costs nothing; a failed one is built again', async () => {
    const root = changedRepo();
    const index = join(tempDir(), 'built-index.json');
    const rec = await run('--root', root, 'built-index', 'record', '--index', index, '--where', 'https://github.com/o/r/actions/runs/1', '--state', stateWithBuild(root, 'PASSED'));
    expect(rec.code).toBe(0);
    expect(rec.out).toMatch(/^recorded 1 build\(s\) \(1 with a passing smoke test\)/);
    const plan = await run('--root', root, 'plan', '--base', 'HEAD~1', '--head', 'HEAD', '--built-index', index, '--json');
    const parsed = JSON.parse(plan.out);
    expect(parsed.cost).toMatchObject({ affected: 1, builds: 0, reused: 1, batches: 0 });
    expect(parsed.reused[0]).toMatchObject({ image: IMAGE, where: 'https://github.com/o/r/actions/runs/1' });
    expect(parsed.hosted).toEqual([]);

    await run('--root', root, 'built-index', 'record', '--index', index, '--where', 'run 2', '--state', stateWithBuild(root, 'FAILED'));
    expect(JSON.parse(readFileSync(index, 'utf8')).builds).toSatisfy((b: Record<string, { smoke: string }>) => Object.values(b).every((e) => e.smoke === 'failed'));
    const again = JSON.parse((await run('--root', root, 'plan', '--base', 'HEAD~1', '--head', 'HEAD', '--built-index', index, '--json')).out);
    expect(again.cost).toMatchObject({ builds: 1, reused: 0 });
  });

  it('a malformed index is refused with its name, not treated as "nothing built" or "all built"', async () => {
    const root = changedRepo();
    const index = join(tempDir(), 'built-index.json');
    writeFileSync(index, '{"kind":"brickyard-built-index","version":1,"builds":{"__proto__":{}}}');
    const r = await run('--root', root, 'plan', '--base', 'HEAD~1', '--head', 'HEAD', '--built-index', index);
    expect(r.code).not.toBe(0);
    expect(r.err).toContain('built-index.json is not a brickyard built index');
  });
});
