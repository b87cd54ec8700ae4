/**
 * Predicates we sign:
 * - SLSA Provenance v1 (https://slsa.dev/spec/v1.0/provenance) for a built image, from its
 *   BuildRecord: the subject is the image manifest digest.
 * - The image's SPDX 2.3 SBOM as an in-toto predicate (`https://spdx.dev/Document/v2.3`).
 * - SLSA Verification Summary v1 (https://slsa.dev/spec/v1.0/verification_summary), which a site
 *   signs (with its site key) for what it admitted.
 *
 * Build types: in CI, GitHub's `https://actions.github.io/buildtypes/workflow/v1`
 * (externalParameters.workflow = {ref, repository, path}, internalParameters.github), so that the
 * provenance reads like actions/attest-build-provenance's; locally, ours,
 * `https://brickyard.dev/buildtypes/local/v1`. Both add what the build was asked to make
 * (recipe, version, revision, system, partition, lock digest) to externalParameters, and what
 * the platform chose (builder tool, creation time, context size) to internalParameters.brickyard.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildRecord } from '../build/build.ts';
import { inTotoStatement, type InTotoStatement, type ResourceDescriptor } from '../model/statement.ts';
import { BrickyardError } from '../util/errors.ts';
import { group } from '../util/match.ts';

export const SLSA_PROVENANCE_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1';
export const SPDX_PREDICATE_TYPE = 'https://spdx.dev/Document/v2.3';
export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
export const GITHUB_WORKFLOW_BUILD_TYPE = 'https://actions.github.io/buildtypes/workflow/v1';
export const LOCAL_BUILD_TYPE = 'https://brickyard.dev/buildtypes/local/v1';

export interface GitHubContext {
  /** owner/name */
  repository: string;
  /** refs/heads/main, refs/tags/v1 */
  ref: string;
  /** The commit (40 hex). */
  sha: string;
  /** .github/workflows/main.yml */
  workflowPath: string;
  runId: string;
  runAttempt: string;
  /** https://github.com */
  serverUrl: string;
  eventName?: string;
  repositoryId?: string;
  repositoryOwnerId?: string;
  runnerEnvironment?: string;
}

export interface ProvenanceContext {
  buildType: 'local' | 'github-workflow';
  /** Required for 'github-workflow'. */
  github?: GitHubContext;
  /** For 'local': where the catalogue came from (a git remote or path) and its commit. */
  source?: { uri: string; commit: string };
  /** Recipe, block, system and bases files that made this build, as they were at the commit. */
  files?: { path: string; sha256: string }[];
  invocationId: string;
  startedOn: string;
  finishedOn: string;
  builderId: string;
  builderVersion?: Record<string, string>;
}

export interface SlsaProvenance {
  buildDefinition: {
    buildType: string;
    externalParameters: Record<string, unknown>;
    internalParameters: Record<string, unknown>;
    resolvedDependencies: ResourceDescriptor[];
  };
  runDetails: {
    builder: { id: string; version?: Record<string, string> };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
  };
}

function fail(message: string): never {
  throw new BrickyardError('USAGE', message);
}

function rfc3339(field: string, value: string): string {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) || Number.isNaN(Date.parse(value))) {
    fail(`${field} must be an RFC 3339 timestamp, got '${value}'`);
  }
  return value;
}

function sha256Hex(field: string, value: string): string {
  const m = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(value.trim());
  if (!m) fail(`${field} must be sha256:<64 hex digits>, got '${value}'`);
  return group(m, 1).toLowerCase();
}

function uri(field: string, value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\S+$/i.test(value)) fail(`${field} must be a URI, got '${value}'`);
  return value;
}

/** GitHub's invocation id for a run attempt. */
export function githubInvocationId(g: Pick<GitHubContext, 'serverUrl' | 'repository' | 'runId' | 'runAttempt'>): string {
  return `${g.serverUrl.replace(/\/+$/, '')}/${g.repository}/actions/runs/${g.runId}/attempts/${g.runAttempt}`;
}

