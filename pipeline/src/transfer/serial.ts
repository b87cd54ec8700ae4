/**
 * The serial of the next bundle from a repository. A site refuses a serial it has already seen
 * (or a lower one) as a rollback, so serials must only grow, for every way of bundling: the
 * `bundle` command, the main job and the publish action use this one rule.
 *
 * - The state folder keeps a counter per repository (`bundle-serials.json`): one more each time.
 * - In GitHub Actions every job starts from a fresh state folder, so the counter alone would
 *   restart at 1 and a site would refuse every bundle after the first. There the workflow run
 *   number (GITHUB_RUN_NUMBER, which only grows) is the floor: the serial is the larger of the two.
 *   A re-run of the same run keeps its number, and a site refuses it again, rightly: it imported
 *   that serial. Only one workflow (release.yml) publishes bundles for sites, so one run-number
 *   sequence suffices.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { stateLayout } from '../state/layout.ts';
import { readStateRecord } from '../state/records.ts';

export const SERIALS_FILE = basename(stateLayout('.').bundleSerials);

/** The run number that floors serials in GitHub Actions, or 0 outside it (or when it is not a positive whole number). */
export function runNumberFloor(env: NodeJS.ProcessEnv = process.env): number {
  const n = env['GITHUB_ACTIONS'] === 'true' ? env['GITHUB_RUN_NUMBER'] : undefined;
  return n !== undefined && /^[1-9][0-9]{0,15}$/.test(n) ? Number(n) : 0;
}

/** Take the next serial for `repository` and record it in the state folder. */
export function nextSerial(stateDir: string, repository: string, env: NodeJS.ProcessEnv = process.env): number {
  const path = stateLayout(stateDir).bundleSerials;
  // Held to its schema: a serial that is not a whole number is refused, naming the repository.
  const serials = existsSync(path) ? readStateRecord('bundleSerials', path) : {};
  const last = serials[repository] ?? 0;
  const next = Math.max((Number.isSafeInteger(last) ? last : 0) + 1, runNumberFloor(env));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ ...serials, [repository]: next }, null, 2) + '\n');
  return next;
}
