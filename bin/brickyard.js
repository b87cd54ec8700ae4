#!/usr/bin/env node
// The brickyard CLI. Node 24 runs the TypeScript sources directly (type stripping); Node >= 22.18 too.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`brickyard needs Node.js >= 22.18 (this is ${process.versions.node}); run it through npm (npx brickyard) to use the pinned Node 24\n`);
  process.exit(2);
}
process.removeAllListeners('warning');
// `brickyard … | head` closes the pipe early: stop quietly instead of crashing.
process.stdout.on('error', (e) => (e.code === 'EPIPE' ? process.exit(process.exitCode ?? 0) : Promise.reject(e))); // keep the experimental type-stripping notice out of the output
const { main } = await import('../pipeline/src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
