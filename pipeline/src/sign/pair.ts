/**
 * `brickyard attest`: the attestations of one built and smoke-tested pair, each an in-toto
 * Statement v1 about the image manifest digest, signed as DSSE into a Sigstore bundle v0.3:
 * SLSA Provenance v1, the SPDX SBOM, and the smoke test-result of every launcher that ran.
 * In GitHub Actions the signer is keyless (OIDC → Fulcio); elsewhere the development signer.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sha256File } from '../build/sif.ts';
import { pairDir } from '../build/build.ts';
import type { BuildRecord } from '../state/records.ts';
import { gitOrEmpty } from '../git/git.ts';
import { BrickyardError } from '../util/errors.ts';
import type { Pair, PartitionRef, Workspace } from '../workspace.ts';
import { attest, writeBundle, BUNDLE_SUFFIX } from './attest.ts';
import { keylessSigner, type KeylessSigner } from './keyless.ts';
import { devSignerDir, loadOrCreateDevSigner, type DevSigner } from './dev-signer.ts';
import { TEST_RESULT_PREDICATE_TYPE, testResultPredicate } from '../smoke/predicate.ts';
import { inTotoStatement } from '../model/statement.ts';
import { fileDigests, provenancePredicate, sbomStatement, SLSA_PROVENANCE_PREDICATE_TYPE, withSifSubject, type ProvenanceContext } from './provenance.ts';
import { verifyLocalImage, type VerifiedSubject } from './subjects.ts';
import { imagePolicyFacts, withImagePolicyFacts } from './image-policy-facts.ts';
import { pairFolder, smokeLauncherOf, stateLayout } from '../state/layout.ts';
import { readBuildRecord, readPairLock, readSbom, readSmokeReport } from '../state/records.ts';

export interface AttestedFile {
  kind: 'provenance' | 'sbom' | 'test-result';
  statement: string;
  bundle: string;
}

export interface AttestResult {
  identity: string;
  issuer: string;
  signer: 'dev' | 'keyless';
  files: AttestedFile[];
  /** What every statement is about. */
  subject: VerifiedSubject;
}

/** The signer for this environment: keyless in GitHub Actions with an OIDC token, else the development signer. */
export async function signerFor(stateDir: string, opts: { keyless?: boolean } = {}): Promise<DevSigner | KeylessSigner> {
  if (opts.keyless) {
    const repo = process.env['GITHUB_REPOSITORY'];
    if (!repo)
      throw new BrickyardError('USAGE', 'keyless signing runs in GitHub Actions (GITHUB_REPOSITORY is not set)', {
        hint: 'leave out --keyless to sign with the development signer',
      });
    return keylessSigner({ visibility: (process.env['BRICKYARD_REPOSITORY_VISIBILITY'] as 'public' | 'private' | 'internal' | undefined) ?? 'public' });
  }
  return loadOrCreateDevSigner(devSignerDir(stateDir));
}