/** The sha256 of each file (paths relative to `root`), for `ProvenanceContext.files`. */
export function fileDigests(root: string, paths: string[]): { path: string; sha256: string }[] {
  return [...new Set(paths)].sort().map((path) => {
    if (path.startsWith('/') || path.split('/').includes('..')) fail(`file path must be relative and inside the repository, got '${path}'`);
    return {
      path,
      sha256: createHash('sha256')
        .update(readFileSync(join(root, path)))
        .digest('hex'),
    };
  });
}

/** The provenance predicate for a build. */
export function provenancePredicate(record: BuildRecord, ctx: ProvenanceContext): SlsaProvenance {
  const startedOn = rfc3339('startedOn', ctx.startedOn);
  const finishedOn = rfc3339('finishedOn', ctx.finishedOn);
  if (Date.parse(finishedOn) < Date.parse(startedOn)) fail(`finishedOn (${finishedOn}) is before startedOn (${startedOn})`);
  if (ctx.invocationId.trim() === '') fail('invocationId must not be empty');
  uri('builderId', ctx.builderId);
  const lockDigest = `sha256:${sha256Hex('lockDigest', record.lockDigest)}`;

  const brickyardParams = {
    recipe: record.recipe.name,
    version: record.recipe.version,
    revision: record.recipe.revision,
    system: record.system,
    partition: record.partition,
    lockDigest,
  };
  const internalBrickyard = { builder: record.builder, created: record.created, contextFiles: record.inputs.context };

  let repo: { uri: string; commit: string; ref?: string };
  let externalParameters: Record<string, unknown>;
  let internalParameters: Record<string, unknown>;
  let buildType: string;
  if (ctx.buildType === 'github-workflow') {
    const g = ctx.github ?? fail("buildType 'github-workflow' needs the github context");
    if (!/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(g.repository)) fail(`github.repository must be owner/name, got '${g.repository}'`);
    if (!/^refs\/\S+$/.test(g.ref)) fail(`github.ref must be a full ref (refs/…), got '${g.ref}'`);
    if (!/^[0-9a-f]{40}$/.test(g.sha)) fail(`github.sha must be a 40-hex commit, got '${g.sha}'`);
    if (!/^\.github\/workflows\/[^/]+\.ya?ml$/.test(g.workflowPath)) fail(`github.workflowPath must be .github/workflows/<file>.yml, got '${g.workflowPath}'`);
    const server = uri('github.serverUrl', g.serverUrl).replace(/\/+$/, '');
    buildType = GITHUB_WORKFLOW_BUILD_TYPE;
    repo = { uri: `${server}/${g.repository}`, commit: g.sha, ref: g.ref };
    externalParameters = { workflow: { ref: g.ref, repository: `${server}/${g.repository}`, path: g.workflowPath }, ...brickyardParams };
    const github: Record<string, string> = {};
    if (g.eventName) github['event_name'] = g.eventName;
    if (g.repositoryId) github['repository_id'] = g.repositoryId;
    if (g.repositoryOwnerId) github['repository_owner_id'] = g.repositoryOwnerId;
    if (g.runnerEnvironment) github['runner_environment'] = g.runnerEnvironment;
    internalParameters = { github, brickyard: internalBrickyard };
  } else if ((ctx.buildType as string) === 'local') {
    // callers may be plain JavaScript
    buildType = LOCAL_BUILD_TYPE;
    const src = ctx.source ?? fail("buildType 'local' needs the source (repository and commit)");
    if (!/^[0-9a-f]{40}$/.test(src.commit)) fail(`source.commit must be a 40-hex commit, got '${src.commit}'`);
    repo = { uri: src.uri, commit: src.commit };
    externalParameters = { source: { uri: src.uri, commit: src.commit }, ...brickyardParams };
    internalParameters = { brickyard: internalBrickyard };
  } else {
    fail(`buildType must be 'local' or 'github-workflow', got '${String((ctx as { buildType: unknown }).buildType)}'`);
  }

  const gitUri = `git+${repo.uri}${repo.ref ? `@${repo.ref}` : ''}`;
  const deps: ResourceDescriptor[] = [{ uri: gitUri, digest: { gitCommit: repo.commit }, annotations: { brickyardRole: 'source' } }];
  for (const f of ctx.files ?? []) {
    deps.push({
      name: f.path,
      uri: `git+${repo.uri}@${repo.commit}#${f.path}`,
      digest: { sha256: sha256Hex(`files[${f.path}].sha256`, f.sha256) },
      annotations: { brickyardRole: 'catalog-file', gitCommit: repo.commit },
    });
  }
  const base: ResourceDescriptor = { name: record.inputs.base, uri: `oci://${record.inputs.base}`, annotations: { brickyardRole: 'base-image' } };
  if (record.inputs.baseDigest) base.digest = { sha256: sha256Hex('inputs.baseDigest', record.inputs.baseDigest) };
  else base.annotations = { ...base.annotations, builtOnHost: true };
  deps.push(base);
  for (const s of record.inputs.sources) {
    deps.push({
      name: s.name,
      uri: uri(`source ${s.name} url`, s.url),
      digest: { sha256: sha256Hex(`source ${s.name} sha256`, s.sha256) },
      annotations: { brickyardRole: 'pinned-source' },
    });
  }

  return {
    buildDefinition: { buildType, externalParameters, internalParameters, resolvedDependencies: deps },
    runDetails: {
      builder: { id: ctx.builderId, ...(ctx.builderVersion ? { version: { ...ctx.builderVersion } } : {}) },
      metadata: { invocationId: ctx.invocationId, startedOn, finishedOn },
    },
  };
}

