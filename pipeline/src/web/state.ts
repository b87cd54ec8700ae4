/**
 * What the catalogue site shows beyond the catalogue itself, read from a state folder when it is
 * there: build records, smoke reports, a bundle manifest and the Sigstore bundles beside them.
 * Everything here is read tolerantly: a file that is missing, unreadable or of another shape is
 * left out (and counted), never fatal, because the site must build from a bare checkout too.
 * Signer identities are read from the certificates for display only; they are not verified here
 * (`brickyard verify` does that, offline, against a pinned trusted root).
 */
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Header } from 'tar/header';
import { PAIR_FILES, pairFolder, smokeLauncherOf, stateLayout } from '../state/layout.ts';
import { num, obj, parseJson, readJson, str } from './json.ts';
import { readSignature, signatureOf, type Signature } from './signature.ts';

export { readSignature, type Signature };

export interface SbomPackage {
  name: string;
  version: string;
  license: string;
}

export interface BuildInfo {
  file: string;
  /** The image's name in the OCI layout (and in a site store): `<recipe>_<version>-<revision>_<system>-<partition>`. */
  refName: string;
  /** When the build ran (not SOURCE_DATE_EPOCH, which is the inputs' commit time). */
  startedOn: string | undefined;
  finishedOn: string | undefined;
  /** Packages of the SPDX SBOM next to the record, when it is there. */
  sbomPackages: SbomPackage[] | undefined;
  recipe: string;
  system: string;
  partition: string;
  builder: string;
  reference: string;
  manifestDigest: string;
  uncompressedBytes: number | undefined;
  compressedBytes: number | undefined;
  budget: string | undefined;
  created: string | undefined;
  reproducible: boolean | null;
}

export interface SmokeTestInfo {
  name: string;
  kind: string;
  verdict: string;
  summary: string;
  latencyUs: number | undefined;
  bandwidthMBps: number | undefined;
}

export interface SmokeInfo {
  file: string;
  recipe: string;
  system: string;
  partition: string;
  launcher: string;
  result: string;
  finishedOn: string | undefined;
  tests: SmokeTestInfo[];
}

export interface ManifestEntry {
  path: string;
  size: number | undefined;
  sha256: string | undefined;
  role: string | undefined;
  recipe: string | undefined;
  system: string | undefined;
}

export interface ManifestInfo {
  file: string;
  id: string | undefined;
  serial: number | undefined;
  source: string | undefined;
  commit: string | undefined;
  created: string | undefined;
  systems: string[];
  entries: ManifestEntry[];
  signature: Signature | undefined;
  /** Signatures of entries (attestations), by entry path. */
  entrySignatures: Map<string, Signature>;
}

export interface SiteState {
  builds: BuildInfo[];
  smokes: SmokeInfo[];
  manifest: ManifestInfo | undefined;
  /** Sigstore bundles found in each build folder, by pair key. */
  pairSignatures: Map<string, Signature[]>;
  /** Files that looked like state but could not be read. */
  skipped: string[];
}

/** `recipe@version system/partition`. */
export function pairKey(recipe: string, system: string, partition: string): string {
  return `${recipe} ${system}/${partition}`;
}

const EMPTY = (): SiteState => ({ builds: [], smokes: [], manifest: undefined, pairSignatures: new Map(), skipped: [] });

export function readState(stateDir: string | undefined, manifestPath?: string): SiteState {
  const state = EMPTY();
  if (stateDir && existsSync(stateLayout(stateDir).builds)) {
    for (const dir of walkDirs(stateLayout(stateDir).builds, 4)) readPairDir(dir, state);
  }
  const manifest = manifestPath ?? (stateDir ? findManifest(stateDir) : undefined);
  if (manifest) {
    const m = readManifest(manifest, state);
    if (m) state.manifest = m;
  }
  state.builds.sort((a, b) => cmp(pairKey(a.recipe, a.system, a.partition), pairKey(b.recipe, b.system, b.partition)));
  state.smokes.sort((a, b) => cmp(pairKey(a.recipe, a.system, a.partition) + a.launcher, pairKey(b.recipe, b.system, b.partition) + b.launcher));
  return state;
}

