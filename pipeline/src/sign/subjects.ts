/**
 * The signer computes, never trusts. The signing job receives each pair's build as a workflow
 * artifact that an unprivileged job, one that ran recipe code, uploaded: every byte of it is
 * attacker input. Before anything is signed, this module
 * - finds the artifact folder by the name it computes for the pair (never by listing what came);
 * - refuses anything in it but that one pair's build folder and one OCI layout;
 * - refuses a layout whose index names any image but the pair's own reference;
 * - re-hashes the image manifest, its config and every layer, each against its descriptor's
 *   digest and size;
 * - derives the subject (name and digest) from the catalogue and what it hashed, and refuses a
 *   build record whose pair, reference or digests differ from what was verified.
 * `importVerifiedBuild` then copies only what was verified into the signer's own state folder,
 * where the statements it makes are written and from which the bundle is packed: nothing the
 * build job wrote as an attestation (`*.intoto.json`, `*.sigstore.json`) is carried.
 */
import { closeSync, copyFileSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pairDir, refNameOf } from '../build/build.ts';
import { REF_NAME } from '../build/oci.ts';
import { stateLayout } from '../state/layout.ts';
import { parseStateRecord, readOciIndex, StateRecordError, type BuildRecord, type OciDescriptor, type OciIndex, type StateRecordKind } from '../state/records.ts';
import { sha256For } from '../bundle/hasher.ts';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import { imageReference } from '../render/jobscript.ts';
import { BrickyardError } from '../util/errors.ts';
import type { PartitionRef } from '../workspace.ts';

const MANIFEST_TYPES = new Set(['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json']);
/** Image manifests are small; anything larger is not one of ours. */
const MAX_MANIFEST_BYTES = 4 << 20;
/** What a pair's build folder may hold besides these: rendered files, reports, logs (copied as data, never signed as such). */
const ATTESTATION_FILE = /\.(intoto|sigstore)\.json$/;

export interface PairId {
  recipe: string;
  version: string;
  system: string;
  partition: string;
}

/**
 * The workflow artifact name of a pair's build. `@` separates the parts: no recipe name,
 * version, system or partition id may contain it (see the schemas), so two pairs never share a
 * name, and GitHub accepts it in artifact names. A pair built in batch N of a fan-out
 * (build-batch.yml) is named `brickyard-build-N@…`, so that the signer of batch N downloads its
 * batch alone with the pattern `brickyard-build-N@<system>@*` (`-N@` never matches `-N0@`, and
 * no unbatched name starts with `brickyard-build-`).
 */
export function buildArtifactName(p: PairId, batch?: number): string {
  return `brickyard-build${batch === undefined ? '' : `-${batch}`}@${p.system}@${p.recipe}@${p.version}@${p.partition}`;
}

/** The artifact name of a pair's test results signed on its system's own runner. */
export function testResultArtifactName(p: PairId): string {
  return `brickyard-test-results@${p.system}@${p.recipe}@${p.version}@${p.partition}`;
}

export interface VerifiedSubject {
  /** The image reference the catalogue gives the pair (never read from the build record). */
  name: string;
  digest: { sha256: string };
}

export interface VerifiedBuild {
  pair: PairId;
  /** The received artifact folder. */
  artifactDir: string;
  /** `builds/<recipe>@<version>/<system>-<partition>` inside it. */
  receivedPairDir: string;
  layoutDir: string;
  /** The layout's descriptor of the image manifest, its digest re-computed. */
  manifest: OciDescriptor;
  configDigest: string;
  /** Config and layers, each re-hashed. */
  blobs: OciDescriptor[];
  subject: VerifiedSubject;
  refName: string;
  record: BuildRecord;
}

function refuse(artifact: string, what: string, hint = 'rebuild the pair; never sign what does not verify'): never {
  throw new BrickyardError('SUBJECT_MISMATCH', `refusing to sign ${artifact}: ${what}`, { hint });
}

function sha256Hex(digest: string): string | undefined {
  return /^sha256:([0-9a-f]{64})$/.exec(digest)?.[1];
}

/** The hex of a digest already verified to be sha256:<64 hex>. */
function verifiedHex(digest: string): string {
  const hex = sha256Hex(digest);
  if (hex === undefined) throw new BrickyardError('SUBJECT_MISMATCH', `${digest} is not sha256:<64 hex>`);
  return hex;
}

