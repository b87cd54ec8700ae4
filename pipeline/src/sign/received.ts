/**
 * The signing job's whole task, as a library call (actions/sign is a thin shell over it): for
 * each pair the plan names, find its build artifact by the name computed for it, verify it
 * (subjects.ts), copy what verified into a fresh state folder, carry test results that the
 * system's own runner signed (after checking what they are about), and sign the statements it
 * makes. A folder in `builds` that no planned pair names is refused: whoever could run code in
 * a build job can upload artifacts under any name.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSignedTestResult, TEST_RESULT_PREDICATE_TYPE, type SignedTestResult } from '../smoke/predicate.ts';
import { BrickyardError } from '../util/errors.ts';
import { arrayAt, isJsonObject, objectAt, parseUnknownJson, stringAt, type JsonObject } from '../util/untrusted-json.ts';
import type { Workspace } from '../workspace.ts';
import { IN_TOTO_PAYLOAD_TYPE } from './attest.ts';
import { pairFolder } from '../state/layout.ts';
import { attestPair, type AttestedFile, type AttestRole } from './pair.ts';
import { buildArtifactName, importVerifiedBuild, testResultArtifactName, verifyReceivedBuild, type PairId, type VerifiedSubject } from './subjects.ts';

const ID = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * The pairs of batch `batch` of a batches file (brickyard-batches, written by the plan). The
 * signing job passes the file its own plan step wrote from git, never one it received: the pairs
 * it signs are computed in the job that signs them.
 */