/** The image a BuildRecord made, as an in-toto subject. */
export function imageSubject(record: BuildRecord): { name: string; digest: { sha256: string } } {
  return { name: record.image.reference, digest: { sha256: sha256Hex('image.manifestDigest', record.image.manifestDigest) } };
}

/** A provenance Statement about the image manifest digest. */
export function provenanceFromBuild(record: BuildRecord, ctx: ProvenanceContext): InTotoStatement<SlsaProvenance> {
  return withSifSubject(inTotoStatement(imageSubject(record), SLSA_PROVENANCE_PREDICATE_TYPE, provenancePredicate(record, ctx)), record);
}

/** The SIF made from the image, when there is one, as a second subject: the same statement then verifies against the SIF file. */
export function withSifSubject<S extends { subject: { name: string; digest: { sha256: string } }[] }>(statement: S, record: BuildRecord): S {
  if (!record.sif) return statement;
  const sha256 = sha256Hex('sif.sha256', record.sif.sha256);
  return { ...statement, subject: [...statement.subject, { name: record.sif.path.split('/').at(-1) ?? '', digest: { sha256 } }] };
}

/**
 * The SPDX 2.3 document (as written by build/sbom.ts) as a Statement about the image. The
 * document must be SPDX-2.3 and describe the same image: one of its packages has the subject's
 * sha256 as checksum.
 */
export function sbomStatement(subject: { name: string; digest: { sha256: string } }, spdx: Record<string, unknown>): InTotoStatement<Record<string, unknown>> {
  if (spdx['spdxVersion'] !== 'SPDX-2.3') fail(`the SBOM must be SPDX-2.3, got ${JSON.stringify(spdx['spdxVersion'])}`);
  const hex = sha256Hex('subject digest', subject.digest.sha256);
  const packages = Array.isArray(spdx['packages']) ? (spdx['packages'] as { checksums?: { algorithm?: string; checksumValue?: string }[] }[]) : [];
  const describes = packages.some((p) => p.checksums?.some((c) => c.algorithm === 'SHA256' && c.checksumValue?.toLowerCase() === hex));
  if (!describes) fail(`the SBOM does not describe the image sha256:${hex} (no package has that checksum)`);
  return inTotoStatement({ name: subject.name, digest: { sha256: hex } }, SPDX_PREDICATE_TYPE, spdx);
}

