/**
 * Brickyard sign action: the attestations of one built and smoke-tested pair (SLSA provenance,
 * SPDX SBOM, smoke test-results), each signed into a Sigstore bundle. Keyless in GitHub Actions
 * (the job's OIDC token → Fulcio, Rekor); `dev` signs with the development signer of the state
 * folder, for tests and local runs. Needs no root: it only reads the build records.
 */
import { relative, resolve } from 'node:path';
import * as core from '@actions/core';
import { escapeHtml } from '../../../pipeline/src/pr/annotate.ts';
import { attestPair, signerFor } from '../../../pipeline/src/sign/pair.ts';
import { Workspace } from '../../../pipeline/src/workspace.ts';

export interface Inputs {
  recipe: string;
  system: string;
  root: string;
  stateDir: string;
  signer: string;
  workspace: string;
}

/** The error's message and, for a BrickyardError, its hint (what to do about it). */
export function describeError(e: unknown): string {
  const err = e as Error & { hint?: string };
  return err.hint ? `${err.message} (${err.hint})` : err.message;
}

export async function run(inputs: Inputs): Promise<void> {
  try {
    if (inputs.signer !== 'keyless' && inputs.signer !== 'dev') throw new Error(`signer must be keyless or dev, got ${JSON.stringify(inputs.signer)}`);
    const keyless = inputs.signer === 'keyless';
    const ws = Workspace.open(resolve(inputs.workspace, inputs.root));
    const recipe = ws.recipe(inputs.recipe);
    const where = ws.firstFitting(recipe, inputs.system);
    const stateDir = resolve(inputs.workspace, inputs.stateDir);
    // Fail before anything is written when keyless signing cannot get an OIDC token: the
    // library's error says to grant the job `id-token: write`.
    if (keyless) await signerFor(stateDir, { keyless: true });
    const result = await core.group(`sign ${recipe.key} for ${where.system.doc.id}/${where.partition.id} (${inputs.signer})`, () =>
      attestPair(ws, recipe, where, { stateDir, keyless }),
    );
    for (const f of result.files) core.info(`${f.kind}: ${f.bundle}`);
    core.setOutput('bundles', JSON.stringify(result.files.map((f) => f.bundle)));
    core.setOutput('identity', result.identity);
    const rel = (p: string): string => relative(inputs.workspace, p) || p;
    await core.summary
      .addHeading(`Signed: ${escapeHtml(recipe.key)} for ${escapeHtml(`${where.system.doc.id}/${where.partition.id}`)}`, 3)
      .addRaw(`<p>Signer: <code>${escapeHtml(result.identity)}</code> (issuer <code>${escapeHtml(result.issuer)}</code>, ${result.signer === 'dev' ? 'development signer: no production site accepts it' : 'keyless Sigstore'})</p>`, true)
      .addTable([
        [
          { data: 'attestation', header: true },
          { data: 'statement', header: true },
          { data: 'Sigstore bundle', header: true },
        ],
        ...result.files.map((f) => [f.kind, escapeHtml(rel(f.statement)), escapeHtml(rel(f.bundle))]),
      ])
      .write();
  } catch (e) {
    core.setFailed(`brickyard sign: ${describeError(e)}`);
  }
}
