/**
 * The store lock (pipeline/src/site/lock.ts) across processes: three to six real processes race
 * to take over a stale lock — never two holders at once, every token distinct and growing,
 * nothing left behind. (Some fifty Node processes per run: the e2e project, not the unit one.)
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOCK_DIR } from '../../pipeline/src/site/lock.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { deadPid } from '../helpers/process.ts';

const node = join(repoRoot, 'node_modules', '.bin', 'node');

function run(store: string, witness: string, holdMs: number, mode: 'release' | 'crash'): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(node, [join(repoRoot, 'test', 'site', 'lock-child.ts'), store, witness, String(holdMs), mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const collect = (c: Buffer): void => {
      out += c.toString();
    };
    p.stdout.on('data', collect);
    p.stderr.on('data', collect);
    p.on('error', reject);
    p.on('close', () => {
      resolve(out.trim());
    });
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

describe('store lock across processes', () => {
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
});