function readSmall(path: string, max: number, artifact: string, what: string): Buffer {
  let size: number;
  try {
    const st = lstatSync(path);
    if (!st.isFile()) refuse(artifact, `${what} is not a plain file`);
    size = st.size;
  } catch (e) {
    if (e instanceof BrickyardError) throw e;
    refuse(artifact, `${what} is missing`);
  }
  if (size > max) refuse(artifact, `${what} is ${size} bytes, more than ${max}`);
  return readFileSync(path);
}

/** A record of the artifact held to its schema; one that does not match is refused, naming the field. */
function parseRecord<K extends StateRecordKind>(kind: K, bytes: Buffer, artifact: string, what: string): ReturnType<typeof parseStateRecord<K>> {
  try {
    return parseStateRecord(kind, bytes, what);
  } catch (e) {
    if (e instanceof StateRecordError) return refuse(artifact, e.message);
    throw e;
  }
}

/** oci/oci-layout: {"imageLayoutVersion": "1.0.0"} and nothing else matters. */
function layoutVersionOf(bytes: Buffer, artifact: string): unknown {
  let marker: unknown;
  try {
    marker = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return refuse(artifact, `oci/oci-layout is not JSON: ${(e as Error).message}`);
  }
  return typeof marker === 'object' && marker !== null ? (marker as Record<string, unknown>)['imageLayoutVersion'] : undefined;
}

/** Re-hash a blob of the layout against its descriptor: digest and size. */
// eslint-disable-next-line @typescript-eslint/require-await -- the exported verifiers above it reject, never throw: the chain stays async
async function verifyBlob(layoutDir: string, d: OciDescriptor, artifact: string, what: string): Promise<void> {
  const hex = sha256Hex(d.digest);
  if (!hex) return refuse(artifact, `${what} has digest ${JSON.stringify(d.digest)}, not sha256:<64 hex>`);
  if (!Number.isSafeInteger(d.size) || d.size < 0) refuse(artifact, `${what} ${d.digest} has no valid size`);
  const path = join(layoutDir, 'blobs', 'sha256', hex);
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return refuse(artifact, `${what} ${d.digest} is not in the layout (oci/blobs/sha256/${hex})`);
  }
  if (!st.isFile()) refuse(artifact, `${what} ${d.digest} is not a plain file`);
  if (st.size !== d.size) refuse(artifact, `${what} ${d.digest} is ${st.size} bytes, its descriptor says ${d.size}`);
  const h = sha256For(st.size);
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  const got = h.digestHex();
  if (got !== hex) refuse(artifact, `${what} oci/blobs/sha256/${hex} hashes to sha256:${got}: it was edited`);
}

/** Every file and folder under `dir`, relative, refusing links and anything but files and folders. */
function walk(dir: string, artifact: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = lstatSync(join(dir, r));
    if (st.isSymbolicLink()) refuse(artifact, `${r} is a symbolic link`);
    if (st.isDirectory()) out.push(`${r}/`, ...walk(dir, artifact, r));
    else if (st.isFile()) out.push(r);
    else refuse(artifact, `${r} is not a file or folder`);
  }
  return out;
}

/** Re-hash an image manifest and everything it names; returns the parsed manifest. */
async function verifyImage(layoutDir: string, manifest: OciDescriptor, artifact: string): Promise<{ config: OciDescriptor; layers: OciDescriptor[] }> {
  if (!MANIFEST_TYPES.has(manifest.mediaType)) refuse(artifact, `${manifest.digest} is a ${manifest.mediaType}, expected an image manifest`);
  if (!(manifest.size <= MAX_MANIFEST_BYTES)) refuse(artifact, `the image manifest ${manifest.digest} claims ${manifest.size} bytes`);
  await verifyBlob(layoutDir, manifest, artifact, 'the image manifest');
  const m = parseRecord('ociManifest', readFileSync(join(layoutDir, 'blobs', 'sha256', verifiedHex(manifest.digest))), artifact, `the image manifest ${manifest.digest}`);
  if (m.mediaType !== undefined && m.mediaType !== manifest.mediaType)
    refuse(artifact, `the image manifest says it is a ${m.mediaType}, its descriptor says ${manifest.mediaType}`);
  await verifyBlob(layoutDir, m.config, artifact, 'the image config');
  for (const [i, l] of m.layers.entries()) await verifyBlob(layoutDir, l, artifact, `layer ${i}`);
  return { config: m.config, layers: m.layers };
}

