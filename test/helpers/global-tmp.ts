/**
 * Global setup: one $TMPDIR for the whole run, removed at its end. Folders that live as long as a
 * worker (a shared fixture's keys, the site tests' private $TMPDIR) are made in it, so nothing
 * outlives the run even though workers keep their modules from file to file.
 *
 * The unit project works in memory: where /dev/shm is a tmpfs with room, a second folder there,
 * named by $BRICKYARD_TEST_MEMORY_TMPDIR, becomes the unit files' $TMPDIR (test/helpers/per-file.ts).
 * Unit tests check logic, and every fsync of a store on disk cost them seconds; what a real disk
 * does (O_DIRECT, durability across a crash, a full disk) is checked by the e2e project, which keeps
 * the folder on disk ($BRICKYARD_TEST_DISK_TMPDIR names it also to unit files that need a disk).
 */
import { mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const PREFIX = 'brickyard-run-';
const MEMORY = '/dev/shm';
const TMPFS_MAGIC = 0x01021994;
const MEMORY_ROOM = 4 * 2 ** 30;

function memoryFolder(): string | undefined {
  try {
    const fs = statfsSync(MEMORY);
    if (fs.type !== TMPFS_MAGIC || fs.bavail * fs.bsize < MEMORY_ROOM) return undefined;
    return mkdtempSync(join(MEMORY, PREFIX));
  } catch {
    return undefined; // no /dev/shm, or not writable: the unit project stays on disk
  }
}

function remove(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch (e) {
    // e.g. a mount a killed test left behind: say so, and leave the folder to be looked at
    console.warn(`could not remove the test run's folder ${dir}: ${(e as Error).message}`);
  }
}

export default function setup(): () => void {
  const saved = process.env['TMPDIR'];
  // Each project runs this setup in the same process: the second keeps the first's folder rather
  // than nesting in it (a deep $TMPDIR pushes Slurm's socket paths over their 107-byte limit).
  if (saved !== undefined && basename(saved).startsWith(PREFIX)) return () => undefined;
  const root = mkdtempSync(join(tmpdir(), PREFIX));
  const memory = memoryFolder();
  process.env['TMPDIR'] = root;
  process.env['BRICKYARD_TEST_DISK_TMPDIR'] = root;
  if (memory !== undefined) process.env['BRICKYARD_TEST_MEMORY_TMPDIR'] = memory;
  return () => {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
    delete process.env['BRICKYARD_TEST_MEMORY_TMPDIR'];
    delete process.env['BRICKYARD_TEST_DISK_TMPDIR'];
    remove(root);
    if (memory !== undefined) remove(memory);
  };
}
