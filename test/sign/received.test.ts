/**
 * The signing job's whole task (signReceivedBuilds): only planned pairs' artifacts, found by
 * the names computed for them; test results signed on a site's runner carried only when they
 * are about the pair's verified image, system and partition.
 */
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { attestPair } from '../../pipeline/src/sign/pair.ts';
import { pairsOfBatch, parsePairs, signReceivedBuilds, subjectChecksums } from '../../pipeline/src/sign/received.ts';
import { buildArtifactName, importVerifiedBuild, testResultArtifactName, verifyReceivedBuild } from '../../pipeline/src/sign/subjects.ts';
import { tempDir } from '../helpers/fixture.ts';
import { receivedBuild, recipe, where, ws } from '../helpers/received-build.ts';

const PAIR = { recipe: 'mpi-pingpong', version: '1.0.0', system: 'local', partition: 'debug' };

describe('parsePairs', () => {
  it('reads the plan matrix or a list, keeping one system', () => {
    const matrix = JSON.stringify({
      include: [
        { ...PAIR, runner: ['ubuntu-24.04'] },
        { ...PAIR, system: 'lumi', partition: 'standard-g' },
      ],
    });
    expect(parsePairs(matrix, 'local')).toEqual([PAIR]);
    expect(parsePairs(JSON.stringify([PAIR]))).toEqual([PAIR]);
  });
  it('refuses what is not an id', () => {
    expect(() => parsePairs(JSON.stringify([{ ...PAIR, recipe: '../x' }]))).toThrow('pairs[0].recipe is "../x", not an id');
    expect(() => parsePairs(JSON.stringify([{ ...PAIR, partition: 'a@b' }]))).toThrow('pairs[0].partition is "a@b", not an id');
    expect(() => parsePairs('{"matrix": 1}')).toThrow(/plan matrix/);
    expect(() => parsePairs('nope')).toThrow(/pairs is not JSON/);
  });
});

describe('signReceivedBuilds', () => {
  it('signs the planned pair from its artifact folder and writes the subject checksums', async () => {
    const m = receivedBuild();
    const state = tempDir('brickyard-signed-');
    const result = await signReceivedBuilds(ws, { pairs: [PAIR], builds: join(m.dir, '..'), stateDir: state, roles: ['provenance', 'sbom', 'test-result'], keyless: false });
    expect(result.signer).toBe('dev');
    expect(result.pairs[0]!.subject.digest.sha256).toBe(m.manifestDigest.slice(7));
    expect(result.pairs[0]!.files.map((f) => f.kind)).toEqual(['provenance', 'sbom', 'test-result']);
    expect(subjectChecksums(result.pairs)).toBe(`${m.manifestDigest.slice(7)}  ${result.pairs[0]!.refName}\n`);
  }, 60_000);

  it('accepts one artifact extracted straight into the folder (download-artifact with one match)', async () => {
    const m = receivedBuild();
    const result = await signReceivedBuilds(ws, { pairs: [PAIR], builds: m.dir, stateDir: tempDir(), roles: ['sbom', 'test-result'], keyless: false });
    expect(result.pairs[0]!.files.map((f) => f.kind)).toEqual(['sbom', 'test-result']);
    // …but not when more than one pair is planned: which pair would it be?
    await expect(signReceivedBuilds(ws, { pairs: [PAIR, { ...PAIR, recipe: 'stream' }], builds: m.dir, stateDir: tempDir(), roles: ['sbom'], keyless: false })).rejects.toThrow(
      /holds one build's files directly, but 2 pairs are planned/,
    );
  });

  it('refuses an artifact that no planned pair names (anyone in a build job can upload one)', async () => {
    const m = receivedBuild();
    const builds = join(m.dir, '..');
    mkdirSync(join(builds, buildArtifactName({ ...PAIR, recipe: 'stream' })));
    const state = tempDir();
    await expect(signReceivedBuilds(ws, { pairs: [PAIR], builds, stateDir: state, roles: ['sbom'], keyless: false })).rejects.toThrow(
      /refusing to sign: .* holds "brickyard-build@local@stream@1\.0\.0@debug", which no planned pair names/,
    );
    expect(readdirSync(state)).toEqual([]);
  });

  it('refuses a pair without any signed test result', async () => {
    const m = receivedBuild();
    await expect(signReceivedBuilds(ws, { pairs: [PAIR], builds: m.dir, stateDir: tempDir(), roles: ['provenance', 'sbom'], keyless: false })).rejects.toThrow(
      /would have no signed test result/,
    );
  });
});

