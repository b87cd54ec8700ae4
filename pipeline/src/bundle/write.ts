/**
 * `brickyard bundle`: everything a secure site needs for one system, in one signed bundle.
 *
 * Layout (the same paths in every form):
 *
 *   manifest.json            the signed manifest (schemas/manifest.schema.json)
 *   manifest.sigstore.json   its signature: a Sigstore bundle over the manifest's bytes
 *   checksums.txt            `sha256sum -c` lines over every other file of the bundle
 *   trusted_root.json        the signer's trusted root, when given (informative: sites pin their own)
 *   oci/oci-layout, oci/index.json, oci/blobs/sha256/<hex>
 *                            one OCI image layout holding every image of the bundle, each blob
 *                            once; index.json names only this bundle's images
 *   builds/<recipe>@<version>/<system>-<partition>/
 *                            build.json, sbom.spdx.json, lock.json, Containerfile, apptainer.def,
 *                            job.sh, smoke-*.json, *.intoto.json, *.sigstore.json, the SIF
 *                            (<recipe>_<version>-<revision>_<system>-<partition>.sif) where one was made, and
 *                            sources/<pinned source files> for an offline rebuild
 *
 * Forms:
 * - a directory (`--out DIR`): the files above;
 * - a tar (`--out X.tar`): manifest.json, manifest.sigstore.json and checksums.txt first (so a
 *   reader checks the signature before anything else is written), then every entry in byte
 *   order of its path; deterministic ustar (tar.ts): the same inputs and signature give the same bytes;
 * - parts (`--chunk-size N`, `--out DIR`): the manifest cannot sit inside the tar it describes,
 *   so a split bundle is a directory holding manifest.json, manifest.sigstore.json, checksums.txt
 *   (over those two and the parts) and `payload.tar.part000`, `payload.tar.part001`, …: the parts
 *   of a tar of the entries alone. The manifest lists the parts (name, size, sha256, in order) as
 *   well as the entries, so a reader checks each part before reading across them, and names a bad one.
 *
 * Delta (`inventory`): OCI blobs the site's exported inventory already holds are left out and
 * listed as `prerequisites`; an import refuses the delta if the store lacks any of them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { pairFolder, smokeLauncherOf, stateLayout } from '../state/layout.ts';
import { readBuildRecord, readOciIndex, readStateRecord, type BuildRecord } from '../state/records.ts';
import type { OciDescriptor } from '../build/oci.ts';
import { BrickyardError } from '../util/errors.ts';
import { BundleError } from './errors.ts';
import {
  CHECKSUMS,
  checksumsText,
  MANIFEST,
  manifestBytes,
  manifestErrors,
  PAYLOAD,
  SIGNATURE,
  TRUSTED_ROOT,
  type EntryRole,
  type Manifest,
  type ManifestEntry,
} from './manifest.ts';
import type { ManifestSigner } from './signing.ts';
import { encryptImages, type EncryptionInfo } from './encrypt.ts';
import { TarSink, TarWriter } from './tar.ts';

/** What a site holds (site/store.ts exportInventory writes it). */
export interface Inventory {
  kind: 'brickyard-inventory';
  version: 1;
  /** OCI blob digests, "sha256:<hex>". */
  blobs: string[];
  images: { recipe: string; version: string; system: string; partition: string; refName: string; manifestDigest: string; bundleId: string }[];
  bundles: { bundleId: string; serial: number; repository: string; commit: string; imported: string }[];
  lastSerial: Record<string, number>;
}

export interface WriteBundleOptions {
  stateDir: string;
  system: string;
  /** A directory, or a path ending in .tar; with chunkSize, a directory that receives the parts. */
  out: string;
  signer: ManifestSigner;
  serial: number;
  source: { repository: string; commit: string };
  inventory?: Inventory;
  chunkSize?: number;
  now: Date;
  bundleId?: string;
  /** The signer's trusted_root.json, carried for information. */
  trustedRoot?: string;
  /** Tar bytes written so far and the approximate total (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
  /** Encrypt every image's layers for this recipient (a site's public key, PEM): a confidential bundle (encrypt.ts). */
  encryptFor?: string;
  /** Site executables to carry (tool/<file name>), each with its version: how a site upgrades its tool. */
  tools?: { path: string; version: string }[];
}

export interface WriteBundleResult {
  manifest: Manifest;
  form: 'tar' | 'dir' | 'parts';
  out: string;
  identity: string;
  images: number;
  /** Bytes of the entries carried, and of everything had nothing been left out. */
  sizes: { bundleBytes: number; fullBytes: number; leftOutBytes: number; tarBytes?: number };
  parts?: { name: string; size: number; sha256: string }[];
}

