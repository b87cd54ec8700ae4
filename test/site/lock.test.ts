/**
 * The store lock (pipeline/src/site/lock.ts) in one process: a live holder blocks, a dead one is
 * taken over, the fencing check. Concurrent processes racing for a stale lock: lock.e2e.test.ts.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireStoreLock, LOCK_DIR, tryLock } from '../../pipeline/src/site/lock.ts';
import { tempDir } from '../helpers/fixture.ts';
import { deadPid } from '../helpers/process.ts';

describe('store lock', () => {
  it('a live holder blocks; a dead one is taken over; the fencing check; release leaves nothing', async () => {
    const store = tempDir('brickyard-lock-');
    const a = await acquireStoreLock(store, 1000);
    expect(a.token).toBe(1);
    expect(tryLock(store)).toEqual({ heldBy: `process ${process.pid} on ${hostname()}` });
    await expect(acquireStoreLock(store, 100)).rejects.toMatchObject({ code: 'STORE_LOCKED', message: expect.stringContaining(`process ${process.pid}`) });
    expect(readdirSync(join(store, LOCK_DIR))).toEqual(['1']); // the refused contender stepped back and removed its file
    a.release();
    expect(a.stillHolds()).toBe(false);
    expect(readdirSync(store)).toEqual([]);
    const b = await acquireStoreLock(store, 1000);
    expect(b.stillHolds()).toBe(true);
    // Another live lock file appears (someone judged b stale, say after a pid was reused): the fence tells b.
    writeFileSync(join(store, LOCK_DIR, '5'), `${process.pid} ${hostname()} ab\n`);
    expect(b.stillHolds()).toBe(false);
    b.release();
    rmSync(join(store, LOCK_DIR, '5'));
    // A dead process's lock is taken over and removed.
    writeFileSync(join(store, LOCK_DIR, '3'), `${deadPid()} ${hostname()} cd\n`);
    const c = await acquireStoreLock(store, 1000);
    expect(c.token).toBe(4);
    expect(readdirSync(join(store, LOCK_DIR))).toEqual(['4']);
    c.release();
    expect(readdirSync(store)).toEqual([]);
    // A lock held on another host (a shared file system), or a file this code did not write, is never taken over.
    mkdirSync(join(store, LOCK_DIR));
    writeFileSync(join(store, LOCK_DIR, '5'), `${deadPid()} other-host.example ef\n`);
    expect(tryLock(store)).toEqual({ heldBy: expect.stringContaining('other-host.example') });
    writeFileSync(join(store, LOCK_DIR, '5'), 'garbage');
    expect(tryLock(store)).toEqual({ heldBy: 'an unreadable lock file' });
    expect(readdirSync(join(store, LOCK_DIR))).toEqual(['5']);
    // A lock file of the earlier lock (a regular `.lock` holding a pid): a dead one is removed, a live one waited for.
    const old = tempDir('brickyard-lock-');
    writeFileSync(join(old, LOCK_DIR), `${process.pid}\n`);
    expect(tryLock(old)).toEqual({ heldBy: `process ${process.pid} (a lock file of an earlier Brickyard)` });
    writeFileSync(join(old, LOCK_DIR), `${deadPid()}\n`);
    const d = await acquireStoreLock(old, 1000);
    d.release();
    expect(readdirSync(old)).toEqual([]);
  });
});