function readPairDir(dir: string, state: SiteState): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  let key: string | undefined;
  const pair = pairFolder(dir);
  if (names.includes(PAIR_FILES.buildRecord)) {
    const file = pair.buildRecord;
    const b = readJson(file);
    const r = obj(b?.['recipe']);
    if (b?.['kind'] === 'brickyard-build' && r && typeof b['system'] === 'string' && typeof b['partition'] === 'string') {
      const image = obj(b['image']) ?? {};
      const sizes = obj(b['sizes']) ?? {};
      const repro = obj(b['reproducible']) ?? {};
      const info: BuildInfo = {
        file,
        recipe: `${str(r['name'])}@${str(r['version'])}`,
        system: b['system'],
        partition: b['partition'],
        refName: str(image['refName']),
        startedOn: typeof b['startedOn'] === 'string' ? b['startedOn'] : undefined,
        finishedOn: typeof b['finishedOn'] === 'string' ? b['finishedOn'] : undefined,
        sbomPackages: names.includes(PAIR_FILES.sbom) ? readSbomPackages(pair.sbom) : undefined,
        builder: str(b['builder']),
        reference: str(image['reference']),
        manifestDigest: str(image['manifestDigest']),
        uncompressedBytes: num(sizes['uncompressedBytes']),
        compressedBytes: num(sizes['compressedBytes']),
        budget: typeof sizes['budget'] === 'string' ? sizes['budget'] : undefined,
        created: typeof b['created'] === 'string' ? b['created'] : undefined,
        reproducible: repro['checked'] === true ? repro['identical'] === true : null,
      };
      state.builds.push(info);
      key = pairKey(info.recipe, info.system, info.partition);
    } else state.skipped.push(file);
  }
  for (const name of names.filter((n) => smokeLauncherOf(n) !== undefined)) {
    const file = join(dir, name);
    const s = readJson(file);
    if (s?.['kind'] !== 'brickyard-smoke' || typeof s['recipe'] !== 'string' || typeof s['system'] !== 'string' || typeof s['partition'] !== 'string') {
      state.skipped.push(file);
      continue;
    }
    const tests = Array.isArray(s['tests']) ? s['tests'] : [];
    state.smokes.push({
      file,
      recipe: s['recipe'],
      system: s['system'],
      partition: s['partition'],
      launcher: typeof s['launcher'] === 'string' ? s['launcher'] : name.slice(6, -5),
      result: str(s['result']) || 'UNKNOWN',
      finishedOn: typeof s['finishedOn'] === 'string' ? s['finishedOn'] : undefined,
      tests: tests
        .map(obj)
        .filter((t): t is Record<string, unknown> => t !== undefined)
        .map((t) => {
          const f = obj(t['figures']) ?? {};
          return {
            name: str(t['name']),
            kind: str(t['kind']),
            verdict: str(t['verdict']) || 'UNKNOWN',
            summary: str(t['summary']),
            latencyUs: num(f['latency_8B_us']),
            bandwidthMBps: num(f['bandwidth_4MiB_MBps']),
          };
        }),
    });
    key ??= pairKey(s['recipe'], s['system'], s['partition']);
  }
  const bundles = names.filter((n) => n.endsWith('.sigstore.json'));
  if (key && bundles.length > 0) {
    const sigs = bundles.map((n) => readSignature(join(dir, n))).filter((x): x is Signature => x !== undefined);
    if (sigs.length > 0) state.pairSignatures.set(key, sigs);
  }
}

/** The SBOM's packages (name, version, concluded or declared licence), sorted by name. */
function readSbomPackages(file: string): SbomPackage[] | undefined {
  const doc = readJson(file);
  if (!doc || !Array.isArray(doc['packages'])) return undefined;
  const lic = (p: Record<string, unknown>): string => {
    for (const k of ['licenseConcluded', 'licenseDeclared']) {
      const v = p[k];
      if (typeof v === 'string' && v !== 'NOASSERTION' && v !== 'NONE') return v;
    }
    return '';
  };
  return doc['packages']
    .map(obj)
    .filter((p): p is Record<string, unknown> => p !== undefined && typeof p['name'] === 'string')
    .map((p) => ({ name: p['name'] as string, version: str(p['versionInfo']), license: lic(p) }))
    .sort((a, b) => cmp(a.name + ' ' + a.version, b.name + ' ' + b.version));
}

/**
 * The newest bundle manifest in the state folder: a bundle folder or an unpacked manifest, or a
 * `.tar` bundle (its manifest is the first entry). The highest serial wins, then the latest name.
 */
function findManifest(stateDir: string): string | undefined {
  const direct = [stateLayout(stateDir).bundleManifest, join(stateDir, 'manifest.json')].find((p) => existsSync(p));
  if (direct) return direct;
  const bundles = stateLayout(stateDir).bundles;
  if (!existsSync(bundles)) return undefined;
  let best: { path: string; serial: number } | undefined;
  for (const name of safeReaddir(bundles).sort()) {
    const p = name.endsWith('.tar') ? join(bundles, name) : join(bundles, name, 'manifest.json');
    if (!existsSync(p)) continue;
    const m = p.endsWith('.tar') ? parseJson(tarHead(p).get('manifest.json')) : readJson(p);
    if (!m) continue;
    const serial = num(m['serial']) ?? -1;
    if (!best || serial >= best.serial) best = { path: p, serial };
  }
  return best?.path;
}

