/** Reading our OCI image layouts (index.json, blobs) without loading blobs whole. */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrickyardError } from '../util/errors.ts';

export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export const REF_NAME = 'org.opencontainers.image.ref.name';

export function readIndex(layoutDir: string): { manifests: OciDescriptor[] } {
  try {
    return JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8')) as { manifests: OciDescriptor[] };
  } catch (e) {
    throw new BrickyardError('IMAGE_NOT_FOUND', `${layoutDir} is not an OCI image layout: ${(e as Error).message}`);
  }
}

/** The manifest descriptor of `refName` in the layout. */
export function manifestFor(layoutDir: string, refName: string): OciDescriptor {
  const m = readIndex(layoutDir).manifests.find((d) => d.annotations?.[REF_NAME] === refName);
  if (!m) throw new BrickyardError('IMAGE_NOT_FOUND', `no image ${refName} in the OCI layout ${layoutDir}`);
  return m;
}

export function readBlobJson<T>(layoutDir: string, digest: string): T {
  const [alg, hex] = digest.split(':');
  return JSON.parse(readFileSync(join(layoutDir, 'blobs', alg!, hex!), 'utf8')) as T;
}

export interface ImageManifest {
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
}

/** Compressed size of an image in the layout: its config and layers as stored. */
export function storedSize(layoutDir: string, refName: string): { manifest: OciDescriptor; layers: OciDescriptor[]; compressedBytes: number } {
  const manifest = manifestFor(layoutDir, refName);
  const m = readBlobJson<ImageManifest>(layoutDir, manifest.digest);
  return { manifest, layers: m.layers, compressedBytes: m.layers.reduce((s, l) => s + l.size, 0) + m.config.size };
}

/**
 * Set annotations on the manifest of `refName` (ours win over the builder's), writing the new
 * manifest blob and pointing index.json at it. Done in the layout rather than by the builder:
 * buildah's layer cache reuses a finished image with the annotations of its first build.
 */
export function annotateManifest(layoutDir: string, refName: string, annotations: Record<string, string>): OciDescriptor {
  const index = readIndex(layoutDir) as { manifests: OciDescriptor[] } & Record<string, unknown>;
  const i = index.manifests.findIndex((d) => d.annotations?.[REF_NAME] === refName);
  if (i < 0) throw new BrickyardError('IMAGE_NOT_FOUND', `no image ${refName} in the OCI layout ${layoutDir}`);
  const old = index.manifests[i]!;
  const manifest = readBlobJson<ImageManifest & Record<string, unknown>>(layoutDir, old.digest);
  const merged = { ...manifest, annotations: sortedKeys({ ...manifest.annotations, ...annotations }) };
  const bytes = Buffer.from(JSON.stringify(merged));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  writeFileSync(join(layoutDir, 'blobs', 'sha256', digest.slice(7)), bytes);
  const descriptor: OciDescriptor = { ...old, digest, size: bytes.length };
  index.manifests[i] = descriptor;
  // Pushing to an existing ref leaves the replaced manifest in the index without a name: drop those.
  index.manifests = index.manifests.filter((d) => d.annotations?.[REF_NAME] !== undefined);
  writeFileSync(join(layoutDir, 'index.json'), JSON.stringify(index));
  // The old manifest goes unless another entry of the layout still uses it.
  if (old.digest !== digest && !index.manifests.some((d) => d.digest === old.digest)) rmSync(join(layoutDir, 'blobs', 'sha256', old.digest.slice(7)), { force: true });
  return descriptor;
}

function sortedKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
