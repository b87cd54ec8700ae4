/** Test services: the single-node Slurm (with munge) and the registry, state in a temporary folder. */
import { startService, stopService } from '../../pipeline/src/smoke/services.ts';
import { which } from '../../pipeline/src/util/exec.ts';
import { tempDir } from './fixture.ts';

export interface Slurm {
  env: Record<string, string>;
  stop(): void;
}

export function startSlurm(): Slurm {
  // Directly under /tmp, whatever $TMPDIR is: slurm.sh refuses a state folder over 72 characters
  // (the munge and PMIx socket paths under it must stay within 107 bytes).
  const state = tempDir('brickyard-slurm-', '/tmp');
  const env = startService('slurm', state);
  if (!env['SLURM_CONF']) throw new Error('slurm.sh start printed no SLURM_CONF');
  return { env, stop: () => stopService('slurm', state) };
}

export interface Registry {
  address: string;
  stop(): void;
}

/** The distribution registry on 127.0.0.1, storage in a temporary folder. */
export function startRegistry(): Registry {
  const state = tempDir('brickyard-registry-');
  const address = startService('registry', state)['BRICKYARD_REGISTRY'];
  if (!address) throw new Error('registry.sh start printed no BRICKYARD_REGISTRY');
  return { address, stop: () => stopService('registry', state) };
}

/** The tools the build and smoke tests need; in CI their absence is a failure, elsewhere a skip with the reason. */
export function missingTools(tools: string[]): string[] {
  return tools.filter((t) => !which(t));
}
