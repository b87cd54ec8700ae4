/**
 * Small synthetic state folders (what `brickyard build` + `smoke` leave) and hand-made tars,
 * for the bundle and site tests. The OCI layout is real in shape (oci-layout, index.json,
 * content-addressed blobs, manifests naming config and layers), with tiny blobs; two images
 * share a base layer.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Header } from 'tar';
import { manifestBytes, parseManifest, type Manifest } from '../../pipeline/src/bundle/manifest.ts';
import { writeBundle } from '../../pipeline/src/bundle/write.ts';
import { KeyPairManifestSigner, KeyPairManifestVerifier, type ManifestSigner } from '../../pipeline/src/bundle/signing.ts';
import { tempDir } from '../helpers/fixture.ts';

export const IDENTITY = 'https://github.com/example/brickyard/.github/workflows/main.yml@refs/heads/main';
export const ISSUER = 'https://token.actions.githubusercontent.com';
export const NOW = new Date('2026-06-01T12:00:00Z');
export const SOURCE = { repository: 'https://github.com/example/brickyard', commit: 'a'.repeat(40) };

export function sha256(b: string | Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface PairSpec {
  recipe: string;
  version: string;
  partition?: string;
  smoke?: 'PASSED' | 'WARNED' | 'FAILED' | 'none';
  provenance?: boolean | 'dsse';
  license?: string;
  /** Extra bytes in the image's own layer (to tell images apart). */
  layer?: string;
}

function putBlob(layout: string, data: string | Buffer): { digest: string; size: number } {
  const b = typeof data === 'string' ? Buffer.from(data) : data;
  const hex = sha256(b);
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'blobs', 'sha256', hex), b);
  return { digest: `sha256:${hex}`, size: b.length };
}

