/**
 * The site commands as a site runs them (`brickyard import`, `check-bundle`), through the real
 * CLI with a Sigstore-signed bundle (development CA): each fault of issue 17 ends with its code,
 * its exit status and a hint — never "internal error" — and the store hashes the same. The
 * first case runs the `brickyard` process (exit statuses as a shell sees them); the others call
 * the CLI's main in this process, which gives the same status and words.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SigstoreManifestSigner } from '../../pipeline/src/bundle/sigstore.ts';
import { writeBundle } from '../../pipeline/src/bundle/write.ts';
import { devSignerDir, loadOrCreateDevSigner, type DevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import { writeDevPolicy } from '../../pipeline/src/site/dev-policy.ts';
import { brickyardInProcess } from '../helpers/cli.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { makeState, sha256, signState, snapshot, SOURCE } from '../bundle/fixture.ts';
import { fillUp, isRoot, readOnly, smallTmpfs } from '../site/site-fixture.ts';

const node = join(repoRoot, 'node_modules', '.bin', 'node');
const bin = join(repoRoot, 'bin', 'brickyard.js');

let dev: DevSigner;
let site: string;
let policy: string;
let bundle: string;

type Run = (args: string[], env?: Record<string, string>) => Promise<{ status: number | null; stdout: string; stderr: string }>;

/** The `brickyard` process: its exit status as the shell sees it. */
const spawned: Run = (args, env = {}) => {
  const r = spawnSync(node, [bin, ...args], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, ...env } });
  return Promise.resolve({ status: r.status, stdout: r.stdout, stderr: r.stderr });
};

/** The same CLI in this process (test/helpers/cli.ts): the other faults, without a Node start each. */
const inProcess: Run = async (args, env = {}) => {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await brickyardInProcess(args);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  }
};

/** The CLI refuses with `code` and `exit`, a hint, no "internal error"; `watch` hashes the same. */
async function refusedBy(args: string[], code: string, exit: number, watch: string, env: Record<string, string> = {}, brickyard: Run = inProcess): Promise<string> {
  const before = snapshot(watch);
  const r = await brickyard(args, env);
  expect(r.stderr).not.toMatch(/internal error|bug in Brickyard/);
  expect(r.stderr).toContain(`[${code}]`);
  expect(r.stderr).toMatch(/\n {2}hint: /);
  expect(r.status, r.stderr).toBe(exit);
  expect(snapshot(watch)).toEqual(before);
  return r.stderr;
}

beforeAll(async () => {
  site = tempDir('brickyard-site-');
  dev = await loadOrCreateDevSigner(devSignerDir(site), { identity: 'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/main' });
  policy = join(site, 'site-policy.yaml');
  writeDevPolicy(policy, { system: 'local', identity: dev.identity, issuer: dev.issuer, trustedRootPath: join(dev.dir, 'trusted_root.json'), licenses: ['Apache-2.0'] });
  bundle = join(site, 'b.tar');
  const state = makeState('local', [{ recipe: 'demo', version: '1.0' }]);
  await signState(state, dev);
  await writeBundle({ stateDir: state, system: 'local', out: bundle, signer: new SigstoreManifestSigner(dev), serial: 1, source: SOURCE, now: new Date() });
}, 120_000);

describe('brickyard import / check-bundle under faults', () => {
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

  it('a trusted root that is a folder, or not JSON though pinned: TRUSTED_ROOT_INVALID, exit 2', async () => {
    const dir = tempDir('brickyard-cli-');
    mkdirSync(join(dir, 'root-folder'));
    await refusedBy(['check-bundle', bundle, '--policy', policy, '--trusted-root', join(dir, 'root-folder')], 'TRUSTED_ROOT_INVALID', 2, dir);
    writeFileSync(join(dir, 'trusted_root.json'), 'not json at all');
    const p2 = join(dir, 'site-policy.yaml');
    writeFileSync(
      p2,
      readFileSync(policy, 'utf8')
        .replace(/sha256: .*/, `sha256: ${sha256('not json at all')}`)
        .replace(/path: .*/, 'path: trusted_root.json'),
    );
    const store = join(dir, 'store');
    await refusedBy(['import', bundle, '--policy', p2, '--store', store], 'TRUSTED_ROOT_INVALID', 2, dir);
    await refusedBy(['import', bundle, '--policy', policy, '--store', store, '--trusted-root', join(dir, 'missing.json')], 'TRUSTED_ROOT_INVALID', 2, dir);
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

  it('a YAML alias bomb in the policy: POLICY_INVALID, exit 2', async () => {
    const dir = tempDir('brickyard-cli-');
    const bomb = join(dir, 'site-policy.yaml');
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(', ')}]`)];
    writeFileSync(bomb, readFileSync(policy, 'utf8') + lines.join('\n') + '\n');
    await refusedBy(['import', bundle, '--policy', bomb, '--store', join(dir, 'store')], 'POLICY_INVALID', 2, dir);
  }, 60_000);

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
