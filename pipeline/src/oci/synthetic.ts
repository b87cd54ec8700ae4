/**
 * Small OCI image layouts made by hand, standing in for a builder's output where none runs: the
 * state folders of the benchmarks (scripts/lib/bench-state.ts) and of the tests' received builds.
 * Real in shape (oci-layout, content-addressed blobs, manifests naming config and layers, an
 * index naming each image by ref.name); the layers are whatever bytes the caller gives, and the
 * config's diff_ids name those blobs as stored. Nothing in the engine imports this: images that
 * are built come from buildah.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A blob as a descriptor names it. */
export interface StoredBlob {
  digest: string;
  size: number;
}

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const CONFIG = 'application/vnd.oci.image.config.v1+json';
const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** An empty layout: the oci-layout marker and the blob folder. */
export function createLayout(layout: string): void {
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
}

/** Store `data` under its sha256. */
export function putBlob(layout: string, data: string | Uint8Array): StoredBlob {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const hex = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(layout, 'blobs', 'sha256', hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

/** A linux/amd64 image of `layers` (stored blobs, base first): its config and manifest blobs. */
export function putImage(layout: string, layers: readonly StoredBlob[]): { config: StoredBlob; manifest: StoredBlob } {
  const config = putBlob(layout, JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) } }));
  const manifest = putBlob(
    layout,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: { mediaType: CONFIG, digest: config.digest, size: config.size },
      layers: layers.map((l) => ({ mediaType: LAYER, digest: l.digest, size: l.size })),
    }),
  );
  return { config, manifest };
}

/** index.json naming each image's manifest by its ref.name, in the order given. */
export function writeIndex(layout: string, images: readonly { manifest: StoredBlob; refName: string }[]): void {
  const manifests = images.map(({ manifest, refName }) => ({
    mediaType: MANIFEST,
    digest: manifest.digest,
    size: manifest.size,
    annotations: { 'org.opencontainers.image.ref.name': refName },
  }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}
