/**
 * The CLI in this process: `main(argv)` with its output captured. The exit status and the words
 * are the ones the `brickyard` process would give (bin/brickyard.js only calls main and sets the
 * exit code), without starting Node and loading the engine again for every case; tests that are
 * about the process itself (the binary, no network, signals) still spawn it.
 */
import { main } from '../../pipeline/src/cli/main.ts';

export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

export async function brickyardInProcess(args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, { out: (s) => void (stdout += s), err: (s) => void (stderr += s) });
  return { status, stdout, stderr };
}
