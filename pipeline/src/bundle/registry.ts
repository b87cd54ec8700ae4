/**
 * Pushing images from an OCI image layout into a registry with skopeo, keeping their manifest
 * digests (what the signatures name). Used by the publish action on the connected side and by
 * `brickyard import --registry` at a site.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrickyardError } from '../util/errors.ts';
import { runOk, which } from '../util/exec.ts';
import { group } from '../util/match.ts';

export interface Registry {
  host: string;
  prefix: string;
  /** Plain HTTP allowed: only for a registry on this machine. */
  insecure: boolean;
}

/** HOST[:PORT][/PREFIX], checked: the parts go on a skopeo command line. */
export function parseRegistry(spec: string): Registry {
  const m = /^((?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(?::[0-9]{1,5})?)(?:\/([a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*))?$/.exec(spec);
  if (!m) throw new BrickyardError('USAGE', `registry must be HOST[:PORT]/PREFIX (lower-case path), got ${JSON.stringify(spec)}`);
  const hostname = group(m, 1).replace(/:[0-9]+$/, '');
  return { host: group(m, 1), prefix: m[2] ?? '', insecure: hostname === '127.0.0.1' || hostname === 'localhost' };
}

export interface ImageToPush {
  refName: string;
  manifestDigest: string;
  recipe: string;
  version: string;
  system: string;
  partition: string;
}

/** Push each image; fails when the registry stores another digest than the layout's. */
export async function pushImages(layout: string, images: readonly ImageToPush[], registry: Registry, log?: (s: string) => void): Promise<{ reference: string; digest: string }[]> {
  if (!which('skopeo')) throw new BrickyardError('TOOL_MISSING', 'pushing to a registry needs skopeo', { hint: 'apt-get install skopeo (scripts/setup-host.sh installs it)' });
  const pushed: { reference: string; digest: string }[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'brickyard-push-'));
  try {
    for (const [i, img] of images.entries()) {
      const name = img.recipe.toLowerCase();
      const tag = `${img.version}-${img.system}-${img.partition}`.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 128);
      const reference = `${registry.host}/${registry.prefix ? `${registry.prefix}/` : ''}${name}:${tag}`;
      const digestFile = join(tmp, `digest-${i}`);
      await runOk(
        'skopeo',
        [
          'copy',
          '--quiet',
          '--preserve-digests',
          '--digestfile',
          digestFile,
          ...(registry.insecure ? ['--dest-tls-verify=false'] : []),
          `oci:${layout}:${img.refName}`,
          `docker://${reference}`,
        ],
        {
          what: `skopeo copy of ${img.refName} to ${reference}`,
        },
      );
      const digest = readFileSync(digestFile, 'utf8').trim();
      if (digest !== img.manifestDigest) {
        throw new BrickyardError('PUSH_MISMATCH', `pushed ${reference} as ${digest}, but the image's manifest digest is ${img.manifestDigest}`);
      }
      pushed.push({ reference, digest });
      log?.(`pushed ${reference}@${digest}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return pushed;
}
