/**
 * Names from a bundle that become paths in a site store, and the second line behind them.
 *
 * First line: every such name (bundle id, recipe, version, system, partition, image refName) is
 * held to a strict pattern by the schemas (manifest.schema.json, build-record.schema.json): no
 * slash, no leading dot, no control character. Second line: every path the store writes is
 * built through `confined`, which resolves it and refuses one that is not strictly inside the
 * store (the store's own folder resolved through any links, and the path's nearest existing
 * ancestor too, so a link planted inside the store does not lead out).
 */
import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { BundleError } from '../bundle/errors.ts';
import { BrickyardError } from '../util/errors.ts';
import { siteValidator } from '../util/site-validators.ts';

export interface BuildRecordNames {
  recipe: { name: string; version: string };
  system: string;
  partition: string;
  image: { refName: string; manifestDigest: string };
}

/** A JSON record inside a bundle (build.json, a smoke report) is small; a larger one is refused before parsing. */
export const MAX_JSON_ENTRY_BYTES = 16 * 2 ** 20;

/** Check the names in a build record a store will use; throws naming the entry and the field. */
export function checkBuildRecord(data: unknown, entry: string): BuildRecordNames {
  const validator = siteValidator('buildRecord');
  if (!validator(data)) {
    const first = (validator.errors ?? [])[0];
    const where = first?.instancePath ? first.instancePath.slice(1).replace(/\//g, '.') : 'the record';
    throw new BundleError(
      'BUNDLE_INVALID',
      'name',
      `${entry}: ${where} ${first?.message ?? 'is invalid'} (a name that becomes a path in the store must match the schema's pattern)`,
      entry,
      {
        hint: 'the bundle was made by a tool that does not follow pipeline/schemas/build-record.schema.json, or was forged; it is not imported',
      },
    );
  }
  return data as BuildRecordNames;
}

function realOrNearest(p: string): string {
  let cur = p;
  const rest: string[] = [];
  for (;;) {
    try {
      return resolve(realpathSync(cur), ...rest.reverse());
    } catch {
      const up = dirname(cur);
      if (up === cur) return p;
      rest.push(cur.slice(up.length + (up.endsWith(sep) ? 0 : 1)));
      cur = up;
    }
  }
}

/**
 * `root` joined with `parts`, after checking that the result is strictly inside `root` (also
 * once links are followed). Throws PATH_OUTSIDE_STORE otherwise: nothing is written.
 */
export function confined(root: string, ...parts: string[]): string {
  const base = resolve(root);
  const target = resolve(base, ...parts);
  const rel = relative(base, target);
  const inside = (r: string): boolean => r !== '' && !isAbsolute(r) && !r.split(sep).includes('..');
  if (!inside(rel)) refuseOutside(target, base);
  const realBase = realOrNearest(base);
  const realTarget = realOrNearest(target);
  const realRel = relative(realBase, realTarget);
  if (!inside(realRel)) refuseOutside(realTarget, realBase);
  return target;
}

function refuseOutside(target: string, base: string): never {
  throw new BrickyardError('PATH_OUTSIDE_STORE', `refusing to write ${target}: it is not inside ${base}`, {
    hint: 'a name from the bundle or the store would lead outside the store; nothing was written',
  });
}