/**
 * For local signing (`brickyard attest` on one's own state folder): re-hash the pair's image in
 * the shared layout, found by its reference, and compare the build record with it.
 */
export async function verifyLocalImage(stateDir: string, r: ResolvedRecipe, where: PartitionRef, record: BuildRecord): Promise<VerifiedSubject> {
  const layoutDir = stateLayout(stateDir).oci;
  const refName = refNameOf(r, where);
  const artifact = `${r.key} for ${where.system.doc.id}/${where.partition.id} (${layoutDir})`;
  const index = parseRecord('ociIndex', readSmall(join(layoutDir, 'index.json'), 16 << 20, artifact, 'oci/index.json'), artifact, 'oci/index.json');
  const found = index.manifests.filter((d) => d.annotations?.[REF_NAME] === refName);
  const [manifest] = found;
  if (found.length !== 1 || !manifest)
    return refuse(
      artifact,
      `oci/index.json names ${refName} ${found.length} times, expected once`,
      `run: npx brickyard build ${r.key} --system ${where.system.doc.id}/${where.partition.id}`,
    );
  await verifyImage(layoutDir, manifest, artifact);
  if (record.image.manifestDigest !== manifest.digest) refuse(artifact, `build.json says the image is ${record.image.manifestDigest}, the layout holds ${manifest.digest}`);
  return { name: reference(r, where), digest: { sha256: verifiedHex(manifest.digest) } };
}

function reference(r: ResolvedRecipe, where: PartitionRef): string {
  return imageReference({ recipe: r, system: where.system.doc, partition: where.partition } as unknown as Parameters<typeof imageReference>[0]);
}

/**
 * Verify one received build artifact for the pair (`r` on `where`), as resolved from the
 * signer's own checkout of the catalogue. Returns the subject every statement is made about.
 */
