/**
 * A site upgrades its tool (the site executable) only from a bundle it has imported: the bundle
 * was verified, signature and every byte, by the tool it already trusts, and the new executable
 * is an entry of its signed manifest (role `tool`, with its version). Here the executable is
 * hashed again against that manifest (nothing in the store changed it since), refused if it is
 * not newer than the running one (rollback), and installed by one atomic rename.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import semver from 'semver';
import type { Manifest, ManifestEntry } from '../bundle/manifest.ts';
import { BrickyardError } from '../util/errors.ts';
import { exportInventory } from './store.ts';

export interface ToolUpgrade {
  bundleId: string;
  serial: number;
  from: string;
  to: string;
  sha256: string;
  installed: string;
}

/** The executable's name in a bundle for a Node `process.arch`. */
export function toolName(arch: string): string {
  return `brickyard-linux-${arch}`;
}

function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** The newest imported bundle (highest serial) that carries the executable for `arch`. */
export function findTool(store: string, arch: string): { bundleId: string; serial: number; entry: ManifestEntry; file: string } | undefined {
  const path = `tool/${toolName(arch)}`;
  const bundles = [...exportInventory(store).bundles].sort((a, b) => b.serial - a.serial);
  for (const b of bundles) {
    const dir = join(store, 'current', 'bundles', b.bundleId);
    const manifestPath = join(dir, 'manifest.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
    const entry = manifest.entries.find((e) => e.path === path && e.role === 'tool');
    if (entry) return { bundleId: b.bundleId, serial: b.serial, entry, file: join(dir, path) };
  }
  return undefined;
}

export function upgradeTool(store: string, opts: { to: string; currentVersion: string; arch?: string }): ToolUpgrade {
  const arch = opts.arch ?? process.arch;
  const found = findTool(store, arch);
  if (!found) {
    throw new BrickyardError('TOOL_NOT_IN_STORE', `no bundle imported into ${store} carries ${toolName(arch)}`, {
      hint: 'import a release bundle made with `brickyard bundle --tool dist/sea/brickyard-linux-<arch>`',
    });
  }
  const { entry, file } = found;
  const version = entry.version ?? '';
  if (!semver.valid(version)) throw new BrickyardError('BUNDLE_INVALID', `${entry.path} in bundle ${found.bundleId} names no version (got ${JSON.stringify(version)})`);
  if (!semver.gt(version, opts.currentVersion)) {
    throw new BrickyardError('ROLLBACK', `${entry.path} of bundle ${found.bundleId} is version ${version}, not newer than the running ${opts.currentVersion}`, {
      hint: 'a site tool only moves forward; import a bundle of a newer release',
    });
  }
  // Copy next to the target, check what was copied against the signed manifest, then rename over it.
  const tmp = join(dirname(opts.to), `.${basename(opts.to)}.new-${randomBytes(4).toString('hex')}`);
  try {
    copyFileSync(file, tmp);
    const got = sha256File(tmp);
    if (got !== entry.sha256) {
      throw new BrickyardError(
        'BUNDLE_MISMATCH',
        `${file} does not match its sha256 in the signed manifest of bundle ${found.bundleId} (got ${got.slice(0, 16)}…, expected ${entry.sha256.slice(0, 16)}…)`,
        {
          hint: 'the store was altered after the import; check it (brickyard audit) and import the bundle again',
        },
      );
    }
    chmodSync(tmp, 0o755);
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, opts.to);
  } finally {
    rmSync(tmp, { force: true });
  }
  return { bundleId: found.bundleId, serial: found.serial, from: opts.currentVersion, to: version, sha256: entry.sha256, installed: opts.to };
}
