/** `brickyard built-index record`: add the builds in a state folder to built-index.json. */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BrickyardError } from '../util/errors.ts';
import type { Io } from './io.ts';
import { DEFAULT_STATE_DIR } from '../state/layout.ts';

export function registerBuiltIndex(program: Command, io: Io, setExit: (code: number) => void): void {
  const cmd = program.command('built-index').description('the record of what CI built, by lock digest (built-index.json)');
  cmd
    .command('record')
    .description('add the builds of a state folder (build records and smoke reports) to built-index.json')
    .requiredOption('--index <file>', 'built-index.json to update (created when absent)')
    .requiredOption('--where <text>', 'where these builds are kept (a registry reference prefix or a workflow run URL)')
    .option('--state <dir>', 'state folder', DEFAULT_STATE_DIR)
    .action(async (opts: { index: string; where: string; state: string }) => {
      const { collectBuilds, readBuiltIndex, recordBuilds } = await import('../plan/built.ts');
      const indexPath = resolve(opts.index);
      const { entries, skipped } = collectBuilds(resolve(opts.state), opts.where, new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
      for (const s of skipped) io.err(`skipped ${s}\n`);
      if (entries.length === 0 && skipped.length > 0) throw new BrickyardError('FILE_UNREADABLE', `no readable build record under ${opts.state}`);
      const updated = recordBuilds(readBuiltIndex(indexPath), entries);
      writeFileSync(indexPath, JSON.stringify(updated, null, 2) + '\n');
      const passed = entries.filter((e) => e.smoke === 'passed').length;
      io.out(`recorded ${entries.length} build(s) (${passed} with a passing smoke test) in ${opts.index}: ${Object.keys(updated.builds).length} in all\n`);
      setExit(0);
    });
}
