/**
 * The lock: every pinned input of one rendered pair, with digests, so the same lock means the
 * same build. Its own digest (over everything but itself) names the pair's inputs in one value.
 */
import { readFileSync } from 'node:fs';
import { sha256Hex } from '../util/hash.ts';
import type { Composition } from './compose.ts';

export interface RenderedOutputs {
  containerfile: string;
  apptainer: string;
  jobscript: string;
}

export function renderLock(c: Composition, outputs: RenderedOutputs): string {
  const lock = {
    lockVersion: 1,
    recipe: {
      name: c.recipe.doc.name,
      version: c.recipe.doc.version,
      revision: c.recipe.doc.revision,
      files: c.recipe.chain.map((e) => ({ path: e.file.rel, sha256: sha256Hex(e.file.text) })),
    },
    system: {
      id: c.system.id,
      partition: c.partition.id,
      arch: c.target.arch,
      file: `systems/${c.system.id}.yaml`,
      sha256: sha256Hex(c.systemFile.text),
    },
    base: {
      name: c.base.name,
      reference: c.base.reference,
      digest: c.base.digest ?? null,
      hostBuilt: c.base.hostBuilt ? true : false,
      from: c.base.from,
    },
    mpiStrategy: c.strategy ? { id: c.strategy.id, abi: c.strategy.abi, block: c.strategy.block } : null,
    blocks: c.blocks.map((b) => ({
      name: b.name,
      ...(b.slot ? { slot: b.slot } : {}),
      parameters: sortKeys(b.params),
      file: b.entry.file.rel,
      sha256: sha256Hex(b.entry.file.text),
    })),
    sources: c.sources.map((s) => ({ name: s.name, url: s.url, sha256: s.sha256, contextPath: s.contextPath, origin: s.origin })),
    context: c.context.map((f) => ({ path: f.path, sha256: sha256Hex(readFileSync(f.abs)) })),
    outputs: {
      Containerfile: sha256Hex(outputs.containerfile),
      'apptainer.def': sha256Hex(outputs.apptainer),
      'job.sh': sha256Hex(outputs.jobscript),
    },
  };
  const digest = sha256Hex(JSON.stringify(lock));
  return JSON.stringify({ ...lock, lockDigest: `sha256:${digest}` }, null, 2) + '\n';
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
