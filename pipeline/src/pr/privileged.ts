/**
 * Building and running containers here needs root (buildah's chroot isolation, mounting images).
 * GitHub's hosted runners have passwordless sudo: an action started as the runner user runs
 * itself again through `sudo -E`, keeping the environment GitHub gave it.
 */
import { spawnSync } from 'node:child_process';

export function ensureRoot(entry: string): void {
  if (process.getuid?.() === 0 || process.env['BRICKYARD_NO_SUDO']) return;
  const probe = spawnSync('sudo', ['-n', 'true']);
  if (probe.status !== 0) return; // no passwordless sudo: carry on and let the tools say what fails
  const r = spawnSync('sudo', ['-E', `PATH=${process.env['PATH'] ?? ''}`, process.execPath, entry], { stdio: 'inherit', env: process.env });
  process.exit(r.status ?? 1);
}
