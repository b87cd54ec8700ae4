/**
 * Small synthetic state folders (what `brickyard build` + `smoke` leave) and hand-made tars,
 * for the bundle and site tests. The OCI layout is real in shape (oci-layout, index.json,
 * content-addressed blobs, manifests naming config and layers), with tiny blobs; two images
 * share a base layer.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { manifestBytes, parseManifest, type Manifest } from '../../pipeline/src/bundle/manifest.ts';
import { writeBundle } from '../../pipeline/src/bundle/write.ts';
import type { ManifestSigner } from '../../pipeline/src/bundle/signing.ts';
import { SigstoreManifestSigner, SigstoreManifestVerifier } from '../../pipeline/src/bundle/sigstore.ts';
import { createLayout, putBlob, putImage, writeIndex, type StoredBlob } from '../../pipeline/src/oci/synthetic.ts';
import { attest, writeBundle as writeSigstoreBundle } from '../../pipeline/src/sign/attest.ts';
import { loadOrCreateDevSigner, type DevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import type { FulcioExtensions } from '../../pipeline/src/sign/fulcio-extensions.ts';
import { testResultPredicate, TEST_RESULT_PREDICATE_TYPE } from '../../pipeline/src/smoke/predicate.ts';
import { inTotoStatement } from '../../pipeline/src/model/statement.ts';
import { tempDir } from '../helpers/fixture.ts';

export const IDENTITY = 'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/main';
export const ISSUER = 'https://token.actions.githubusercontent.com';
/** Signatures are timestamped by the development TSA at the real time, so the tests' "now" is the real time too. */
export const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
export const SOURCE = { repository: 'example/brickyard', commit: 'a'.repeat(40) };
/** What GitHub's Fulcio writes for a run of main.yml on a hosted runner. */
export const CI_EXTENSIONS: FulcioExtensions = {
  runnerEnvironment: 'github-hosted',
  sourceRepositoryUri: 'https://github.com/example/brickyard',
  sourceRepositoryRef: 'refs/heads/main',
  sourceRepositoryIdentifier: '123456',
  buildSignerUri: 'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/main',
  buildSignerDigest: 'a'.repeat(40),
};

