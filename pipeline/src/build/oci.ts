/** Reading our OCI image layouts (index.json, blobs) without loading blobs whole. */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrickyardError } from '../util/errors.ts';
import { readStateRecord, StateRecordError, type OciDescriptor, type OciImageManifest, type OciIndex } from '../state/records.ts';

// Their home is state/records.ts, where they are read back validated; re-exported for the importers.
export type { OciDescriptor };
export type ImageManifest = OciImageManifest;

export const REF_NAME = 'org.opencontainers.image.ref.name';

/** The layout's index.json, held to the OCI image index schema. */
export function readIndex(layoutDir: string): OciIndex {
  try {
    return readStateRecord('ociIndex', join(layoutDir, 'index.json'));
  } catch (e) {
    if (e instanceof StateRecordError && e.problem === 'missing') {
      throw new BrickyardError('IMAGE_NOT_FOUND', `${layoutDir} is not an OCI image layout: it has no index.json`, {
        hint: 'build the pair first: npx brickyard build <recipe> --system <id>',
      });
    }
    throw e;
  }
}

/** The manifest descriptor of `refName` in the layout. */
export function manifestFor(layoutDir: string, refName: string): OciDescriptor {
  const m = readIndex(layoutDir).manifests.find((d) => d.annotations?.[REF_NAME] === refName);
  if (!m) throw new BrickyardError('IMAGE_NOT_FOUND', `no image ${refName} in the OCI layout ${layoutDir}`);
  return m;
}

/** Where a blob lives: blobs/<algorithm>/<hex>; a digest of another shape names no file. */
export function blobPath(layoutDir: string, digest: string): string {
  const m = /^([a-z0-9]+):([a-f0-9]{32,128})$/.exec(digest);
  if (!m?.[1] || !m[2]) throw new BrickyardError('IMAGE_NOT_FOUND', `${JSON.stringify(digest)} is not a blob digest in the OCI layout ${layoutDir}`);
  return join(layoutDir, 'blobs', m[1], m[2]);
}

/** An image manifest blob, held to the OCI image manifest schema. */
export function readManifestBlob(layoutDir: string, digest: string): ImageManifest {
  return readStateRecord('ociManifest', blobPath(layoutDir, digest));
}

/** An image config blob: a JSON object whose keys are compared, not interpreted. */
export function readConfigBlob(layoutDir: string, digest: string): Record<string, unknown> {
  const path = blobPath(layoutDir, digest);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BrickyardError('IMAGE_NOT_FOUND', `the image config ${path} cannot be read as JSON: ${(e as Error).message}`, {
      hint: 'export the image again (build the pair again)',
    });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new BrickyardError('IMAGE_NOT_FOUND', `the image config ${path} is not a JSON object`, { hint: 'export the image again (build the pair again)' });
  return data as Record<string, unknown>;
}

/** Compressed size of an image in the layout: its config and layers as stored. */
export function storedSize(layoutDir: string, refName: string): { manifest: OciDescriptor; layers: OciDescriptor[]; compressedBytes: number } {
  const manifest = manifestFor(layoutDir, refName);
  const m = readManifestBlob(layoutDir, manifest.digest);
  return { manifest, layers: m.layers, compressedBytes: m.layers.reduce((s, l) => s + l.size, 0) + m.config.size };
}

/**
 * Set annotations on the manifest of `refName` (ours win over the builder's), writing the new
 * manifest blob and pointing index.json at it. Done in the layout rather than by the builder:
 * buildah's layer cache reuses a finished image with the annotations of its first build.
 */
export function annotateManifest(layoutDir: string, refName: string, annotations: Record<string, string>): OciDescriptor {
  const index = readIndex(layoutDir);
  const i = index.manifests.findIndex((d) => d.annotations?.[REF_NAME] === refName);
  const old = index.manifests[i];
  if (!old) throw new BrickyardError('IMAGE_NOT_FOUND', `no image ${refName} in the OCI layout ${layoutDir}`);
  const manifest = readManifestBlob(layoutDir, old.digest);
  const merged = { ...manifest, annotations: sortedKeys({ ...manifest.annotations, ...annotations }) };
  const bytes = Buffer.from(JSON.stringify(merged));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  writeFileSync(blobPath(layoutDir, digest), bytes);
  const descriptor: OciDescriptor = { ...old, digest, size: bytes.length };
  index.manifests[i] = descriptor;
  // Pushing to an existing ref leaves the replaced manifest in the index without a name: drop those.
  index.manifests = index.manifests.filter((d) => d.annotations?.[REF_NAME] !== undefined);
  writeFileSync(join(layoutDir, 'index.json'), JSON.stringify(index));
  // The old manifest goes unless another entry of the layout still uses it.
  if (old.digest !== digest && !index.manifests.some((d) => d.digest === old.digest)) rmSync(blobPath(layoutDir, old.digest), { force: true });
  return descriptor;
}

function sortedKeys(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
