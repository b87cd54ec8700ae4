/**
 * Global setup: one $TMPDIR for the whole run, removed at its end. Folders that live as long as a
 * worker (a shared fixture's keys, the site tests' private $TMPDIR) are made in it, so nothing
 * outlives the run even though workers keep their modules from file to file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const PREFIX = 'brickyard-run-';

export default function setup(): () => void {
  const saved = process.env['TMPDIR'];
  // Each project runs this setup in the same process: the second keeps the first's folder rather
  // than nesting in it (a deep $TMPDIR pushes Slurm's socket paths over their 107-byte limit).
  if (saved !== undefined && basename(saved).startsWith(PREFIX)) return () => undefined;
  const root = mkdtempSync(join(tmpdir(), PREFIX));
  process.env['TMPDIR'] = root;
  return () => {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
    try {
      rmSync(root, { recursive: true, force: true });
    } catch (e) {
      // e.g. a mount a killed test left behind: say so, and leave the folder to be looked at
      console.warn(`could not remove the test run's $TMPDIR ${root}: ${(e as Error).message}`);
    }
  };
}