export function sha256(b: string | Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface PairSpec {
  recipe: string;
  version: string;
  partition?: string;
  smoke?: 'PASSED' | 'WARNED' | 'FAILED' | 'none';
  provenance?: boolean;
  license?: string;
  /** Extra bytes in the image's own layer (to tell images apart). */
  layer?: string;
  /** A SIF file beside the image (its bytes), and the sha256 the build record names (default: its own). */
  sif?: { content: string; recordSha256?: string };
}

/** A state folder with the given pairs built for `system`. */
/** A real layer: a gzipped tar holding one file (what OCI tools such as skopeo expect to read). */
function gzipLayer(name: string, content: string | Buffer): Buffer {
  return gzipSync(rawTar([{ path: name, data: content }]), { level: 1 });
}

/** A state folder with the given pairs built for `system` (`realLayers`: gzipped tar layers, else small opaque blobs). */
export function makeState(system: string, pairs: PairSpec[], stateDir = tempDir('brickyard-state-'), realLayers = false): string {
  const layout = join(stateDir, 'oci');
  createLayout(layout);
  const base = putBlob(layout, realLayers ? gzipLayer('base', Buffer.alloc(3000, 7)) : Buffer.alloc(3000, 7)); // the shared base layer
  const images: { manifest: StoredBlob; refName: string }[] = [];
  for (const p of pairs) {
    const partition = p.partition ?? 'cpu';
    const refName = `${p.recipe}_${p.version}-1_${system}-${partition}`;
    const own = putBlob(layout, realLayers ? gzipLayer(p.recipe, `layer of ${p.recipe} ${p.version} ${p.layer ?? ''}`) : `layer of ${p.recipe} ${p.version} ${p.layer ?? ''}`);
    const { config, manifest } = putImage(layout, [base, own]);
    images.push({ manifest, refName });
    const dir = join(stateDir, 'builds', `${p.recipe}@${p.version}`, `${system}-${partition}`);
    mkdirSync(join(dir, 'context', 'sources'), { recursive: true });
    const hex = manifest.digest.slice(7);
    writeFileSync(
      join(dir, 'build.json'),
      JSON.stringify(
        {
          kind: 'brickyard-build',
          version: 1,
          recipe: { name: p.recipe, version: p.version, revision: 1 },
          system,
          partition,
          builder: 'buildah',
          image: {
            reference: `localhost/brickyard/${p.recipe}:${p.version}-1-${system}-${partition}`,
            ociLayout: layout,
            refName,
            manifestDigest: manifest.digest,
            configDigest: config.digest,
          },
          lockDigest: 'sha256:' + '0'.repeat(64),
          inputs: { base: 'debian:12', baseDigest: null, sources: [], context: 1 },
          sizes: { uncompressedBytes: 1000, compressedBytes: 500, budgetBytes: 1 << 30, budget: '1 GiB' },
          reproducible: { checked: false, identical: null, second: null },
          sbom: { path: join(dir, 'sbom.spdx.json'), packages: 1 },
          ...(p.sif ? { sif: { path: join(dir, `${refName}.sif`), sha256: p.sif.recordSha256 ?? sha256(p.sif.content), size: p.sif.content.length, rootfsBytes: 0 } } : {}),
          created: '2026-05-01T00:00:00.000Z',
          durations: {},
          log: join(dir, 'build.log'),
        },
        null,
        2,
      ),
    );
    writeFileSync(
      join(dir, 'sbom.spdx.json'),
      JSON.stringify({
        spdxVersion: 'SPDX-2.3',
        SPDXID: 'SPDXRef-DOCUMENT',
        documentDescribes: ['SPDXRef-Image'],
        packages: [{ SPDXID: 'SPDXRef-Image', name: p.recipe, primaryPackagePurpose: 'CONTAINER', licenseDeclared: p.license ?? 'Apache-2.0' }],
      }),
    );
    if (p.sif) writeFileSync(join(dir, `${refName}.sif`), p.sif.content);
    writeFileSync(join(dir, 'lock.json'), JSON.stringify({ lockDigest: 'sha256:' + '0'.repeat(64) }));
    writeFileSync(join(dir, 'Containerfile'), `FROM scratch\n# ${p.recipe}\n`);
    writeFileSync(join(dir, 'apptainer.def'), 'Bootstrap: scratch\n');
    writeFileSync(join(dir, 'job.sh'), '#!/bin/sh\nsrun true\n', { mode: 0o755 });
    writeFileSync(join(dir, 'build.log'), 'not carried\n');
    writeFileSync(join(dir, 'context', 'sources', `${'1'.repeat(12)}-${p.recipe}.tar.gz`), `source of ${p.recipe}`);
    const smoke = p.smoke ?? 'PASSED';
    if (smoke !== 'none') {
      const statement = testResultStatement({ refName, hex, system, partition, verdict: smoke });
      writeFileSync(
        join(dir, 'smoke-direct.json'),
        JSON.stringify({ kind: 'brickyard-smoke', version: 1, result: smoke, recipe: `${p.recipe}@${p.version}`, system, partition, statement }),
      );
      writeFileSync(join(dir, 'test-result-direct.intoto.json'), JSON.stringify(statement));
    }
    const subject = [{ name: refName, digest: { sha256: hex } }];
    if (p.provenance !== false) {
      writeFileSync(
        join(dir, 'provenance.intoto.json'),
        JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject, predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: {}, runDetails: {} } }),
      );
    }
    const spdx = JSON.parse(readFileSync(join(dir, 'sbom.spdx.json'), 'utf8')) as object;
    writeFileSync(
      join(dir, 'sbom.intoto.json'),
      JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject, predicateType: 'https://spdx.dev/Document/v2.3', predicate: spdx }),
    );
  }
  writeIndex(layout, images);
  return stateDir;
}

