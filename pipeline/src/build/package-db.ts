/**
 * The OS packages an image's root file system records: Debian dpkg status (and status.d, as
 * distroless images keep it), RPM databases queried with the host's rpm, the distribution from
 * os-release; read without following a symlink out of the root. The SBOM (sbom.ts) is made of them.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { delimiter, join, relative, resolve } from 'node:path';
import { BrickyardError, type ErrorCode } from '../util/errors.ts';
import { group } from '../util/match.ts';

export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
  /** dpkg `Source:` (the source package's name); for RPM the SOURCERPM file name. */
  source?: string;
  /** dpkg `Source: name (version)`: the source package's version when it differs from `version`. */
  sourceVersion?: string;
  /** SPDX licence expression or the package's own licence text (RPM `License`). */
  license?: string;
  /** dpkg `Maintainer` ("Name <email>"), RPM `Vendor`. */
  supplier?: string;
  homepage?: string;
  manager: 'dpkg' | 'rpm';
  /** dpkg `Multi-Arch` (same, foreign, allowed). */
  multiArch?: string;
  /** RPM epoch, when set (dpkg keeps the epoch inside `version`, as "1:2.38.1-5"). */
  epoch?: string;
  /** purl namespace: the distribution's os-release ID (debian, ubuntu, rocky, …). */
  namespace?: string;
  /** purl `distro` qualifier: "<ID>-<VERSION_ID>" from os-release, e.g. debian-12. */
  distro?: string;
}

export type SbomProblem = 'RPM_COMMAND_MISSING' | 'RPM_QUERY_FAILED' | 'PACKAGE_DB_UNREADABLE' | 'INVALID_INPUT';

/** A failure making an SBOM; `problem` says which, `hint` what to do. */
export class SbomError extends BrickyardError {
  readonly problem: SbomProblem;
  constructor(problem: SbomProblem, message: string, options: { hint?: string; cause?: unknown } = {}) {
    const code: ErrorCode =
      problem === 'RPM_COMMAND_MISSING' ? 'TOOL_MISSING' : problem === 'RPM_QUERY_FAILED' ? 'TOOL_FAILED' : problem === 'INVALID_INPUT' ? 'USAGE' : 'FILE_UNREADABLE';
    super(code, message, options);
    this.name = 'SbomError';
    this.problem = problem;
  }
}

// ---------------------------------------------------------------------------------------------
// dpkg

export interface DpkgParseOptions {
  /**
   * Count stanzas without a Status field as installed. Distroless images keep one stanza per
   * package under var/lib/dpkg/status.d/, without Status; the main status file always has one.
   */
  assumeInstalled?: boolean;
}

/**
 * Parse a dpkg status file (deb822 stanzas). Keeps the packages that are on disk: Status
 * "<want> ok installed" — "install ok installed", and also "hold ok installed" (a held package
 * is installed). Skips config-files remnants, half-installed and not-installed entries.
 */
export function parseDpkgStatus(text: string, options: DpkgParseOptions = {}): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  for (const fields of deb822Stanzas(text)) {
    const status = fields.get('status');
    if (status === undefined) {
      if (!options.assumeInstalled) continue;
    } else {
      const [, flag, state] = status.trim().split(/\s+/);
      if (flag !== 'ok' || state !== 'installed') continue;
    }
    const name = fields.get('package')?.trim();
    const version = fields.get('version')?.trim();
    if (!name || !version) continue;
    const pkg: InstalledPackage = { name, version, arch: fields.get('architecture')?.trim() ?? '', manager: 'dpkg' };
    const source = fields.get('source')?.trim();
    if (source) {
      const m = /^(\S+)(?:\s*\(\s*([^)\s]+)\s*\))?$/.exec(source);
      if (m) {
        pkg.source = group(m, 1);
        if (m[2] !== undefined && m[2] !== version) pkg.sourceVersion = m[2];
      } else {
        pkg.source = source;
      }
    }
    const maintainer = oneLine(fields.get('maintainer'));
    if (maintainer) pkg.supplier = maintainer;
    const homepage = oneLine(fields.get('homepage'));
    if (homepage) pkg.homepage = homepage;
    const multiArch = fields.get('multi-arch')?.trim();
    if (multiArch) pkg.multiArch = multiArch;
    out.push(pkg);
  }
  return out;
}

