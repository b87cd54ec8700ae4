/** Reading our OCI image layouts (index.json, blobs) without loading blobs whole. */
import { readFileSync } from 'node:fs';
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
