/**
 * The test services from scripts/services/ (a single-node Slurm with munge, the distribution
 * registry), on 127.0.0.1 with their state in a folder. `start` returns the environment the
 * script prints as `export NAME=value` lines (SLURM_CONF, BRICKYARD_REGISTRY).
 */
import { engineRoot } from '../util/engine-root.ts';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { group } from '../util/match.ts';

export type Service = 'slurm' | 'slurm-2node' | 'registry';

const script = (service: Service): string => join(engineRoot(), 'scripts', 'services', `${service}.sh`);

export function startService(service: Service, state: string): Record<string, string> {
  const out = execFileSync('bash', [script(service), 'start', state], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 180_000 });
  const env: Record<string, string> = {};
  for (const m of out.matchAll(/^export ([A-Z_]+)=("?)(.*)\2$/gm)) env[group(m, 1)] = group(m, 3);
  return env;
}

/** Stop it; nothing running is not an error. */
export function stopService(service: Service, state: string): void {
  try {
    execFileSync('bash', [script(service), 'stop', state], { stdio: 'ignore', timeout: 60_000 });
  } catch {
    // nothing was running
  }
}