/** deb822: stanzas split by blank lines; "Field: value"; lines that start with space or tab continue the field. */
function deb822Stanzas(text: string): Map<string, string>[] {
  const stanzas: Map<string, string>[] = [];
  let current = new Map<string, string>();
  let last: string | undefined;
  const flush = (): void => {
    if (current.size > 0) stanzas.push(current);
    current = new Map();
    last = undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (last !== undefined) current.set(last, `${current.get(last)}\n${line.slice(1)}`);
      continue;
    }
    if (line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    last = line.slice(0, colon).trim().toLowerCase();
    current.set(last, line.slice(colon + 1).trim());
  }
  flush();
  return stanzas;
}

export function oneLine(s: string | undefined): string | undefined {
  const v = s?.replace(/\s+/g, ' ').trim();
  return v === '' ? undefined : v;
}

// ---------------------------------------------------------------------------------------------
// RPM

const RPM_FIELDS = ['NAME', 'EPOCH', 'VERSION', 'RELEASE', 'ARCH', 'LICENSE', 'VENDOR', 'URL', 'SOURCERPM'] as const;
/** One package a line, fields split by tabs; rpm expands \t and \n itself. */
export const RPM_QUERY_FORMAT = RPM_FIELDS.map((f) => `%{${f}}`).join('\\t') + '\\n';

/** Parse the output of `rpm -qa --queryformat RPM_QUERY_FORMAT`. Skips gpg-pubkey pseudo-packages. */
export function parseRpmQuery(text: string): InstalledPackage[] {
  const out: InstalledPackage[] = [];
  const none = (s: string | undefined): string | undefined => {
    const v = s?.trim();
    return v && v !== '(none)' ? v : undefined;
  };
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    const [name, epoch, version, release, arch, license, vendor, url, sourceRpm] = line.split('\t').map(none);
    if (!name || !version || name === 'gpg-pubkey') continue;
    const pkg: InstalledPackage = { name, version: release ? `${version}-${release}` : version, arch: arch ?? '', manager: 'rpm' };
    if (epoch) pkg.epoch = epoch;
    if (sourceRpm) pkg.source = sourceRpm;
    if (license) pkg.license = license;
    if (vendor) pkg.supplier = vendor;
    if (url) pkg.homepage = url;
    out.push(pkg);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading an image root

export interface ReadOptions {
  /** The rpm executable to run; null: behave as if there were none. Default: `rpm` on PATH. */
  rpmCommand?: string | null;
  /** The PATH searched for rpm (default process.env.PATH). */
  path?: string;
}

const RPM_DB_DIRS = ['var/lib/rpm', 'usr/lib/sysimage/rpm'];
const RPM_DB_FILES = ['rpmdb.sqlite', 'Packages', 'Packages.db'];

/**
 * The packages installed in an unpacked or mounted image root. Reads var/lib/dpkg/status and
 * var/lib/dpkg/status.d/* (distroless), and the RPM database through `rpm --root` when the image
 * has one. Paths are resolved inside the root: an absolute symlink in the image never reads the
 * host's files. Sorted by manager, name, architecture, version; duplicates dropped. An image
 * without any package database gives an empty list.
 */
export function readInstalledPackages(rootfs: string, options: ReadOptions = {}): InstalledPackage[] {
  const root = resolve(rootfs);
  if (!isDir(root)) throw new SbomError('PACKAGE_DB_UNREADABLE', `image root ${rootfs} is not a directory`);
  const os = readOsRelease(root);
  const found: InstalledPackage[] = [];

  const status = resolveInRoot(root, 'var/lib/dpkg/status');
  if (status && isFile(status)) found.push(...parseDpkgStatus(readText(status)));
  const statusD = resolveInRoot(root, 'var/lib/dpkg/status.d');
  if (statusD && isDir(statusD)) {
    for (const f of readdirSync(statusD).sort()) {
      if (f.endsWith('.md5sums') || f.startsWith('.')) continue;
      const p = resolveInRoot(root, `var/lib/dpkg/status.d/${f}`);
      if (p && isFile(p)) found.push(...parseDpkgStatus(readText(p), { assumeInstalled: true }));
    }
  }

  const dbDir = RPM_DB_DIRS.map((d) => resolveInRoot(root, d)).find((d): d is string => d !== undefined && isDir(d) && RPM_DB_FILES.some((f) => isFile(join(d, f))));
  if (dbDir) found.push(...queryRpm(root, '/' + relative(root, dbDir).split('\\').join('/'), options));

  for (const p of found) {
    if (os.id) p.namespace ??= os.id;
    if (os.id && os.versionId) p.distro ??= `${os.id}-${os.versionId}`;
  }
  return dedupeSorted(found);
}

function queryRpm(root: string, dbPath: string, options: ReadOptions): InstalledPackage[] {
  const rpm = options.rpmCommand === undefined ? findOnPath('rpm', options.path ?? process.env.PATH ?? '') : options.rpmCommand;
  if (!rpm) {
    throw new SbomError('RPM_COMMAND_MISSING', `the image at ${root} has an RPM database (${dbPath}) but there is no \`rpm\` command here to read it`, {
      hint: 'install rpm on the machine that makes the SBOM (Debian/Ubuntu: apt-get install rpm; Fedora/RHEL/Rocky: dnf install rpm) and run again',
    });
  }
  let text: string;
  try {
    text = execFileSync(rpm, ['--root', root, '--dbpath', dbPath, '-qa', '--queryformat', RPM_QUERY_FORMAT], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
      timeout: 300_000,
      env: { ...process.env, LC_ALL: 'C' },
    });
  } catch (e) {
    const stderr = String((e as { stderr?: string | Buffer }).stderr ?? '').trim();
    throw new SbomError('RPM_QUERY_FAILED', `\`${rpm} --root ${root} -qa\` failed${stderr ? `: ${stderr}` : ''}`, {
      hint: "the host rpm must read the image's database format (sqlite for RHEL 9 and later, Berkeley DB for RHEL 8): use an rpm as new as the image's",
      cause: e,
    });
  }
  return parseRpmQuery(text);
}

