/** Test services: the single-node Slurm (with munge) from scripts/services/, state in a temporary folder. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, tempDir } from './fixture.ts';

export interface Slurm {
  env: Record<string, string>;
  stop(): void;
}

export function startSlurm(): Slurm {
  const state = tempDir('brickyard-slurm-');
  const script = join(repoRoot, 'scripts', 'services', 'slurm.sh');
  const out = execFileSync('bash', [script, 'start', state], { encoding: 'utf8', timeout: 60_000 });
  const env: Record<string, string> = {};
  for (const m of out.matchAll(/^export ([A-Z_]+)=("?)(.*)\2$/gm)) env[m[1]!] = m[3]!;
  if (!env['SLURM_CONF']) throw new Error(`slurm.sh start printed no SLURM_CONF:\n${out}`);
  return {
    env,
    stop: () => {
      execFileSync('bash', [script, 'stop', state], { encoding: 'utf8', timeout: 60_000 });
    },
  };
}

export interface Registry {
  address: string;
  stop(): void;
}

/** The distribution registry on 127.0.0.1, storage in a temporary folder. */
export function startRegistry(): Registry {
  const state = tempDir('brickyard-registry-');
  const script = join(repoRoot, 'scripts', 'services', 'registry.sh');
  const out = execFileSync('bash', [script, 'start', state], { encoding: 'utf8', timeout: 60_000 });
  const address = /^export BRICKYARD_REGISTRY=("?)(.*)\1$/m.exec(out)?.[2];
  if (!address) throw new Error(`registry.sh start printed no BRICKYARD_REGISTRY:\n${out}`);
  return { address, stop: () => void execFileSync('bash', [script, 'stop', state], { encoding: 'utf8', timeout: 60_000 }) };
}

/** The tools the build and smoke tests need; in CI their absence is a failure, elsewhere a skip with the reason. */
export function missingTools(tools: string[]): string[] {
  return tools.filter((t) => {
    try {
      execFileSync('sh', ['-c', `command -v ${t}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
}
