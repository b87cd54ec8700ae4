/**
 * Centre image policies that tighten over time: the shipped catalogue against the `local`
 * template's example next policy, each break at the recipe's file:line; the image-level rules
 * on a real OCI layout (a setuid file, the user, a whiteout that removes one).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inspectImage } from '../../pipeline/src/build/inspect.ts';
import { imageBreaks, policyDiagnostics } from '../../pipeline/src/check/image-policy.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { rawTar, sha256 } from '../bundle/fixture.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';

describe('validate --policy next on the shipped catalogue', () => {
  const ws = Workspace.open(repoRoot);

  it("lists the pairs local's next policy would break, at the recipe's line, and nothing for the current policy", () => {
    const next = ws.policyReport('next');
    expect(next.systems).toEqual([{ id: 'local', effective: '2027-06-01', source: expect.stringMatching(/example/), imageRules: ['noRootUser', 'noSetuid'] }]);
    const found = policyDiagnostics(next).map((d) => `${d.file}:${d.line} ${d.rule} ${d.severity}`);
    const lineOf = (file: string, key: string): number =>
      readFileSync(join(repoRoot, file), 'utf8')
        .split('\n')
        .findIndex((l) => l.startsWith(`${key}:`)) + 1;
    expect(found).toContain(`catalog/recipes/stream/5.10/recipe.yaml:${lineOf('catalog/recipes/stream/5.10/recipe.yaml', 'license')} policy-licenses warning`);
    expect(found).toContain(`catalog/recipes/julia-mpi/1.10.5/recipe.yaml:${lineOf('catalog/recipes/julia-mpi/1.10.5/recipe.yaml', 'sizeBudget')} policy-maxImageSize warning`);
    // Only fitting pairs count: GPU recipes do not fit local, so local's policy says nothing of them.
    expect(next.breaks.every((b) => b.system === 'local' && !b.recipe.startsWith('mpi-pingpong-gpu'))).toBe(true);
    expect(ws.policyReport('current').breaks).toEqual([]);
  });
});

describe('image-level rules, read from the OCI layout', () => {
  function layout(layers: { path: string; mode?: number }[][], user?: string): { dir: string; digest: string } {
    const dir = tempDir('brickyard-inspect-');
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    const put = (b: Buffer | string): { digest: string; size: number } => {
      const data = Buffer.from(b);
      writeFileSync(join(dir, 'blobs', 'sha256', sha256(data)), data);
      return { digest: `sha256:${sha256(data)}`, size: data.length };
    };
    const ls = layers.map((entries) => put(gzipSync(tarWithModes(entries))));
    const config = put(JSON.stringify({ config: user === undefined ? {} : { User: user }, rootfs: { type: 'layers', diff_ids: [] } }));
    const manifest = put(
      JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: ls.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
      }),
    );
    return { dir, digest: manifest.digest };
  }

  it('finds setuid files (not those a later layer removes) and the user; the next policy refuses root and setuid', () => {
    const img = layout([
      [
        { path: 'usr/bin/su', mode: 0o4755 },
        { path: 'usr/bin/ok', mode: 0o755 },
        { path: 'usr/bin/gone', mode: 0o2755 },
      ],
      [{ path: 'usr/bin/.wh.gone' }],
    ]);
    const facts = inspectImage(img.dir, img.digest);
    expect(facts.setuidFiles).toEqual(['/usr/bin/su']);
    expect(facts.user).toBe('');
    const rules = { rules: { noRootUser: true, noSetuid: true, maxImageSize: '1 MiB' } };
    expect(imageBreaks(facts, rules).map((b) => b.rule)).toEqual(['noRootUser', 'noSetuid']);
    const clean = layout([[{ path: 'usr/bin/ok', mode: 0o755 }]], '1000:1000');
    expect(imageBreaks(inspectImage(clean.dir, clean.digest), rules)).toEqual([]);
    for (const root of ['root', '0', '0:0', 'root:root'])
      expect(
        imageBreaks({ user: root, setuidFiles: [], uncompressedBytes: 0 }, rules).map((b) => b.rule),
        root,
      ).toEqual(['noRootUser']);
  });
});

/** A tar whose entries carry the given modes (rawTar writes 0644). */
function tarWithModes(entries: { path: string; mode?: number }[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const block = rawTar([{ path: e.path, data: 'x' }], false);
    if (e.mode !== undefined) {
      // ustar mode field: offset 100, 8 bytes of octal; then fix the header checksum (offset 148).
      block.write(e.mode.toString(8).padStart(7, '0') + '\0', 100, 8, 'latin1');
      block.fill(' ', 148, 156);
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += block[i]!;
      block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
    }
    out.push(block);
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}
