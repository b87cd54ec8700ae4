/**
 * The site executable's entry (a Node single executable application, scripts/build-sea.ts):
 * the site commands, with no Node, npm or node_modules where it runs. The static site's assets
 * (style, script, Mermaid) travel inside the executable; `site` unpacks them to a temporary
 * folder that stands in for the engine checkout.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { VERSION } from '../version.ts';
import { SEA_ASSETS } from './sea-assets.ts';

declare global {
  var __brickyardEngineRoot: string | undefined;
}

async function unpackAssets(): Promise<void> {
  const sea = await import('node:sea');
  if (!sea.isSea()) return;
  const dir = mkdtempSync(join(tmpdir(), 'brickyard-engine-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  for (const key of SEA_ASSETS) {
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), new Uint8Array(sea.getAsset(key)));
  }
  globalThis.__brickyardEngineRoot = dir;
}

process.removeAllListeners('warning');
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
void (async () => {
  const argv = process.argv.slice(2);
  // `--version` alone answers before the command table loads (what a script asks most often).
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  if (argv.includes('site')) await unpackAssets();
  const { main, SITE_COMMANDS } = await import('./main.ts');
  process.exitCode = await main(argv, undefined, { only: SITE_COMMANDS });
})();
