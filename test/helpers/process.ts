/** Processes for tests. */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './fixture.ts';

/** The pid of a process that has exited (so certainly dead, and on this host). */
export function deadPid(): number {
  const p = spawnSync('sh', ['-c', 'echo $$']);
  return Number(p.stdout.toString().trim());
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * One import in its own process (test/site/import-child.ts <bundle> <policy> <store>
 * <trusted_root.json> <now>); with `pauseAt`, killed with SIGKILL when the import reports that stage.
 */
export function importInChild(args: string[], pauseAt?: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(join(repoRoot, 'node_modules', '.bin', 'node'), [join(repoRoot, 'test', 'site', 'import-child.ts'), ...args], {
      env: { ...process.env, ...(pauseAt ? { BRICKYARD_IMPORT_PAUSE: pauseAt } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    p.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
      if (pauseAt && stderr.includes(`BRICKYARD_IMPORT_PAUSED ${pauseAt}`)) p.kill('SIGKILL');
    });
    p.on('error', reject);
    p.on('close', (code, signal) => {
      resolve({ code, signal, stdout, stderr });
    });
  });
}
