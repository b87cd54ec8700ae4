/**
 * Reading the site's pinned trusted root: a regular file, not too large, whose sha256 is checked
 * against the policy's pin before a byte of it is parsed; each failure a typed error naming it.
 */
import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { BundleError } from '../bundle/errors.ts';
import { BrickyardError } from '../util/errors.ts';

/** A trusted root is a few kilobytes; far larger is not one. */
export const MAX_TRUSTED_ROOT_BYTES = 4 * 2 ** 20;

function invalid(path: string, why: string, hint: string): never {
  throw new BrickyardError('TRUSTED_ROOT_INVALID', `the trusted root ${path} ${why}`, { hint });
}

/** The bytes of the trusted root, after checking the pin (when given). */
export function readTrustedRoot(path: string, pinnedSha256?: string): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') invalid(path, 'does not exist', 'set trustedRoot.path in the site policy (or --trusted-root) to the trusted_root.json the site pinned');
    return invalid(path, `cannot be read (${code ?? (e as Error).message})`, 'check its permissions');
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) invalid(path, 'is a folder, not a file', 'give the trusted_root.json file itself');
    if (!st.isFile()) invalid(path, 'is not a regular file', 'give the trusted_root.json file itself');
    if (st.size > MAX_TRUSTED_ROOT_BYTES) invalid(path, `is ${st.size} bytes, over ${MAX_TRUSTED_ROOT_BYTES}: not a trusted root`, 'give the trusted_root.json the site pinned');
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, null);
      if (n === 0) break;
      got += n;
    }
    const bytes = buf.subarray(0, got);
    if (pinnedSha256 !== undefined) {
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== pinnedSha256) {
        throw new BundleError('POLICY_REFUSED', 'trusted-root', `the trusted root ${path} (sha256 ${sha}) is not the one the site policy pins (${pinnedSha256})`, undefined, {
          hint: 'use the trusted root the site pinned; a different root is never accepted',
        });
      }
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/** The trusted root parsed, after the pin was checked. */
export function loadTrustedRoot(path: string, pinnedSha256?: string): Record<string, unknown> {
  const bytes = readTrustedRoot(path, pinnedSha256);
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return invalid(path, `is not JSON (${(e as Error).message})`, 'give the trusted_root.json the site pinned');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) invalid(path, 'is not a JSON object', 'give the trusted_root.json the site pinned');
  return doc as Record<string, unknown>;
}
