/** `brickyard tune`: build the recipe's declared variants, smoke-test each, record the best, signed. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Workspace } from '../workspace.ts';
import type { Io } from './io.ts';
import { table } from './table.ts';
import { defaultStateDir } from '../state/layout.ts';

export function registerTune(program: Command, io: Io, open: () => Promise<Workspace>): void {
  program
    .command('tune')
    .description('build each variant the recipe declares (tune.variants), run its smoke tests, choose the best by tune.metric, and record the choice signed; render then uses it')
    .argument('<recipe>', 'name or name@version')
    .requiredOption('--system <id[/partition]>', 'system, or system/partition')
    .option('--out <dir>', 'state folder (default: .brickyard in the checkout)')
    .option('--trials <n>', 'smoke trials per variant (container and host alternating)', (v) => Number(v))
    .option('--keyless', 'sign keylessly with the GitHub OIDC token (in GitHub Actions); default: the development signer')
    .option('--json', 'print the signed statement')
    .action(async (spec: string, opts: { system: string; out?: string; trials?: number; keyless?: boolean; json?: boolean }) => {
      const { tune, tuneTable, tuneTableHeader, variantRuntime } = await import('../smoke/tune.ts');
      const ws = await open();
      const where = ws.pairOn(spec, opts.system);
      const stateDir = resolve(opts.out ?? defaultStateDir(ws.root));
      const rec = await tune(ws, where, {
        stateDir,
        keyless: opts.keyless === true,
        ...(opts.trials === undefined ? {} : { trials: opts.trials }),
        onStage: (s, d) => io.err(`${s}: ${d}\n`),
      });
      const p = rec.statement.predicate;
      if (opts.json) io.out(JSON.stringify(rec.statement, null, 2) + '\n');
      else {
        io.out(`${p.recipe} on ${p.system}/${p.partition}: ${p.metric.test}.${p.metric.figure} (${p.metric.goal === 'max' ? 'more' : 'less'} is better)\n`);
        io.out(table(tuneTableHeader(p), tuneTable(p)));
        io.out(
          `chosen: ${p.chosen} (${p.chosenCflags}; ${variantRuntime({ env: p.chosenEnv, mpiStrategy: p.chosenMpiStrategy })}), image ${p.chosenImageDigest}\nrecord: ${rec.statementPath}\nsigned: ${rec.bundlePath}\n`,
        );
      }
    });
}
