/**
 * SLSA Provenance v1 from a BuildRecord, the SPDX SBOM as a predicate, and the SLSA Verification
 * Summary a site signs; end to end, provenance signed by the development signer and a VSA signed
 * by a site key both verify.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toSignedEntity, toTrustMaterial, Verifier } from '@sigstore/verify';
import { describe, expect, it } from 'vitest';
import type { BuildRecord } from '../../pipeline/src/build/build.ts';
import { parseDpkgStatus } from '../../pipeline/src/build/package-db.ts';
import { spdxDocument } from '../../pipeline/src/build/sbom.ts';
import { attest } from '../../pipeline/src/sign/attest.ts';
import { DEV_OIDC_ISSUER, devSignerDir, devTrustedRoot, loadOrCreateDevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import {
  fileDigests,
  GITHUB_WORKFLOW_BUILD_TYPE,
  githubInvocationId,
  imageSubject,
  LOCAL_BUILD_TYPE,
  provenanceFromBuild,
  sbomStatement,
  SLSA_PROVENANCE_PREDICATE_TYPE,
  SPDX_PREDICATE_TYPE,
  verificationSummary,
  vsaStatement,
  VSA_PREDICATE_TYPE,
  type ProvenanceContext,
  type VerificationSummary,
} from '../../pipeline/src/sign/provenance.ts';
import { loadOrCreateSiteKey, sitePublicKey, verifySiteBundle } from '../../pipeline/src/sign/site-key.ts';
import { STATEMENT_TYPE } from '../../pipeline/src/model/statement.ts';
import { tempDir, writeTree } from '../helpers/fixture.ts';

const here = dirname(fileURLToPath(import.meta.url));
const MANIFEST = 'sha256:' + '1a'.repeat(32);
const BASE_DIGEST = 'sha256:704583dbf243593da87cf949fc0543ffeca24a28d36c2760dc9545410cb8ed02';
const SHA = '0123456789abcdef0123456789abcdef01234567';

function record(overrides: Partial<BuildRecord['inputs']> = {}): BuildRecord {
  return {
    kind: 'brickyard-build',
    version: 1,
    recipe: { name: 'osu-micro-benchmarks', version: '7.4', revision: 1 },
    system: 'alps',
    partition: 'normal',
    builder: 'buildah',
    image: {
      reference: 'localhost/brickyard/osu-micro-benchmarks:7.4-1-alps-normal',
      ociLayout: '/state/oci',
      refName: 'osu-micro-benchmarks_7.4-1_alps-normal',
      manifestDigest: MANIFEST,
      configDigest: 'sha256:' + '2b'.repeat(32),
    },
    lockDigest: 'sha256:' + '3c'.repeat(32),
    inputs: {
      base: `docker.io/library/debian:bookworm-20260918@${BASE_DIGEST}`,
      baseDigest: BASE_DIGEST,
      sources: [
        {
          name: 'osu-micro-benchmarks',
          url: 'https://mvapich.cse.ohio-state.edu/download/mvapich/osu-micro-benchmarks-7.4.tar.gz',
          sha256: '1edd0c2efa61999409bfb28740a7f39689a5b42b1a1b4c66d1656e5637f7cefc',
        },
      ],
      context: 4,
      ...overrides,
    },
    sizes: { uncompressedBytes: 1, compressedBytes: 1, budgetBytes: 2, budget: '2 B' },
    reproducible: { checked: false, identical: null, second: null },
    sbom: { path: '/state/builds/x/sbom.spdx.json', packages: 6 },
    created: '2026-09-18T00:00:00.000Z',
    durations: {},
    log: '/state/builds/x/build.log',
  };
}

const GITHUB = {
  repository: 'brickyard-hpc/brickyard',
  ref: 'refs/heads/main',
  sha: SHA,
  workflowPath: '.github/workflows/main.yml',
  runId: '123456',
  runAttempt: '2',
  serverUrl: 'https://github.com',
  eventName: 'push',
};

function ciContext(overrides: Partial<ProvenanceContext> = {}): ProvenanceContext {
  return {
    buildType: 'github-workflow',
    github: GITHUB,
    files: [{ path: 'catalog/recipes/osu-micro-benchmarks/7.4/recipe.yaml', sha256: '4d'.repeat(32) }],
    invocationId: githubInvocationId(GITHUB),
    startedOn: '2026-11-28T10:00:00Z',
    finishedOn: '2026-11-28T10:20:00Z',
    builderId: 'https://github.com/actions/runner/github-hosted',
    ...overrides,
  };
}

describe('SLSA provenance from a build record', () => {
  it('in CI: GitHub build type, subject = image manifest digest, every dependency resolved', () => {
    const st = provenanceFromBuild(record(), ciContext());
    expect(st._type).toBe(STATEMENT_TYPE);
    expect(st.predicateType).toBe(SLSA_PROVENANCE_PREDICATE_TYPE);
    expect(st.subject).toEqual([{ name: 'localhost/brickyard/osu-micro-benchmarks:7.4-1-alps-normal', digest: { sha256: '1a'.repeat(32) } }]);

    const bd = st.predicate.buildDefinition;
    expect(bd.buildType).toBe(GITHUB_WORKFLOW_BUILD_TYPE);
    expect(bd.externalParameters).toEqual({
      workflow: { ref: 'refs/heads/main', repository: 'https://github.com/brickyard-hpc/brickyard', path: '.github/workflows/main.yml' },
      recipe: 'osu-micro-benchmarks',
      version: '7.4',
      revision: 1,
      system: 'alps',
      partition: 'normal',
      lockDigest: 'sha256:' + '3c'.repeat(32),
    });
    expect(bd.internalParameters).toEqual({ github: { event_name: 'push' }, brickyard: { builder: 'buildah', created: '2026-09-18T00:00:00.000Z', contextFiles: 4 } });
    expect(bd.resolvedDependencies).toEqual([
      { uri: 'git+https://github.com/brickyard-hpc/brickyard@refs/heads/main', digest: { gitCommit: SHA }, annotations: { brickyardRole: 'source' } },
      {
        name: 'catalog/recipes/osu-micro-benchmarks/7.4/recipe.yaml',
        uri: `git+https://github.com/brickyard-hpc/brickyard@${SHA}#catalog/recipes/osu-micro-benchmarks/7.4/recipe.yaml`,
        digest: { sha256: '4d'.repeat(32) },
        annotations: { brickyardRole: 'catalog-file', gitCommit: SHA },
      },
      { name: record().inputs.base, uri: `oci://${record().inputs.base}`, digest: { sha256: BASE_DIGEST.slice(7) }, annotations: { brickyardRole: 'base-image' } },
      {
        name: 'osu-micro-benchmarks',
        uri: 'https://mvapich.cse.ohio-state.edu/download/mvapich/osu-micro-benchmarks-7.4.tar.gz',
        digest: { sha256: '1edd0c2efa61999409bfb28740a7f39689a5b42b1a1b4c66d1656e5637f7cefc' },
        annotations: { brickyardRole: 'pinned-source' },
      },
    ]);
    expect(st.predicate.runDetails).toEqual({
      builder: { id: 'https://github.com/actions/runner/github-hosted' },
      metadata: {
        invocationId: 'https://github.com/brickyard-hpc/brickyard/actions/runs/123456/attempts/2',
        startedOn: '2026-11-28T10:00:00Z',
        finishedOn: '2026-11-28T10:20:00Z',
      },
    });
  });

  it('locally: our build type, the source commit, a host-built base without digest', () => {
    const st = provenanceFromBuild(record({ base: 'localhost/brickyard/base/debian-12:latest', baseDigest: null }), {
      buildType: 'local',
      source: { uri: 'file:///work/brickyard', commit: SHA },
      invocationId: 'brickyard-dev://host/user/run-1',
      startedOn: '2026-11-28T10:00:00+01:00',
      finishedOn: '2026-11-28T10:00:05+01:00',
      builderId: 'brickyard-dev://host/user',
      builderVersion: { brickyard: '0.1.0', buildah: '1.28.2' },
    });
    const bd = st.predicate.buildDefinition;
    expect(bd.buildType).toBe(LOCAL_BUILD_TYPE);
    expect(bd.externalParameters['source']).toEqual({ uri: 'file:///work/brickyard', commit: SHA });
    expect(bd.internalParameters).not.toHaveProperty('github');
    expect(bd.resolvedDependencies[0]).toEqual({ uri: 'git+file:///work/brickyard', digest: { gitCommit: SHA }, annotations: { brickyardRole: 'source' } });
    const base = bd.resolvedDependencies.find((d) => d.annotations?.['brickyardRole'] === 'base-image')!;
    expect(base).toEqual({
      name: 'localhost/brickyard/base/debian-12:latest',
      uri: 'oci://localhost/brickyard/base/debian-12:latest',
      annotations: { brickyardRole: 'base-image', builtOnHost: true },
    });
    expect(st.predicate.runDetails.builder.version).toEqual({ brickyard: '0.1.0', buildah: '1.28.2' });
  });

  it('refuses an inconsistent context', () => {
    const bad: [string, () => unknown][] = [
      ['no github', () => provenanceFromBuild(record(), ciContext({ github: undefined }))],
      ['local without source', () => provenanceFromBuild(record(), { ...ciContext(), buildType: 'local' })],
      ['time order', () => provenanceFromBuild(record(), ciContext({ startedOn: '2026-11-28T11:00:00Z' }))],
      ['not RFC 3339', () => provenanceFromBuild(record(), ciContext({ finishedOn: 'yesterday' }))],
      ['short sha', () => provenanceFromBuild(record(), ciContext({ github: { ...GITHUB, sha: 'abc' } }))],
      ['workflow path', () => provenanceFromBuild(record(), ciContext({ github: { ...GITHUB, workflowPath: 'main.yml' } }))],
      ['builder id', () => provenanceFromBuild(record(), ciContext({ builderId: 'runner' }))],
      ['source digest', () => provenanceFromBuild(record({ sources: [{ name: 'x', url: 'https://x.org/x.tgz', sha256: 'nope' }] }), ciContext())],
      ['file digest', () => provenanceFromBuild(record(), ciContext({ files: [{ path: 'a', sha256: '' }] }))],
      ['buildType', () => provenanceFromBuild(record(), ciContext({ buildType: 'cloud' as 'local' }))],
    ];
    for (const [what, f] of bad) expect(f, what).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('hashes the catalogue files it names, and refuses paths outside the repository', () => {
    const root = writeTree({ 'catalog/bases.yaml': 'bases: {}\n', 'systems/alps.yaml': 'id: alps\n' });
    const sha = (t: string): string => createHash('sha256').update(t).digest('hex');
    expect(fileDigests(root, ['systems/alps.yaml', 'catalog/bases.yaml', 'systems/alps.yaml'])).toEqual([
      { path: 'catalog/bases.yaml', sha256: sha('bases: {}\n') },
      { path: 'systems/alps.yaml', sha256: sha('id: alps\n') },
    ]);
    expect(() => fileDigests(root, ['../etc/passwd'])).toThrow(expect.objectContaining({ code: 'USAGE' }));
    expect(() => fileDigests(root, ['/etc/passwd'])).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('signed by the development signer, verifies and names the image digest', async () => {
    const dev = await loadOrCreateDevSigner(devSignerDir(tempDir()), { identity: 'https://github.com/brickyard-hpc/brickyard/.github/workflows/main.yml@refs/heads/main' });
    const bundle = await attest(provenanceFromBuild(record(), ciContext()), dev);
    const parsed = bundleFromJSON(bundle);
    const signer = new Verifier(toTrustMaterial(TrustedRoot.fromJSON(devTrustedRoot(dev))), { ctlogThreshold: 0 }).verify(toSignedEntity(parsed), {
      subjectAlternativeName: '^https://github\\.com/brickyard-hpc/brickyard/\\.github/workflows/main\\.yml@refs/heads/main$',
      extensions: { issuer: DEV_OIDC_ISSUER },
    });
    expect(signer.identity?.subjectAlternativeName).toBe(dev.identity);
    if (parsed.content.$case !== 'dsseEnvelope') throw new Error('not DSSE');
    const st = JSON.parse(parsed.content.dsseEnvelope.payload.toString('utf8')) as { subject: { digest: { sha256: string } }[]; predicateType: string };
    expect(st.predicateType).toBe(SLSA_PROVENANCE_PREDICATE_TYPE);
    expect(`sha256:${st.subject[0]!.digest.sha256}`).toBe(MANIFEST);
  });
});

describe('SBOM predicate', () => {
  const spdx = (digest: string): Record<string, unknown> =>
    spdxDocument({
      imageName: 'osu-micro-benchmarks',
      imageDigest: digest,
      imageReference: 'localhost/brickyard/osu-micro-benchmarks:7.4-1-alps-normal',
      created: '2026-09-18T00:00:00Z',
      packages: parseDpkgStatus(readFileSync(join(here, '..', 'build', 'fixtures', 'dpkg-status'), 'utf8')),
      sources: [],
      recipe: { name: 'osu-micro-benchmarks', version: '7.4', revision: 1 },
    });

  it('wraps the SPDX 2.3 document of the same image', () => {
    const doc = spdx(MANIFEST);
    const st = sbomStatement(imageSubject(record()), doc);
    expect(st.predicateType).toBe(SPDX_PREDICATE_TYPE);
    expect(st.subject[0]!.digest.sha256).toBe('1a'.repeat(32));
    expect(st.predicate).toBe(doc);
  });

  it('refuses an SBOM of another image, or not SPDX 2.3', () => {
    expect(() => sbomStatement(imageSubject(record()), spdx('sha256:' + 'ff'.repeat(32)))).toThrow(/does not describe/);
    expect(() => sbomStatement(imageSubject(record()), { ...spdx(MANIFEST), spdxVersion: 'SPDX-2.2' })).toThrow(/SPDX-2.3/);
  });
});

describe('SLSA verification summary', () => {
  const base: VerificationSummary = {
    verifier: { id: 'https://site.example.org/brickyard-import', version: { brickyard: '0.1.0' } },
    timeVerified: '2026-11-28T12:00:00Z',
    resourceUri: 'oci://registry.site.example/brickyard/osu-micro-benchmarks@sha256:' + '1a'.repeat(32),
    policy: { uri: 'https://site.example.org/policy.yaml', digest: { sha256: '5e'.repeat(32) } },
    inputAttestations: [{ uri: 'bundle/attestations/provenance.sigstore.json', digest: { sha256: '6f'.repeat(32) } }],
    verificationResult: 'PASSED',
    verifiedLevels: ['SLSA_BUILD_LEVEL_2', 'BRICKYARD_SMOKE_PASSED'],
    dependencyLevels: { SLSA_BUILD_LEVEL_0: 3 },
  };

  it('builds the predicate, slsaVersion 1.0 by default', () => {
    expect(verificationSummary(base)).toEqual({ ...base, slsaVersion: '1.0' });
    const st = vsaStatement(imageSubject(record()), base);
    expect(st.predicateType).toBe(VSA_PREDICATE_TYPE);
    expect(st.subject[0]!.digest.sha256).toBe('1a'.repeat(32));
  });

  it('keeps FAILED and levels consistent', () => {
    expect(verificationSummary({ ...base, verificationResult: 'FAILED', verifiedLevels: ['FAILED'] }).verifiedLevels).toEqual(['FAILED']);
    const bad: Partial<VerificationSummary>[] = [
      { verificationResult: 'FAILED' },
      { verifiedLevels: ['FAILED'] },
      { verifiedLevels: ['SLSA_BUILD_LEVEL_2', 'SLSA_BUILD_LEVEL_3'] },
      { verifiedLevels: ['level two'] },
      { timeVerified: 'now' },
      { verifier: { id: 'me' } },
      { inputAttestations: [{ uri: 'x:y', digest: {} }] },
      { dependencyLevels: { SLSA_BUILD_LEVEL_1: -1 } },
    ];
    for (const b of bad) expect(() => verificationSummary({ ...base, ...b }), JSON.stringify(b)).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });

  it('signed by a site key, verifies with that key only', async () => {
    const site = loadOrCreateSiteKey(join(tempDir(), 'site'));
    const bundle = await attest(vsaStatement(imageSubject(record()), base), site);
    const { statement } = verifySiteBundle(bundle, [sitePublicKey(site)]);
    expect(statement['predicateType']).toBe(VSA_PREDICATE_TYPE);
    expect((statement['predicate'] as VerificationSummary).verificationResult).toBe('PASSED');
    const other = loadOrCreateSiteKey(join(tempDir(), 'other'));
    expect(() => verifySiteBundle(bundle, [sitePublicKey(other)])).toThrow(expect.objectContaining({ code: 'SIGNATURE_INVALID' }));
  });
});

describe('a SIF beside the image', () => {
  it('is a second subject of the provenance, so the statement verifies against the SIF file too', () => {
    const sif = { path: '/state/builds/x/alps-normal/osu-micro-benchmarks_7.4-1_alps-normal.sif', sha256: '5f'.repeat(32), size: 1, rootfsBytes: 1 };
    const st = provenanceFromBuild({ ...record(), sif }, ciContext());
    expect(st.subject).toEqual([
      { name: 'localhost/brickyard/osu-micro-benchmarks:7.4-1-alps-normal', digest: { sha256: '1a'.repeat(32) } },
      { name: 'osu-micro-benchmarks_7.4-1_alps-normal.sif', digest: { sha256: '5f'.repeat(32) } },
    ]);
    expect(() => provenanceFromBuild({ ...record(), sif: { ...sif, sha256: 'not-a-digest' } }, ciContext())).toThrow(/sif\.sha256 must be sha256/);
  });
});
