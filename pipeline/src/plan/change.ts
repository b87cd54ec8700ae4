/**
 * A change to review: the catalogue at head (a commit, or the working tree) against its base.
 * The base's catalogue is only unpacked when a check needs it (versioning, diffs).
 */
import { checkoutTree, changedFiles, changedInWorkingTree, isTreeClean, mergeBase, resolveCommit, resolveCommits, type ChangedFile } from '../git/git.ts';
import { Workspace } from '../workspace.ts';
import { diffPairs, type PairDiff } from './diff.ts';
import { fileAt, planChanges, type Plan } from './plan.ts';
import { checkVersioning, type VersioningResult } from './versioning.ts';

export interface ChangeOptions {
  base: string;
  /** A commit; when absent the working tree (with uncommitted and untracked files) is the head. */
  head?: string;
}

export class Change implements Disposable {
  readonly root: string;
  readonly baseCommit: string;
  readonly headLabel: string;
  readonly head: Workspace;
  readonly changed: ChangedFile[];
  private baseWs: Workspace | undefined;
  private readonly cleanups: (() => void)[] = [];

  constructor(root: string, opts: ChangeOptions) {
    this.root = root;
    if (opts.head === undefined) {
      this.baseCommit = mergeBase(root, resolveCommit(root, opts.base), 'HEAD');
      this.headLabel = 'working tree';
      this.changed = changedInWorkingTree(root, this.baseCommit);
      this.head = Workspace.open(root);
    } else {
      const [headCommit, baseCommit, checkedOut] = resolveCommits(root, [opts.head, opts.base, 'HEAD']) as [string, string, string];
      this.baseCommit = mergeBase(root, baseCommit, headCommit);
      this.headLabel = headCommit;
      this.changed = changedFiles(root, this.baseCommit, headCommit);
      if (checkedOut === headCommit && isTreeClean(root)) {
        this.head = Workspace.open(root); // the usual CI case: the checkout is the head
      } else {
        const tree = checkoutTree(root, headCommit);
        this.cleanups.push(tree.cleanup);
        this.head = Workspace.open(tree.dir);
      }
    }
  }

  base(): Workspace {
    if (!this.baseWs) {
      const tree = checkoutTree(this.root, this.baseCommit);
      this.cleanups.push(tree.cleanup);
      this.baseWs = Workspace.open(tree.dir);
    }
    return this.baseWs;
  }

  plan(): Plan {
    return planChanges(this.head, this.changed, { base: this.baseCommit, head: this.headLabel }, () => fileAt(this.root, this.baseCommit, 'catalog/bases.yaml'));
  }

  /** Versioning rules; limited to the recipes the change affects unless the engine itself changed. */
  versioning(plan: Plan = this.plan()): VersioningResult {
    const engineChanged = this.changed.some((f) => f.path.startsWith('pipeline/'));
    const only = engineChanged ? undefined : new Set([...plan.pairs, ...plan.skipped].map((p) => p.recipe).concat(plan.removed));
    return checkVersioning(this.head, this.base(), only);
  }

  diffs(plan: Plan = this.plan()): PairDiff[] {
    return diffPairs(this.head, this.base(), plan.pairs);
  }

  close(): void {
    for (const c of this.cleanups.splice(0)) c();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
