/**
 * The process around `main`: what bin/brickyard.js runs (from the sources, or bundled into
 * dist/cli by `npm run build`). Kept apart from main.ts so tests can call main() in-process.
 */
import { VERSION } from '../version.ts';

process.removeAllListeners('warning'); // keep the experimental type-stripping notice out of the output
// `brickyard … | head` closes the pipe early: stop quietly instead of crashing.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const argv = process.argv.slice(2);
// `--version` alone answers before the command table (commander and every command's module) loads.
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) process.stdout.write(`${VERSION}\n`);
else process.exitCode = await (await import('./main.ts')).main(argv);
