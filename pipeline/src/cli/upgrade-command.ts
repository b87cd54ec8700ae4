/** `brickyard upgrade --store S [--to PATH]`: install the site executable carried by the newest imported bundle. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BrickyardError } from '../util/errors.ts';
import type { Io } from './io.ts';

export function registerUpgrade(program: Command, io: Io, version: string): void {
  program
    .command('upgrade')
    .description(
      'replace this site executable with the newer one an imported bundle carries (verified at import, hashed again against the signed manifest; never an older version)',
    )
    .requiredOption('--store <dir>', 'the site store the bundle was imported into')
    .option('--to <path>', 'the executable to replace (default: this one, when it is the site executable)')
    .option('--json', 'machine-readable result')
    .action(async (opts: { store: string; to?: string; json?: boolean }) => {
      const [{ isSea }, { upgradeTool }] = await Promise.all([import('node:sea'), import('../site/upgrade.ts')]);
      const to = opts.to ?? (isSea() ? process.execPath : undefined);
      if (to === undefined) throw new BrickyardError('USAGE', 'upgrade needs --to PATH: this brickyard runs on Node, not as the site executable');
      const r = upgradeTool(resolve(opts.store), { to: resolve(to), currentVersion: version });
      if (opts.json) io.out(JSON.stringify(r, null, 2) + '\n');
      else io.out(`upgraded ${r.installed} from ${r.from} to ${r.to} (bundle ${r.bundleId}, serial ${r.serial}, sha256 ${r.sha256})\n`);
    });
}