describe('a batch of a fan-out (build-batch.yml)', () => {
  const batches = (): string => {
    const file = join(tempDir('brickyard-batches-'), 'batches.json');
    const row = { ...PAIR, arch: 'x86_64', runner: ['ubuntu-24.04'], strategy: null };
    writeFileSync(
      file,
      JSON.stringify({ kind: 'brickyard-batches', version: 1, batches: [{ include: [{ ...row, recipe: 'stream' }] }, { include: [row, { ...row, system: 'lumi' }] }] }),
    );
    return file;
  };

  it('names artifacts by batch: the pattern of batch 1 matches neither batch 10 nor an unbatched name', () => {
    expect(buildArtifactName(PAIR, 1)).toBe('brickyard-build-1@local@mpi-pingpong@1.0.0@debug');
    expect(buildArtifactName(PAIR, 10).startsWith('brickyard-build-1@')).toBe(false);
    expect(buildArtifactName(PAIR).startsWith('brickyard-build-')).toBe(false);
  });

  it("reads one batch of the signer's own batches file, keeping one system", () => {
    const file = batches();
    expect(pairsOfBatch(file, 1, 'local')).toEqual([PAIR]);
    expect(pairsOfBatch(file, 0)).toEqual([{ ...PAIR, recipe: 'stream' }]);
    expect(() => pairsOfBatch(file, 2)).toThrow(/has 2 batch\(es\), no batch 2/);
    expect(() => pairsOfBatch(file, -1)).toThrow(/whole number/);
    writeFileSync(file, JSON.stringify({ kind: 'something-else', batches: [] }));
    expect(() => pairsOfBatch(file, 0)).toThrow(/not a brickyard batches file/);
  });

  it('signs a batched artifact under its batch name, and refuses the same build under an unbatched name or another batch', async () => {
    const m = receivedBuild();
    const builds = join(m.dir, '..');
    const batched = join(builds, buildArtifactName(PAIR, 1));
    renameSync(m.dir, batched);
    // A second artifact so that the folder is read by name, not as one extracted artifact.
    mkdirSync(join(builds, buildArtifactName({ ...PAIR, partition: 'other' }, 1)));
    const state = tempDir();
    await expect(signReceivedBuilds(ws, { pairs: [PAIR], builds, batch: 0, stateDir: state, roles: ['sbom', 'test-result'], keyless: false })).rejects.toThrow(
      /which no planned pair names/,
    );
    await expect(signReceivedBuilds(ws, { pairs: [PAIR], builds, stateDir: state, roles: ['sbom', 'test-result'], keyless: false })).rejects.toThrow(/which no planned pair names/);
    expect(readdirSync(state)).toEqual([]);
    await expect(
      signReceivedBuilds(ws, { pairs: [PAIR, { ...PAIR, partition: 'other' }], builds, batch: 1, stateDir: state, roles: ['sbom', 'test-result'], keyless: false }),
    ).rejects.toThrow(/other/);
    const ok = await signReceivedBuilds(ws, { pairs: [PAIR], builds: batched, batch: 1, stateDir: tempDir(), roles: ['sbom', 'test-result'], keyless: false });
    expect(ok.pairs[0]!.subject.digest.sha256).toBe(m.manifestDigest.slice(7));
  }, 60_000);
});

