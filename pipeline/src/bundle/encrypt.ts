/**
 * Confidential images: OCI layer encryption (ocicrypt, JWE recipients) as podman, buildah and
 * skopeo implement it, done with skopeo so that every other OCI tool reads what we make.
 *
 * Bundling for a recipient encrypts each image's layers with the site's public key. The bundle
 * carries the encrypted image manifest and layers, and also the plaintext image manifest: the
 * attestations, the build record and the signed manifest stay about the plaintext digests. The
 * signed manifest lists the encrypted blobs (their sha256 like every entry) and, per image, which
 * encrypted layer stands for which plaintext layer (`encryption`).
 *
 * At the site, import decrypts with the site's private key into its staging folder and admits the
 * image only if every decrypted layer is exactly the plaintext layer the signed plaintext manifest
 * names. A bundle for another recipient is refused before anything is decrypted. Where the site
 * policy keeps images encrypted at rest (encryption.atRest: keep), the decryption is a check only:
 * it happens in a private temporary folder, and the store keeps the encrypted layers.
 */
import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { sha256File } from '../build/sources.ts';
import { join } from 'node:path';
import { BrickyardError } from '../util/errors.ts';
import { run, which } from '../util/exec.ts';
import { BundleError } from './errors.ts';
import { parseStateRecord, readStateRecord, StateRecordError, type OciDescriptor } from '../state/records.ts';

export const ENCRYPTED_SUFFIX = '+encrypted';
const REF_NAME = 'org.opencontainers.image.ref.name';

export interface EncryptedImage {
  refName: string;
  /** The plaintext image manifest ("sha256:<hex>"): what the attestations are about. */
  plaintext: string;
  /** The encrypted image manifest the bundle's index names. */
  encrypted: string;
  /** Per layer, in order: the plaintext digest and the encrypted blob that carries it. */
  layers: { plaintext: string; encrypted: string }[];
}

export interface EncryptionInfo {
  scheme: 'jwe';
  /** sha256 (hex) of each recipient's SubjectPublicKeyInfo DER. */
  recipients: string[];
  images: EncryptedImage[];
}

type Descriptor = OciDescriptor;

/** The recipient id of a public (or private) key in PEM: sha256 of its SubjectPublicKeyInfo. */
export function recipientId(pem: string): string {
  let key;
  try {
    key = pem.includes('PRIVATE KEY') ? createPublicKey(createPrivateKey(pem)) : createPublicKey(pem);
  } catch (e) {
    throw new BrickyardError('USAGE', `not a PEM key: ${(e as Error).message}`, {
      hint: 'make the site key pair with: openssl genrsa -out site-enc.pem 4096 && openssl rsa -in site-enc.pem -pubout -out site-enc.pub.pem',
    });
  }
  return createHash('sha256')
    .update(key.export({ type: 'spki', format: 'der' }))
    .digest('hex');
}

function needSkopeo(): void {
  if (!which('skopeo')) throw new BrickyardError('TOOL_MISSING', 'image encryption needs skopeo', { hint: 'apt-get install skopeo (scripts/setup-host.sh installs it)' });
}

/** An OCI index or manifest of a layout (skopeo's output, or the bundle's), held to its schema; a bad one is refused as part of the bundle. */
function readLayoutRecord<K extends 'ociIndex' | 'ociManifest'>(kind: K, file: string, entry: string): ReturnType<typeof readStateRecord<K>> {
  try {
    return readStateRecord(kind, file);
  } catch (e) {
    if (e instanceof StateRecordError) throw new BundleError('BUNDLE_INVALID', 'encryption', e.message, entry, { hint: e.hint, cause: e });
    throw e;
  }
}

/** The descriptor the index names `refName` by; an image skopeo just wrote that is not there is skopeo's failure. */
function namedIn(index: { manifests: Descriptor[] }, refName: string, where: string): Descriptor {
  const d = index.manifests.find((x) => x.annotations?.[REF_NAME] === refName);
  if (!d) throw new BrickyardError('TOOL_FAILED', `${where} has no image ${refName}`);
  return d;
}