interface Planned extends ManifestEntry {
  from: { kind: 'file'; path: string } | { kind: 'bytes'; data: Buffer };
}

const INDEX_TYPES = new Set(['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json']);
const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);

function sha256File(path: string): { sha256: string; size: number } {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: h.digest('hex'), size };
}

function bytesEntry(path: string, data: Buffer, role: EntryRole, extra: Partial<ManifestEntry> = {}): Planned {
  return { path, size: data.length, sha256: createHash('sha256').update(data).digest('hex'), role, ...extra, from: { kind: 'bytes', data } };
}

function fileEntry(path: string, file: string, role: EntryRole, extra: Partial<ManifestEntry> = {}, executable = false): Planned {
  const { sha256, size } = sha256File(file);
  return { path, size, sha256, role, ...extra, from: { kind: 'file', path: file }, ...(executable ? { executable: true as const } : {}) };
}

function roleOf(name: string): EntryRole | undefined {
  if (name === 'build.json') return 'build-record';
  if (name === 'sbom.spdx.json') return 'sbom';
  if (/^[A-Za-z0-9_.-]+\.sif$/.test(name)) return 'sif';
  if (name === 'lock.json') return 'lock';
  if (name === 'Containerfile' || name === 'apptainer.def' || name === 'job.sh') return 'rendered';
  if (smokeLauncherOf(name) !== undefined) return 'smoke-report';
  if (name.endsWith('.intoto.json') || name.endsWith('.sigstore.json')) return 'attestation';
  return undefined;
}

/** The built pairs of one system: builds/<recipe>@<version>/<system>-<partition>/build.json. */
export function builtPairs(stateDir: string, system: string): { dir: string; rel: string; record: BuildRecord }[] {
  const root = stateLayout(stateDir).builds;
  if (!existsSync(root)) return [];
  const out: { dir: string; rel: string; record: BuildRecord }[] = [];
  for (const key of readdirSync(root).sort()) {
    const keyDir = join(root, key);
    if (!statSync(keyDir).isDirectory()) continue;
    for (const pair of readdirSync(keyDir).sort()) {
      const file = pairFolder(join(keyDir, pair)).buildRecord;
      if (!existsSync(file)) continue;
      const record = readBuildRecord(file);
      if (record.system !== system) continue;
      out.push({ dir: join(keyDir, pair), rel: `builds/${key}/${pair}`, record });
    }
  }
  return out;
}

export async function writeBundle(opts: WriteBundleOptions): Promise<WriteBundleResult> {
  if (opts.encryptFor === undefined) return writeBundleFrom(opts, undefined);
  // The encrypted copies of the images live only until the bundle is written.
  const encDir = mkdtempSync(join(tmpdir(), 'brickyard-encrypt-'));
  try {
    return await writeBundleFrom(opts, join(encDir, 'oci'));
  } finally {
    rmSync(encDir, { recursive: true, force: true });
  }
}

/** The image blobs a bundle carries (or, held by the site, lists as prerequisites): every blob below the images, walked from their manifests. */
class BlobWalk {
  readonly blobs = new Map<string, OciDescriptor>();
  private readonly layout: string;
  private readonly encLayout: string | undefined;

  constructor(layout: string, encLayout: string | undefined) {
    this.layout = layout;
    this.encLayout = encLayout;
  }

  /** A blob's file: its encrypted copy when there is one, else the state's layout. */
  path(digest: string): string {
    const hex = /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
    if (!hex) throw new BrickyardError('IMAGE_NOT_FOUND', `unsupported blob digest ${digest} in ${this.layout}`);
    const encrypted = this.encLayout === undefined ? undefined : join(this.encLayout, 'blobs', 'sha256', hex);
    return encrypted !== undefined && existsSync(encrypted) ? encrypted : join(this.layout, 'blobs', 'sha256', hex);
  }

  collect(d: OciDescriptor): void {
    if (this.blobs.has(d.digest)) return;
    this.blobs.set(d.digest, d);
    // Walked even when the site holds it: what lies below counts as left out (and as a prerequisite), not as absent.
    if (INDEX_TYPES.has(d.mediaType) || MANIFEST_TYPES.has(d.mediaType)) {
      const below = INDEX_TYPES.has(d.mediaType)
        ? readStateRecord('ociIndex', this.path(d.digest)).manifests
        : [readStateRecord('ociManifest', this.path(d.digest))].flatMap((m) => [m.config, ...m.layers]);
      for (const c of below) this.collect(c);
    }
  }
}

const refNameOf = (d: OciDescriptor): string => d.annotations?.['org.opencontainers.image.ref.name'] ?? '';

