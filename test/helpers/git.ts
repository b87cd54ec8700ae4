/** Real git repositories in temporary folders, for planning tests. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const env = (): NodeJS.ProcessEnv => ({ ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' });

export function git(root: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: root, encoding: 'utf8', env: env() });
}

/**
 * Several git commands from one small shell: a test worker holds hundreds of MB, and each
 * process it starts itself costs a fork of all of it (tens of ms), the shell's cost a few.
 */
function gitSteps(root: string, script: string, ...args: string[]): void {
  execFileSync('sh', ['-ec', script, 'sh', ...args], { cwd: root, encoding: 'utf8', env: env() });
}

export function initRepo(root: string): void {
  gitSteps(root, 'git init -q -b main; git add -A; git commit -qm base');
}

/** Write (text) or delete (null) files, then commit them. */
export function commit(root: string, files: Record<string, string | null>, message = 'change'): void {
  for (const [path, text] of Object.entries(files)) {
    const abs = join(root, path);
    if (text === null) rmSync(abs, { recursive: true, force: true });
    else {
      mkdirSync(dirname(abs), { recursive: true });
      writeFileSync(abs, text);
    }
  }
  gitSteps(root, 'git add -A; git commit -qm "$1"', message);
}
