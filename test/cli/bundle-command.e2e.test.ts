/**
 * The site commands as `brickyard` processes: exit statuses as a shell sees them, the policy read
 * once from a FIFO, and (as root) a read-only store and a full disk. Each fault ends with its
 * code, its exit status and a hint, never "internal error", and the store hashes the same. The
 * faults that need neither a process nor root are in bundle-command.test.ts.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { sha256 } from '../bundle/fixture.ts';
import { fillUp, isRoot, readOnly, smallTmpfs } from '../site/site-fixture.ts';
import { bin, node, refusedBy, siteFixture, spawned } from './site-cli-fixture.ts';

let site: string;
let policy: string;
let bundle: string;

beforeAll(async () => {
  ({ site, policy, bundle } = await siteFixture());
}, 120_000);

describe('brickyard import / check-bundle as processes, under faults', () => {
  it('imports into a new store (exit 0); a mistyped --store naming an ordinary folder: NOT_A_STORE, exit 2, nothing deleted', async () => {
    const store = join(tempDir('brickyard-cli-'), 'store');
    const ok = await spawned(['import', bundle, '--policy', policy, '--store', store]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(readdirSync(store)).toContain('.brickyard-store');
    const home = tempDir('brickyard-home-');
    mkdirSync(join(home, 'generations', 'mine'), { recursive: true });
    writeFileSync(join(home, 'generations', 'mine', 'data'), 'keep');
    await refusedBy(['import', bundle, '--policy', policy, '--store', home], 'NOT_A_STORE', 2, home, {}, spawned);
  }, 60_000);

  it('import reads the policy once: given as a FIFO fed exactly once, it imports, and the audit entry and admission records carry the digest of the bytes fed', async () => {
    const fifo = join(site, `policy-once-${process.pid}.fifo`);
    execFileSync('mkfifo', [fifo]);
    const text = readFileSync(policy);
    const store = join(tempDir('brickyard-cli-'), 'store');
    const child = spawn(node, [bin, 'import', bundle, '--policy', fifo, '--store', store, '--json'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    await writeFile(fifo, text); // one writer: a second open for reading would wait for another, forever
    // A second read of the policy would block: the import is given 60 s, then it is killed.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await exited.finally(() => clearTimeout(timer));
    rmSync(fifo);
    expect(code, stderr).toBe(0);
    const out = JSON.parse(stdout) as { auditEntry: { policySha256: string }; admissions: { statement: string }[] };
    expect(out.auditEntry.policySha256).toBe(sha256(text));
    expect(out.admissions.length).toBeGreaterThan(0);
    for (const a of out.admissions) expect(JSON.parse(readFileSync(a.statement, 'utf8')).predicate.policy.digest.sha256).toBe(sha256(text));
  }, 90_000);

  it.skipIf(!isRoot)(
    'a read-only store and a full disk: STORE_NOT_WRITABLE / DISK_FULL, exit 2, the store unchanged',
    async () => {
      const store = join(tempDir('brickyard-cli-'), 'store');
      mkdirSync(store);
      const undo = readOnly(store);
      try {
        await refusedBy(['import', bundle, '--policy', policy, '--store', store], 'STORE_NOT_WRITABLE', 2, store);
      } finally {
        undo();
      }
      const fs = smallTmpfs('1m');
      try {
        fillUp(fs.dir, 8_000);
        await refusedBy(['import', bundle, '--policy', policy, '--store', join(fs.dir, 'store')], 'DISK_FULL', 2, fs.dir);
        await refusedBy(['check-bundle', bundle, '--policy', policy], 'DISK_FULL', 2, fs.dir, { TMPDIR: fs.dir });
        expect(execFileSync('ls', ['-A', fs.dir], { encoding: 'utf8' })).toBe('filler\n');
      } finally {
        fs.unmount();
      }
    },
    120_000,
  );
});