/** What a bundle will hold: its entries (sorted), the image references of its index, and what the site already holds. */
interface BundlePlan {
  planned: Planned[];
  refs: OciDescriptor[];
  prerequisites: string[];
  encryption: EncryptionInfo | undefined;
  bundleBytes: number;
  fullBytes: number;
}

async function writeBundleFrom(opts: WriteBundleOptions, encLayout: string | undefined): Promise<WriteBundleResult> {
  const pairs = builtPairs(opts.stateDir, opts.system);
  if (pairs.length === 0) {
    throw new BrickyardError('IMAGE_NOT_FOUND', `nothing has been built for ${opts.system} in ${opts.stateDir}`, {
      hint: `build first: npx brickyard build --system ${opts.system}`,
    });
  }
  const plan = await planBundle(opts, pairs, encLayout);
  const created = new Date(Math.floor(opts.now.getTime() / 1000) * 1000);
  const manifest = bundleManifest(opts, plan, created);
  const form: WriteBundleResult['form'] = opts.chunkSize !== undefined ? 'parts' : opts.out.endsWith('.tar') ? 'tar' : 'dir';
  const written = await writeSignedBundle(opts, form, manifest, plan.planned, created);
  return {
    manifest,
    form,
    out: opts.out,
    identity: written.identity,
    images: plan.refs.length,
    sizes: {
      bundleBytes: plan.bundleBytes,
      fullBytes: plan.fullBytes,
      leftOutBytes: plan.fullBytes - plan.bundleBytes,
      ...(written.tarBytes === undefined ? {} : { tarBytes: written.tarBytes }),
    },
    ...(written.parts ? { parts: written.parts } : {}),
  };
}

async function planBundle(opts: WriteBundleOptions, pairs: ReturnType<typeof builtPairs>, encLayout: string | undefined): Promise<BundlePlan> {
  const layout = stateLayout(opts.stateDir).oci;
  const walk = new BlobWalk(layout, encLayout);
  const planned: Planned[] = [];
  const refs: OciDescriptor[] = [];
  const toEncrypt = planPairs(pairs, layout, encLayout !== undefined, walk, planned, refs);
  let encryption: EncryptionInfo | undefined;
  if (encLayout !== undefined && opts.encryptFor !== undefined) {
    encryption = await encryptImages(layout, toEncrypt, opts.encryptFor, encLayout);
    const encIndex = readOciIndex(join(encLayout, 'index.json'));
    for (const img of encryption.images) {
      const d = encIndex.manifests.find((m) => m.digest === img.encrypted);
      if (!d) throw new Error(`internal: the encrypted image ${img.refName} (${img.encrypted}) is not in ${encLayout}`);
      refs.push({ ...d, annotations: { 'org.opencontainers.image.ref.name': img.refName } });
      walk.collect(d);
    }
  }
  const { prerequisites, heldBytes } = planBlobs(walk, new Set(opts.inventory?.blobs ?? []), layout, planned);
  refs.sort((a, b) => (refNameOf(a) < refNameOf(b) ? -1 : 1));
  planned.push(bytesEntry('oci/oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n'), 'oci-layout'));
  planned.push(
    bytesEntry(
      'oci/index.json',
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: refs }, null, 2) + '\n'),
      'image-index',
    ),
  );
  if (opts.trustedRoot) planned.push(fileEntry(TRUSTED_ROOT, opts.trustedRoot, 'trusted-root'));
  for (const t of opts.tools ?? []) planned.push(fileEntry(`tool/${basename(t.path)}`, t.path, 'tool', { version: t.version }, true));
  planned.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const bundleBytes = planned.reduce((s, e) => s + e.size, 0);
  return { planned, refs, prerequisites, encryption, bundleBytes, fullBytes: heldBytes + bundleBytes };
}

/** Each pair's image (its reference, or for encryption its name) and its files: records, SBOM, SIF, rendered files, sources. Returns the images to encrypt. */
function planPairs(pairs: ReturnType<typeof builtPairs>, layout: string, encrypting: boolean, walk: BlobWalk, planned: Planned[], refs: OciDescriptor[]): string[] {
  const index = readOciIndex(join(layout, 'index.json'));
  const toEncrypt: string[] = [];
  for (const p of pairs) {
    const r = p.record;
    const attrs = { recipe: r.recipe.name, version: r.recipe.version, system: r.system, partition: r.partition };
    const d =
      index.manifests.find((m) => m.digest === r.image.manifestDigest && refNameOf(m) === r.image.refName) ?? index.manifests.find((m) => m.digest === r.image.manifestDigest);
    if (!d) {
      throw new BrickyardError('IMAGE_NOT_FOUND', `the image of ${p.rel} (${r.image.manifestDigest}) is not in ${layout}`, { hint: 'rebuild the pair' });
    }
    if (!encrypting) {
      refs.push({ ...d, annotations: { ...d.annotations, 'org.opencontainers.image.ref.name': r.image.refName } });
      walk.collect(d);
    } else {
      // Only the plaintext manifest travels in the clear (the attestations are about it); its layers travel encrypted.
      walk.blobs.set(d.digest, d);
      toEncrypt.push(r.image.refName);
    }
    planned.push(...pairFiles(p, attrs));
  }
  return toEncrypt;
}

