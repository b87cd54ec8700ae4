/**
 * Shared by the site fault tests: keys, a policy, bundles, a fresh store, the whole-tree hash,
 * real faults (a small tmpfs, a read-only bind mount, chattr +i) and the case table they fill.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { writeBundle, type WriteBundleOptions } from '../../pipeline/src/bundle/write.ts';
import { importBundle } from '../../pipeline/src/site/store.ts';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { atEndOfEveryFile, tempDir } from '../helpers/fixture.ts';
import { CI_EXTENSIONS, ISSUER, makeKeys, makeState, NOW, sha256, signState, snapshot, SOURCE, type PairSpec } from '../bundle/fixture.ts';
import { exitCodeFor } from '../../pipeline/src/cli/exit-codes.ts';
import type { DevSigner } from '../../pipeline/src/sign/dev-signer.ts';

// A $TMPDIR of these tests' own: other processes on the machine (other test runs, the other
// worker of this one) also make brickyard-* folders, and "nothing left in $TMPDIR" must be about
// ours alone. It lives as long as this module, as the keys do (a worker keeps its modules from
// file to file): both are made in the run's $TMPDIR, which the global setup removes at the end.
const privateTmp = mkdtempSync(join(tmpdir(), 'brickyard-site-tmp-'));
export const keys = await makeKeys(undefined, undefined, undefined, mkdtempSync(join(tmpdir(), 'brickyard-site-keys-')));
process.env['TMPDIR'] = privateTmp;
const ROLES = ['manifest', 'provenance', 'sbom', 'testResult'];

/** The signers part of a policy: every role allows main.yml of these repositories on a hosted runner. */
export function signersYaml(repos = ['example/brickyard']): string {
  const rules = repos
    .map(
      (r) =>
        `\n    - identity: {repository: ${r}, workflow: .github/workflows/main.yml, ref: refs/heads/main}\n      issuer: ${ISSUER}\n      certificate: {runnerEnvironment: github-hosted}`,
    )
    .join('');
  return ROLES.map((role) => `\n  ${role}:${rules}`).join('');
}

/** A CI signer of another repository (its own certificate says so), under the same CA. */
export function repoSigner(repo: string): Promise<DevSigner> {
  return keys.other({
    identity: `https://github.com/${repo}/.github/workflows/main.yml@refs/heads/main`,
    extensions: { ...CI_EXTENSIONS, sourceRepositoryUri: `https://github.com/${repo}` },
  });
}
export const later = new Date(NOW.getTime() + 3600_000);
export const PAIRS: PairSpec[] = [
  { recipe: 'demo', version: '1.0' },
  { recipe: 'osu', version: '7.4' },
];
export const isRoot = process.getuid?.() === 0;

export function policyFile(overrides: Record<string, string> = {}, root = keys.trustedRoot, dir = tempDir('brickyard-policy-')): string {
  const fields: Record<string, string> = {
    version: '2',
    system: 'local',
    trustedRoot: `\n  sha256: ${sha256(readFileSync(root))}\n  path: ${root}`,
    signers: signersYaml(),
    require: '\n  provenance: true\n  sbom: true\n  smoke: true',
    licenses: '[Apache-2.0, MIT, BSD-3-Clause]',
    maxAgeDays: '30',
    ...overrides,
  };
  const text =
    Object.entries(fields)
      .filter(([, v]) => v !== '')
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n') + '\n';
  const file = join(dir, 'site-policy.yaml');
  writeFileSync(file, text);
  return file;
}

/**
 * A state whose attestations CI signed (keys.dev), one per set of pairs and test file: bundling
 * only reads the state folder, and signing it was most of what a bundle cost.
 */
const signedStates = new Map<string, Promise<string>>();
atEndOfEveryFile(() => signedStates.clear()); // its folders go with the file's
function signedState(pairs: PairSpec[]): Promise<string> {
  const key = JSON.stringify(pairs);
  let state = signedStates.get(key);
  if (state === undefined) {
    state = (async () => {
      const dir = makeState('local', pairs);
      await signState(dir, keys.dev);
      return dir;
    })();
    signedStates.set(key, state);
  }
  return state;
}