export function pairsOfBatch(file: string, batch: number, system?: string): PairId[] {
  if (!Number.isInteger(batch) || batch < 0) throw new BrickyardError('USAGE', `batch must be a whole number, got ${batch}`);
  let data: unknown;
  try {
    data = parseUnknownJson(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BrickyardError('FILE_UNREADABLE', `${file}: ${(e as Error).message}`, { hint: 'pass the batches-file output of ./actions/plan in the same job' });
  }
  const batches = arrayAt(data, 'batches');
  if (stringAt(data, 'kind') !== 'brickyard-batches' || !batches)
    throw new BrickyardError('FILE_UNREADABLE', `${file} is not a brickyard batches file`, { hint: 'pass the batches-file output of ./actions/plan in the same job' });
  const chosen = batches[batch];
  if (chosen === undefined)
    throw new BrickyardError('USAGE', `${file} has ${batches.length} batch(es), no batch ${batch}`, {
      hint: 'the plan of this job and the plan that fanned out differ: plan both from the same base and head',
    });
  return parsePairs(JSON.stringify(chosen), system);
}

/**
 * The pairs to sign: the plan's matrix (`{include: [{recipe, version, system, partition}]}`) or
 * a list of such rows, keeping those of `system` when given.
 */
export function parsePairs(json: string, system?: string): PairId[] {
  let data: unknown;
  try {
    data = parseUnknownJson(json);
  } catch (e) {
    throw new BrickyardError('USAGE', `pairs is not JSON: ${(e as Error).message}`);
  }
  const rows = Array.isArray(data) ? (data as unknown[]) : arrayAt(data, 'include');
  if (!rows) throw new BrickyardError('USAGE', 'pairs must be the plan matrix ({"include": [...]}) or a list of {recipe, version, system, partition}');
  const out: PairId[] = [];
  for (const [i, row] of rows.entries()) {
    const id = (k: keyof PairId): string => {
      const v = stringAt(row, k);
      if (v === undefined || !ID.test(v)) throw new BrickyardError('USAGE', `pairs[${i}].${k} is ${JSON.stringify(isJsonObject(row) ? row[k] : undefined)}, not an id`);
      return v;
    };
    const pair: PairId = { recipe: id('recipe'), version: id('version'), system: id('system'), partition: id('partition') };
    if (system === undefined || pair.system === system) out.push(pair);
  }
  return out;
}

export interface SignedPair {
  pair: PairId;
  refName: string;
  subject: VerifiedSubject;
  files: AttestedFile[];
  /** Test results signed on the system's own runner, checked and carried as they are. */
  carried: string[];
}

export interface SignReceivedResult {
  identity: string;
  issuer: string;
  signer: 'dev' | 'keyless';
  pairs: SignedPair[];
}

export interface SignReceivedOptions {
  pairs: PairId[];
  /** Where the build artifacts were downloaded, each into a folder named by buildArtifactName. */
  builds: string;
  /** The fan-out batch the pairs were built in (their artifact names carry it); absent for unbatched builds. */
  batch?: number;
  /** Where test-result artifacts signed on the systems' own runners were downloaded (testResultArtifactName), if any. */
  testResults?: string;
  /** A fresh folder: the verified builds and the signed statements go there (and the bundle is packed from it). */
  stateDir: string;
  roles: readonly AttestRole[];
  keyless: boolean;
}

function refuse(what: string, hint?: string): never {
  throw new BrickyardError('SUBJECT_MISMATCH', `refusing to sign: ${what}`, hint ? { hint } : {});
}

export async function signReceivedBuilds(ws: Workspace, opts: SignReceivedOptions): Promise<SignReceivedResult> {
  if (opts.pairs.length === 0) throw new BrickyardError('USAGE', 'no pairs to sign', { hint: 'pass the plan matrix as pairs' });
  const nameOf = (pair: PairId): string => buildArtifactName(pair, opts.batch);
  const expected = new Set(opts.pairs.map(nameOf));
  const received = existsSync(opts.builds) ? readdirSync(opts.builds) : [];
  // download-artifact (v8) extracts a pattern that matched one artifact straight into its path,
  // not into a folder of the artifact's name: then the one planned pair's artifact is the folder.
  const flat = received.includes('builds') || received.includes('oci');
  if (flat && opts.pairs.length !== 1)
    refuse(
      `${opts.builds} holds one build's files directly, but ${opts.pairs.length} pairs are planned`,
      'download without merge-multiple: each artifact into a folder of its name',
    );
  const artifactDir = (pair: PairId): string => (flat ? opts.builds : join(opts.builds, nameOf(pair)));
  const unexpected = flat ? [] : received.filter((n) => !expected.has(n));
  if (unexpected.length > 0)
    refuse(
      `${opts.builds} holds ${unexpected.map((n) => JSON.stringify(n)).join(', ')}, which no planned pair names`,
      "download each planned pair's artifact by its name, and nothing else",
    );
  let flatResults = false;
  if (opts.testResults !== undefined) {
    const carriedNames = new Set(opts.pairs.map(testResultArtifactName));
    const present = existsSync(opts.testResults) ? readdirSync(opts.testResults) : [];
    flatResults = present.some((n) => n.endsWith('.json'));
    if (flatResults && opts.pairs.length !== 1) refuse(`${opts.testResults} holds one artifact's files directly, but ${opts.pairs.length} pairs are planned`);
    const stray = flatResults ? [] : present.filter((n) => !carriedNames.has(n));
    if (stray.length > 0) refuse(`${opts.testResults} holds ${stray.map((n) => JSON.stringify(n)).join(', ')}, which no planned pair names`);
  }

  const out: SignedPair[] = [];
  let who: Omit<SignReceivedResult, 'pairs'> | undefined;
  for (const pair of opts.pairs) {
    const where = ws.pair(`${pair.recipe}@${pair.version}`, pair.system, pair.partition);
    const r = where.recipe;
    const verified = await verifyReceivedBuild(artifactDir(pair), r, where);
    const dest = importVerifiedBuild(verified, opts.stateDir, r, where);
    const carried =
      opts.testResults === undefined ? [] : carryTestResults(flatResults ? opts.testResults : join(opts.testResults, testResultArtifactName(pair)), dest, pair, verified.subject);
    const result = await attestPair(ws, where, { stateDir: opts.stateDir, keyless: opts.keyless, roles: opts.roles, subject: verified.subject });
    if (!result.files.some((f) => f.kind === 'test-result') && carried.length === 0) {
      refuse(`${r.key} for ${pair.system}/${pair.partition} would have no signed test result`, "sign test results here (roles) or on the system's runner (sign-test-results.yml)");
    }
    who = { identity: result.identity, issuer: result.issuer, signer: result.signer };
    out.push({ pair, refName: verified.refName, subject: verified.subject, files: result.files, carried });
  }
  if (who === undefined) throw new BrickyardError('USAGE', 'no pairs to sign', { hint: 'pass the plan matrix as pairs' });
  return { ...who, pairs: out };
}

/**
 * Test results signed on a self-hosted system's own runner (a job of their own, identity
 * sign-test-results.yml): the signer cannot check their signature against the site's rules (the
 * site does, at import), but refuses any that is about another image, system or partition, or
 * is not a test result, so that nothing it packs says something other than its pair.
 */
export function carryTestResults(dir: string, pairDir: string, pair: PairId, subject: VerifiedSubject): string[] {
  if (!existsSync(dir))
    refuse(
      `no test results signed on ${pair.system}'s runner for ${pair.recipe}@${pair.version} on ${pair.partition} (${dir})`,
      `download the artifact ${testResultArtifactName(pair)}`,
    );
  const carried: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!lstatSync(path).isFile()) refuse(`${path} is not a plain file`);
    if (/^test-result-[a-z]+\.intoto\.json$/.test(name)) continue; // remade below from the signed payload
    const m = /^test-result-([a-z]+)\.sigstore\.json$/.exec(name);
    const launcher = m?.[1];
    if (launcher === undefined) return refuse(`${path} is not a signed test result (test-result-<launcher>.sigstore.json)`);
    let statement: unknown;
    let envelope: JsonObject | undefined;
    try {
      envelope = objectAt(parseUnknownJson(readFileSync(path, 'utf8')), 'dsseEnvelope');
      statement = parseUnknownJson(Buffer.from(stringAt(envelope, 'payload') ?? '', 'base64').toString('utf8'));
    } catch (e) {
      return refuse(`${path} is not a DSSE Sigstore bundle: ${(e as Error).message}`);
    }
    const payloadType = envelope?.['payloadType'];
    if (payloadType !== IN_TOTO_PAYLOAD_TYPE) refuse(`${path} has payload type ${JSON.stringify(payloadType)}, expected ${IN_TOTO_PAYLOAD_TYPE}`);
    const predicateType = isJsonObject(statement) ? statement['predicateType'] : undefined;
    if (predicateType !== TEST_RESULT_PREDICATE_TYPE) refuse(`${path} is a ${JSON.stringify(predicateType)} statement, expected a test result`);
    const digests = (arrayAt(statement, 'subject') ?? []).map((s) => stringAt(objectAt(s, 'digest'), 'sha256'));
    if (digests.length !== 1 || digests[0] !== subject.digest.sha256)
      refuse(`${path} is about ${digests.join(', ') || 'nothing'}, the verified image is sha256:${subject.digest.sha256}`);
    // Read as the site reads it: the target from the descriptor content that hashes to its digest.
    let target: SignedTestResult;
    try {
      target = readSignedTestResult(isJsonObject(statement) ? statement['predicate'] : undefined);
    } catch (e) {
      return refuse(`${path}: ${(e as Error).message}`);
    }
    if (target.system !== pair.system || target.partition !== pair.partition || target.launcher !== launcher || target.imageDigest !== `sha256:${subject.digest.sha256}`) {
      refuse(
        `${path} reports a run of ${target.imageDigest} on ${target.system}/${target.partition} with ${target.launcher}, expected sha256:${subject.digest.sha256} on ${pair.system}/${pair.partition} with ${launcher}`,
      );
    }
    mkdirSync(pairDir, { recursive: true });
    writeFileSync(join(pairDir, name), readFileSync(path));
    writeFileSync(pairFolder(pairDir).testResult(launcher), JSON.stringify(statement, null, 2) + '\n');
    carried.push(join(pairDir, name));
  }
  if (carried.length === 0) refuse(`${dir} holds no signed test result`);
  return carried;
}

/** `<sha256 hex>  <name>` per pair: the subject-checksums file actions/attest reads. */
export function subjectChecksums(pairs: SignedPair[]): string {
  return pairs.map((p) => `${p.subject.digest.sha256}  ${p.refName}\n`).join('');
}