function pairFiles(p: ReturnType<typeof builtPairs>[number], attrs: Partial<ManifestEntry>): Planned[] {
  const out: Planned[] = [];
  for (const name of readdirSync(p.dir).sort()) {
    const role = roleOf(name);
    if (!role) continue;
    const file = join(p.dir, name);
    if (!statSync(file).isFile()) continue;
    out.push(fileEntry(`${p.rel}/${name}`, file, role, attrs, name === 'job.sh'));
  }
  const sources = join(p.dir, 'context', 'sources');
  if (existsSync(sources)) {
    for (const name of readdirSync(sources).sort()) {
      const file = join(sources, name);
      if (statSync(file).isFile()) out.push(fileEntry(`${p.rel}/sources/${name}`, file, 'source', attrs));
    }
  }
  return out;
}

/** Each blob: a prerequisite when the site holds it, else an entry (its size and digest checked against its descriptor). */
function planBlobs(walk: BlobWalk, have: Set<string>, layout: string, planned: Planned[]): { prerequisites: string[]; heldBytes: number } {
  let heldBytes = 0;
  const prerequisites: string[] = [];
  for (const [digest, d] of walk.blobs) {
    if (have.has(digest)) {
      prerequisites.push(digest.slice(7));
      heldBytes += d.size;
      continue;
    }
    const e = fileEntry(`oci/blobs/sha256/${digest.slice(7)}`, walk.path(digest), 'image-blob');
    if (e.size !== d.size) throw new BrickyardError('IMAGE_NOT_FOUND', `blob ${digest} in ${layout} is ${e.size} bytes, its descriptor says ${d.size}`);
    if (`sha256:${e.sha256}` !== digest)
      throw new BrickyardError('IMAGE_NOT_FOUND', `blob ${digest} in ${layout} does not match its digest`, { hint: 'the layout is damaged; rebuild' });
    planned.push(e);
  }
  return { prerequisites, heldBytes };
}

function bundleManifest(opts: WriteBundleOptions, plan: BundlePlan, created: Date): Manifest {
  const bundleId =
    opts.bundleId ??
    `${opts.system}-${opts.serial}-${created
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z')}`;
  return {
    kind: 'brickyard-bundle-manifest',
    version: 1,
    bundleId,
    serial: opts.serial,
    source: { repository: opts.source.repository, commit: opts.source.commit },
    created: created.toISOString(),
    systems: [opts.system],
    entries: plan.planned.map(({ from: _f, ...e }) => e), // `executable` is signed: the site keeps job.sh runnable
    ...(opts.inventory
      ? {
          base: {
            bundleId: opts.inventory.bundles.filter((b) => b.repository === opts.source.repository).at(-1)?.bundleId ?? null,
            serial: opts.inventory.lastSerial[opts.source.repository] ?? 0,
          },
        }
      : {}),
    prerequisites: plan.prerequisites.sort(),
    ...(plan.encryption ? { encryption: plan.encryption } : {}),
  };
}

/**
 * The bundle written beside its target and renamed into place (only over an earlier bundle): for
 * parts, the payload first (the manifest lists the parts), then the manifest signed.
 */