function blob(layout: string, digest: string): string {
  return join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

/**
 * Encrypt the layers of each image (by reference name) of `plainLayout` for the recipient whose
 * public key is `publicKeyPath`, into the OCI layout `outLayout` (created by skopeo).
 */
export async function encryptImages(plainLayout: string, refNames: string[], publicKeyPath: string, outLayout: string): Promise<EncryptionInfo> {
  needSkopeo();
  const recipient = recipientId(readFileSync(publicKeyPath, 'utf8'));
  const plainIndex = readLayoutRecord('ociIndex', join(plainLayout, 'index.json'), 'oci/index.json');
  const images: EncryptedImage[] = [];
  for (const refName of refNames) {
    const r = await run('skopeo', ['copy', '--quiet', '--encryption-key', `jwe:${publicKeyPath}`, `oci:${plainLayout}:${refName}`, `oci:${outLayout}:${refName}`]);
    if (r.code !== 0) throw new BrickyardError('TOOL_FAILED', `encrypting ${refName} with skopeo failed: ${r.stderr.trim()}`);
    const plainDesc = namedIn(plainIndex, refName, plainLayout);
    const encDesc = namedIn(readLayoutRecord('ociIndex', join(outLayout, 'index.json'), 'oci/index.json'), refName, outLayout);
    const plain = readLayoutRecord('ociManifest', blob(plainLayout, plainDesc.digest), refName);
    const enc = readLayoutRecord('ociManifest', blob(outLayout, encDesc.digest), refName);
    if (plain.layers.length !== enc.layers.length || enc.layers.some((l) => !l.mediaType.endsWith(ENCRYPTED_SUFFIX))) {
      throw new BrickyardError('TOOL_FAILED', `skopeo did not encrypt every layer of ${refName}`);
    }
    images.push({
      refName,
      plaintext: plainDesc.digest,
      encrypted: encDesc.digest,
      layers: plain.layers.map((l, i) => ({ plaintext: l.digest, encrypted: enc.layers[i]?.digest ?? '' })),
    });
  }
  return { scheme: 'jwe', recipients: [recipient], images };
}

/**
 * Decrypt the bundle's encrypted images (in `bundleLayout`, as staged) with the site's private
 * key, check every decrypted layer against the signed plaintext manifest, and move the plaintext
 * layers into the bundle's blob folder (unless `keepEncrypted`). Returns the plaintext descriptor
 * per reference name.
 * `workDir` must not exist (created inside the staging folder; the caller removes it).
 */
export async function decryptImages(
  info: EncryptionInfo,
  bundleLayout: string,
  privateKeyPath: string,
  workDir: string,
  opts: { keepEncrypted?: boolean } = {},
): Promise<Map<string, Descriptor>> {
  needSkopeo();
  let pem: string;
  try {
    pem = readFileSync(privateKeyPath, 'utf8');
  } catch {
    throw new BrickyardError('FILE_UNREADABLE', `cannot read the site's decryption key ${privateKeyPath}`, {
      hint: 'give --decryption-key FILE, or encryption.privateKey in the site policy',
    });
  }
  const mine = recipientId(pem);
  if (!info.recipients.includes(mine)) {
    throw new BundleError(
      'POLICY_REFUSED',
      'recipient',
      `the bundle's images are encrypted for ${info.recipients.map((r) => r.slice(0, 16) + '…').join(', ')}, not for this site's key (${mine.slice(0, 16)}…)`,
      'manifest.json',
      {
        hint: 'this bundle was made for another site; ask for one made with --encrypt-for your public key',
      },
    );
  }
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const out = new Map<string, Descriptor>();
  for (const img of info.images) out.set(img.refName, await decryptImage(img, bundleLayout, privateKeyPath, workDir, opts));
  return out;
}

/** One image: its plaintext manifest checked against the table, its layers decrypted by skopeo and hashed again. */
async function decryptImage(
  img: EncryptionInfo['images'][number],
  bundleLayout: string,
  privateKeyPath: string,
  workDir: string,
  opts: { keepEncrypted?: boolean },
): Promise<Descriptor> {
  const plainFile = blob(bundleLayout, img.plaintext);
  if (!existsSync(plainFile))
    throw new BundleError(
      'BUNDLE_INVALID',
      'encryption',
      `the bundle lacks the plaintext manifest ${img.plaintext} of ${img.refName}`,
      `oci/blobs/sha256/${img.plaintext.slice(7)}`,
    );
  const plainBytes = readFileSync(plainFile);
  let plain;
  try {
    plain = parseStateRecord('ociManifest', plainBytes, `oci/blobs/sha256/${img.plaintext.slice(7)}`);
  } catch (e) {
    if (e instanceof StateRecordError) throw new BundleError('BUNDLE_INVALID', 'encryption', e.message, e.file, { hint: e.hint, cause: e });
    throw e;
  }
  const expected = plain.layers.map((l) => l.digest);
  if (JSON.stringify(expected) !== JSON.stringify(img.layers.map((l) => l.plaintext))) {
    throw new BundleError('BUNDLE_INVALID', 'encryption', `the encryption table of ${img.refName} does not name the layers of its plaintext manifest`, 'manifest.json');
  }
  const dest = join(workDir, img.refName.replace(/[^A-Za-z0-9._-]/g, '_'));
  const r = await run('skopeo', ['copy', '--quiet', '--decryption-key', privateKeyPath, `oci:${bundleLayout}:${img.refName}`, `oci:${dest}:${img.refName}`]);
  if (r.code !== 0) {
    throw new BundleError('POLICY_REFUSED', 'decryption', `the layers of ${img.refName} do not decrypt with this site's key: ${r.stderr.trim().split('\n').at(-1)}`, img.refName, {
      hint: 'the encrypted layers were altered, or made for another key; get a fresh bundle',
    });
  }
  const dec = namedIn(readLayoutRecord('ociIndex', join(dest, 'index.json'), img.refName), img.refName, dest);
  const layers = readLayoutRecord('ociManifest', blob(dest, dec.digest), img.refName).layers.map((l) => l.digest);
  if (JSON.stringify(layers) !== JSON.stringify(expected)) {
    throw new BundleError(
      'POLICY_REFUSED',
      'decryption',
      `the decrypted layers of ${img.refName} are not the plaintext layers its signed manifest names (${layers.join(', ')} ≠ ${expected.join(', ')})`,
      img.refName,
    );
  }
  // skopeo checked each decrypted layer against its digest; hash again, the site trusts no tool's word.
  // An image may name the same layer twice (two steps that changed nothing): check and move each once.
  for (const d of new Set(layers)) {
    const got = 'sha256:' + (await sha256File(blob(dest, d)));
    if (got !== d) throw new BundleError('POLICY_REFUSED', 'decryption', `the decrypted layer ${d} of ${img.refName} hashes to ${got}`, img.refName);
    // Kept encrypted at rest: the plaintext stays in the private work folder, which the caller removes.
    if (!opts.keepEncrypted && !existsSync(blob(bundleLayout, d))) renameSync(blob(dest, d), blob(bundleLayout, d));
  }
  return { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: img.plaintext, size: plainBytes.length, annotations: { [REF_NAME]: img.refName } };
}

/**
 * The bundle's encrypted image descriptors by reference name, each the one the signed encryption
 * table names (what a store that keeps images encrypted at rest puts in its index).
 */
export function encryptedDescriptors(info: EncryptionInfo, bundleLayout: string): Map<string, Descriptor> {
  const index = readLayoutRecord('ociIndex', join(bundleLayout, 'index.json'), 'oci/index.json');
  const out = new Map<string, Descriptor>();
  for (const img of info.images) {
    const d = index.manifests.find((x) => x.annotations?.[REF_NAME] === img.refName && x.digest === img.encrypted);
    if (!d)
      throw new BundleError(
        'BUNDLE_INVALID',
        'encryption',
        `the bundle's oci/index.json has no reference ${img.refName} to its encrypted manifest ${img.encrypted}`,
        'oci/index.json',
      );
    out.set(img.refName, d);
  }
  return out;
}
