/**
 * What the site-command tests share (bundle-command.test.ts in process, bundle-command.e2e.test.ts
 * as processes): a bundle signed by a development CA with its site policy, made once per worker,
 * and the two ways to run the CLI, which give the same status and words.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { SigstoreManifestSigner } from '../../pipeline/src/bundle/sigstore.ts';
import { writeBundle } from '../../pipeline/src/bundle/write.ts';
import { devSignerDir, loadOrCreateDevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import { writeDevPolicy } from '../../pipeline/src/site/dev-policy.ts';
import { brickyardInProcess } from '../helpers/cli.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { makeState, signState, snapshot, SOURCE } from '../bundle/fixture.ts';

export const node = join(repoRoot, 'node_modules', '.bin', 'node');
export const bin = join(repoRoot, 'bin', 'brickyard.js');

export interface SiteFixture {
  /** The folder holding the signer, the policy and the bundle. */
  site: string;
  policy: string;
  bundle: string;
}

let made: Promise<SiteFixture> | undefined;
/** A signed bundle of demo@1.0 on local and the development policy that admits it (made once). */
export function siteFixture(): Promise<SiteFixture> {
  made ??= (async () => {
    const site = tempDir('brickyard-site-');
    const dev = await loadOrCreateDevSigner(devSignerDir(site), { identity: 'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/main' });
    const policy = join(site, 'site-policy.yaml');
    writeDevPolicy(policy, { system: 'local', identity: dev.identity, issuer: dev.issuer, trustedRootPath: join(dev.dir, 'trusted_root.json'), licenses: ['Apache-2.0'] });
    const bundle = join(site, 'b.tar');
    const state = makeState('local', [{ recipe: 'demo', version: '1.0' }]);
    await signState(state, dev);
    await writeBundle({ stateDir: state, system: 'local', out: bundle, signer: new SigstoreManifestSigner(dev), serial: 1, source: SOURCE, now: new Date() });
    return { site, policy, bundle };
  })();
  return made;
}

export type Run = (args: string[], env?: Record<string, string>) => Promise<{ status: number | null; stdout: string; stderr: string }>;

/** The `brickyard` process: its exit status as the shell sees it. */
export const spawned: Run = (args, env = {}) => {
  const r = spawnSync(node, [bin, ...args], { encoding: 'utf8', cwd: repoRoot, env: { ...process.env, ...env } });
  return Promise.resolve({ status: r.status, stdout: r.stdout, stderr: r.stderr });
};

/** The same CLI in this process (test/helpers/cli.ts): the other faults, without a Node start each. */
export const inProcess: Run = async (args, env = {}) => {
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
export async function refusedBy(args: string[], code: string, exit: number, watch: string, env: Record<string, string> = {}, brickyard: Run = inProcess): Promise<string> {
  const before = snapshot(watch);
  const r = await brickyard(args, env);
  expect(r.stderr).not.toMatch(/internal error|bug in Brickyard/);
  expect(r.stderr).toContain(`[${code}]`);
  expect(r.stderr).toMatch(/\n {2}hint: /);
  expect(r.status, r.stderr).toBe(exit);
  expect(snapshot(watch)).toEqual(before);
  return r.stderr;
}
