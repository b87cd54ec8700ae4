/**
 * The blobs an image needs: its manifest (or index), then every config, layer and nested
 * manifest it names. A site stores only these for the images it admitted, so a bundle cannot
 * slip other content into the store beside them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BundleError } from '../bundle/errors.ts';
import { group } from '../util/match.ts';

const NESTED_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);

interface Descriptor {
  mediaType?: string;
  digest?: string;
}

/**
 * Every blob (hex) reachable from `roots` (hex digests of image manifests or indexes), reading
 * each manifest from the first folder of `blobDirs` that holds it.
 */
export function reachableBlobs(roots: string[], blobDirs: string[]): Set<string> {
  const out = new Set<string>();
  const visit = (hex: string, parseAsManifest: boolean): void => {
    if (out.has(hex)) return;
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new BundleError('BUNDLE_INVALID', 'image', `an image names the blob ${hex}, which is not a sha256 digest`);
    out.add(hex);
    if (!parseAsManifest) return;
    const file = blobDirs.map((d) => join(d, hex)).find((f) => existsSync(f));
    if (!file) throw new BundleError('BUNDLE_INVALID', 'image', `the image manifest sha256:${hex} is neither in the bundle nor in the store`);
    let doc: { manifests?: (Descriptor | null)[]; config?: Descriptor | null; layers?: (Descriptor | null)[] }; // as read: not yet checked
    try {
      doc = JSON.parse(readFileSync(file, 'utf8')) as typeof doc;
    } catch {
      throw new BundleError('BUNDLE_INVALID', 'image', `the image manifest sha256:${hex} is not JSON`);
    }
    for (const d of [...(doc.manifests ?? []), ...(doc.config ? [doc.config] : []), ...(doc.layers ?? [])]) {
      const m = /^sha256:([0-9a-f]{64})$/.exec(d?.digest ?? '');
      if (!m || !d) throw new BundleError('BUNDLE_INVALID', 'image', `the image manifest sha256:${hex} names a blob with digest ${JSON.stringify(d?.digest)}`);
      visit(group(m, 1), NESTED_TYPES.has(d.mediaType ?? ''));
    }
  };
  for (const r of roots) visit(r, true);
  return out;
}
