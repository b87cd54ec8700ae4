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

/** A full commit id (SHA-1 or SHA-256 object format). */
const COMMIT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

/** The full commit id of a ref, or a clear error naming it. */
export function resolveCommit(root: string, ref: string): string {
  return git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).trim();
}

/**
 * The full commit ids of several refs, from one git process (each costs a fork of this one); a
 * ref that does not resolve gets resolveCommit's error naming it.
 */
export function resolveCommits(root: string, refs: string[]): string[] {
  // git 2.39's rev-parse has no --end-of-options: a ref that looks like an option goes the long way
  const ids = refs.some((r) => r.startsWith('-')) ? [] : gitOrEmpty(root, ['rev-parse', ...refs.map((r) => `${r}^{commit}`)]).split('\n');
  if (ids.length === refs.length && ids.every((id) => COMMIT_ID.test(id))) return ids;
  // one of them does not resolve: resolveCommit says which
  return refs.map((r) => resolveCommit(root, r));
}

/** True when the catalogue and system templates have no local changes (untracked files count). */
export function isTreeClean(root: string, paths: string[] = ['catalog', 'systems']): boolean {
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
  // A commit id the caller resolved is taken as it is: each git process costs a fork of this one.
  const commit = COMMIT_ID.test(ref) ? ref : resolveCommit(root, ref);
  const dir = mkdtempSync(join(tmpdir(), 'brickyard-base-'));
  const listed = new Set(git(root, ['ls-tree', '--name-only', commit, '--', ...paths]).split('\n'));
  const present = paths.filter((p) => listed.has(p));
  for (const p of paths) mkdirSync(join(dir, p), { recursive: true });
  if (present.length > 0) {
    const archive = spawnSync('git', ['archive', '--format=tar', commit, ...present], { cwd: root, maxBuffer: 1024 * 1024 * 1024 });
    if (archive.status !== 0) throw new BrickyardError('USAGE', `git archive ${ref} failed: ${archive.stderr.toString().trim()}`);
    const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
    if (untar.status !== 0) throw new BrickyardError('USAGE', `cannot unpack ${ref}: ${untar.stderr.toString().trim()}`);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
