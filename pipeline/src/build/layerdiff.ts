/**
 * What makes two builds of the same inputs differ: the files of two image layers compared entry
 * by entry (content, times, mode, owner, link target), each difference named with its likely
 * cause. Used by `build --check-reproducible` when a layer digest differs.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Parser, type ReadEntry } from 'tar';

export interface LayerEntry {
  path: string;
  type: string;
  size: number;
  mode: number;
  owner: string;
  mtime: number;
  linkpath: string;
  sha256: string;
}

export interface FileDifference {
  path: string;
  /** What differs (content, mtime, mode, owner, link, only in one build) and the likely cause. */
  why: string;
}

/** Every entry of a (gzip-compressed or plain) layer tar, by path. */
export async function layerEntries(blob: string): Promise<Map<string, LayerEntry>> {
  const out = new Map<string, LayerEntry>();
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry: ReadEntry) => {
        const hash = createHash('sha256');
        entry.on('data', (chunk: Buffer) => hash.update(chunk));
        entry.on('end', () => {
          const path = entry.path.replace(/^\.?\/+/, '').replace(/\/+$/, '');
          out.set(path, {
            path,
            type: entry.type,
            size: entry.size,
            mode: entry.mode ?? 0,
            owner: `${entry.uid ?? 0}:${entry.gid ?? 0}`,
            mtime: entry.mtime ? Math.floor(entry.mtime.getTime() / 1000) : 0,
            linkpath: entry.linkpath ?? '',
            sha256: hash.digest('hex'),
          });
        });
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    const src = createReadStream(blob);
    src.on('error', reject);
    src.pipe(parser);
  });
  return out;
}

/** The differing files of two layers, sorted by path, at most `limit`. */
export function diffLayers(a: Map<string, LayerEntry>, b: Map<string, LayerEntry>, limit = 20): FileDifference[] {
  const out: FileDifference[] = [];
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const path of paths) {
    const x = a.get(path);
    const y = b.get(path);
    let what: string | undefined;
    if (!x) what = 'only in the second build';
    else if (!y) what = 'only in the first build';
    else if (x.type !== y.type) what = `type ${x.type} vs ${y.type}`;
    else if (x.sha256 !== y.sha256) what = 'content differs';
    else if (x.linkpath !== y.linkpath) what = `link target ${x.linkpath} vs ${y.linkpath}`;
    else if (x.mtime !== y.mtime) what = `modification time ${x.mtime} vs ${y.mtime}`;
    else if (x.mode !== y.mode) what = `mode ${x.mode.toString(8)} vs ${y.mode.toString(8)}`;
    else if (x.owner !== y.owner) what = `owner ${x.owner} vs ${y.owner}`;
    if (!what) continue;
    const cause = likelyCause(path);
    out.push({ path: '/' + path, why: cause ? `${what}: ${cause}` : what });
    if (out.length >= limit) break;
  }
  return out;
}

const CAUSES: [RegExp, string][] = [
  [/^var\/log\//, 'a log file (it records when the build ran); remove it in the step that writes it'],
  [/^var\/cache\/ldconfig\/aux-cache$/, "ldconfig's aux-cache (inode numbers and times); remove it after ldconfig"],
  [/^var\/cache\/apt\//, "apt's package cache; remove /var/cache/apt/*.bin after installing"],
  [/^var\/lib\/apt\/lists\//, "apt's package lists (they change with the mirror); remove them after installing"],
  [/^var\/cache\/debconf\//, "debconf's database (written in hash order)"],
  [/\.pyc$/, 'Python bytecode (it embeds source times); set SOURCE_DATE_EPOCH or do not write bytecode'],
  [/^etc\/ld\.so\.cache$/, "the dynamic linker's cache (follows the libraries installed)"],
  [/^(tmp|var\/tmp)\//, 'a temporary file left behind by a build step'],
  [/^root\//, "a file in root's home (a tool's cache or history)"],
];

function likelyCause(path: string): string | undefined {
  return CAUSES.find(([re]) => re.test(path))?.[1];
}
