/**
 * What a centre's image policy asks of a built image that the catalogue cannot answer: the user
 * the image runs as, its setuid and setgid files, its real size. Read from the OCI layout (the
 * config and every layer's tar headers), with no container started.
 */
import { list } from 'tar';
import type { ImageFacts } from '../check/image-policy.ts';
import { objectAt, stringAt } from '../util/untrusted-json.ts';
import { blobPath, readConfigBlob, readManifestBlob } from './oci.ts';

/** The facts of the image whose manifest is `manifestDigest` in `layout`; a layer tar cannot read throws. */
export function inspectImage(layout: string, manifestDigest: string): ImageFacts {
  return walkImage(layout, manifestDigest, false).facts;
}

/**
 * The same walk, strict per layer: a layer that is not a readable tar is listed rather than
 * skipped or thrown, so that a signer never reports an unread layer as clean.
 */
export function inspectImageStrict(layout: string, manifestDigest: string): { facts: ImageFacts; unreadableLayers: string[] } {
  return walkImage(layout, manifestDigest, true);
}

function walkImage(layout: string, manifestDigest: string, strict: boolean): { facts: ImageFacts; unreadableLayers: string[] } {
  const manifest = readManifestBlob(layout, manifestDigest);
  // The config is read for its user only: whatever else it holds is not ours to judge.
  const user = stringAt(objectAt(readConfigBlob(layout, manifest.config.digest), 'config'), 'User') ?? '';
  const setuid = new Set<string>();
  const removed = new Set<string>();
  const seen = new Set<string>();
  const unreadable: string[] = [];
  let uncompressedBytes = 0;
  // Later layers win: read newest first; a path seen there, or a whiteout (.wh.<name>), hides older entries.
  for (const layer of [...manifest.layers].reverse()) {
    const read = (): void =>
      list({
        file: blobPath(layout, layer.digest),
        sync: true,
        strict,
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
    if (!strict) read();
    else {
      try {
        read();
      } catch {
        unreadable.push(layer.digest);
      }
    }
  }
  return { facts: { user, setuidFiles: [...setuid].sort(), uncompressedBytes }, unreadableLayers: unreadable.sort() };
}