function findOnPath(cmd: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      if (isFile(p)) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** os-release (etc/, then usr/lib/): ID and VERSION_ID, unquoted. */
function readOsRelease(root: string): { id?: string; versionId?: string } {
  for (const rel of ['etc/os-release', 'usr/lib/os-release']) {
    const p = resolveInRoot(root, rel);
    if (!p || !isFile(p)) continue;
    const vars = new Map<string, string>();
    for (const line of readText(p).split(/\r?\n/)) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) vars.set(group(m, 1), group(m, 2).replace(/^(["'])(.*)\1$/, '$2'));
    }
    const out: { id?: string; versionId?: string } = {};
    const id = vars.get('ID')?.toLowerCase();
    if (id) out.id = id;
    const versionId = vars.get('VERSION_ID');
    if (versionId) out.versionId = versionId;
    return out;
  }
  return {};
}

/**
 * Resolve `rel` inside `root` as if `root` were `/`: symlinks are followed, absolute targets start
 * again at `root`, and `..` never climbs above it. Undefined when a component does not exist.
 */
function resolveInRoot(root: string, rel: string): string | undefined {
  let pending = rel.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let hops = 0;
  let part: string | undefined;
  while ((part = pending.shift()) !== undefined) {
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    let link: boolean;
    try {
      link = lstatSync(host).isSymbolicLink();
    } catch {
      return undefined;
    }
    if (!link) {
      done.push(part);
      continue;
    }
    if (++hops > 40) return undefined;
    const target = readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    pending = [...target.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
  }
  return join(root, ...done);
}

function readText(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch (e) {
    throw new SbomError('PACKAGE_DB_UNREADABLE', `cannot read ${p}: ${(e as Error).message}`, { cause: e });
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Code-point order, the same on every machine and locale. */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function packageKey(p: InstalledPackage): string[] {
  return [p.manager, p.name, p.arch, p.epoch ?? '', p.version];
}

export function dedupeSorted(pkgs: readonly InstalledPackage[]): InstalledPackage[] {
  const seen = new Set<string>();
  const out: InstalledPackage[] = [];
  // The full record breaks ties, so which of two same-key entries is kept never depends on input order.
  const full = (p: InstalledPackage): string[] => [...packageKey(p), canonical(p)];
  for (const p of [...pkgs].sort((a, b) => cmpKeys(full(a), full(b)))) {
    const k = JSON.stringify(packageKey(p));
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(p);
  }
  return out;
}

/** JSON with the keys sorted: the same text for the same flat record, however it was built. */
export function canonical(o: object): string {
  return JSON.stringify(o, Object.keys(o).sort());
}

export function cmpKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = cmp(a[i] ?? '', b[i] ?? '');
    if (c !== 0) return c;
  }
  return 0;
}
