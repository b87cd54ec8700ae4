import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../pipeline/src/cli/main.ts';
import { Change } from '../../pipeline/src/plan/change.ts';
import { formatDiagnostic } from '../../pipeline/src/util/diagnostics.ts';
import { MINI, miniCatalog } from '../helpers/fixture.ts';
import { commit, git, initRepo } from '../helpers/git.ts';

const RECIPE = MINI['catalog/recipes/demo/1.0/recipe.yaml']!;

function repo(): string {
  const root = miniCatalog();
  initRepo(root);
  return root;
}

function versioning(root: string): string[] {
  using change = new Change(root, { base: 'HEAD~1', head: 'HEAD' });
  return change.versioning().diagnostics.map(formatDiagnostic);
}

async function cli(root: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['--root', root, ...args], { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

describe('versioning rules', () => {
  it('a released version whose output changes must bump its revision', () => {
    const root = repo();
    commit(root, { 'catalog/blocks/probe/block.yaml': MINI['catalog/blocks/probe/block.yaml']!.replace('-o /usr/local/bin/probe', '-O3 -o /usr/local/bin/probe') });
    expect(versioning(root)).toEqual([
      'catalog/recipes/demo/1.0/recipe.yaml:3:11: error: demo@1.0 is released and what it renders changed on box/cpu (because of block probe): bump revision to 2 (npx brickyard bump --base <ref>) or put the change in a new version [revision-not-bumped]',
    ]);
    commit(root, { 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('revision: 1', 'revision: 2') });
    using change = new Change(root, { base: 'HEAD~2', head: 'HEAD' });
    expect(change.versioning().diagnostics).toEqual([]);
  });

  it('a change to a copied file counts; comments and metadata that nothing renders do not', () => {
    const root = repo();
    commit(root, { 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('summary: Demo', '# a comment\nsummary: Demo') + 'description: more words\n' });
    expect(versioning(root)).toEqual([]);
    commit(root, { 'catalog/blocks/probe/files/probe.c': 'int main(void) { return 2; }\n' });
    expect(versioning(root)).toHaveLength(1);
  });

  it('deleting a released version needs it deprecated on the base first', () => {
    const root = repo();
    commit(root, { 'catalog/recipes/demo': null });
    expect(versioning(root)).toEqual([
      'catalog/recipes/demo/1.0/recipe.yaml:1:1: error: released version demo@1.0 was deleted without being marked deprecated first: restore it, add deprecated: {reason: …} and merge that, then delete it in a later change [version-deleted]',
    ]);
    const ok = repo();
    commit(ok, { 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE + 'deprecated: {reason: superseded, replacement: demo@2.0}\n' });
    commit(ok, { 'catalog/recipes/demo': null });
    expect(versioning(ok)).toEqual([]);
  });

  it('a new version and a lowered revision', () => {
    const root = repo();
    commit(root, { 'catalog/recipes/demo/2.0/recipe.yaml': RECIPE.replace('version: "1.0"', 'version: "2.0"') });
    expect(versioning(root)).toEqual([]);
    const down = miniCatalog({ 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('revision: 1', 'revision: 3') });
    initRepo(down);
    commit(down, { 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('revision: 1', 'revision: 2') });
    expect(versioning(down)).toEqual([
      "catalog/recipes/demo/1.0/recipe.yaml:3:11: error: revision went from 3 to 2; a released version's revision never goes down [revision-decreased]",
    ]);
  });

  it('validate --base fails with the reason; bump fixes it in place, keeping the file as written', async () => {
    const root = repo();
    commit(root, { 'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('revision: 1', 'revision: 1 # bumped on every change') });
    commit(root, { 'catalog/blocks/probe/block.yaml': MINI['catalog/blocks/probe/block.yaml']!.replace('-o /usr/local/bin/probe', '-g -o /usr/local/bin/probe') });
    const failed = await cli(root, 'validate', '--base', 'HEAD~1');
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('[revision-not-bumped]');
    const bumped = await cli(root, 'bump', '--base', 'HEAD~1');
    expect(bumped.out).toBe('catalog/recipes/demo/1.0/recipe.yaml: demo@1.0 revision 1 -> 2; 1 rebuild(s): 1 changed, 0 for the new revision label only\n1 rebuild(s) in all\n');
    expect(readFileSync(join(root, 'catalog/recipes/demo/1.0/recipe.yaml'), 'utf8')).toBe(RECIPE.replace('revision: 1', 'revision: 2 # bumped on every change'));
    git(root, 'commit', '-qam', 'bump');
    expect((await cli(root, 'validate', '--base', 'HEAD~2')).code).toBe(0);
  });

  it('diff shows the rendered change per affected pair', async () => {
    const root = repo();
    commit(root, { 'catalog/blocks/probe/block.yaml': MINI['catalog/blocks/probe/block.yaml']!.replace('-o /usr/local/bin/probe', '-g -o /usr/local/bin/probe') });
    const r = await cli(root, 'diff', '--base', 'HEAD~1', '--head', 'HEAD', '--json');
    const diffs = JSON.parse(r.out);
    expect(diffs.map((d: { recipe: string; status: string }) => `${d.recipe} ${d.status}`)).toEqual(['demo@1.0 changed']);
    const files = diffs[0].files.map((f: { name: string }) => f.name);
    expect(files).toEqual(['Containerfile', 'apptainer.def', 'lock.json']);
    expect(diffs[0].files[0].patch).toContain(
      '-RUN set -eu; mpicc -O2 -march=x86-64-v2 -o /usr/local/bin/probe /opt/probe/probe.c\n+RUN set -eu; mpicc -O2 -march=x86-64-v2 -g -o /usr/local/bin/probe /opt/probe/probe.c',
    );
  });

  it('names a changed system template or base as the cause', () => {
    const root = repo();
    commit(root, { 'systems/box.yaml': MINI['systems/box.yaml']!.replace('-O2 -march=x86-64-v2', '-O2 -march=x86-64-v3') });
    expect(versioning(root)[0]).toContain('changed on box/cpu (because of systems/box.yaml): bump revision to 2');
  });

  it('diff --stat, and the --system, --recipe and --format filters', async () => {
    const root = repo();
    commit(root, { 'catalog/blocks/probe/block.yaml': MINI['catalog/blocks/probe/block.yaml']!.replace('-o /usr/local/bin/probe', '-g -o /usr/local/bin/probe') });
    const stat = await cli(root, 'diff', '--base', 'HEAD~1', '--head', 'HEAD', '--stat');
    expect(stat.out).toMatch(/^demo@1\.0 on box\/cpu \(changed\): Containerfile \+1 -1, apptainer\.def \+1 -1, lock\.json \+\d+ -\d+\n1 pair\(s\), \+\d+ -\d+ lines\n$/);
    const onlyCf = JSON.parse((await cli(root, 'diff', '--base', 'HEAD~1', '--head', 'HEAD', '--format', 'containerfile', '--json')).out);
    expect(onlyCf[0].files.map((f: { name: string }) => f.name)).toEqual(['Containerfile']);
    const elsewhere = JSON.parse((await cli(root, 'diff', '--base', 'HEAD~1', '--head', 'HEAD', '--system', 'nosuch', '--json')).out);
    expect(elsewhere).toEqual([]);
    const byRecipe = JSON.parse((await cli(root, 'diff', '--base', 'HEAD~1', '--head', 'HEAD', '--recipe', 'demo', '--system', 'box/cpu', '--json')).out);
    expect(byRecipe.map((d: { recipe: string }) => d.recipe)).toEqual(['demo@1.0']);
  });

  it('plan --json: exit 2 with a clear message for an unknown base', async () => {
    const root = repo();
    const r = await cli(root, 'plan', '--base', 'no-such-ref');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/git rev-parse .* failed|no-such-ref/);
  });
});
