/**
 * The signer re-hashes what it received and derives every subject from it: a received build
 * artifact made by hand in the exact shape the build job uploads (builds/<key>/<pair>/ and an
 * OCI layout), then each forgery an attacker in the build job could make, each refused.
 */
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refNameOf } from '../../pipeline/src/build/build.ts';
import { attestPair, testResultFromReport } from '../../pipeline/src/sign/pair.ts';
import { importVerifiedBuild, verifyLocalImage, verifyReceivedBuild } from '../../pipeline/src/sign/subjects.ts';
import { tempDir } from '../helpers/fixture.ts';
import { receivedBuild, recipe, TESTS, where, ws, type Made } from '../helpers/received-build.ts';

const other = ws.recipe('stream');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a forgery edits any path of the JSON
type Forgeable = Record<string, any>;
const edit = (path: string, f: (x: Forgeable) => void): void => {
  const j = JSON.parse(readFileSync(path, 'utf8')) as Forgeable;
  f(j);
  writeFileSync(path, JSON.stringify(j));
};

describe('verifyReceivedBuild', () => {
  it('derives the subject from the re-hashed layout and the catalogue', async () => {
    const m = receivedBuild();
    const v = await verifyReceivedBuild(m.dir, recipe, where);
    expect(v.subject).toEqual({ name: `localhost/brickyard/mpi-pingpong:1.0.0-${recipe.doc.revision}-local-debug`, digest: { sha256: m.manifestDigest.slice(7) } });
    expect(v.blobs).toHaveLength(2);
    expect(v.refName).toBe(refNameOf(recipe, where));
  });

  // The nearest forgery of each kind, and the words the refusal must say.
  const forgeries: [string, (m: Made) => void, RegExp][] = [
    [
      "build.json's digest differs from the layout",
      (m) => edit(join(m.pairDir, 'build.json'), (j) => (j.image.manifestDigest = 'sha256:' + 'e'.repeat(64))),
      /build\.json says the image is sha256:e{64}, the layout holds sha256:[0-9a-f]{64}/,
    ],
    [
      "build.json's config digest differs",
      (m) => edit(join(m.pairDir, 'build.json'), (j) => (j.image.configDigest = 'sha256:' + 'c'.repeat(64))),
      /says the config is sha256:c{64}/,
    ],
    ['a layer edited in place', (m) => appendFileSync(m.layerPath, 'x'), /layer 0 .* is 5001 bytes, its descriptor says 5000/],
    [
      'a layer replaced by other bytes of the same size',
      (m) => writeFileSync(m.layerPath, Buffer.alloc(5000, 4)),
      /refusing to sign the build of mpi-pingpong@1\.0\.0 for local\/debug .*layer 0 oci\/blobs\/sha256\/[0-9a-f]{64} hashes to sha256:[0-9a-f]{64}: it was edited/,
    ],
    ['a layer missing', (m) => rmSync(m.layerPath), /layer 0 sha256:[0-9a-f]{64} is not in the layout/],
    [
      'the manifest blob edited',
      (m) => appendFileSync(join(m.layout, 'blobs', 'sha256', m.manifestDigest.slice(7)), ' '),
      /the image manifest sha256:[0-9a-f]{64} is \d+ bytes, its descriptor says/,
    ],
    [
      "another pair's build folder in the artifact",
      (m) => {
        mkdirSync(join(m.dir, 'builds', 'stream@1.0.0', 'local-debug'), { recursive: true });
        writeFileSync(join(m.dir, 'builds', 'stream@1.0.0', 'local-debug', 'build.json'), '{}');
      },
      /builds\/stream@1\.0\.0\/ is not part of this pair's build/,
    ],
    [
      "this recipe's build for another partition in the artifact",
      (m) => mkdirSync(join(m.dir, 'builds', 'mpi-pingpong@1.0.0', 'local-gpu')),
      /builds\/mpi-pingpong@1\.0\.0\/local-gpu\/ is not part of this pair's build/,
    ],
    [
      "another pair's image named in the index",
      (m) =>
        edit(join(m.layout, 'index.json'), (j) => {
          j.manifests.push({ ...j.manifests[0], annotations: { 'org.opencontainers.image.ref.name': 'stream_1.0.0-1_local-debug' } });
        }),
      /oci\/index\.json names the image stream_1\.0\.0-1_local-debug: only mpi-pingpong_1\.0\.0-\d+_local-debug belongs to this pair/,
    ],
    [
      'an unnamed entry in the index',
      (m) => edit(join(m.layout, 'index.json'), (j) => void j.manifests.push({ mediaType: 'application/vnd.oci.image.config.v1+json', digest: j.manifests[0].digest, size: 1 })),
      /oci\/index\.json names an unnamed application\/vnd\.oci\.image\.config\.v1\+json/,
    ],
    ['a stray file next to the layout', (m) => writeFileSync(join(m.dir, 'oci', 'evil.sh'), 'x'), /oci\/evil\.sh is not part of this pair's build/],
    ['a symbolic link in the pair folder', (m) => symlinkSync('/etc/passwd', join(m.pairDir, 'Containerfile.link')), /Containerfile\.link is a symbolic link/],
    [
      'a build record of another pair',
      (m) => edit(join(m.pairDir, 'build.json'), (j) => (j.partition = 'gpu')),
      /build\.json is the record of mpi-pingpong@1\.0\.0 for local\/gpu, not of mpi-pingpong@1\.0\.0 for local\/debug/,
    ],
    [
      'a reference the catalogue does not give',
      (m) => edit(join(m.pairDir, 'build.json'), (j) => (j.image.reference = 'docker.io/evil/x:1')),
      /names the reference docker\.io\/evil\/x:1, expected localhost\/brickyard\/mpi-pingpong/,
    ],
    [
      'an image index in place of a manifest',
      (m) => edit(join(m.layout, 'index.json'), (j) => (j.manifests[0].mediaType = 'application/vnd.oci.image.index.v1+json')),
      /expected an image manifest/,
    ],
  ];

  it.each(forgeries)('refuses %s', async (_name, forge, message) => {
    const m = receivedBuild();
    forge(m);
    const err = await verifyReceivedBuild(m.dir, recipe, where).catch((e: unknown) => e as Error & { code?: string });
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    expect((err as { code?: string }).code).toBe('SUBJECT_MISMATCH');
  });

  it("refuses another recipe's artifact offered as this pair's", async () => {
    const m = receivedBuild();
    await expect(verifyReceivedBuild(m.dir, other, where)).rejects.toThrow(/builds\/mpi-pingpong@1\.0\.0\/ is not part of this pair's build/);
  });

  it('refuses a missing artifact folder, naming the artifact to download', async () => {
    await expect(verifyReceivedBuild(join(tempDir(), 'nothing'), recipe, where)).rejects.toThrow(/the artifact folder does not exist/);
  });
});

describe('the signer signs only statements it made, about the verified image', () => {
  it('imports the verified build without the build job attestations, then signs all three roles', async () => {
    const m = receivedBuild();
    writeFileSync(join(m.pairDir, 'provenance.sigstore.json'), '{"forged":true}');
    const v = await verifyReceivedBuild(m.dir, recipe, where);
    const state = tempDir('brickyard-signer-state-');
    const dest = importVerifiedBuild(v, state, recipe, where);
    expect(readdirSync(dest).filter((n) => /\.(intoto|sigstore)\.json$/.test(n))).toEqual([]);
    expect(existsSync(join(state, 'oci', 'blobs', 'sha256', m.manifestDigest.slice(7)))).toBe(true);
    expect(() => importVerifiedBuild(v, state, recipe, where)).toThrow(/already holds/);

    const result = await attestPair(ws, ws.pairAt(recipe, where), { stateDir: state, subject: v.subject });
    expect(result.files.map((f) => f.kind)).toEqual(['provenance', 'sbom', 'test-result']);
    for (const f of result.files) {
      const st = JSON.parse(readFileSync(f.statement, 'utf8'));
      expect(st.subject).toEqual([{ name: v.subject.name, digest: { sha256: m.manifestDigest.slice(7) } }]);
      const bundle = JSON.parse(readFileSync(f.bundle, 'utf8'));
      expect(JSON.parse(Buffer.from(bundle.dsseEnvelope.payload as string, 'base64').toString('utf8'))).toEqual(st);
    }
    // Re-hashing the state folder's layout gives the same subject.
    const record = JSON.parse(readFileSync(join(dest, 'build.json'), 'utf8')) as Parameters<typeof verifyLocalImage>[3];
    expect(await verifyLocalImage(state, recipe, where, record)).toEqual(v.subject);
  }, 60_000);

  it('signs only the roles asked for', async () => {
    const m = receivedBuild();
    const v = await verifyReceivedBuild(m.dir, recipe, where);
    const state = tempDir();
    importVerifiedBuild(v, state, recipe, where);
    const result = await attestPair(ws, ws.pairAt(recipe, where), { stateDir: state, subject: v.subject, roles: ['provenance', 'sbom'] });
    expect(result.files.map((f) => f.kind)).toEqual(['provenance', 'sbom']);
  }, 60_000);

  it('local signing re-hashes the layout too: an edited layer is refused', async () => {
    const m = receivedBuild();
    const v = await verifyReceivedBuild(m.dir, recipe, where);
    const state = tempDir();
    importVerifiedBuild(v, state, recipe, where);
    appendFileSync(join(state, 'oci', 'blobs', 'sha256', v.blobs[1]!.digest.slice(7)), 'x');
    await expect(attestPair(ws, ws.pairAt(recipe, where), { stateDir: state })).rejects.toThrow(/layer 0 .* is 5001 bytes/);
  });

  it('a test result is remade from the tests: PASSED over a FAILED test is signed as FAILED', () => {
    const m = receivedBuild({ tests: [...TESTS, { name: 'gpu', kind: 'gpu-check', verdict: 'FAILED', summary: 'no device' }], reportResult: 'PASSED' });
    edit(join(m.pairDir, 'smoke-direct.json'), (j) => {
      j.statement.predicate.result = 'PASSED';
      j.statement.predicate.failedTests = [];
    });
    const subject = { name: 'localhost/brickyard/mpi-pingpong:x', digest: { sha256: m.manifestDigest.slice(7) } };
    const st = testResultFromReport(join(m.pairDir, 'smoke-direct.json'), 'direct', subject, where) as {
      predicate: { result: string; failedTests: string[]; configuration: { annotations: Record<string, string> }[] };
    };
    expect(st.predicate.result).toBe('FAILED');
    expect(st.predicate.failedTests).toEqual(['gpu']);
    expect(st.predicate.configuration[1]!.annotations).toMatchObject({ system: 'local', partition: 'debug', launcher: 'direct' });
  });

  it.each([
    ['another image', (j: Forgeable) => (j.image.manifestDigest = 'sha256:' + 'd'.repeat(64)), /tested the image sha256:d{64}, the verified image is/],
    ['another partition', (j: Forgeable) => (j.partition = 'gpu'), /it ran on local\/gpu, not on local\/debug/],
    ['another launcher', (j: Forgeable) => (j.launcher = 'slurm'), /names the launcher "slurm", its file name says direct/],
    ['no tests', (j: Forgeable) => (j.tests = []), /lists no tests/],
    ['a bad verdict', (j: Forgeable) => (j.tests[0].verdict = 'OK'), /smoke-direct\.json is not a valid smoke report: field tests\[0\]\.verdict must be one of/],
  ])('a smoke report about %s is refused', (_n, forge, message) => {
    const m = receivedBuild();
    edit(join(m.pairDir, 'smoke-direct.json'), forge);
    const subject = { name: 'x', digest: { sha256: m.manifestDigest.slice(7) } };
    expect(() => testResultFromReport(join(m.pairDir, 'smoke-direct.json'), 'direct', subject, where)).toThrow(message);
  });
});
