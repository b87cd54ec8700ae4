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
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BrickyardError } from '../util/errors.ts';

export const SERIALS_FILE = 'bundle-serials.json';

/** The run number that floors serials in GitHub Actions, or 0 outside it (or when it is not a positive whole number). */
export function runNumberFloor(env: NodeJS.ProcessEnv = process.env): number {
  const n = env['GITHUB_ACTIONS'] === 'true' ? env['GITHUB_RUN_NUMBER'] : undefined;
  return n !== undefined && /^[1-9][0-9]{0,15}$/.test(n) ? Number(n) : 0;
}

/** Take the next serial for `repository` and record it in the state folder. */
export function nextSerial(stateDir: string, repository: string, env: NodeJS.ProcessEnv = process.env): number {
  const path = join(stateDir, SERIALS_FILE);
  let serials: Record<string, number> = {};
  if (existsSync(path)) {
    try {
      serials = JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>;
    } catch (e) {
      throw new BrickyardError('FILE_UNREADABLE', `${path} is not JSON: ${(e as Error).message}`, {
        hint: 'give the bundle serial (--serial N, one more than the last one the sites imported), or delete the file',
        cause: e,
      });
    }
  }
  const last = serials[repository];
  const next = Math.max((typeof last === 'number' && Number.isSafeInteger(last) ? last : 0) + 1, runNumberFloor(env));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify({ ...serials, [repository]: next }, null, 2) + '\n');
  return next;
}