async function writeSignedBundle(
  opts: WriteBundleOptions,
  form: WriteBundleResult['form'],
  manifest: Manifest,
  planned: Planned[],
  created: Date,
): Promise<{ identity: string; parts?: WriteBundleResult['parts']; tarBytes?: number }> {
  checkReplaceable(opts.out, form);
  mkdirSync(dirname(resolve(opts.out)), { recursive: true });
  const work = `${resolve(opts.out)}.partial-${randomBytes(4).toString('hex')}`;
  const approxTotal = planned.reduce((n, e) => n + 512 + Math.ceil(e.size / 512) * 512, 4096);
  const onProgress = opts.onProgress;
  const progress = onProgress ? (done: number): void => onProgress(done, approxTotal) : undefined;
  try {
    let written: { parts?: WriteBundleResult['parts']; tarBytes?: number };
    if (form === 'parts') {
      mkdirSync(work, { recursive: true });
      const sink = new TarSink(join(work, PAYLOAD), opts.chunkSize, progress);
      const w = new TarWriter(sink, created);
      for (const e of planned) w.add(e.path, e.size, e.from, e.executable);
      w.end();
      const parts = sink.parts.map(({ name, size, sha256 }) => ({ name, size, sha256 }));
      manifest.parts = parts;
      written = { parts, tarBytes: sink.size };
    } else written = {};
    const signed = await signManifest(opts, manifest);
    const { mBytes, sigBytes, meta } = signed;
    if (written.parts) {
      writeFileSync(join(work, MANIFEST), mBytes);
      writeFileSync(join(work, SIGNATURE), sigBytes);
      writeFileSync(join(work, CHECKSUMS), checksumsText([...meta, ...written.parts.map((p) => ({ path: p.name, sha256: p.sha256 }))]));
    } else {
      const checksums = Buffer.from(checksumsText([...meta, ...planned]));
      if (form === 'tar') written = { tarBytes: writeTarBundle(work, created, progress, { mBytes, sigBytes, checksums }, planned) };
      else writeFolderBundle(work, { mBytes, sigBytes, checksums }, planned);
    }
    rmSync(opts.out, { recursive: true, force: true });
    renameSync(work, opts.out);
    return { identity: signed.identity, ...written };
  } catch (e) {
    rmSync(work, { recursive: true, force: true });
    throw e;
  }
}

/** The manifest checked against its schema, serialised and signed; the digests of both for checksums.txt. */
async function signManifest(
  opts: WriteBundleOptions,
  manifest: Manifest,
): Promise<{ identity: string; mBytes: Buffer; sigBytes: Buffer; meta: { path: string; sha256: string }[] }> {
  const errors = manifestErrors(manifest);
  if (errors.length) throw new BundleError('BUNDLE_INVALID', 'manifest', `the manifest written would not be valid: ${errors.slice(0, 5).join('; ')}`);
  const mBytes = manifestBytes(manifest);
  const signed = await opts.signer.sign(mBytes);
  const sigBytes = Buffer.from(JSON.stringify(signed.bundleJson, null, 2) + '\n');
  const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
  return {
    identity: signed.identity,
    mBytes,
    sigBytes,
    meta: [
      { path: MANIFEST, sha256: sha(mBytes) },
      { path: SIGNATURE, sha256: sha(sigBytes) },
    ],
  };
}

/** What a bundle starts with: the manifest, its signature, and checksums.txt. */
interface SignedHead {
  mBytes: Buffer;
  sigBytes: Buffer;
  checksums: Buffer;
}

/** One tar: manifest, signature and checksums first, then the entries. Returns its size. */
function writeTarBundle(work: string, created: Date, progress: ((done: number) => void) | undefined, head: SignedHead, planned: Planned[]): number {
  const sink = new TarSink(work, undefined, progress);
  const w = new TarWriter(sink, created);
  w.add(MANIFEST, head.mBytes.length, { kind: 'bytes', data: head.mBytes });
  w.add(SIGNATURE, head.sigBytes.length, { kind: 'bytes', data: head.sigBytes });
  w.add(CHECKSUMS, head.checksums.length, { kind: 'bytes', data: head.checksums });
  for (const e of planned) w.add(e.path, e.size, e.from, e.executable);
  w.end();
  return sink.size;
}

function writeFolderBundle(work: string, head: SignedHead, planned: Planned[]): void {
  mkdirSync(work, { recursive: true });
  writeFileSync(join(work, MANIFEST), head.mBytes);
  writeFileSync(join(work, SIGNATURE), head.sigBytes);
  writeFileSync(join(work, CHECKSUMS), head.checksums);
  for (const e of planned) {
    const dest = join(work, e.path);
    mkdirSync(dirname(dest), { recursive: true });
    if (e.from.kind === 'file') copyFileSync(e.from.path, dest);
    else writeFileSync(dest, e.from.data);
  }
}

/** `out` may be replaced only when it is absent, an empty folder, a previous bundle folder, or (for a tar) a file. */
function checkReplaceable(out: string, form: WriteBundleResult['form']): void {
  let st;
  try {
    st = statSync(out);
  } catch {
    return;
  }
  if (st.isFile() && form === 'tar') return;
  if (st.isDirectory() && form !== 'tar') {
    const names = readdirSync(out);
    if (names.length === 0 || names.includes(MANIFEST)) return;
  }
  throw new BrickyardError('USAGE', `${out} exists and is not a bundle; refusing to replace it`, { hint: 'choose another --out, or remove it yourself' });
}
