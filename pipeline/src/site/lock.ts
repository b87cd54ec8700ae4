/**
 * The store's import lock, arbitrated by the kernel: a contender holds the lock when it created
 * `<store>/.lock/<N>` (link(2) of a file already holding `pid host`: O_EXCL, so each name has one
 * creator) and, looking again after creating it, finds no other live lock file there.
 *
 * Why that is enough: of two contenders that both created their file, the one that looks later
 * sees the other's file (it exists as long as its owner holds) and steps back, removing its own;
 * both may step back, and both try again after a random pause. A file whose process has died on
 * this host is stale: it counts as absent and the next holder removes it, so a dead holder's lock
 * is taken over without any read-then-replace step to race on. N (one above the highest file
 * seen) and the file's nonce are the fencing token: `stillHolds()` is checked before the store's
 * `current` link is swapped. Release removes one's own file (and `.lock/` when empty), so a
 * store looks the same before and after an import that was refused.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { BrickyardError } from '../util/errors.ts';

export const LOCK_DIR = '.lock';
export interface StoreLock {
  /** The fencing token: grows with every acquisition of this store's lock. */
  readonly token: number;
  /** Whether no later holder has taken the lock over (checked before committing). */
  stillHolds(): boolean;
  release(): void;
}

/** Whether a process of this host is alive (EPERM: alive, another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function lockFiles(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => /^[1-9][0-9]{0,15}$/.test(n));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return []; // none yet, or a lock file of an earlier Brickyard
    throw e;
  }
}

/** Who holds a lock file: undefined when it is gone or its process is dead on this host. */
function liveHolder(file: string): { pid: number; host: string; nonce: string } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^([1-9][0-9]*) (\S+) ([0-9a-f]+)\n$/.exec(text);
  // Not written by this code (link(2) makes the file appear whole): treated as held, never taken over.
  if (!m) return { pid: 0, host: '?', nonce: '' };
  const [, pid = '', host = '', nonce = ''] = m;
  const holder = { pid: Number(pid), host, nonce };
  // A process on another host (a store on a shared file system) is never judged dead from here.
  if (holder.host === hostname() && !pidAlive(holder.pid)) return undefined;
  return holder;
}

/**
 * A `.lock` file of the earlier lock (a regular file holding a pid): removed when its process is
 * dead, else reported as the holder.
 */
function legacyLockFile(dir: string): string | undefined {
  let text: string;
  try {
    if (!lstatSync(dir).isFile()) return undefined;
    text = readFileSync(dir, 'utf8');
  } catch {
    return undefined;
  }
  const pid = Number(text.trim());
  if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) return `process ${pid} (a lock file of an earlier Brickyard)`;
  rmSync(dir, { force: true });
  return undefined;
}

function describe(h: { pid: number; host: string }): string {
  return h.pid > 0 ? `process ${h.pid} on ${h.host}` : 'an unreadable lock file';
}

/** One attempt: the lock, or who holds it. */
export function tryLock(store: string): StoreLock | { heldBy: string } {
  const dir = join(store, LOCK_DIR);
  for (;;) {
    const before = lockFiles(dir);
    for (const n of before) {
      const h = liveHolder(join(dir, n));
      if (h) return { heldBy: describe(h) };
    }
    const token = Math.max(0, ...before.map(Number)) + 1;
    const nonce = randomBytes(8).toString('hex');
    const legacy = legacyLockFile(dir);
    if (legacy) return { heldBy: legacy };
    try {
      mkdirSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new BrickyardError('NOT_A_STORE', `the store ${store} disappeared while waiting for its lock`, { hint: 'check --store' });
      if (code !== 'EEXIST') throw e;
    }
    const tmp = join(dir, `.new-${process.pid}-${nonce}`);
    const file = join(dir, String(token));
    try {
      writeFileSync(tmp, `${process.pid} ${hostname()} ${nonce}\n`);
      linkSync(tmp, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOENT') continue; // another contender took that name, or `.lock/` was just removed
      rmSync(tmp, { force: true });
      removeIfEmpty(dir); // a full disk, say: leave the store as it was
      throw e;
    } finally {
      rmSync(tmp, { force: true });
    }
    const other = lockFiles(dir)
      .filter((n) => n !== String(token))
      .map((n) => liveHolder(join(dir, n)))
      .find((h) => h !== undefined);
    if (other) {
      rmSync(file, { force: true }); // step back: whoever looked second sees the other
      return { heldBy: describe(other) };
    }
    for (const n of lockFiles(dir)) if (n !== String(token) && !liveHolder(join(dir, n))) rmSync(join(dir, n), { force: true });
    for (const n of readdirSync(dir)) {
      const m = /^\.new-([0-9]+)-/.exec(n);
      if (m && !pidAlive(Number(m[1]))) rmSync(join(dir, n), { force: true });
    }
    return lockFor(dir, file, token, nonce);
  }
}

function lockFor(dir: string, file: string, token: number, nonce: string): StoreLock {
  let released = false;
  const mine = (): boolean => liveHolder(file)?.nonce === nonce;
  return {
    token,
    stillHolds: () => !released && mine() && lockFiles(dir).every((n) => n === String(token) || !liveHolder(join(dir, n))),
    release: () => {
      if (released) return;
      released = true;
      if (mine()) rmSync(file, { force: true });
      removeIfEmpty(dir);
    },
  };
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    /* not empty (a contender is arriving) or gone */
  }
}

/** Wait for the lock (backing off up to 200 ms between tries), or throw STORE_LOCKED after `timeoutMs`. */
export async function acquireStoreLock(store: string, timeoutMs = 600_000): Promise<StoreLock> {
  const start = Date.now();
  let delay = 10;
  for (;;) {
    const got = tryLock(store);
    if (!('heldBy' in got)) return got;
    if (Date.now() - start > timeoutMs) {
      throw new BrickyardError('STORE_LOCKED', `the store ${store} is locked by ${got.heldBy} (another import)`, {
        hint: `wait for it to finish; a lock whose process has died is taken over by the next import`,
      });
    }
    await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
    delay = Math.min(delay * 2, 200);
  }
}