/** A real test-result statement (the predicate smoke writes), with the verdict given. */
export function testResultStatement(a: {
  refName: string;
  hex: string;
  system: string;
  partition: string;
  verdict: 'PASSED' | 'WARNED' | 'FAILED';
  launcher?: 'direct' | 'slurm';
}): object {
  const results = [{ name: 'mpi-pingpong', kind: 'mpi-pingpong' as const, verdict: a.verdict, summary: `ping-pong ${a.verdict}` }];
  const predicate = testResultPredicate({
    results,
    configuration: {
      system: a.system,
      partition: a.partition,
      runtime: 'podman',
      launcher: a.launcher ?? 'direct',
      mpiStrategy: 'bundled',
      imageDigest: `sha256:${a.hex}`,
      imageReference: a.refName,
    },
    startedOn: '2026-05-01T00:00:00Z',
    finishedOn: '2026-05-01T00:01:00Z',
  });
  return inTotoStatement({ name: a.refName, digest: { sha256: a.hex } }, TEST_RESULT_PREDICATE_TYPE, predicate);
}

export interface Keys {
  /** CI's signer: main.yml on a GitHub-hosted runner, as Fulcio would certify it (development CA). */
  dev: DevSigner;
  signer: ManifestSigner;
  verifier: SigstoreManifestVerifier;
  /** The development CA's trusted_root.json (its sha256 goes into policies). */
  trustedRoot: string;
  /** Another signer under the same CA (another identity, issuer or certificate extensions). */
  other(options: { identity?: string; issuer?: string; extensions?: FulcioExtensions }): Promise<DevSigner>;
}

/** `root`: where the keys live (default: a folder removed at the end of the test file). */
export async function makeKeys(identity = IDENTITY, issuer = ISSUER, extensions: FulcioExtensions = CI_EXTENSIONS, root = tempDir('brickyard-dev-ca-')): Promise<Keys> {
  const dir = join(root, 'dev-signer');
  const dev = await loadOrCreateDevSigner(dir, { identity, issuer, extensions });
  const trustedRoot = join(dir, 'trusted_root.json');
  return {
    dev,
    signer: new SigstoreManifestSigner(dev),
    verifier: new SigstoreManifestVerifier({ trustedRoot: dev.trustedRoot(), ctlogThreshold: 0 }),
    trustedRoot,
    other: (o) => loadOrCreateDevSigner(dir, { identity: o.identity ?? identity, issuer: o.issuer ?? issuer, extensions: o.extensions ?? extensions }),
  };
}

/** `brickyard attest` for a synthetic state: sign every pair's statements (`X.intoto.json` → `X.sigstore.json`). */
export async function signState(stateDir: string, signer: DevSigner): Promise<void> {
  const builds = join(stateDir, 'builds');
  for (const key of readdirSync(builds)) {
    for (const pair of readdirSync(join(builds, key))) {
      const dir = join(builds, key, pair);
      for (const f of readdirSync(dir).filter((n) => n.endsWith('.intoto.json'))) {
        const statement = JSON.parse(readFileSync(join(dir, f), 'utf8')) as object;
        writeSigstoreBundle(join(dir, f.replace(/\.intoto\.json$/, '.sigstore.json')), await attest(statement, signer));
      }
    }
  }
}

/** Signs identical bytes once: ECDSA signatures are randomised, so determinism tests reuse them. */
export class ReusingSigner implements ManifestSigner {
  private readonly inner: ManifestSigner;
  private readonly cache = new Map<string, { bundleJson: object; identity: string }>();
  constructor(inner: ManifestSigner) {
    this.inner = inner;
  }
  async sign(bytes: Uint8Array): Promise<{ bundleJson: object; identity: string }> {
    const k = sha256(bytes);
    if (!this.cache.has(k)) this.cache.set(k, await this.inner.sign(bytes));
    return this.cache.get(k)!;
  }
}

export interface RawEntry {
  path: string;
  data?: Buffer | string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link' | 'CharacterDevice' | 'FIFO';
  linkpath?: string;
  /** Header size, when it should differ from the data's length. */
  size?: number;
}

