/**
 * The signed manifest of a bundle (pipeline/schemas/manifest.schema.json) and the names of the
 * files that sit beside or around it.
 */
import type { EncryptionInfo } from './encrypt.ts';
import { BundleError } from './errors.ts';
import { siteValidator } from '../util/site-validators.ts';
import { group } from '../util/match.ts';

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sigstore.json';
export const CHECKSUMS = 'checksums.txt';
export const TRUSTED_ROOT = 'trusted_root.json';
/** Name of the payload tar whose parts sit beside the manifest in a split bundle. */
export const PAYLOAD = 'payload.tar';
/** The files around the payload; never listed in `entries`. */
export const META_FILES = [MANIFEST, SIGNATURE, CHECKSUMS] as const;

export type EntryRole =
  | 'image-blob'
  | 'image-index'
  | 'oci-layout'
  | 'rendered'
  | 'lock'
  | 'source'
  | 'attestation'
  | 'sbom'
  /** A SIF file made from the pair's image, for Apptainer/Singularity sites. */
  | 'sif'
  | 'build-record'
  | 'smoke-report'
  | 'trusted-root'
  | 'checksums'
  /** The site executable of this release (tool/brickyard-linux-<arch>), `version` its version. */
  | 'tool';

export interface ManifestEntry {
  path: string;
  size: number;
  sha256: string;
  role: EntryRole;
  recipe?: string;
  version?: string;
  system?: string;
  partition?: string;
  /** Stored with mode 0755 at the site (job.sh); otherwise 0644. */
  executable?: true;
}

export interface Manifest {
  kind: 'brickyard-bundle-manifest';
  version: 1;
  bundleId: string;
  serial: number;
  source: { repository: string; commit: string };
  created: string;
  systems: string[];
  entries: ManifestEntry[];
  parts?: { name: string; size: number; sha256: string }[];
  base?: { bundleId: string | null; serial: number };
  prerequisites: string[];
  /** A confidential bundle: its images' layers are encrypted for these recipients (encrypt.ts). */
  encryption?: EncryptionInfo;
}

export function manifestErrors(data: unknown): string[] {
  const validator = siteValidator('manifest');
  if (validator(data)) return [];
  return (validator.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
}

/** Parse and check a manifest's bytes: schema, then the rules a schema cannot say. */
export function parseManifest(bytes: Uint8Array): Manifest {
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new BundleError('BUNDLE_INVALID', 'manifest', `${MANIFEST} is not JSON: ${(e as Error).message}`, MANIFEST);
  }
  const errors = manifestErrors(data);
  if (errors.length) throw new BundleError('BUNDLE_INVALID', 'manifest', `${MANIFEST} does not match its schema: ${errors.slice(0, 5).join('; ')}`, MANIFEST);
  const m = data as Manifest;
  const seen = new Set<string>();
  for (const e of m.entries) {
    if (seen.has(e.path)) throw new BundleError('BUNDLE_INVALID', 'duplicate', `${MANIFEST} lists ${e.path} twice`, e.path);
    seen.add(e.path);
    if ((META_FILES as readonly string[]).includes(e.path)) throw new BundleError('BUNDLE_INVALID', 'manifest', `${MANIFEST} lists ${e.path}, which is never an entry`, e.path);
    // A blob is named by its digest: one whose name and content differ would let a ref point at other bytes.
    if (e.role === 'image-blob' && e.path !== `oci/blobs/sha256/${e.sha256}`) {
      throw new BundleError('BUNDLE_INVALID', 'manifest', `${MANIFEST} lists the image blob ${e.path} with sha256 ${e.sha256}: a blob's name must be its digest`, e.path);
    }
  }
  // A file cannot also be a folder of another entry.
  const dirs = new Set<string>();
  for (const e of m.entries) {
    const parts = e.path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const e of m.entries) {
    if (dirs.has(e.path)) throw new BundleError('BUNDLE_INVALID', 'manifest', `${MANIFEST} lists ${e.path} both as a file and as a folder`, e.path);
  }
  return m;
}

export function manifestBytes(m: Manifest): Buffer {
  return Buffer.from(JSON.stringify(m, null, 2) + '\n');
}

/** `sha256sum -c` lines. Paths with a newline or backslash never reach here (the schema refuses them). */
export function checksumsText(files: { path: string; sha256: string }[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.sha256}  ${f.path}\n`)
    .join('');
}

export function parseChecksums(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) throw new BundleError('BUNDLE_INVALID', 'checksums', `${CHECKSUMS}:${i + 1} is not a sha256sum line`, CHECKSUMS);
    if (out.has(group(m, 2))) throw new BundleError('BUNDLE_INVALID', 'checksums', `${CHECKSUMS}:${i + 1} lists ${m[2]} twice`, CHECKSUMS);
    out.set(group(m, 2), group(m, 1));
  }
  return out;
}
