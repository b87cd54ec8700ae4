/**
 * The site executable as a secure site runs it (test/cli/sea.e2e.test.ts, and on the main job's
 * own bundle in test/site/trust-main-job.e2e.test.ts): built for this machine, alone in a folder,
 * run with an empty environment whose PATH holds only that folder (no Node anywhere), offline
 * (`unshare -n`); and the npm CLI on the same input, to compare with.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { buildSea } from '../../scripts/build-sea.ts';
import { repoRoot } from './fixture.ts';

export const canUnshare = spawnSync('unshare', ['-n', '-m', 'true']).status === 0;
const node = join(repoRoot, 'node_modules', '.bin', 'node');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function out(r: ReturnType<typeof spawnSync>): Run {
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** With `tmpfs`, a small tmpfs is mounted there first, in a mount namespace of the run's own (a full disk). */
function wrapped(cmd: string[], tmpfs: string | undefined, offline: boolean): string[] {
  const net = offline ? ['-n'] : [];
  return tmpfs ? [...net, '-m', 'sh', '-c', 'mount -t tmpfs -o size=4m tmpfs "$0" && exec "$@"', tmpfs, ...cmd] : ['-n', ...cmd];
}

export interface SiteTools {
  /** The folder PATH holds when the executable runs: the executable alone. */
  binDir: string;
  /** The executable, offline, in `work`. */
  sea: (args: string[], tmpfs?: string) => Run;
  /** The npm CLI on the same input, in `work`. */
  npm: (args: string[], tmpfs?: string) => Run;
}

/** Builds the executable into `work` and gives the two ways to run it. */
export async function siteTools(work: string): Promise<SiteTools> {
  const binDir = join(work, 'bin');
  mkdirSync(binDir);
  const exe = await buildSea(process.arch as 'x64' | 'arm64', join(work, 'build'));
  copyFileSync(exe, join(binDir, 'brickyard'));
  chmodSync(join(binDir, 'brickyard'), 0o755);
  return {
    binDir,
    sea: (args, tmpfs) => out(spawnSync('unshare', wrapped(['env', '-i', `PATH=${binDir}`, `HOME=${work}`, 'brickyard', ...args], tmpfs, true), { cwd: work, encoding: 'utf8' })),
    npm: (args, tmpfs) => out(spawnSync('unshare', wrapped([node, join(repoRoot, 'bin', 'brickyard.js'), ...args], tmpfs, false), { cwd: work, encoding: 'utf8' })),
  };
}

/**
 * check-bundle and import of `bundle` by the executable, offline, each as the npm CLI does them:
 * the same words and exit code; the same import result but for times and the store's name
 * (store-sea for the executable's, store-npm for the npm CLI's, both in `work`).
 */
export function expectCheckAndImportAsNpm(tools: SiteTools, bundle: string, policy: string): Run {
  const checked = tools.sea(['check-bundle', bundle, '--policy', policy]);
  expect(checked.stderr).toBe('');
  expect(checked.code).toBe(0);
  expect(checked.stdout).toMatch(/^verified .* the site policy accepts it\n$/);
  expect(checked).toEqual(tools.npm(['check-bundle', bundle, '--policy', policy]));
  const imported = tools.sea(['import', bundle, '--policy', policy, '--store', 'store-sea', '--json']);
  expect(imported.code, imported.stderr).toBe(0);
  const fromNpm = tools.npm(['import', bundle, '--policy', policy, '--store', 'store-npm', '--json']);
  expect(fromNpm.code, fromNpm.stderr).toBe(0);
  const strip = (r: Run): string => r.stdout.replace(/"\d{4}-\d\d-\d\dT[\d:.]+Z"/g, '"<time>"').replaceAll('store-npm', 'store-sea');
  expect(strip(imported)).toEqual(strip(fromNpm));
  expect(JSON.parse(imported.stdout)).toMatchObject({ generation: 1 });
  return imported;
}
