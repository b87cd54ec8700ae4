/**
 * What a centre's image policy asks of a built image that the catalogue cannot answer: the user
 * the image runs as, its setuid and setgid files, its real size. Read from the OCI layout (the
 * config and every layer's tar headers), with no container started.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { list } from 'tar';
import type { ImageFacts } from '../check/image-policy.ts';

interface Descriptor {
  digest: string;
}

function blobPath(layout: string, digest: string): string {
  return join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
}

/** The facts of the image whose manifest is `manifestDigest` in `layout`. */
export function inspectImage(layout: string, manifestDigest: string): ImageFacts {
  const manifest = JSON.parse(readFileSync(blobPath(layout, manifestDigest), 'utf8')) as { config: Descriptor; layers: Descriptor[] };
  const config = JSON.parse(readFileSync(blobPath(layout, manifest.config.digest), 'utf8')) as { config?: { User?: string } };
  const setuid = new Set<string>();
  const removed = new Set<string>();
  const seen = new Set<string>();
  let uncompressedBytes = 0;
  // Later layers win: read newest first; a path seen there, or a whiteout (.wh.<name>), hides older entries.
  for (const layer of [...manifest.layers].reverse()) {
    list({
      file: blobPath(layout, layer.digest),
      sync: true,
      onReadEntry: (e) => {
        const path = '/' + e.path.replace(/^\.?\/*/, '');
        uncompressedBytes += e.size;
        const base = path.slice(path.lastIndexOf('/') + 1);
        if (base.startsWith('.wh.')) {
          removed.add(path.slice(0, path.lastIndexOf('/') + 1) + base.slice(4));
          return;
        }
        if (removed.has(path) || [...removed].some((r) => path.startsWith(r + '/')) || seen.has(path)) return;
        seen.add(path);
        if (e.type === 'File' && ((e.mode ?? 0) & 0o6000) !== 0) setuid.add(path);
      },
    });
  }
  return { user: config.config?.User ?? '', setuidFiles: [...setuid].sort(), uncompressedBytes };
}
