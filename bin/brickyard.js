#!/usr/bin/env node
// The brickyard CLI. It runs the bundle `npm run build` writes to dist/cli when that bundle is
// newer than every source it was built from; otherwise (a development checkout, a source just
// edited, no build) the TypeScript sources themselves, which Node >= 22.18 runs by stripping types.
import { readFileSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`brickyard needs Node.js >= 22.18 (this is ${process.versions.node}); run it through npm (npx brickyard) to use the pinned Node 24\n`);
  process.exit(2);
}

/** The bundle to run, or why the sources run instead. */
function currentBundle() {
  if (process.env.BRICKYARD_FROM_SOURCES) return { why: 'BRICKYARD_FROM_SOURCES is set' };
  const dist = new URL('../dist/cli/', import.meta.url);
  const root = new URL('../', import.meta.url);
  let built, inputs;
  try {
    built = statSync(new URL('entry.js', dist)).mtimeMs;
    ({ inputs } = JSON.parse(readFileSync(new URL('inputs.json', dist), 'utf8')));
  } catch {
    return { why: 'dist/cli is not built (npm run build)' };
  }
  for (const rel of inputs) {
    let mtime;
    try {
      mtime = statSync(new URL(rel, root)).mtimeMs;
    } catch {
      return { why: `dist/cli is stale: ${rel} is gone` };
    }
    if (mtime > built) return { why: `dist/cli is stale: ${rel} is newer (npm run build)` };
  }
  return { url: new URL('entry.js', dist).href };
}

const chosen = currentBundle();
// V8's compiled code for the bundle kept beside it (Node >= 22.1), not in $TMPDIR: every later
// run skips parsing and compiling the chunks it loads. Where that folder is not writable (a
// system-wide install), Node goes on without a cache.
if (chosen.url) module.enableCompileCache?.(fileURLToPath(new URL('../dist/cli/.compile-cache', import.meta.url)));
if (process.env.BRICKYARD_DEBUG) process.stderr.write(chosen.url ? 'brickyard: running the bundle dist/cli\n' : `brickyard: running the sources: ${chosen.why}\n`);
process.removeAllListeners('warning'); // keep the experimental type-stripping notice out of the output
await import(chosen.url ?? '../pipeline/src/cli/entry.ts');
