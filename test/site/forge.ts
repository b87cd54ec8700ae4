/**
 * What an attacker does to a bundle folder: edit files, then re-sign the manifest (with any
 * signature they can get) and keep checksums.txt consistent, so that only the site's trust
 * checks stand between the forgery and the store.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHECKSUMS, checksumsText, manifestBytes, parseManifest, SIGNATURE, type Manifest } from '../../pipeline/src/bundle/manifest.ts';
import { sha256 } from '../bundle/fixture.ts';

/** Re-sign a folder bundle's manifest (after `edit`) with `sign`, keeping checksums.txt consistent. */
export async function resign(dir: string, edit: (m: Manifest) => void, sign: (bytes: Buffer) => Promise<object>): Promise<void> {
  const m = parseManifest(readFileSync(join(dir, 'manifest.json')));
  edit(m);
  const bytes = manifestBytes(m);
  writeFileSync(join(dir, 'manifest.json'), bytes);
  const sig = Buffer.from(JSON.stringify(await sign(bytes)));
  writeFileSync(join(dir, SIGNATURE), sig);
  const files = [...m.entries.map((e) => ({ path: e.path, sha256: e.sha256 })), { path: 'manifest.json', sha256: sha256(bytes) }, { path: SIGNATURE, sha256: sha256(sig) }];
  writeFileSync(join(dir, CHECKSUMS), checksumsText(files));
}

/** Point the manifest's entry for `path` at the file's current bytes (after the file was replaced). */
export function relist(dir: string, m: Manifest, path: string): void {
  const data = readFileSync(join(dir, path));
  const e = m.entries.find((x) => x.path === path);
  if (!e) throw new Error(`the manifest lists no ${path}`);
  e.sha256 = sha256(data);
  e.size = data.length;
}

/** Drop the manifest's entries whose path matches. */
export function unlist(m: Manifest, match: (path: string) => boolean): void {
  m.entries = m.entries.filter((e) => !match(e.path));
}
