/** `brickyard attest`: sign the provenance, SBOM and smoke test-result of a built pair. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { BrickyardError } from '../util/errors.ts';
import type { Workspace } from '../workspace.ts';
import type { Io } from './io.ts';
import { table } from './table.ts';
import { defaultStateDir } from '../state/layout.ts';

export function registerAttest(program: Command, io: Io, open: () => Promise<Workspace>): void {
  program
    .command('attest')
    .description('sign the SLSA provenance, the SPDX SBOM and the smoke test-results of a built pair as Sigstore bundles (DSSE, in-toto)')
    .argument('<recipe>', 'name or name@version')
    .requiredOption('--system <id[/partition]>', 'system, or system/partition')
    .option('--out <dir>', 'state folder (default: .brickyard in the checkout)')
    .option('--keyless', 'sign keylessly with the GitHub OIDC token (in GitHub Actions, with id-token: write); default: the development signer')
    .option('--json', 'machine-readable output')
    .action(async (spec: string, opts: { system: string; out?: string; keyless?: boolean; json?: boolean }) => {
      const ws = await open();
      const { attestPair } = await import('../sign/pair.ts');
      const where = ws.pairOn(spec, opts.system);
      const stateDir = resolve(opts.out ?? defaultStateDir(ws.root));
      const result = await attestPair(ws, where, { stateDir, keyless: opts.keyless === true });
      if (opts.json) io.out(JSON.stringify(result, null, 2) + '\n');
      else {
        io.out(`signed by ${result.identity} (issuer ${result.issuer}, ${result.signer === 'dev' ? 'development signer: no default site policy accepts it' : 'keyless'})\n`);
        io.out(
          table(
            ['attestation', 'statement', 'Sigstore bundle'],
            result.files.map((f) => [f.kind, f.statement, f.bundle]),
          ),
        );
      }
    });

  program
    .command('sign')
    .description('sign one in-toto statement (JSON) as a Sigstore bundle v0.3 (DSSE), next to it as <file>.sigstore.json')
    .argument('<statement>', 'an in-toto Statement v1 JSON file')
    .option('--out <file>', 'where to write the Sigstore bundle (default: <statement without .json>.sigstore.json)')
    .option('--state <dir>', 'state folder holding the development signer (default: .brickyard in the checkout)')
    .option('--keyless', 'sign keylessly with the GitHub OIDC token (in GitHub Actions)')
    .action(async (file: string, opts: { out?: string; state?: string; keyless?: boolean }) => {
      const ws = await open();
      const [{ attest, BUNDLE_SUFFIX, writeBundle }, { signerFor }] = await Promise.all([import('../sign/attest.ts'), import('../sign/pair.ts')]);
      let statement: object;
      try {
        statement = JSON.parse(readFileSync(file, 'utf8')) as object;
      } catch (e) {
        throw new BrickyardError('FILE_UNREADABLE', `cannot read the statement ${file}: ${(e as Error).message}`);
      }
      const backend = await signerFor(resolve(opts.state ?? defaultStateDir(ws.root)), { keyless: opts.keyless === true });
      const out = opts.out ?? file.replace(/(\.intoto)?\.json$/, '') + BUNDLE_SUFFIX;
      writeBundle(out, await attest(statement, backend));
      io.out(`signed ${file} by ${backend.kind === 'dev' ? `${backend.identity} (development signer)` : 'keyless'}: ${out}\n`);
    });
}