function provenanceContext(ws: Workspace, record: BuildRecord, lockFiles: string[]): ProvenanceContext {
  const env = process.env;
  const common = {
    files: fileDigests(
      ws.root,
      lockFiles.filter((f) => existsSync(join(ws.root, f))),
    ),
    startedOn: record.startedOn ?? record.created,
    finishedOn: record.finishedOn ?? record.created,
  };
  if (env['GITHUB_ACTIONS'] === 'true' && env['GITHUB_REPOSITORY'] && env['GITHUB_RUN_ID']) {
    const github = {
      serverUrl: env['GITHUB_SERVER_URL'] ?? 'https://github.com',
      repository: env['GITHUB_REPOSITORY'],
      ref: env['GITHUB_REF'] ?? '',
      sha: env['GITHUB_SHA'] ?? '',
      workflowPath: (env['GITHUB_WORKFLOW_REF'] ?? '').replace(/^[^/]+\/[^/]+\//, '').replace(/@.*$/, ''),
      runId: env['GITHUB_RUN_ID'],
      runAttempt: env['GITHUB_RUN_ATTEMPT'] ?? '1',
    };
    return {
      ...common,
      buildType: 'github-workflow',
      github,
      invocationId: `${github.serverUrl}/${github.repository}/actions/runs/${github.runId}/attempts/${github.runAttempt}`,
      builderId: `${github.serverUrl}/${github.repository}/.github/workflows`,
    };
  }
  const commit = gitOrEmpty(ws.root, ['rev-parse', 'HEAD']) || 'unknown';
  return {
    ...common,
    buildType: 'local',
    source: { uri: gitOrEmpty(ws.root, ['remote', 'get-url', 'origin']) || `file://${ws.root}`, commit },
    invocationId: `brickyard-local:${record.lockDigest}:${record.startedOn ?? record.created}`,
    builderId: 'https://brickyard.dev/builders/local/v1',
  };
}

export type AttestRole = AttestedFile['kind'];
export const ATTEST_ROLES: readonly AttestRole[] = ['provenance', 'sbom', 'test-result'];

export interface AttestOptions {
  stateDir: string;
  keyless?: boolean;
  /** What to sign (default all three). A site's runner signs only test results; the hosted signer of a self-hosted system everything else. */
  roles?: readonly AttestRole[];
  /** The subject, re-hashed from the received layout (verifyReceivedBuild); else the image is re-hashed in the state folder's layout. */
  subject?: VerifiedSubject;
}

/** The annotations of the statement's configuration entry whose brickyardRole is "target" ({} when there is none). */
function targetAnnotations(statement: object): Record<string, unknown> {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const predicate = (statement as Record<string, unknown>)['predicate'];
  const configuration = isObject(predicate) ? predicate['configuration'] : undefined;
  for (const c of Array.isArray(configuration) ? (configuration as unknown[]) : []) {
    const annotations = isObject(c) ? c['annotations'] : undefined;
    if (isObject(annotations) && annotations['brickyardRole'] === 'target') return annotations;
  }
  return {};
}

/**
 * A test-result statement the signer makes itself from a smoke report: the subject and the
 * target (system, partition, image) from what was verified, the verdict recomputed from the
 * tests (a report that says PASSED over a FAILED test is signed as FAILED). Only the measured
 * tests, times, runtime and MPI strategy come from the report.
 */
export function testResultFromReport(reportPath: string, launcher: string, subject: VerifiedSubject, where: PartitionRef): object {
  const bad = (why: string): never => {
    throw new BrickyardError('SUBJECT_MISMATCH', `refusing to sign the smoke report ${reportPath}: ${why}`, { hint: 'run the smoke test again on this build' });
  };
  // Shape and types are the schema's (a forged report is refused naming its field); what it claims is checked here.
  const report = readSmokeReport(reportPath);
  if (report.launcher !== launcher) bad(`it names the launcher ${JSON.stringify(report.launcher)}, its file name says ${launcher}`);
  if (report.system !== where.system.doc.id || report.partition !== where.partition.id)
    bad(`it ran on ${report.system}/${report.partition}, not on ${where.system.doc.id}/${where.partition.id}`);
  if (report.image.manifestDigest !== `sha256:${subject.digest.sha256}`)
    bad(`it tested the image ${report.image.manifestDigest}, the verified image is sha256:${subject.digest.sha256}`);
  const tests = report.tests.length > 0 ? report.tests : bad('it lists no tests');
  const target = targetAnnotations(report.statement);
  const runtime = typeof target['runtime'] === 'string' ? target['runtime'] : bad('its statement names no runtime');
  const mpiStrategy = typeof target['mpiStrategy'] === 'string' ? target['mpiStrategy'] : target['mpiStrategy'] === null ? null : bad('its statement names no MPI strategy');
  let predicate;
  try {
    predicate = testResultPredicate({
      results: tests,
      configuration: {
        system: where.system.doc.id,
        partition: where.partition.id,
        runtime,
        launcher: launcher as 'direct' | 'slurm',
        mpiStrategy,
        imageDigest: `sha256:${subject.digest.sha256}`,
        imageReference: subject.name,
      },
      startedOn: report.startedOn,
      finishedOn: report.finishedOn,
    });
  } catch (e) {
    return bad((e as Error).message);
  }
  return inTotoStatement(subject, TEST_RESULT_PREDICATE_TYPE, predicate);
}

export async function attestPair(ws: Workspace, pair: Pair, opts: AttestOptions): Promise<AttestResult> {
  const { recipe: r } = pair;
  const where: PartitionRef = pair;
  const folder = pairFolder(pairDir(opts.stateDir, r, where));
  const dir = folder.dir;
  if (!existsSync(folder.buildRecord)) {
    throw new BrickyardError('IMAGE_NOT_FOUND', `${r.key} has not been built for ${where.system.doc.id}/${where.partition.id}`, {
      hint: `run: npx brickyard build ${r.key} --system ${where.system.doc.id}/${where.partition.id}`,
    });
  }
  const roles = new Set(opts.roles ?? ATTEST_ROLES);
  const record = readBuildRecord(folder.buildRecord);
  // Every subject comes from a re-hashed layout, never from the digest the build record states.
  const subject = opts.subject ?? (await verifyLocalImage(opts.stateDir, r, where, record));
  const backend = await signerFor(opts.stateDir, opts);

  const statements: { kind: AttestedFile['kind']; path: string; statement: object }[] = [];
  if (roles.has('provenance')) {
    const lock = readPairLock(folder.lock);
    const lockFiles = [...lock.recipe.files.map((f) => f.path), lock.system.file, ...lock.blocks.map((b) => b.file), 'catalog/bases.yaml'];
    statements.push({
      kind: 'provenance',
      path: folder.provenance,
      statement: await withVerifiedSif(
        inTotoStatement(subject, SLSA_PROVENANCE_PREDICATE_TYPE, provenancePredicate(record, provenanceContext(ws, record, lockFiles))),
        record,
        dir,
      ),
    });
  }
  if (roles.has('sbom')) {
    // The pair folder's SBOM, not the path the record names (a path on the build runner).
    const spdx = readSbom(folder.sbom);
    // The image policy's facts, from the layout this signer verified and its own catalogue: signed with the SBOM.
    const facts = imagePolicyFacts(stateLayout(opts.stateDir).oci, `sha256:${subject.digest.sha256}`, where.system.doc, where.partition.id);
    const claimed = record.imagePolicy?.facts;
    if (claimed && facts.unreadableLayers.length === 0 && JSON.stringify(claimed) !== JSON.stringify(facts.facts)) {
      throw new BrickyardError(
        'SUBJECT_MISMATCH',
        `refusing to sign the SBOM of ${r.key} for ${where.system.doc.id}/${where.partition.id}: its build record says the image runs as ${JSON.stringify(claimed.user)} with ${claimed.setuidFiles.length} setuid file(s) in ${claimed.uncompressedBytes} bytes, the image itself as ${JSON.stringify(facts.facts.user)} with ${facts.facts.setuidFiles.length} in ${facts.facts.uncompressedBytes}`,
        { hint: 'rebuild the pair; never sign what does not verify' },
      );
    }
    const created = (spdx['creationInfo'] as { created?: unknown } | undefined)?.created;
    const date = typeof created === 'string' ? created : record.created;
    statements.push({
      kind: 'sbom',
      path: folder.sbomStatement,
      statement: await withVerifiedSif(sbomStatement(subject, withImagePolicyFacts(spdx, facts, date)), record, dir),
    });
  }
  if (roles.has('test-result')) {
    for (const launcher of readdirSync(dir)
      .map(smokeLauncherOf)
      .filter((l) => l !== undefined)
      .sort()) {
      statements.push({ kind: 'test-result', path: folder.testResult(launcher), statement: testResultFromReport(folder.smokeReport(launcher), launcher, subject, where) });
    }
    if (!statements.some((s) => s.kind === 'test-result')) {
      throw new BrickyardError('IMAGE_NOT_FOUND', `${r.key} on ${where.system.doc.id}/${where.partition.id} has no smoke report for image sha256:${subject.digest.sha256}`, {
        hint: `run: npx brickyard smoke ${r.key} --system ${where.system.doc.id}/${where.partition.id}`,
      });
    }
  }

  const files: AttestedFile[] = [];
  for (const s of statements) {
    writeFileSync(s.path, JSON.stringify(s.statement, null, 2) + '\n');
    const bundlePath = s.path.replace(/\.intoto\.json$/, BUNDLE_SUFFIX);
    writeBundle(bundlePath, await attest(s.statement, backend));
    files.push({ kind: s.kind, statement: s.path, bundle: bundlePath });
  }
  const identity = backend.kind === 'dev' ? backend.identity : 'keyless (GitHub OIDC)';
  const issuer = backend.kind === 'dev' ? backend.issuer : 'https://token.actions.githubusercontent.com';
  return { identity, issuer, signer: backend.kind === 'dev' ? 'dev' : 'keyless', files, subject };
}

/**
 * The pair's SIF as a second subject, only when the SIF in the pair folder hashes to what the
 * build record says: the signer never takes a digest on trust.
 */
async function withVerifiedSif<S extends { subject: { name: string; digest: { sha256: string } }[] }>(statement: S, record: BuildRecord, dir: string): Promise<S> {
  if (!record.sif) return statement;
  const file = join(dir, basename(record.sif.path));
  let got: string;
  try {
    got = (await sha256File(file)).replace(/^sha256:/, '');
  } catch {
    throw new BrickyardError('IMAGE_NOT_FOUND', `the build record names the SIF ${basename(record.sif.path)}, which the pair folder ${dir} lacks`, {
      hint: 'rebuild the pair with --sif',
    });
  }
  if (got !== record.sif.sha256.replace(/^sha256:/, '')) {
    throw new BrickyardError('SIGNING_FAILED', `the SIF ${file} hashes to ${got}, not to the digest its build record states: refusing to sign it`);
  }
  return withSifSubject(statement, record);
}
