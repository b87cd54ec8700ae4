#!/usr/bin/env node
// The brickyard CLI. It runs the bundle `npm run build` writes to dist/cli when that bundle is
// newer than every source it was built from; otherwise (a development checkout, a source just
// edited) the TypeScript sources themselves, which Node >= 22.18 runs by stripping types.
import { readFileSync, statSync } from 'node:fs';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`brickyard needs Node.js >= 22.18 (this is ${process.versions.node}); run it through npm (npx brickyard) to use the pinned Node 24\n`);
  process.exit(2);
}

/** The bundle, when dist/cli/inputs.json says it was built from the sources as they are now. */
function currentBundle() {
  if (process.env.BRICKYARD_FROM_SOURCES) return undefined;
  const dist = new URL('../dist/cli/', import.meta.url);
  try {
    const built = statSync(new URL('entry.js', dist)).mtimeMs;
    const { inputs } = JSON.parse(readFileSync(new URL('inputs.json', dist), 'utf8'));
    const root = new URL('../', import.meta.url);
    for (const rel of inputs) if (statSync(new URL(rel, root)).mtimeMs > built) return undefined;
    return new URL('entry.js', dist).href;
  } catch {
    return undefined; // no bundle, or an input gone: the sources
  }
}

process.removeAllListeners('warning'); // keep the experimental type-stripping notice out of the output
await import(currentBundle() ?? '../pipeline/src/cli/entry.ts');
