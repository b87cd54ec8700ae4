/**
 * `brickyard attest`: the attestations of one built and smoke-tested pair, each an in-toto
 * Statement v1 about the image manifest digest, signed as DSSE into a Sigstore bundle v0.3:
 * SLSA Provenance v1, the SPDX SBOM, and the smoke test-result of every launcher that ran.
 * In GitHub Actions the signer is keyless (OIDC → Fulcio); elsewhere the development signer.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pairDir, type BuildRecord } from '../build/build.ts';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import { gitOrEmpty } from '../git/git.ts';
import { BrickyardError } from '../util/errors.ts';
import type { PartitionRef, Workspace } from '../workspace.ts';
import { attest, writeBundle, BUNDLE_SUFFIX, keylessSigner, type KeylessSigner } from './attest.ts';
import { devSignerDir, loadOrCreateDevSigner, type DevSigner } from './dev-signer.ts';
import { fileDigests, imageSubject, provenanceFromBuild, sbomStatement, withSifSubject, type ProvenanceContext } from './provenance.ts';

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
}

/** The signer for this environment: keyless in GitHub Actions with an OIDC token, else the development signer. */
export async function signerFor(stateDir: string, opts: { keyless?: boolean } = {}): Promise<DevSigner | KeylessSigner> {
  if (opts.keyless) {
    const repo = process.env['GITHUB_REPOSITORY'];
    if (!repo) throw new BrickyardError('USAGE', 'keyless signing runs in GitHub Actions (GITHUB_REPOSITORY is not set)', { hint: 'leave out --keyless to sign with the development signer' });
    return keylessSigner({ visibility: (process.env['BRICKYARD_REPOSITORY_VISIBILITY'] as 'public' | 'private' | 'internal' | undefined) ?? 'public' });
  }
  return loadOrCreateDevSigner(devSignerDir(stateDir));
}

function provenanceContext(ws: Workspace, record: BuildRecord, lockFiles: string[]): ProvenanceContext {
  const env = process.env;
  const common = {
    files: fileDigests(ws.root, lockFiles.filter((f) => existsSync(join(ws.root, f)))),
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
      github: github as ProvenanceContext['github'] & object,
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

export async function attestPair(ws: Workspace, r: ResolvedRecipe, where: PartitionRef, opts: { stateDir: string; keyless?: boolean }): Promise<AttestResult> {
  const dir = pairDir(opts.stateDir, r, where);
  const recordPath = join(dir, 'build.json');
  if (!existsSync(recordPath)) {
    throw new BrickyardError('IMAGE_NOT_FOUND', `${r.key} has not been built for ${where.system.doc.id}/${where.partition.id}`, {
      hint: `run: npx brickyard build ${r.key} --system ${where.system.doc.id}/${where.partition.id}`,
    });
  }
  const record = JSON.parse(readFileSync(recordPath, 'utf8')) as BuildRecord;
  const lock = JSON.parse(readFileSync(join(dir, 'lock.json'), 'utf8')) as { recipe: { files: { path: string }[] }; system: { file: string }; blocks: { file: string }[] };
  const lockFiles = [...lock.recipe.files.map((f) => f.path), lock.system.file, ...lock.blocks.map((b) => b.file), 'catalog/bases.yaml'];
  const backend = await signerFor(opts.stateDir, opts);
  const subject = imageSubject(record);

  const statements: { kind: AttestedFile['kind']; path: string; statement: object }[] = [];
  statements.push({ kind: 'provenance', path: join(dir, 'provenance.intoto.json'), statement: provenanceFromBuild(record, provenanceContext(ws, record, lockFiles)) });
  const spdx = JSON.parse(readFileSync(record.sbom.path, 'utf8')) as Record<string, unknown>;
  statements.push({ kind: 'sbom', path: join(dir, 'sbom.intoto.json'), statement: withSifSubject(sbomStatement(subject, spdx), record) });
  for (const f of readdirSync(dir).filter((n) => /^test-result-.*\.intoto\.json$/.test(n)).sort()) {
    const statement = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { subject?: { digest?: { sha256?: string } }[] };
    // A smoke report of an earlier build of this pair is about another image: leave it out.
    if (statement.subject?.[0]?.digest?.sha256 !== subject.digest.sha256) continue;
    statements.push({ kind: 'test-result', path: join(dir, f), statement });
  }
  if (!statements.some((s) => s.kind === 'test-result')) {
    throw new BrickyardError('IMAGE_NOT_FOUND', `${r.key} on ${where.system.doc.id}/${where.partition.id} has no smoke test-result for image ${record.image.manifestDigest}`, {
      hint: `run: npx brickyard smoke ${r.key} --system ${where.system.doc.id}/${where.partition.id}`,
    });
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
  return { identity, issuer, signer: backend.kind === 'dev' ? 'dev' : 'keyless', files };
}
