import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { changedFiles, changedInWorkingTree, mergeBase, resolveCommit } from '../../pipeline/src/git/git.ts';
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
