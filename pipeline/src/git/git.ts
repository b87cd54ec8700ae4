/** The few git operations planning needs, run with the real git. */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrickyardError } from '../util/errors.ts';

export interface ChangedFile {
  status: 'A' | 'M' | 'D';
  path: string;
}

function git(root: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; code?: string };
    if (err.code === 'ENOENT') throw new BrickyardError('USAGE', 'git is not installed', { hint: 'install git; planning reads the diff between two commits' });
    throw new BrickyardError('USAGE', `git ${args.join(' ')} failed: ${(err.stderr ?? String(e)).trim()}`, {
      hint: 'check that --base and --head name commits of this repository (a shallow clone needs fetch-depth: 0)',
    });
  }
}

/** Trimmed output of a git command, or '' when git fails or is missing (for optional facts: remote, commit time). */
export function gitOrEmpty(root: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

/** The full commit id of a ref, or a clear error naming it. */
export function resolveCommit(root: string, ref: string): string {
  return git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).trim();
}

/** True when `commit` is checked out and the catalogue and system templates have no local changes. */
export function isCheckedOutClean(root: string, commit: string, paths: string[] = ['catalog', 'systems']): boolean {
  if (resolveCommit(root, 'HEAD') !== commit) return false;
  return git(root, ['status', '--porcelain', '--untracked-files=all', '--', ...paths]).trim() === '';
}

export function mergeBase(root: string, a: string, b: string): string {
  return git(root, ['merge-base', a, b]).trim();
}

/** Files changed between a commit and the working tree, untracked files included. */
export function changedInWorkingTree(root: string, base: string): ChangedFile[] {
  const files = parseNameStatus(git(root, ['diff', '--name-status', '--no-renames', '-z', base]));
  const untracked = git(root, ['ls-files', '--others', '--exclude-standard', '-z'])
    .split('\0')
    .filter((s) => s !== '');
  for (const path of untracked) files.push({ status: 'A', path });
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Files changed between the merge base of `base` and `head`, and `head` (what a pull request
 * shows). A rename counts as a deletion and an addition, so both sides are planned.
 */
export function changedFiles(root: string, base: string, head: string): ChangedFile[] {
  return parseNameStatus(git(root, ['diff', '--name-status', '--no-renames', '-z', `${base}...${head}`])).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function parseNameStatus(out: string): ChangedFile[] {
  const parts = out.split('\0').filter((s) => s !== '');
  const files: ChangedFile[] = [];
  // -z output alternates a status and the path it applies to.
  let status: string | undefined;
  for (const part of parts) {
    if (status === undefined) {
      status = part.charAt(0);
      continue;
    }
    files.push({ status: status === 'A' || status === 'D' ? status : 'M', path: part });
    status = undefined;
  }
  return files;
}

/**
 * The catalogue and system templates as they are at `ref`, in a temporary folder; the caller
 * removes it with the returned cleanup.
 */
export function checkoutTree(root: string, ref: string, paths: string[] = ['catalog', 'systems']): { dir: string; cleanup: () => void } {
  const commit = resolveCommit(root, ref);
  const dir = mkdtempSync(join(tmpdir(), 'brickyard-base-'));
  const present = paths.filter((p) => git(root, ['ls-tree', '--name-only', commit, p]).trim() !== '');
  for (const p of paths) mkdirSync(join(dir, p), { recursive: true });
  if (present.length > 0) {
    const archive = spawnSync('git', ['archive', '--format=tar', commit, ...present], { cwd: root, maxBuffer: 1024 * 1024 * 1024 });
    if (archive.status !== 0) throw new BrickyardError('USAGE', `git archive ${ref} failed: ${archive.stderr.toString().trim()}`);
    const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
    if (untar.status !== 0) throw new BrickyardError('USAGE', `cannot unpack ${ref}: ${untar.stderr.toString().trim()}`);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
