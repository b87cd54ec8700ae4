import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestFor, readManifestBlob, storedSize } from '../../pipeline/src/build/oci.ts';
import { reachableBlobs } from '../../pipeline/src/oci/reach.ts';
import { createLayout, putBlob, putImage, writeIndex } from '../../pipeline/src/oci/synthetic.ts';
import { tempDir } from '../helpers/fixture.ts';

describe('hand-made OCI layouts', () => {
  it('are read back by the engine: two images sharing a base, each named in the index', () => {
    const layout = join(tempDir('brickyard-oci-'), 'oci');
    createLayout(layout);
    const base = putBlob(layout, Buffer.alloc(3000, 7));
    const a = putImage(layout, [base, putBlob(layout, 'layer of a')]);
    const b = putImage(layout, [base, putBlob(layout, 'layer of b')]);
    writeIndex(layout, [
      { manifest: a.manifest, refName: 'a_1-1_box-cpu' },
      { manifest: b.manifest, refName: 'b_1-1_box-cpu' },
    ]);

    expect(JSON.parse(readFileSync(join(layout, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(manifestFor(layout, 'b_1-1_box-cpu').digest).toBe(b.manifest.digest);
    const m = readManifestBlob(layout, a.manifest.digest);
    expect(m.config).toMatchObject({ mediaType: 'application/vnd.oci.image.config.v1+json', ...a.config });
    expect(m.layers.map((l) => l.digest)).toEqual([base.digest, expect.not.stringMatching(base.digest)]);
    expect(storedSize(layout, 'a_1-1_box-cpu').compressedBytes).toBe(3000 + 'layer of a'.length + a.config.size);
    // Every blob is stored under its own sha256, and every one is reachable from the two images.
    const blobs = readdirSync(join(layout, 'blobs', 'sha256')).sort();
    for (const hex of blobs)
      expect(
        createHash('sha256')
          .update(readFileSync(join(layout, 'blobs', 'sha256', hex)))
          .digest('hex'),
      ).toBe(hex);
    expect([...reachableBlobs([a.manifest.digest.slice(7), b.manifest.digest.slice(7)], [join(layout, 'blobs', 'sha256')])].sort()).toEqual(blobs);
    expect(blobs).toHaveLength(7); // base, two own layers, two configs, two manifests
  });
});
