import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedFiles, changedInWorkingTree, checkoutTree, isTreeClean, mergeBase, resolveCommit, resolveCommits } from '../../pipeline/src/git/git.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';

const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' };

/** A real repository: main with three files, then a branch that adds, changes, deletes and renames. */
function repo(): string {
  const root = tempDir('brickyard-git-');
  const git = (...args: string[]): void => void execFileSync('git', args, { cwd: root, env, stdio: 'ignore' });
  const write = (path: string, text: string): void => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  git('init', '-q', '-b', 'main');
  write('catalog/a.yaml', 'a: 1\n');
  write('catalog/b.yaml', 'b: 1\n');
  write('catalog/old name.yaml', 'moved: true\nand enough text to be seen as a rename\n');
  git('add', '-A');
  git('commit', '-qm', 'base');
  git('checkout', '-qb', 'change');
  write('catalog/a.yaml', 'a: 2\n');
  rmSync(join(root, 'catalog/b.yaml'));
  git('mv', 'catalog/old name.yaml', 'catalog/new\tname.yaml');
  write('catalog/c.yaml', 'c: 1\n');
  git('add', '-A');
  git('commit', '-qm', 'change');
  return root;
}

describe('changed files', () => {
  it('lists each change of a branch, a rename as a deletion and an addition, odd names whole', () => {
    const root = repo();
    expect(changedFiles(root, 'main', 'change')).toEqual([
      { status: 'M', path: 'catalog/a.yaml' },
      { status: 'D', path: 'catalog/b.yaml' },
      { status: 'A', path: 'catalog/c.yaml' },
      { status: 'A', path: 'catalog/new\tname.yaml' },
      { status: 'D', path: 'catalog/old name.yaml' },
    ]);
    expect(changedFiles(root, 'change', 'change')).toEqual([]);
    expect(mergeBase(root, 'main', 'change')).toBe(resolveCommit(root, 'main'));
  });

  it('counts the working tree, untracked files included', () => {
    const root = repo();
    writeFileSync(join(root, 'catalog', 'c.yaml'), 'c: 2\n');
    writeFileSync(join(root, 'catalog', 'd.yaml'), 'd: 1\n');
    expect(changedInWorkingTree(root, 'change')).toEqual([
      { status: 'M', path: 'catalog/c.yaml' },
      { status: 'A', path: 'catalog/d.yaml' },
    ]);
  });
});

describe('commits and trees', () => {
  it('resolves several refs at once, each as resolveCommit does; a bad one is named', () => {
    const root = repo();
    const ids = resolveCommits(root, ['main', 'change', 'HEAD', 'change~1']);
    expect(ids).toEqual(['main', 'change', 'HEAD', 'change~1'].map((r) => resolveCommit(root, r)));
    expect(ids[0]).toBe(ids[3]);
    for (const bad of [
      ['main', 'nope'],
      ['main', '--all'],
      ['main', 'catalog/a.yaml'],
      ['main', 'HEAD^{tree}'],
    ]) {
      let error: unknown;
      try {
        resolveCommits(root, bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad[1]).toBeInstanceOf(BrickyardError);
      expect((error as Error).message, bad[1]).toContain(bad[1]);
    }
  });

  it('checks out the tracked catalogue of a commit (given by id or by ref), and tells a clean tree', () => {
    const root = repo();
    const tree = checkoutTree(root, resolveCommit(root, 'main'));
    const byRef = checkoutTree(root, 'change');
    try {
      expect(readdirSync(join(tree.dir, 'catalog')).sort()).toEqual(['a.yaml', 'b.yaml', 'old name.yaml']);
      expect(readdirSync(join(byRef.dir, 'catalog')).sort()).toEqual(['a.yaml', 'c.yaml', 'new\tname.yaml']);
      expect(readdirSync(join(tree.dir, 'systems'))).toEqual([]); // absent at the commit: an empty folder
    } finally {
      tree.cleanup();
      byRef.cleanup();
    }
    expect(isTreeClean(root)).toBe(true);
    writeFileSync(join(root, 'catalog', 'untracked.yaml'), 'x: 1\n');
    expect(isTreeClean(root)).toBe(false);
  });
});
