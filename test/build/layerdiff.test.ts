import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffLayers, layerEntries } from '../../pipeline/src/build/layerdiff.ts';
import { tempDir } from '../helpers/fixture.ts';

/** A gzip layer tar of `files` (path -> content; files only, no folder entries), every entry at `mtime`. */
function layer(files: Record<string, string>, mtime = 1700000000, overrides: Record<string, number> = {}): string {
  const dir = tempDir('brickyard-layer-');
  const root = join(dir, 'root');
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  const out = join(dir, 'layer.tar.gz');
  const paths = Object.keys(files).sort();
  for (const p of paths) execFileSync('touch', ['-d', `@${overrides[p] ?? mtime}`, join(root, p)]);
  execFileSync('tar', ['-czf', out, '-C', root, '--owner=0', '--group=0', '--numeric-owner', ...paths]);
  return out;
}

describe('layer differences', () => {
  it('finds nothing in two identical layers', async () => {
    const files = { 'usr/local/bin/probe': 'ELF', 'etc/x.conf': 'a=1\n' };
    expect(diffLayers(await layerEntries(layer(files)), await layerEntries(layer(files)))).toEqual([]);
  });

  it('names a changed log with its cause, a file only in one build, and a changed time', async () => {
    const a = await layerEntries(layer({ 'var/log/apt/history.log': 'Start-Date: 2026-12-03 08:00\n', 'usr/bin/tool': 'x', 'usr/share/a': 'same' }));
    const b = await layerEntries(layer({ 'var/log/apt/history.log': 'Start-Date: 2026-12-03 08:05\n', 'usr/share/a': 'same', 'tmp/leftover': 'y' }));
    const d = diffLayers(a, b);
    expect(d).toEqual([
      { path: '/tmp/leftover', why: 'only in the second build: a temporary file left behind by a build step' },
      { path: '/usr/bin/tool', why: 'only in the first build' },
      { path: '/var/log/apt/history.log', why: 'content differs: a log file (it records when the build ran); remove it in the step that writes it' },
    ]);
  });

  it('tells a time difference from a content difference', async () => {
    const files = { 'var/cache/ldconfig/aux-cache': 'c' };
    const d = diffLayers(await layerEntries(layer(files, 1700000000)), await layerEntries(layer(files, 1700000000, { 'var/cache/ldconfig/aux-cache': 1700000500 })));
    expect(d).toHaveLength(1);
    expect(d[0]!.path).toBe('/var/cache/ldconfig/aux-cache');
    expect(d[0]!.why).toMatch(/^modification time 1700000000 vs 1700000500: ldconfig's aux-cache/);
  });
});