/** A bundle of a signed state of `pairs`, signed by CI's key (keys.signer unless `extra` says). */
export async function makeBundle(pairs: PairSpec[] = PAIRS, extra: Partial<WriteBundleOptions> = {}): Promise<string> {
  const out = join(tempDir('brickyard-bundle-'), 'b.tar');
  await writeBundle({ stateDir: await signedState(pairs), system: 'local', out, signer: keys.signer, serial: 1, source: SOURCE, now: NOW, ...extra });
  return out;
}

export async function importInto(store: string, bundlePath: string, policyPath = policyFile()) {
  return importBundle({ bundlePath, policy: loadPolicy(policyPath), store, verifier: keys.verifier, now: later });
}

/** Names in $TMPDIR that Brickyard's own work would leave (check-bundle and verify work folders). */
export function tmpLeftovers(dir = tmpdir()): string[] {
  return readdirSync(dir).filter((n) => /^brickyard-(check|verify)-/.test(n));
}

export interface Case {
  case: string;
  code: string;
  exit: number;
  message: string;
  unchanged: boolean;
}
export const cases: Case[] = [];
// The case table (case, code, exit status, message, store unchanged) of every refusal a test file made.
atEndOfEveryFile(() => {
  if (cases.length)
    console.log(
      [
        '| case | code | exit | message | store unchanged |',
        '|---|---|---|---|---|',
        ...cases.splice(0).map((c) => `| ${c.case} | ${c.code} | ${c.exit} | ${c.message.replace(/\|/g, '\\|')} | ${c.unchanged ? 'yes' : 'NO'} |`),
      ].join('\n'),
    );
});

/** Run `fn`, expecting a typed refusal with `code`; the tree at `watch` must hash the same after; records the case. */
export async function expectRefusal(name: string, code: string, watch: string | string[], fn: () => unknown): Promise<BrickyardError> {
  const roots = Array.isArray(watch) ? watch : [watch];
  const before = roots.map((r) => snapshot(r));
  const tmpBefore = tmpLeftovers();
  let err: unknown;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  expect(err, `${name}: should have been refused`).toBeInstanceOf(BrickyardError);
  const e = err as BrickyardError;
  expect(e.message, name).not.toMatch(/internal error|this is a bug/);
  expect(e.code, `${name}: ${e.message}`).toBe(code);
  const unchanged = roots.every((r, i) => JSON.stringify(snapshot(r)) === JSON.stringify(before[i]));
  expect(unchanged, `${name}: the watched tree changed`).toBe(true);
  expect(tmpLeftovers(), `${name}: left work folders in $TMPDIR`).toEqual(tmpBefore);
  cases.push({ case: name, code: e.code, exit: exitCodeFor(e.code), message: e.message.replace(/\n\s*/g, ' '), unchanged });
  return e;
}

/** A tmpfs of `size` mounted at a new folder; returns it and a function that unmounts it. */
export function smallTmpfs(size: string): { dir: string; unmount: () => void } {
  const dir = join(tempDir('brickyard-tmpfs-'), 'fs');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return { dir, unmount: () => execFileSync('umount', ['-l', dir]) };
}

/** `dir` bind-mounted read-only over itself; returns a function that undoes it. */
export function readOnly(dir: string): () => void {
  execFileSync('mount', ['--bind', dir, dir]);
  execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
  return () => execFileSync('umount', [dir]);
}

/** Fill a file system until about `leaveBytes` are free. */
export function fillUp(dir: string, leaveBytes: number): void {
  const out = execFileSync('df', ['-B1', '--output=avail', dir]).toString().trim().split('\n').at(-1)!;
  const avail = Number(out.trim());
  if (avail > leaveBytes) writeFileSync(join(dir, 'filler'), Buffer.alloc(avail - leaveBytes));
}
