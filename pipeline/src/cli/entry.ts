/**
 * The process around `main`: what bin/brickyard.js runs (from the sources, or bundled into
 * dist/cli by `npm run build`). Kept apart from main.ts so tests can call main() in-process.
 */
import { main } from './main.ts';

process.removeAllListeners('warning'); // keep the experimental type-stripping notice out of the output
// `brickyard … | head` closes the pipe early: stop quietly instead of crashing.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
