/**
 * Brickyard sign action: the signing job's step. It never trusts the build job: for each
 * planned pair it finds that pair's build artifact by name, re-hashes its OCI layout, derives
 * the subject from what it hashed and from the catalogue, copies what verified into a fresh
 * state folder, and signs there the statements it makes itself (SLSA provenance, the SPDX SBOM,
 * the smoke test-results: the roles asked for), each as a Sigstore bundle. Test results signed
 * on a self-hosted system's own runner are checked (same image, system, partition) and carried.
 * Keyless in GitHub Actions (the job's OIDC token → Fulcio); `dev` signs with the development
 * signer of the state folder, for tests and local runs.
 */
import { writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as core from '@actions/core';
import { escapeHtml } from '../../../pipeline/src/pr/annotate.ts';
import { ATTEST_ROLES, signerFor, type AttestRole } from '../../../pipeline/src/sign/pair.ts';
import { pairsOfBatch, parsePairs, signReceivedBuilds, subjectChecksums } from '../../../pipeline/src/sign/received.ts';
import type { PairId } from '../../../pipeline/src/sign/subjects.ts';
import { Workspace } from '../../../pipeline/src/workspace.ts';

export interface Inputs {
  /** One pair: recipe (name@version) and system (system/partition); or pairs (the plan matrix) and optionally system (an id). */
  recipe: string;
  pairs: string;
  /** With batch: the batches file this job's own plan step wrote; the pairs are that batch's. */
  batchesFile: string;
  /** The fan-out batch index ('' for none): picks the batch and names the artifacts. */
  batch: string;
  system: string;
  builds: string;
  testResults: string;
  roles: string;
  root: string;
  stateDir: string;
  signer: string;
  workspace: string;
  runnerTemp: string;
}

/** The error's message and, for a BrickyardError, its hint (what to do about it). */
export function describeError(e: unknown): string {
  const err = e as Error & { hint?: string };
  return err.hint ? `${err.message} (${err.hint})` : err.message;
}

function parseRoles(text: string): AttestRole[] {
  const roles = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const r of roles) if (!(ATTEST_ROLES as readonly string[]).includes(r)) throw new Error(`roles: ${JSON.stringify(r)} is not one of ${ATTEST_ROLES.join(', ')}`);
  if (roles.length === 0) throw new Error(`roles must name at least one of ${ATTEST_ROLES.join(', ')}`);
  return roles as AttestRole[];
}

function onePair(recipe: string, system: string): PairId[] {
  const [name, version, ...more] = recipe.split('@');
  const [sys, partition, ...rest] = system.split('/');
  if (!version || more.length > 0) throw new Error(`recipe must be name@version, got ${JSON.stringify(recipe)}`);
  if (!partition || rest.length > 0) throw new Error(`with recipe, system must be system/partition, got ${JSON.stringify(system)}`);
  return parsePairs(JSON.stringify([{ recipe: name, version, system: sys, partition }]));
}

export async function run(inputs: Inputs): Promise<void> {
  try {
    if (inputs.signer !== 'keyless' && inputs.signer !== 'dev') throw new Error(`signer must be keyless or dev, got ${JSON.stringify(inputs.signer)}`);
    const keyless = inputs.signer === 'keyless';
    if (!inputs.builds) throw new Error('builds is required: the folder the build artifacts were downloaded into (this action signs only what it re-hashes there)');
    const roles = parseRoles(inputs.roles);
    if (inputs.batch !== '' && !/^\d+$/.test(inputs.batch)) throw new Error(`batch must be a whole number, got ${JSON.stringify(inputs.batch)}`);
    const batch = inputs.batch === '' ? undefined : Number(inputs.batch);
    if ((batch === undefined) !== (inputs.batchesFile === ''))
      throw new Error("batch and batches-file go together: the batch index and the batches file this job's own plan step wrote");
    if (batch !== undefined && (inputs.pairs || inputs.recipe)) throw new Error('with batch, the pairs come from batches-file: give neither pairs nor recipe');
    const pairs =
      batch !== undefined
        ? pairsOfBatch(resolve(inputs.workspace, inputs.batchesFile), batch, inputs.system || undefined)
        : inputs.recipe
          ? onePair(inputs.recipe, inputs.system)
          : parsePairs(inputs.pairs || '[]', inputs.system || undefined);
    if (pairs.length === 0) throw new Error(`the pairs name nothing${inputs.system ? ` for ${inputs.system}` : ''}`);
    const ws = Workspace.open(resolve(inputs.workspace, inputs.root));
    const stateDir = resolve(inputs.workspace, inputs.stateDir);
    // Fail before anything is written when keyless signing cannot get an OIDC token: the
    // library's error says to grant the job `id-token: write`.
    if (keyless) await signerFor(stateDir, { keyless: true });
    const result = await core.group(`verify and sign ${pairs.length} pair(s) (${roles.join(', ')}; ${inputs.signer})`, () =>
      signReceivedBuilds(ws, {
        pairs,
        builds: resolve(inputs.workspace, inputs.builds),
        ...(batch !== undefined ? { batch } : {}),
        ...(inputs.testResults ? { testResults: resolve(inputs.workspace, inputs.testResults) } : {}),
        stateDir,
        roles,
        keyless,
      }),
    );
    const files = result.pairs.flatMap((p) => p.files);
    for (const p of result.pairs) core.info(`${p.refName}: sha256:${p.subject.digest.sha256} (re-hashed)`);
    for (const f of files) core.info(`${f.kind}: ${f.bundle}`);
    const checksums = join(inputs.runnerTemp, 'brickyard-subjects.sha256');
    writeFileSync(checksums, subjectChecksums(result.pairs));
    core.setOutput('bundles', JSON.stringify(files.map((f) => f.bundle)));
    core.setOutput('subjects', JSON.stringify(result.pairs.map((p) => ({ name: p.refName, digest: `sha256:${p.subject.digest.sha256}` }))));
    core.setOutput('subject-checksums', checksums);
    core.setOutput('identity', result.identity);
    const rel = (p: string): string => relative(inputs.workspace, p) || p;
    await core.summary
      .addHeading(`Signed: ${result.pairs.length} pair(s), re-hashed before signing`, 3)
      .addRaw(
        `<p>Signer: <code>${escapeHtml(result.identity)}</code> (issuer <code>${escapeHtml(result.issuer)}</code>, ${result.signer === 'dev' ? 'development signer: no production site accepts it' : 'keyless Sigstore'})</p>`,
        true,
      )
      .addTable([
        [
          { data: 'image', header: true },
          { data: 'digest (re-hashed)', header: true },
          { data: 'attestation', header: true },
          { data: 'Sigstore bundle', header: true },
        ],
        ...result.pairs.flatMap((p) => [
          ...p.files.map((f) => [escapeHtml(p.refName), `sha256:${p.subject.digest.sha256}`, f.kind, escapeHtml(rel(f.bundle))]),
          ...p.carried.map((c) => [escapeHtml(p.refName), `sha256:${p.subject.digest.sha256}`, "test-result (signed on the system's runner)", escapeHtml(rel(c))]),
        ]),
      ])
      .write();
  } catch (e) {
    core.setFailed(`brickyard sign: ${describeError(e)}`);
  }
}
