/**
 * The build context of one rendered pair: the Containerfile and Apptainer definition, the files
 * the recipe and its blocks copy, and the verified pinned sources, under the paths the rendered
 * files name. Everything a rebuild needs, offline.
 */
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Rendered } from '../render/index.ts';
import { ensureSource } from './sources.ts';

export interface BuildContext {
  dir: string;
  containerfile: string;
  apptainer: string;
}

export async function writeContext(rendered: Rendered, dir: string, cacheDir: string, fetchImpl?: typeof fetch): Promise<BuildContext> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const c = rendered.composition;
  for (const f of c.context) {
    const dest = join(dir, f.path);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(f.abs, dest);
  }
  for (const s of c.sources) {
    const cached = await ensureSource(s, cacheDir, fetchImpl);
    const dest = join(dir, s.contextPath);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(cached, dest);
  }
  const containerfile = join(dir, 'Containerfile');
  const apptainer = join(dir, 'apptainer.def');
  writeFileSync(containerfile, rendered.files.containerfile);
  writeFileSync(apptainer, rendered.files.apptainer);
  writeFileSync(join(dir, 'lock.json'), rendered.files.lock);
  return { dir, containerfile, apptainer };
}