export interface VerificationSummary {
  verifier: { id: string; version?: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: { uri: string; digest?: Record<string, string> };
  inputAttestations?: { uri: string; digest: Record<string, string> }[];
  verificationResult: 'PASSED' | 'FAILED';
  verifiedLevels: string[];
  dependencyLevels?: Record<string, number>;
  slsaVersion?: string;
}

/**
 * A VSA v1 predicate. `verifiedLevels` holds at most one SLSA level per track
 * (`SLSA_<TRACK>_LEVEL_<n>`) plus custom properties (`<ORG>_<PROPERTY>`); a FAILED result has
 * exactly `['FAILED']`.
 */
export function verificationSummary(args: VerificationSummary): VerificationSummary {
  uri('verifier.id', args.verifier.id);
  rfc3339('timeVerified', args.timeVerified);
  uri('resourceUri', args.resourceUri);
  uri('policy.uri', args.policy.uri);
  const result: string = args.verificationResult; // callers may be plain JavaScript
  if (result !== 'PASSED' && result !== 'FAILED') fail(`verificationResult must be PASSED or FAILED, got '${result}'`);
  const levels = [...args.verifiedLevels];
  if (args.verificationResult === 'FAILED') {
    if (levels.length !== 1 || levels[0] !== 'FAILED') fail("a FAILED verification has verifiedLevels ['FAILED']");
  } else {
    const tracks = new Set<string>();
    for (const l of levels) {
      if (l === 'FAILED') fail("a PASSED verification must not list 'FAILED'");
      if (!/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/.test(l)) fail(`verifiedLevels entry '${l}' is not SLSA_<TRACK>_LEVEL_<n> or <ORG>_<PROPERTY>`);
      const m = /^SLSA_([A-Z]+)_LEVEL_(\d+)$/.exec(l);
      if (m) {
        if (tracks.has(group(m, 1))) fail(`verifiedLevels lists more than one level of the SLSA ${m[1]} track`);
        tracks.add(group(m, 1));
      }
    }
  }
  for (const a of args.inputAttestations ?? []) {
    // a URI reference: an absolute URI, or a path inside the bundle that carried the attestation
    if (a.uri === '' || /\s/.test(a.uri)) fail(`input attestation uri must be a URI reference, got '${a.uri}'`);
    if (Object.keys(a.digest).length === 0) fail(`input attestation ${a.uri} has no digest`);
  }
  for (const [k, n] of Object.entries(args.dependencyLevels ?? {})) {
    if (!Number.isInteger(n) || n < 0) fail(`dependencyLevels[${k}] must be a count`);
  }
  return {
    verifier: { id: args.verifier.id, ...(args.verifier.version ? { version: { ...args.verifier.version } } : {}) },
    timeVerified: args.timeVerified,
    resourceUri: args.resourceUri,
    policy: { uri: args.policy.uri, ...(args.policy.digest ? { digest: { ...args.policy.digest } } : {}) },
    ...(args.inputAttestations ? { inputAttestations: args.inputAttestations.map((a) => ({ uri: a.uri, digest: { ...a.digest } })) } : {}),
    verificationResult: args.verificationResult,
    verifiedLevels: levels,
    ...(args.dependencyLevels ? { dependencyLevels: { ...args.dependencyLevels } } : {}),
    slsaVersion: args.slsaVersion ?? '1.0',
  };
}

/** A VSA Statement about one admitted artifact. */
export function vsaStatement(subject: { name: string; digest: { sha256: string } }, summary: VerificationSummary): InTotoStatement<VerificationSummary> {
  return inTotoStatement(subject, VSA_PREDICATE_TYPE, verificationSummary(summary));
}
