/** Child processes for the real tools (buildah, podman, sbatch, …), with logs and clear failures. */
import { spawn } from 'node:child_process';
import { accessSync, constants, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { delimiter, join } from 'node:path';
import { BrickyardError, type ErrorCode } from './errors.ts';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  seconds: number;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Append stdout and stderr here as they arrive. */
  log?: WriteStream;
  timeoutMs?: number;
  input?: string;
  /** Called with each chunk of output, for progress. */
  onOutput?: (chunk: string) => void;
}

/** Run a command to completion; never throws for a non-zero exit (the caller decides). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = opts.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5000).unref();
        }, opts.timeoutMs)
      : undefined;
    child.stdout.on('data', (d: Buffer) => {
      const s = d.toString();
      stdout += s;
      opts.log?.write(d);
      opts.onOutput?.(s);
    });
    child.stderr.on('data', (d: Buffer) => {
      const s = d.toString();
      stderr += s;
      opts.log?.write(d);
      opts.onOutput?.(s);
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (timer) clearTimeout(timer);
      if (e.code === 'ENOENT')
        reject(new BrickyardError('TOOL_MISSING', `${cmd} is not installed`, { hint: 'run scripts/setup-host.sh (as root) to install the build and run tools' }));
      else reject(e);
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, timedOut, seconds: (performance.now() - started) / 1000 });
    });
    // A child that exits before reading its input closes the pipe: that EPIPE is not an error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** Run and require success; the error carries the tail of the output. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions & { code?: ErrorCode; what?: string } = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new BrickyardError(
      opts.code ?? 'TOOL_FAILED',
      `${opts.what ?? `${cmd} ${args.slice(0, 2).join(' ')}`} failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}):\n${tail(r.stderr || r.stdout, 25)}`,
    );
  }
  return r;
}

export function tail(text: string, lines: number): string {
  const all = text.trimEnd().split('\n');
  return all
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join('\n');
}

/** The path of a command on PATH, or undefined. */
export function which(cmd: string, path: string = process.env['PATH'] ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, cmd);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function openLog(path: string): WriteStream {
  return createWriteStream(path, { flags: 'a' });
}
