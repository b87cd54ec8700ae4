/**
 * The trust chain, tried as an attacker would: every signature the site relies on is checked for
 * its role, its signer and its subject, and the nearest forgery of each check is refused with a
 * message naming the role, the file and what was expected; the store stays byte-identical and
 * nothing is written beside it. Signatures are real (the development CA, timestamped), made the
 * way CI and a site's own runner would make them.
 */
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleToJSON } from '@sigstore/bundle';
import { MessageSignatureBundleBuilder } from '@sigstore/sign';
import { describe, expect, it } from 'vitest';
import type { BundleError } from '../../pipeline/src/bundle/errors.ts';
import { SIGNATURE } from '../../pipeline/src/bundle/manifest.ts';
import { SigstoreManifestSigner } from '../../pipeline/src/bundle/sigstore.ts';
import { writeBundle, type WriteBundleOptions } from '../../pipeline/src/bundle/write.ts';
import { attest, writeBundle as writeSigstoreBundle } from '../../pipeline/src/sign/attest.ts';
import type { DevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import { loadPolicy, matchSigner } from '../../pipeline/src/site/policy.ts';
import { importBundle, type ImportResult } from '../../pipeline/src/site/store.ts';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { tempDir } from '../helpers/fixture.ts';
import { resign } from './forge.ts';
import { CI_EXTENSIONS, IDENTITY, ISSUER, makeKeys, makeState, NOW, sha256, signState, snapshot, SOURCE, testResultStatement, type PairSpec } from '../bundle/fixture.ts';

const keys = await makeKeys();
/** A site's own runner: a separate workflow on a self-hosted runner, allowed for its system's test results only. */
const SITE_RUNNER = 'https://github.com/example/brickyard/.github/workflows/sign-test-results.yml@refs/heads/main';
const siteRunner = await keys.other({ identity: SITE_RUNNER, extensions: { ...CI_EXTENSIONS, runnerEnvironment: 'self-hosted', buildSignerUri: SITE_RUNNER } });
const lumiRunner = await keys.other({
  identity: SITE_RUNNER.replace('sign-test-results', 'sign-test-results-lumi'),
  extensions: { ...CI_EXTENSIONS, runnerEnvironment: 'self-hosted' },
});
const later = new Date(NOW.getTime() + 3600_000);
const PAIRS: PairSpec[] = [{ recipe: 'demo', version: '1.0' }];

function policyFile(): string {
  const ci = `{identity: {repository: example/brickyard, workflow: .github/workflows/main.yml, ref: refs/heads/main}, issuer: ${ISSUER}, certificate: {runnerEnvironment: github-hosted, sourceRepositoryUri: 'https://github.com/example/brickyard', buildSignerUri: 'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/*'}}`;
  const text = [
    'version: 2',
    'system: local',
    `trustedRoot: {sha256: ${sha256(readFileSync(keys.trustedRoot))}, path: ${keys.trustedRoot}}`,
    'signers:',
    `  manifest: [${ci}]`,
    `  provenance: [${ci}]`,
    `  sbom: [${ci}]`,
    '  testResult:',
    `    - ${ci}`,
    `    - {identity: {exact: '${SITE_RUNNER}'}, issuer: ${ISSUER}, certificate: {runnerEnvironment: self-hosted}, systems: [local]}`,
    `    - {identity: {exact: '${lumiRunner.identity}'}, issuer: ${ISSUER}, systems: [lumi]}`,
    'require: {provenance: true, sbom: true, smoke: true}',
    'licenses: [Apache-2.0]',
    'maxAgeDays: 30',
  ].join('\n');
  const file = join(tempDir('brickyard-policy-'), 'site-policy.yaml');
  writeFileSync(file, text + '\n');
  return file;
}
const POLICY = policyFile();

/** The folder of the one pair of a synthetic state. */
function pairDir(state: string, key = 'demo@1.0', pair = 'local-cpu'): string {
  return join(state, 'builds', key, pair);
}

/** The image digest (hex) the pair's build record names. */
function imageHex(state: string): string {
  return (JSON.parse(readFileSync(join(pairDir(state), 'build.json'), 'utf8')) as { image: { manifestDigest: string } }).image.manifestDigest.slice(7);
}

/** What CI makes: a state whose statements CI signed; `tamper` may then change it as an attacker with the artifact would. */
async function state(tamper?: (dir: string, hex: string) => void | Promise<void>, pairs = PAIRS): Promise<string> {
  let s: string;
  if (pairs === PAIRS) {
    // Signed once per file, copied for each case (a tamper changes the copy only).
    pristine ??= signedState(PAIRS);
    s = join(tempDir('brickyard-state-'), 'state');
    cpSync(await pristine, s, { recursive: true, verbatimSymlinks: true });
  } else s = await signedState(pairs);
  await tamper?.(pairDir(s), imageHex(s));
  return s;
}
let pristine: Promise<string> | undefined;

async function signedState(pairs: PairSpec[]): Promise<string> {
  const s = makeState('local', pairs);
  await signState(s, keys.dev);
  return s;
}

async function bundleOf(s: string, extra: Partial<WriteBundleOptions> = {}): Promise<string> {
  const out = join(tempDir('brickyard-bundle-'), 'b');
  await writeBundle({ stateDir: s, system: 'local', out, signer: keys.signer, serial: 2, source: SOURCE, now: NOW, ...extra });
  return out;
}

/** A store that already holds serial 1 from CI. */
async function seededStore(): Promise<string> {
  seed ??= (async () => {
    const store = join(tempDir('brickyard-trust-'), 'store');
    await importBundle({ bundlePath: await bundleOf(await state(), { serial: 1 }), policy: loadPolicy(POLICY), store, verifier: keys.verifier, now: later });
    return store;
  })();
  const store = join(tempDir('brickyard-trust-'), 'store');
  cpSync(await seed, store, { recursive: true, verbatimSymlinks: true });
  return store;
}
let seed: Promise<string> | undefined;

/** Import expecting a refusal: the store byte-identical, nothing new beside it. */
async function refused(store: string, bundle: string): Promise<BundleError> {
  const parent = join(store, '..');
  const before = snapshot(store);
  const beside = readdirSync(parent).sort();
  let err: unknown;
  try {
    await importBundle({ bundlePath: bundle, policy: loadPolicy(POLICY), store, verifier: keys.verifier, now: later });
  } catch (e) {
    err = e;
  }
  expect(err, 'the import should have been refused').toBeInstanceOf(BrickyardError);
  expect(snapshot(store)).toEqual(before);
  expect(readdirSync(parent).sort()).toEqual(beside);
  return err as BundleError;
}

async function imported(store: string, bundle: string): Promise<ImportResult> {
  return importBundle({ bundlePath: bundle, policy: loadPolicy(POLICY), store, verifier: keys.verifier, now: later });
}

/** Sign a statement as CI (or another signer) and write it as `name` in the pair's folder. */
async function signInto(dir: string, name: string, statement: object, signer: DevSigner = keys.dev): Promise<void> {
  writeFileSync(join(dir, name.replace('.sigstore.json', '.intoto.json')), JSON.stringify(statement));
  writeSigstoreBundle(join(dir, name), await attest(statement, signer));
}

describe('1. signature confusion: only a manifest signature signs a manifest', () => {
  it('refuses a forged manifest (serial 999999) signed with an attestation about its bytes; the genuine next bundle still imports', async () => {
    const store = await seededStore();
    const forged = await bundleOf(await state());
    // CI signs in-toto statements about digests it is given (`brickyard sign`): one about the forged manifest's bytes.
    await resign(
      forged,
      (m) => (m.serial = 999_999),
      async (bytes) =>
        attest(
          {
            _type: 'https://in-toto.io/Statement/v1',
            subject: [{ name: 'manifest.json', digest: { sha256: sha256(bytes) } }],
            predicateType: 'https://in-toto.io/attestation/test-result/v0.1',
            predicate: {},
          },
          keys.dev,
        ),
    );
    const e = await refused(store, forged);
    expect(e.code).toBe('SIGNATURE_INVALID');
    expect(e.message).toMatch(/payload type is "application\/vnd\.in-toto\+json"; expected exactly "application\/vnd\.brickyard\.bundle-manifest\.v1\+json"/);
    expect(e.entry).toBe(SIGNATURE);
    const genuine = await imported(store, await bundleOf(await state(), { serial: 2 }));
    expect(genuine.serial).toBe(2);
  });

  it('refuses a real attestation of the bundle, a message signature and a manifest signed by the site runner in the manifest place', async () => {
    const store = await seededStore();
    const cases: [string, (bytes: Buffer, dir: string) => Promise<object>, RegExp][] = [
      [
        'the pair provenance bundle',
        (_b, dir) => Promise.resolve(JSON.parse(readFileSync(join(dir, 'builds/demo@1.0/local-cpu/provenance.sigstore.json'), 'utf8')) as object),
        /payload type|subject/,
      ],
      [
        'a message signature over the bytes',
        async (b) => bundleToJSON(await new MessageSignatureBundleBuilder({ signer: keys.dev.signer, witnesses: keys.dev.witnesses }).create({ data: b })),
        /message signature, made for another purpose/,
      ],
      [
        "the site runner's signature",
        async (b) => (await new SigstoreManifestSigner(siteRunner).sign(b)).bundleJson,
        /bundle manifest was signed by .*sign-test-results\.yml.* which no signers\.manifest rule/,
      ],
    ];
    for (const [name, sign, why] of cases) {
      const b = await bundleOf(await state());
      await resign(
        b,
        () => {},
        (bytes) => sign(bytes, b),
      );
      expect((await refused(store, b)).message, name).toMatch(why);
    }
  });

  it('refuses a manifest signature in an attestation place', async () => {
    const store = await seededStore();
    const s = await state();
    const b = await bundleOf(s);
    // the bundle's own (genuine) manifest signature, presented as the pair's provenance
    await resign(
      b,
      (m) => {
        const sig = readFileSync(join(b, SIGNATURE));
        writeFileSync(join(b, 'builds/demo@1.0/local-cpu/provenance.sigstore.json'), sig);
        const e = m.entries.find((x) => x.path.endsWith('/provenance.sigstore.json'))!;
        e.sha256 = sha256(sig);
        e.size = sig.length;
      },
      async (bytes) => (await keys.signer.sign(bytes)).bundleJson,
    );
    const e = await refused(store, b);
    expect(e.reason).toBe('attestation');
    expect(e.message).toMatch(/SLSA provenance attestation .*provenance\.sigstore\.json does not verify.*payload type is "application\/vnd\.brickyard\.bundle-manifest\.v1\+json"/);
  });
});

describe('3. every attestation is verified at import', () => {
  const other = 'f'.repeat(64);
  const cases: [string, (dir: string, hex: string) => void | Promise<void>, string, RegExp][] = [
    [
      'every *.sigstore.json removed',
      (dir) => {
        for (const f of readdirSync(dir).filter((n) => n.endsWith('.sigstore.json'))) rmSync(join(dir, f));
      },
      'attestation',
      /no signed SLSA provenance/,
    ],
    [
      'the provenance bundle replaced by {}',
      (dir) => writeFileSync(join(dir, 'provenance.sigstore.json'), '{}'),
      'attestation',
      /SLSA provenance attestation .*provenance\.sigstore\.json does not verify/,
    ],
    [
      'a DSSE payload edited',
      (dir) => {
        const f = join(dir, 'test-result-direct.sigstore.json');
        const b = JSON.parse(readFileSync(f, 'utf8')) as { dsseEnvelope: { payload: string } };
        b.dsseEnvelope.payload = Buffer.from(
          Buffer.from(b.dsseEnvelope.payload, 'base64').toString('utf8').replace('"FAILED"', '"PASSED"').replace('ping-pong PASSED', 'ping-pong passed'),
        ).toString('base64');
        writeFileSync(f, JSON.stringify(b));
      },
      'attestation',
      /test result attestation .*test-result-direct\.sigstore\.json does not verify.*signature/,
    ],
    ['the SBOM statement removed', (dir) => rmSync(join(dir, 'sbom.sigstore.json')), 'attestation', /no signed SBOM/],
    [
      'an unsigned smoke report that says PASSED over a signed FAILED',
      async (dir, hex) => {
        await signInto(
          dir,
          'test-result-direct.sigstore.json',
          testResultStatement({ refName: 'demo_1.0-1_local-cpu', hex, system: 'local', partition: 'cpu', verdict: 'FAILED' }),
        );
        writeFileSync(join(dir, 'smoke-direct.json'), JSON.stringify({ kind: 'brickyard-smoke', version: 1, result: 'PASSED', system: 'local', partition: 'cpu' }));
      },
      'smoke-failed',
      /signed test result .*test-result-direct\.sigstore\.json says the smoke test of demo@1\.0\/local-cpu FAILED/,
    ],
    [
      'result PASSED over a FAILED test inside',
      async (dir, hex) => {
        const st = testResultStatement({ refName: 'x', hex, system: 'local', partition: 'cpu', verdict: 'FAILED' }) as { predicate: { result: string } };
        st.predicate.result = 'PASSED';
        await signInto(dir, 'test-result-direct.sigstore.json', st);
      },
      'smoke-failed',
      /FAILED on local\/cpu \(mpi-pingpong\)/,
    ],
    [
      'the only test result is for another partition',
      async (dir, hex) => {
        await signInto(dir, 'test-result-direct.sigstore.json', testResultStatement({ refName: 'x', hex, system: 'local', partition: 'gpu', verdict: 'PASSED' }));
      },
      'smoke',
      /no signed PASSED test result for this site's system local\/cpu/,
    ],
    [
      'the only test result is for another system',
      async (dir, hex) => {
        await signInto(dir, 'test-result-direct.sigstore.json', testResultStatement({ refName: 'x', hex, system: 'lumi', partition: 'cpu', verdict: 'PASSED' }));
      },
      'smoke',
      /no signed PASSED test result/,
    ],
    [
      'a test result about another image',
      async (dir) => {
        await signInto(dir, 'test-result-direct.sigstore.json', testResultStatement({ refName: 'x', hex: other, system: 'local', partition: 'cpu', verdict: 'PASSED' }));
      },
      'attestation',
      /test result attestation .* does not verify as a signed in-toto statement about sha256:.*no subject of the in-toto statement has the artifact's digest/,
    ],
    [
      'a test result whose target names another image',
      async (dir, hex) => {
        const st = testResultStatement({ refName: 'x', hex: other, system: 'local', partition: 'cpu', verdict: 'PASSED' }) as { subject: { digest: { sha256: string } }[] };
        st.subject[0]!.digest.sha256 = hex;
        await signInto(dir, 'test-result-direct.sigstore.json', st);
      },
      'smoke',
      /is about image sha256:f{64}/,
    ],
    [
      'provenance presented as the SBOM',
      (dir) => writeFileSync(join(dir, 'sbom.sigstore.json'), readFileSync(join(dir, 'provenance.sigstore.json'))),
      'attestation',
      /named as a SBOM attestation, but its signed predicate type is "https:\/\/slsa\.dev\/provenance\/v1"; expected https:\/\/spdx\.dev\/Document\/v2\.3/,
    ],
    [
      'a test result signed by the LUMI runner',
      async (dir, hex) => {
        await signInto(dir, 'test-result-direct.sigstore.json', testResultStatement({ refName: 'x', hex, system: 'local', partition: 'cpu', verdict: 'PASSED' }), lumiRunner);
      },
      'attestation-signer',
      /signed by .*sign-test-results-lumi\.yml.*allows to vouch only for lumi/,
    ],
    [
      'provenance signed by the site runner',
      async (dir) => {
        const st = JSON.parse(readFileSync(join(dir, 'provenance.intoto.json'), 'utf8')) as object;
        await signInto(dir, 'provenance.sigstore.json', st, siteRunner);
      },
      'attestation-signer',
      /SLSA provenance was signed by .*sign-test-results\.yml.*which no signers\.provenance rule/,
    ],
  ];
  it.each(cases)('%s: refused', async (_name, tamper, reason, message) => {
    const store = await seededStore();
    const e = await refused(store, await bundleOf(await state(tamper)));
    expect(e.reason).toBe(reason);
    expect(e.message).toMatch(message);
  });

  it("admits a test result the site's own runner signed for its own system", async () => {
    const store = await seededStore();
    const b = await bundleOf(
      await state(async (dir, hex) => {
        await signInto(dir, 'test-result-direct.sigstore.json', testResultStatement({ refName: 'x', hex, system: 'local', partition: 'cpu', verdict: 'PASSED' }), siteRunner);
      }),
    );
    const r = await imported(store, b);
    expect(r.admitted[0]!.tests.map((t) => t.signer)).toEqual([SITE_RUNNER]);
  });
});

describe('4. only admitted images get references', () => {
  it("skips another system's pair, an arbitrary name and a reference to a config blob; stores only the admitted image's blobs", async () => {
    const store = join(tempDir('brickyard-trust-'), 'store');
    const s = await state();
    const b = await bundleOf(s, { serial: 1 });
    const index = JSON.parse(readFileSync(join(b, 'oci/index.json'), 'utf8')) as {
      manifests: { digest: string; size: number; mediaType: string; annotations: Record<string, string> }[];
    };
    const good = index.manifests[0]!;
    const image = JSON.parse(readFileSync(join(b, 'oci/blobs/sha256', good.digest.slice(7)), 'utf8')) as { config: { digest: string; size: number } };
    // An extra blob the bundle carries (listed and signed), reachable only through a forged reference.
    const extra = Buffer.from(
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"' +
        image.config.digest +
        '","size":' +
        String(image.config.size) +
        '},"layers":[]}',
    );
    const extraHex = sha256(extra);
    writeFileSync(join(b, 'oci/blobs/sha256', extraHex), extra);
    index.manifests.push(
      { ...good, annotations: { 'org.opencontainers.image.ref.name': 'demo_1.0-1_lumi-standard-g' } },
      { mediaType: good.mediaType, digest: `sha256:${extraHex}`, size: extra.length, annotations: { 'org.opencontainers.image.ref.name': 'latest' } },
      {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: image.config.digest,
        size: image.config.size,
        annotations: { 'org.opencontainers.image.ref.name': 'config' },
      },
    );
    const indexBytes = Buffer.from(JSON.stringify(index));
    writeFileSync(join(b, 'oci/index.json'), indexBytes);
    await resign(
      b,
      (m) => {
        const e = m.entries.find((x) => x.path === 'oci/index.json')!;
        e.sha256 = sha256(indexBytes);
        e.size = indexBytes.length;
        m.entries.push({ path: `oci/blobs/sha256/${extraHex}`, size: extra.length, sha256: extraHex, role: 'image-blob' });
        m.entries.sort((x, y) => (x.path < y.path ? -1 : 1));
      },
      async (bytes) => (await keys.signer.sign(bytes)).bundleJson,
    );
    const r = await imported(store, b);
    expect(r.admitted.map((a) => a.refName)).toEqual(['demo_1.0-1_local-cpu']);
    expect(r.skipped.map((x) => x.ref).sort()).toEqual(['config', 'demo_1.0-1_lumi-standard-g', 'latest']);
    const stored = JSON.parse(readFileSync(join(store, 'oci/index.json'), 'utf8')) as { manifests: { annotations: Record<string, string> }[] };
    expect(stored.manifests.map((d) => d.annotations['org.opencontainers.image.ref.name'])).toEqual(['demo_1.0-1_local-cpu']);
    expect(readdirSync(join(store, 'oci/blobs/sha256'))).not.toContain(extraHex);
    expect(readdirSync(join(store, 'oci/blobs/sha256'))).toHaveLength(4); // manifest, config, two layers
  });

  it('refuses a blob whose name is not its digest', async () => {
    const store = await seededStore();
    const b = await bundleOf(await state());
    await resign(
      b,
      (m) => {
        const blob = m.entries.find((e) => e.role === 'image-blob')!;
        blob.sha256 = 'e'.repeat(64);
      },
      async (bytes) => (await keys.signer.sign(bytes)).bundleJson,
    );
    const e = await refused(store, b);
    expect(e.message).toMatch(/a blob's name must be its digest/);
  });
});

describe('5. per-role signers: one runner cannot sign for every site', () => {
  it('a manifest from a self-hosted runner with the CI identity is refused (runner environment pinned)', async () => {
    const store = await seededStore();
    const selfHosted = await keys.other({ extensions: { ...CI_EXTENSIONS, runnerEnvironment: 'self-hosted' } });
    const b = await bundleOf(await state(), { signer: new SigstoreManifestSigner(selfHosted) });
    expect((await refused(store, b)).message).toMatch(/certificate runnerEnvironment is "self-hosted", not "github-hosted"/);
  });

  it('the signing workflow is pinned: main.yml of a fork or another workflow is refused', async () => {
    const store = await seededStore();
    const fork = await keys.other({ extensions: { ...CI_EXTENSIONS, buildSignerUri: 'https://github.com/evil/brickyard/.github/workflows/main.yml@refs/heads/main' } });
    const b = await bundleOf(await state(), { signer: new SigstoreManifestSigner(fork) });
    expect((await refused(store, b)).message).toMatch(/certificate buildSignerUri is "https:\/\/github\.com\/evil/);
  });
});

describe('6. freshness, rollback and identity/issuer pairs', () => {
  it("the age counts from the verified signing time, not the manifest's own `created`", async () => {
    const store = await seededStore();
    const b = await bundleOf(await state());
    await resign(
      b,
      (m) => (m.created = new Date(later.getTime() + 45 * 86_400_000).toISOString()),
      async (bytes) => (await keys.signer.sign(bytes)).bundleJson,
    );
    const before = snapshot(store);
    await expect(
      importBundle({ bundlePath: b, policy: loadPolicy(POLICY), store, verifier: keys.verifier, now: new Date(later.getTime() + 45 * 86_400_000) }),
    ).rejects.toMatchObject({
      reason: 'too-old',
    });
    expect(snapshot(store)).toEqual(before);
    // and a manifest that claims to be made after it was signed is refused
    expect((await refused(store, b)).reason).toBe('future');
  });

  it('the rollback serial is keyed by the verified repository: a manifest naming another repository is refused, so serials cannot restart', async () => {
    const store = await seededStore();
    const b = await bundleOf(await state(), { serial: 1, source: { repository: 'example/other', commit: 'b'.repeat(40) } });
    const e = await refused(store, b);
    expect(e.reason).toBe('source');
    expect(e.message).toMatch(/says it comes from example\/other, but its signer's certificate is for https:\/\/github\.com\/example\/brickyard/);
    const again = await bundleOf(await state(), { serial: 1, bundleId: 'again' });
    expect((await refused(store, again)).code).toBe('ROLLBACK');
  });

  it('identity and issuer are matched as a pair', async () => {
    const store = join(tempDir('brickyard-trust-'), 'store');
    const pairPolicy = join(tempDir(), 'p.yaml');
    writeFileSync(
      pairPolicy,
      readFileSync(POLICY, 'utf8').replace(
        / {2}manifest: .*\n/,
        `  manifest:\n    - {identity: {exact: '${IDENTITY}'}, issuer: https://issuer.example/a}\n    - {identity: {exact: 'https://someone.example/else'}, issuer: ${ISSUER}}\n`,
      ),
    );
    const b = await bundleOf(await state());
    await expect(importBundle({ bundlePath: b, policy: loadPolicy(pairPolicy), store, verifier: keys.verifier, now: later })).rejects.toThrow(
      /issuer https:\/\/token\.actions\.githubusercontent\.com is not https:\/\/issuer\.example\/a/,
    );
  });
});

describe('site policy format 2', () => {
  const write = (text: string): string => {
    const f = join(tempDir('brickyard-policy-'), 'site-policy.yaml');
    writeFileSync(f, text);
    return f;
  };
  const head = `system: local\ntrustedRoot: {sha256: ${'ab'.repeat(32)}}\n`;
  const tail = 'licenses: [MIT]\nmaxAgeDays: 30\n';

  it('refuses a format-1 policy, saying how to rewrite it', () => {
    expect(() => loadPolicy(write(`version: 1\n${head}identities: [{exact: x}]\nissuers: [y]\nrequire: {provenance: true, sbom: true, smoke: true}\n${tail}`))).toThrow(
      /site-policy\.yaml:1:\d+: error: policy format 1 .* write version: 2 with signers per role/,
    );
  });

  it('a requirement with nobody allowed to sign it is an error at its line', () => {
    const f = write(`version: 2\n${head}signers:\n  manifest: [{identity: {exact: x}, issuer: https://i}]\nrequire: {provenance: false, sbom: true, smoke: false}\n${tail}`);
    expect(() => loadPolicy(f)).toThrow(/site-policy\.yaml:6:\d+: error: require\.sbom is true, but signers\.sbom names nobody/);
  });

  it('systems is for test-result signers only, and an identity needs its issuer', () => {
    const sig = (role: string, extra: string): string =>
      `version: 2\n${head}signers:\n  ${role}: [{identity: {exact: x}${extra}}]\nrequire: {provenance: false, sbom: false, smoke: false}\n${tail}`;
    expect(() => loadPolicy(write(sig('manifest', ', issuer: https://i, systems: [local]')))).toThrow(/unknown key "systems"/);
    expect(() => loadPolicy(write(sig('manifest', '')))).toThrow(/missing required key "issuer"/);
    expect(loadPolicy(write(sig('manifest', ', issuer: https://i'))).policy.signers.manifest[0]!.issuer).toBe('https://i');
  });

  it('matchSigner: identity and issuer as a pair, each extension exactly, refs by anchored pattern', () => {
    const policy = loadPolicy(
      write(
        `version: 2\n${head}signers:\n  manifest:\n    - identity: {repository: o/r, workflow: .github/workflows/release.yml, ref: refs/tags/v*}\n      issuer: https://token\n      certificate: {runnerEnvironment: github-hosted, sourceRepositoryRef: refs/tags/v*, sourceRepositoryIdentifier: "42"}\nrequire: {provenance: false, sbom: false, smoke: false}\n${tail}`,
      ),
    ).policy;
    const ok = {
      identity: 'https://github.com/o/r/.github/workflows/release.yml@refs/tags/v1.2',
      issuer: 'https://token',
      extensions: { runnerEnvironment: 'github-hosted', sourceRepositoryRef: 'refs/tags/v1.2', sourceRepositoryIdentifier: '42' },
    };
    expect(matchSigner(policy, 'manifest', ok)).toHaveProperty('rule');
    const near: [string, typeof ok][] = [
      ['issuer', { ...ok, issuer: 'https://token/' }],
      ['identity', { ...ok, identity: ok.identity.replace('v1.2', 'v1/2') }],
      ['runner', { ...ok, extensions: { ...ok.extensions, runnerEnvironment: 'self-hosted' } }],
      ['ref', { ...ok, extensions: { ...ok.extensions, sourceRepositoryRef: 'refs/heads/v1' } }],
      ['repository id', { ...ok, extensions: { ...ok.extensions, sourceRepositoryIdentifier: '420' } }],
      ['extension absent', { ...ok, extensions: { runnerEnvironment: 'github-hosted', sourceRepositoryRef: 'refs/tags/v1.2' } as typeof ok.extensions }],
    ];
    for (const [name, who] of near) expect(matchSigner(policy, 'manifest', who), name).toHaveProperty('refused');
    expect(matchSigner(policy, 'provenance', ok)).toMatchObject({ refused: expect.stringMatching(/names no signer for the SLSA provenance/) });
  });
});