describe('test results signed on the system runner are checked, then carried', () => {
  /** What sign-test-results.yml uploads for the pair: its test result, signed (dev signer here). */
  async function siteSigned(): Promise<{ builds: string; results: string; dir: string }> {
    const m = receivedBuild();
    const v = await verifyReceivedBuild(m.dir, recipe, where);
    const site = tempDir('brickyard-site-');
    const pairDir = importVerifiedBuild(v, site, recipe, where);
    await attestPair(ws, ws.pairAt(recipe, where), { stateDir: site, subject: v.subject, roles: ['test-result'] });
    const results = tempDir('brickyard-results-');
    const dir = join(results, testResultArtifactName(PAIR));
    mkdirSync(dir);
    for (const f of ['test-result-direct.intoto.json', 'test-result-direct.sigstore.json']) cpSync(join(pairDir, f), join(dir, f));
    return { builds: join(m.dir, '..'), results, dir };
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a forgery edits any path of the JSON
  type Forgeable = Record<string, any>;
  const payload = (bundlePath: string, f: (st: Forgeable) => void): void => {
    const b = JSON.parse(readFileSync(bundlePath, 'utf8')) as Forgeable;
    const st = JSON.parse(Buffer.from(b.dsseEnvelope.payload as string, 'base64').toString('utf8')) as Forgeable;
    f(st);
    b.dsseEnvelope.payload = Buffer.from(JSON.stringify(st)).toString('base64');
    writeFileSync(bundlePath, JSON.stringify(b));
  };

  it('carries a result about the verified image, from the signed payload', async () => {
    const s = await siteSigned();
    // The unsigned statement next to it says something else: it is remade from the signed payload.
    writeFileSync(join(s.dir, 'test-result-direct.intoto.json'), '{"lies":true}');
    const state = tempDir();
    const result = await signReceivedBuilds(ws, { pairs: [PAIR], builds: s.builds, testResults: s.results, stateDir: state, roles: ['provenance', 'sbom'], keyless: false });
    expect(result.pairs[0]!.carried).toHaveLength(1);
    const carried = JSON.parse(readFileSync(result.pairs[0]!.carried[0]!.replace('.sigstore.json', '.intoto.json'), 'utf8'));
    expect(carried.subject[0].digest.sha256).toBe(result.pairs[0]!.subject.digest.sha256);
  }, 60_000);

  const forgeries: [string, (dir: string) => void, RegExp][] = [
    [
      'about another image',
      (d) => payload(join(d, 'test-result-direct.sigstore.json'), (st) => (st.subject[0].digest.sha256 = 'f'.repeat(64))),
      /is about f{64}, the verified image is sha256:/,
    ],
    [
      'run on another partition',
      (d) =>
        payload(join(d, 'test-result-direct.sigstore.json'), (st) => {
          const target = st.predicate.configuration[1];
          const content = { ...(JSON.parse(Buffer.from(target.content as string, 'base64').toString('utf8')) as object), partition: 'gpu' };
          target.content = Buffer.from(JSON.stringify(content)).toString('base64');
          target.digest.sha256 = createHash('sha256').update(JSON.stringify(content)).digest('hex');
        }),
      /reports a run of sha256:[0-9a-f]{64} on local\/gpu with direct, expected sha256:[0-9a-f]{64} on local\/debug with direct/,
    ],
    [
      'whose target content was edited without its digest',
      (d) =>
        payload(join(d, 'test-result-direct.sigstore.json'), (st) => {
          st.predicate.configuration[1].content = Buffer.from('{"system":"local","partition":"debug"}').toString('base64');
        }),
      /the test target's content does not match its digest/,
    ],
    [
      'another kind of statement',
      (d) => payload(join(d, 'test-result-direct.sigstore.json'), (st) => (st.predicateType = 'https://slsa.dev/provenance/v1')),
      /is a "https:\/\/slsa\.dev\/provenance\/v1" statement, expected a test result/,
    ],
    ['a file that is no test result', (d) => writeFileSync(join(d, 'provenance.sigstore.json'), '{}'), /provenance\.sigstore\.json is not a signed test result/],
    ['no bundle at all', (d) => writeFileSync(join(d, 'test-result-direct.sigstore.json'), 'x'), /is not a DSSE Sigstore bundle/],
  ];
  it.each(forgeries)(
    'refuses a carried result %s',
    async (_n, forge, message) => {
      const s = await siteSigned();
      forge(s.dir);
      await expect(
        signReceivedBuilds(ws, { pairs: [PAIR], builds: s.builds, testResults: s.results, stateDir: tempDir(), roles: ['provenance', 'sbom'], keyless: false }),
      ).rejects.toThrow(message);
    },
    60_000,
  );

  it('refuses a missing result for a planned pair', async () => {
    const s = await siteSigned();
    const empty = tempDir();
    await expect(signReceivedBuilds(ws, { pairs: [PAIR], builds: s.builds, testResults: empty, stateDir: tempDir(), roles: ['sbom'], keyless: false })).rejects.toThrow(
      /no test results signed on local's runner for mpi-pingpong@1\.0\.0 on debug/,
    );
    expect(existsSync(empty)).toBe(true);
  }, 60_000);
});
