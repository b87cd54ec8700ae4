/** Run a bundled action (dist/index.js) as GitHub's runner does: a child process with INPUT_* and file commands. */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from './fixture.ts';

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

export async function runAction(
  name: string,
  inputs: Record<string, string>,
  opts: { workspace: string; event?: object; eventName?: string; apiUrl?: string; env?: Record<string, string> },
): Promise<ActionRun> {
  const dir = tempDir('brickyard-action-');
  const files = { GITHUB_OUTPUT: 'output', GITHUB_STEP_SUMMARY: 'summary', GITHUB_ENV: 'env', GITHUB_PATH: 'path', GITHUB_STATE: 'state' };
  for (const f of Object.values(files)) writeFileSync(join(dir, f), '');
  writeFileSync(join(dir, 'event.json'), JSON.stringify(opts.event ?? {}));
  mkdirSync(join(dir, 'tmp'));
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: process.env['HOME'] ?? dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: opts.workspace,
    GITHUB_REPOSITORY: 'o/r',
    GITHUB_EVENT_NAME: opts.eventName ?? 'pull_request',
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_API_URL: opts.apiUrl ?? 'http://127.0.0.1:9',
    GITHUB_SERVER_URL: 'https://github.example',
    GITHUB_RUN_ID: '4242',
    RUNNER_TEMP: join(dir, 'tmp'),
    ...Object.fromEntries(Object.entries(files).map(([k, f]) => [k, join(dir, f)])),
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase().replace(/ /g, '_')}`, v])),
    ...opts.env,
  };
  const node = join(repoRoot, 'node_modules', '.bin', 'node');
  // Asynchronous on purpose: a synchronous spawn would starve the in-process fake API.
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
    execFile(node, [join(repoRoot, 'actions', name, 'dist', 'index.js')], { env, cwd: opts.workspace, timeout: 120_000 }, (err, stdout, stderr) =>
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
  return { code, stdout, stderr, outputs: parseOutputs(readFileSync(join(dir, 'output'), 'utf8')), summary: readFileSync(join(dir, 'summary'), 'utf8') };
}

/** The `name<<delimiter … delimiter` format @actions/core writes to GITHUB_OUTPUT. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
    out[m[1]!] = value.join('\n');
  }
  return out;
}