/** A state folder with the given pairs built for `system`. */
export function makeState(system: string, pairs: PairSpec[], stateDir = tempDir('brickyard-state-')): string {
  const layout = join(stateDir, 'oci');
  mkdirSync(layout, { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  const base = putBlob(layout, Buffer.alloc(3000, 7)); // the shared base layer
  const manifests: object[] = [];
  for (const p of pairs) {
    const partition = p.partition ?? 'cpu';
    const refName = `${p.recipe}_${p.version}-1_${system}-${partition}`;
    const own = putBlob(layout, `layer of ${p.recipe} ${p.version} ${p.layer ?? ''}`);
    const config = putBlob(layout, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [base.digest, own.digest] } }));
    const manifest = putBlob(
      layout,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...base },
          { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...own },
        ],
      }),
    );
    manifests.push({ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': refName } });
    const dir = join(stateDir, 'builds', `${p.recipe}@${p.version}`, `${system}-${partition}`);
    mkdirSync(join(dir, 'context', 'sources'), { recursive: true });
    const hex = manifest.digest.slice(7);
    writeFileSync(
      join(dir, 'build.json'),
      JSON.stringify({
        kind: 'brickyard-build',
        version: 1,
        recipe: { name: p.recipe, version: p.version, revision: 1 },
        system,
        partition,
        builder: 'buildah',
        image: { reference: `localhost/brickyard/${p.recipe}:${p.version}-1-${system}-${partition}`, ociLayout: layout, refName, manifestDigest: manifest.digest, configDigest: config.digest },
        lockDigest: 'sha256:' + '0'.repeat(64),
        created: '2026-05-01T00:00:00.000Z',
      }, null, 2),
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
    writeFileSync(join(dir, 'lock.json'), JSON.stringify({ lockDigest: 'sha256:' + '0'.repeat(64) }));
    writeFileSync(join(dir, 'Containerfile'), `FROM scratch\n# ${p.recipe}\n`);
    writeFileSync(join(dir, 'apptainer.def'), 'Bootstrap: scratch\n');
    writeFileSync(join(dir, 'job.sh'), '#!/bin/sh\nsrun true\n', { mode: 0o755 });
    writeFileSync(join(dir, 'build.log'), 'not carried\n');
    writeFileSync(join(dir, 'context', 'sources', `${'1'.repeat(12)}-${p.recipe}.tar.gz`), `source of ${p.recipe}`);
    const smoke = p.smoke ?? 'PASSED';
    if (smoke !== 'none') {
      const statement = {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [{ name: refName, digest: { sha256: hex } }],
        predicateType: 'https://in-toto.io/attestation/test-result/v0.1',
        predicate: { result: smoke, configuration: [], passedTests: [], warnedTests: [], failedTests: [] },
      };
      writeFileSync(join(dir, 'smoke-direct.json'), JSON.stringify({ kind: 'brickyard-smoke', version: 1, result: smoke, recipe: `${p.recipe}@${p.version}`, system, partition, statement }));
      writeFileSync(join(dir, 'test-result-direct.intoto.json'), JSON.stringify(statement));
    }
    const provenance = { _type: 'https://in-toto.io/Statement/v1', subject: [{ name: refName, digest: { sha256: hex } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: { buildDefinition: {}, runDetails: {} } };
    if (p.provenance === 'dsse') {
      // As a Sigstore bundle: the statement inside a DSSE envelope (signature material not checked here).
      const payload = Buffer.from(JSON.stringify(provenance)).toString('base64');
      writeFileSync(join(dir, 'provenance.sigstore.json'), JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', verificationMaterial: {}, dsseEnvelope: { payload, payloadType: 'application/vnd.in-toto+json', signatures: [{ sig: 'AA==' }] } }));
    } else if (p.provenance !== false) {
      writeFileSync(join(dir, 'provenance.intoto.json'), JSON.stringify(provenance));
    }
  }
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
  return stateDir;
}

export interface Keys {
  signer: KeyPairManifestSigner;
  verifier: KeyPairManifestVerifier;
  /** A trusted root file for the key (its sha256 goes into policies). */
  trustedRoot: string;
}

export function makeKeys(identity = IDENTITY, issuer: string | undefined = ISSUER): Keys {
  const signer = KeyPairManifestSigner.generate(identity);
  const pem = signer.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const verifier = new KeyPairManifestVerifier([{ publicKey: pem, identity, ...(issuer ? { issuer } : {}) }]);
  const trustedRoot = join(tempDir('brickyard-root-'), 'trusted_root.json');
  writeFileSync(trustedRoot, JSON.stringify({ mediaType: 'application/vnd.brickyard.dev-keypair-root+json', keys: [{ pem, identity }] }));
  return { signer, verifier, trustedRoot };
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
    const h = new Header({ path: e.path, mode: 0o644, uid: 0, gid: 0, size: e.size ?? data.length, mtime: new Date(0), type: e.type ?? 'File', ...(e.linkpath ? { linkpath: e.linkpath } : {}), uname: '', gname: '' });
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

/**
 * A bundle tar made by hand from a directory bundle of `state`, after `change` (which may edit the
 * entries and the manifest); re-signed with `signer` unless resign is false, with checksums.txt
 * made to agree.
 */
export async function craftTar(
  base: { stateDir: string; signer: ManifestSigner; source: { repository: string; commit: string }; now: Date; serial?: number; system?: string },
  change: (files: RawEntry[], m: Manifest) => RawEntry[] | void,
  opts: { resign?: boolean; end?: boolean } = {},
): Promise<string> {
  const dir = join(tempDir(), 'b');
  await writeBundle({ stateDir: base.stateDir, system: base.system ?? 'local', out: dir, signer: base.signer, serial: base.serial ?? 1, source: base.source, now: base.now });
  let entries = dirEntries(dir);
  const m = parseManifest(readFileSync(join(dir, 'manifest.json')));
  entries = change(entries, m) ?? entries;
  if (opts.resign !== false) {
    const mb = manifestBytes(m);
    const sig = await base.signer.sign(mb);
    entries = entries.map((e) => (e.path === 'manifest.json' ? { ...e, data: mb } : e.path === 'manifest.sigstore.json' ? { ...e, data: JSON.stringify(sig.bundleJson) } : e));
    const lines = new Set(entries.filter((e) => e.path !== 'checksums.txt' && (e.type ?? 'File') === 'File' && e.data !== undefined).map((e) => `${sha256(Buffer.from(e.data!))}  ${e.path}\n`));
    const sums = [...lines].sort().join('');
    entries = entries.map((e) => (e.path === 'checksums.txt' ? { ...e, data: sums } : e));
  }
  const file = join(tempDir(), 'hostile.tar');
  writeFileSync(file, rawTar(entries, opts.end ?? true));
  return file;
}
