/**
 * The store lock (pipeline/src/site/lock.ts): concurrent processes taking over a stale lock —
 * never two holders at once, every token distinct and growing, the fencing check.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acquireStoreLock, LOCK_DIR, tryLock } from '../../pipeline/src/site/lock.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';

const node = join(repoRoot, 'node_modules', '.bin', 'node');

/** The pid of a process that has exited (so certainly dead, and on this host). */
function deadPid(): number {
  const p = spawnSync('sh', ['-c', 'echo $$']);
  return Number(p.stdout.toString().trim());
}

function run(store: string, witness: string, holdMs: number, mode: 'release' | 'crash'): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(node, [join(repoRoot, 'test', 'site', 'lock-child.ts'), store, witness, String(holdMs), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', reject);
    p.on('close', () => resolve(out.trim()));
  });
}

async function round(contenders: number, holdMs: number, stale: 'dead-pid' | 'two-dead' | 'none', mode: 'release' | 'crash'): Promise<{ outs: string[]; left: string[] }> {
  const store = tempDir('brickyard-lock-');
  const witness = join(store, 'witness');
  mkdirSync(witness);
  if (stale !== 'none') {
    mkdirSync(join(store, LOCK_DIR));
    writeFileSync(join(store, LOCK_DIR, '7'), `${deadPid()} ${hostname()} 00\n`);
    if (stale === 'two-dead') writeFileSync(join(store, LOCK_DIR, '9'), `${deadPid()} ${hostname()} 01\n`);
  }
  const runs = Array.from({ length: contenders }, () => run(store, witness, holdMs, mode));
  // A barrier: every contender is up and polling before any may try.
  const deadline = Date.now() + 60_000;
  while (readdirSync(witness).filter((n) => n.startsWith('ready-')).length < contenders && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  writeFileSync(join(witness, 'go'), '');
  const outs = await Promise.all(runs);
  // after crashes the last holder's file stays (a dead lock); the next import takes it over
  const left = readdirSync(store).filter((n) => !(mode === 'crash' && n === LOCK_DIR && readdirSync(join(store, LOCK_DIR)).length === 1));
  rmSync(store, { recursive: true, force: true });
  return { outs, left };
}

describe('store lock', () => {
  it('property: concurrent processes taking over a stale lock — never two holders, nothing left behind', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 6 }),
        fc.integer({ min: 0, max: 30 }),
        fc.constantFrom('dead-pid' as const, 'two-dead' as const, 'none' as const),
        fc.constantFrom('release' as const, 'crash' as const),
        async (n, holdMs, stale, mode) => {
          const { outs, left } = await round(n, holdMs, stale, mode);
          expect(outs, outs.join('\n')).toHaveLength(n);
          for (const o of outs) expect(o, outs.join('\n')).toMatch(/^OK \d+$/);
          // the dead holders' files were removed, and each holder removed its own
          expect(left).toEqual(['witness']);
        },
      ),
      { numRuns: 10 },
    );
  }, 300_000);

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