export async function verifyReceivedBuild(artifactDir: string, r: ResolvedRecipe, where: PartitionRef): Promise<VerifiedBuild> {
  const pair: PairId = { recipe: r.doc.name, version: r.doc.version, system: where.system.doc.id, partition: where.partition.id };
  const artifact = `the build of ${r.key} for ${pair.system}/${pair.partition} (${artifactDir})`;
  if (!existsSync(artifactDir)) refuse(artifact, 'the artifact folder does not exist', `download the artifact ${buildArtifactName(pair)} into it`);
  const pairRel = `builds/${r.key}/${pair.system}-${pair.partition}`;

  // Nothing but this pair's folder and one layout: another pair's files are refused, not skipped.
  const allowedDirs = new Set(['builds/', `builds/${r.key}/`, 'oci/', 'oci/blobs/', 'oci/blobs/sha256/']);
  for (const entry of walk(artifactDir, artifact)) {
    if (allowedDirs.has(entry)) continue;
    if (entry === `${pairRel}/` || entry.startsWith(`${pairRel}/`)) continue;
    if (entry === 'oci/index.json' || entry === 'oci/oci-layout') continue;
    if (/^oci\/blobs\/sha256\/[0-9a-f]{64}$/.test(entry)) continue;
    refuse(artifact, `${entry} is not part of this pair's build (only ${pairRel}/ and oci/ are)`);
  }
  const receivedPairDir = join(artifactDir, pairRel);
  const layoutDir = join(artifactDir, 'oci');

  // The build record: the pair it names must be this one. Its digests are compared, never used.
  const record = parseRecord('buildRecord', readSmall(join(receivedPairDir, 'build.json'), 16 << 20, artifact, `${pairRel}/build.json`), artifact, `${pairRel}/build.json`);
  const named = `${record.recipe.name}@${record.recipe.version} for ${record.system}/${record.partition}`;
  if (record.recipe.name !== pair.recipe || record.recipe.version !== pair.version || record.system !== pair.system || record.partition !== pair.partition) {
    refuse(artifact, `${pairRel}/build.json is the record of ${named}, not of ${r.key} for ${pair.system}/${pair.partition}`);
  }
  if (record.recipe.revision !== r.doc.revision) refuse(artifact, `${pairRel}/build.json is of revision ${record.recipe.revision}, the catalogue has ${r.doc.revision}`);
  const refName = refNameOf(r, where);
  const expectedReference = reference(r, where);

  // The layout: its index names exactly this pair's image.
  const layoutVersion = layoutVersionOf(readSmall(join(layoutDir, 'oci-layout'), 4096, artifact, 'oci/oci-layout'), artifact);
  if (layoutVersion !== '1.0.0') refuse(artifact, `oci/oci-layout has imageLayoutVersion ${JSON.stringify(layoutVersion)}, expected "1.0.0"`);
  const index = parseRecord('ociIndex', readSmall(join(layoutDir, 'index.json'), 1 << 20, artifact, 'oci/index.json'), artifact, 'oci/index.json');
  for (const d of index.manifests) {
    const name = d.annotations?.[REF_NAME];
    if (name !== refName)
      refuse(artifact, `oci/index.json names ${name === undefined ? `an unnamed ${d.mediaType} ${d.digest}` : `the image ${name}`}: only ${refName} belongs to this pair`);
  }
  const [manifest] = index.manifests;
  if (!manifest) return refuse(artifact, 'oci/index.json names no image');
  if (index.manifests.length !== 1) refuse(artifact, `oci/index.json names ${refName} ${index.manifests.length} times`);

  const m = await verifyImage(layoutDir, manifest, artifact);

  // Only now compare what the build job claimed with what was verified.
  if (record.image.manifestDigest !== manifest.digest) {
    refuse(artifact, `${pairRel}/build.json says the image is ${record.image.manifestDigest}, the layout holds ${manifest.digest}`);
  }
  if (record.image.configDigest !== m.config.digest) refuse(artifact, `${pairRel}/build.json says the config is ${record.image.configDigest}, the manifest has ${m.config.digest}`);
  if (record.image.refName !== refName) refuse(artifact, `${pairRel}/build.json names the image ${record.image.refName}, expected ${refName}`);
  if (record.image.reference !== expectedReference) refuse(artifact, `${pairRel}/build.json names the reference ${record.image.reference}, expected ${expectedReference}`);

  return {
    pair,
    artifactDir,
    receivedPairDir,
    layoutDir,
    manifest: { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size },
    configDigest: m.config.digest,
    blobs: [m.config, ...m.layers].map((d) => ({ mediaType: d.mediaType, digest: d.digest, size: d.size })),
    subject: { name: expectedReference, digest: { sha256: verifiedHex(manifest.digest) } },
    refName,
    record,
  };
}

/**
 * Copy a verified build into the signer's state folder: the pair's folder without any
 * attestation file the build job wrote, the verified blobs, and the image under its reference
 * in `oci/index.json` (added, or replacing the same reference). Returns the pair's folder there.
 * Blobs are re-hashed again by the bundle writer when it packs them.
 */
export function importVerifiedBuild(v: VerifiedBuild, stateDir: string, r: ResolvedRecipe, where: PartitionRef): string {
  const dest = pairDir(stateDir, r, where);
  if (existsSync(dest)) {
    throw new BrickyardError('USAGE', `the state folder already holds ${dest}`, { hint: 'sign into a fresh state folder: one received build per pair' });
  }
  const copyTree = (from: string, to: string): void => {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      const st = lstatSync(join(from, name));
      if (st.isDirectory()) copyTree(join(from, name), join(to, name));
      else if (st.isFile() && !ATTESTATION_FILE.test(name)) copyFileSync(join(from, name), join(to, name));
    }
  };
  copyTree(v.receivedPairDir, dest);

  const layout = stateLayout(stateDir).oci;
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  for (const d of [v.manifest, ...v.blobs]) {
    const hex = verifiedHex(d.digest);
    const to = join(layout, 'blobs', 'sha256', hex);
    if (!existsSync(to)) copyFileSync(join(v.layoutDir, 'blobs', 'sha256', hex), to);
  }
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const indexPath = join(layout, 'index.json');
  const index: OciIndex = existsSync(indexPath) ? readOciIndex(indexPath) : { schemaVersion: 2, manifests: [] };
  index.manifests = index.manifests.filter((d) => d.annotations?.[REF_NAME] !== v.refName);
  index.manifests.push({ ...v.manifest, annotations: { [REF_NAME]: v.refName } });
  writeFileSync(indexPath, JSON.stringify(index));
  return dest;
}