/** A ustar archive made by hand (for hostile cases). */
export function rawTar(entries: RawEntry[], end = true): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const data = e.data === undefined ? Buffer.alloc(0) : Buffer.from(e.data);
    const h = new Header({
      path: e.path,
      mode: 0o644,
      uid: 0,
      gid: 0,
      size: e.size ?? data.length,
      mtime: new Date(0),
      type: e.type ?? 'File',
      ...(e.linkpath ? { linkpath: e.linkpath } : {}),
      uname: '',
      gname: '',
    });
    h.encode();
    out.push(h.block!, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  if (end) out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

/** Every file of a directory bundle, as tar entries in the order a bundle tar has them. */
export function dirEntries(dir: string): RawEntry[] {
  const files: string[] = [];
  const walk = (rel: string): void => {
    for (const n of readdirSync(join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${n}` : n;
      if (statSync(join(dir, r)).isDirectory()) walk(r);
      else files.push(r);
    }
  };
  walk('');
  const head = ['manifest.json', 'manifest.sigstore.json', 'checksums.txt'];
  const rest = files.filter((f) => !head.includes(f)).sort();
  return [...head, ...rest].map((p) => ({ path: p, data: readFileSync(join(dir, p)) }));
}

/** Recursive listing with sha256 of every file and the target of every link (the root itself may be a link). */
export function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(rel ? join(root, rel) : root).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      const abs = join(root, r);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out[r] = `link:${readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[r + '/'] = 'dir';
        walk(r);
      } else out[r] = sha256(readFileSync(abs));
    }
  };
  walk('');
  return out;
}

/** Directory bundles already written, per signer and base: craftTar only reads them, so one serves every call with the same base. */
const directoryBundles = new WeakMap<ManifestSigner, Map<string, Promise<string>>>();

function directoryBundle(base: {
  stateDir: string;
  signer: ManifestSigner;
  source: { repository: string; commit: string };
  now: Date;
  serial?: number;
  system?: string;
}): Promise<string> {
  const bySigner = directoryBundles.get(base.signer) ?? new Map<string, Promise<string>>();
  directoryBundles.set(base.signer, bySigner);
  const key = JSON.stringify([base.stateDir, base.system ?? 'local', base.serial ?? 1, base.source, base.now.toISOString()]);
  let dir = bySigner.get(key);
  if (!dir) {
    const out = join(tempDir(), 'b');
    dir = writeBundle({ stateDir: base.stateDir, system: base.system ?? 'local', out, signer: base.signer, serial: base.serial ?? 1, source: base.source, now: base.now }).then(
      () => out,
    );
    bySigner.set(key, dir);
  }
  return dir;
}

/**
 * A bundle tar made by hand from a directory bundle of `state`, after `change` (which may edit the
 * entries and the manifest); re-signed with `signer` unless resign is false, with checksums.txt
 * made to agree.
 */
export async function craftTar(
  base: { stateDir: string; signer: ManifestSigner; source: { repository: string; commit: string }; now: Date; serial?: number; system?: string },
  change: (files: RawEntry[], m: Manifest) => RawEntry[] | undefined,
  opts: { resign?: boolean; end?: boolean } = {},
): Promise<string> {
  const dir = await directoryBundle(base);
  let entries = dirEntries(dir);
  const m = parseManifest(readFileSync(join(dir, 'manifest.json')));
  entries = change(entries, m) ?? entries;
  if (opts.resign !== false) {
    const mb = manifestBytes(m);
    const sig = await base.signer.sign(mb);
    entries = entries.map((e) => (e.path === 'manifest.json' ? { ...e, data: mb } : e.path === 'manifest.sigstore.json' ? { ...e, data: JSON.stringify(sig.bundleJson) } : e));
    const lines = new Set(
      entries.filter((e) => e.path !== 'checksums.txt' && (e.type ?? 'File') === 'File' && e.data !== undefined).map((e) => `${sha256(Buffer.from(e.data!))}  ${e.path}\n`),
    );
    const sums = [...lines].sort().join('');
    entries = entries.map((e) => (e.path === 'checksums.txt' ? { ...e, data: sums } : e));
  }
  const file = join(tempDir(), 'hostile.tar');
  writeFileSync(file, rawTar(entries, opts.end ?? true));
  return file;
}