/**
 * The first entries of a bundle tar (manifest.json, manifest.sigstore.json and checksums.txt come
 * first), read with node-tar's header parser; stops at the first entry of the payload. Small
 * entries only: this is for showing, not for verifying (`brickyard check-bundle` does that).
 */
export function tarHead(file: string, limit = 8): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    let pos = 0;
    for (let i = 0; i < limit; i++) {
      const block = Buffer.alloc(512);
      if (readSync(fd, block, 0, 512, pos) !== 512 || block.every((b) => b === 0)) break;
      const h = new Header(block);
      if (!h.cksumValid || !h.path || h.size === undefined) break;
      const size = h.size;
      if (size > 16 * 1024 * 1024 || h.type !== 'File') break;
      const body = Buffer.alloc(size);
      if (readSync(fd, body, 0, size, pos + 512) !== size) break;
      out.set(h.path, body);
      pos += 512 + Math.ceil(size / 512) * 512;
      if (!/^(manifest\.json|manifest\.sigstore\.json|checksums\.txt|trusted_root\.json)$/.test(h.path)) break;
    }
  } catch {
    // unreadable or not a tar: no manifest
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return out;
}

function readManifest(file: string, state: SiteState): ManifestInfo | undefined {
  const head = file.endsWith('.tar') ? tarHead(file) : undefined;
  const m = head ? parseJson(head.get('manifest.json')) : readJson(file);
  if (!m) {
    state.skipped.push(file);
    return undefined;
  }
  const rawEntries = Array.isArray(m['entries']) ? m['entries'] : Array.isArray(m['files']) ? m['files'] : [];
  const entries: ManifestEntry[] = rawEntries
    .map(obj)
    .filter((e): e is Record<string, unknown> => e !== undefined && typeof e['path'] === 'string')
    .map((e) => {
      const recipe = typeof e['recipe'] === 'string' ? e['recipe'] : undefined;
      const version = typeof e['version'] === 'string' ? e['version'] : undefined;
      const system = typeof e['system'] === 'string' ? e['system'] : undefined;
      const partition = typeof e['partition'] === 'string' ? e['partition'] : undefined;
      return {
        path: e['path'] as string,
        size: num(e['size']),
        sha256: typeof e['sha256'] === 'string' ? e['sha256'] : undefined,
        role: typeof e['role'] === 'string' ? e['role'] : undefined,
        recipe: recipe && version && !recipe.includes('@') ? `${recipe}@${version}` : recipe,
        system: system && partition && !system.includes('/') ? `${system}/${partition}` : system,
      };
    });
  const dir = dirname(file);
  const entrySignatures = new Map<string, Signature>();
  if (head) {
    const sigBytes = head.get('manifest.sigstore.json');
    return {
      ...manifestFields(m, file),
      entries,
      signature: sigBytes ? signatureOf(parseJson(sigBytes), 'manifest.sigstore.json') : undefined,
      entrySignatures, // inside the tar's payload: not read here
    };
  }
  const sigFile = [`${basename(file)}.sigstore.json`, 'manifest.sigstore.json'].map((n) => join(dir, n)).find((p) => existsSync(p));
  for (const e of entries) {
    if (!e.path.endsWith('.sigstore.json') || e.path.includes('..')) continue;
    const sig = readSignature(join(dir, e.path));
    if (sig) entrySignatures.set(e.path, sig);
  }
  return {
    ...manifestFields(m, file),
    entries,
    signature: sigFile ? readSignature(sigFile) : undefined,
    entrySignatures,
  };
}

function manifestFields(m: Record<string, unknown>, file: string): Pick<ManifestInfo, 'file' | 'id' | 'serial' | 'source' | 'commit' | 'created' | 'systems'> {
  const source = obj(m['source']);
  const systems: unknown[] = Array.isArray(m['systems']) ? m['systems'] : Array.isArray(m['targets']) ? m['targets'] : typeof m['system'] === 'string' ? [m['system']] : [];
  return {
    file,
    id: str(m['bundleId'] ?? m['id']) || undefined,
    serial: num(m['serial']),
    source: str(source?.['repository'] ?? m['repository']) || undefined,
    commit: str(source?.['commit'] ?? m['commit']) || undefined,
    created: str(m['created'] ?? m['createdAt']) || undefined,
    systems: systems.map((s: unknown) => (typeof s === 'string' ? s : str(obj(s)?.['id']))).filter(Boolean),
  };
}

function walkDirs(root: string, depth: number): string[] {
  const out: string[] = [root];
  if (depth === 0) return out;
  for (const name of safeReaddir(root).sort()) {
    const p = join(root, name);
    try {
      if (statSync(p).isDirectory() && ![PAIR_FILES.context, PAIR_FILES.slurm, 'oci', 'cache'].includes(name)) out.push(...walkDirs(p, depth - 1));
    } catch {
      // vanished or unreadable: not state
    }
  }
  return out;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
