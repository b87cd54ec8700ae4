/** `brickyard attest`: sign the provenance, SBOM and smoke test-result of a built pair. */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { checkFit } from '../check/fit.ts';
import { attestPair } from '../sign/pair.ts';
import type { Workspace } from '../workspace.ts';
import type { Io } from './main.ts';
import { table } from './table.ts';

export function registerAttest(program: Command, io: Io, open: () => Workspace): void {
  program
    .command('attest')
    .description('sign the SLSA provenance, the SPDX SBOM and the smoke test-results of a built pair as Sigstore bundles (DSSE, in-toto)')
    .argument('<recipe>', 'name or name@version')
    .requiredOption('--system <id[/partition]>', 'system, or system/partition')
    .option('--out <dir>', 'state folder (default: .brickyard in the checkout)')
    .option('--keyless', 'sign keylessly with the GitHub OIDC token (in GitHub Actions, with id-token: write); default: the development signer')
    .option('--json', 'machine-readable output')
    .action(async (spec: string, opts: { system: string; out?: string; keyless?: boolean; json?: boolean }) => {
      const ws = open();
      const recipe = ws.recipe(spec);
      const wheres = ws.partitionsOf(opts.system);
      const where = wheres.find((w) => checkFit(ws.catalog, recipe, w.system.doc, w.partition).fits) ?? wheres[0]!;
      const stateDir = resolve(opts.out ?? join(ws.root, '.brickyard'));
      const result = await attestPair(ws, recipe, where, { stateDir, keyless: opts.keyless === true });
      if (opts.json) io.out(JSON.stringify(result, null, 2) + '\n');
      else {
        io.out(`signed by ${result.identity} (issuer ${result.issuer}, ${result.signer === 'dev' ? 'development signer: no default site policy accepts it' : 'keyless'})\n`);
        io.out(table(['attestation', 'statement', 'Sigstore bundle'], result.files.map((f) => [f.kind, f.statement, f.bundle])));
      }
    });
}
