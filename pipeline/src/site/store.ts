/**
 * A secure site's store, and `brickyard import` / `brickyard inventory`.
 *
 * Layout:
 *
 *   <store>/current            symlink → generations/<N>; replacing it (rename) is the one commit point
 *   <store>/generations/<N>/   one complete state of the store:
 *       oci/                   the merged OCI image layout (oci-layout, index.json, blobs/sha256/…)
 *       bundles/<bundleId>/    each imported bundle, less its OCI blobs (merged into oci/)
 *       state.json             last serial per source, bundles, images
 *       audit.log              JSON lines, each with the sha256 of the line before
 *   <store>/oci, bundles, audit.log, state.json   symlinks through current/
 *   <store>/.lock              the import lock (O_EXCL; holds the pid; a dead holder's lock is taken over)
 *   <store>/.staging-<random>/ an import in progress (same file system as the store)
 *
 * An import verifies the bundle into the staging folder, checks the site policy, then builds
 * the next generation inside the staging folder (hard links to the current generation's files,
 * the new files moved in), renames it to generations/<N+1> and swaps `current` to it. Before
 * the swap the store's visible state is the old generation; after it, the new one. Leftovers
 * of an interrupted import (staging folder, unreferenced generation) are removed by the next
 * import once it holds the lock. Refused imports leave the store byte for byte as it was.
 *
 * The attestations inside a bundle are bound by the signed manifest (their sha256 is in it); their
 * own Sigstore signatures are verified by pipeline/src/sign/ where present (not here).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  constants,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BundleError } from '../bundle/errors.ts';
import type { Manifest } from '../bundle/manifest.ts';
import { readBundle, type VerifiedBundle } from '../bundle/read.ts';
import type { SiteVerifier } from '../bundle/signing.ts';
import type { Inventory } from '../bundle/write.ts';
import { decryptImages } from '../bundle/encrypt.ts';
import type { OciDescriptor } from '../build/oci.ts';
import { reachableBlobs } from '../oci/reach.ts';
import { BrickyardError } from '../util/errors.ts';
import { admitImages, checkManifest, type AdmittedImage, type SkippedRef } from './checks.ts';
import { loadPolicy, type LoadedPolicy, type SitePolicy } from './policy.ts';

export interface StoreState {
  kind: 'brickyard-store';
  version: 1;
  generation: number;
  /** Last serial per verified source: "<issuer> <repository URI or identity>" (checks.ts rollbackKey). */
  lastSerial: Record<string, number>;
  bundles: Inventory['bundles'];
  images: Inventory['images'];
  /** sha256 of the audit log's last line: anchors the chain's newest entry, which no later line covers. */
  auditHead?: string;
}

export interface ImportOptions {
  bundlePath: string;
  policyPath: string;
  store: string;
  verifier: SiteVerifier;
  now: Date;
  /** The site's trusted root; its sha256 must be the one the policy pins. Default: the policy's trustedRoot.path. */
  trustedRootPath?: string;
  /** The site's private key for confidential bundles (default: the policy's encryption.privateKey). */
  decryptionKeyPath?: string;
  /** How long to wait for another import's lock (ms, default 10 minutes). */
  lockTimeoutMs?: number;
  onStage?: (stage: string) => void;
  /** Bytes verified so far and the bundle's total (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
}

export interface ImportResult {
  bundleId: string;
  serial: number;
  generation: number;
  identity: string;
  images: number;
  bytes: number;
  newBlobs: number;
  auditEntry: AuditEntry;
  /** The images admitted (each with the signed test results it rests on). */
  admitted: AdmittedImage[];
  /** References in the bundle's index that were not admitted, and why. */
  skipped: SkippedRef[];
  /** sha256 of the policy file as enforced (admission records name it). */
  policySha256: string;
}

export interface AuditEntry {
  seq: number;
  time: string;
  action: 'import';
  bundleId: string;
  serial: number;
  source: { repository: string; commit: string };
  identity: string;
  issuer: string | null;
  /** The verified source whose serials must increase. */
  rollbackKey?: string;
  /** The verified signing time of the manifest. */
  signedAt?: string;
  /** sha256 of the policy file the import was checked against. */
  policySha256?: string;
  manifestSha256: string;
  entries: number;
  bytes: number;
  generation: number;
  /** sha256 (hex) of the previous line, without its newline; 64 zeros for the first. */
  prev: string;
}

const ZERO = '0'.repeat(64);

/** Test hook: BRICKYARD_IMPORT_PAUSE=<stage> makes an import stop at that stage and wait (to be killed). */
async function stage(name: string, onStage?: (s: string) => void): Promise<void> {
  onStage?.(name);
  if (process.env['BRICKYARD_IMPORT_PAUSE'] === name) {
    process.stderr.write(`BRICKYARD_IMPORT_PAUSED ${name}\n`);
    await new Promise(() => setInterval(() => {}, 1 << 30));
  }
}

// ---------------------------------------------------------------------------------------------
// Lock

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireLock(store: string, timeoutMs = 600_000): Promise<() => void> {
  const lock = join(store, '.lock');
  const start = Date.now();
  let delay = 10;
  for (;;) {
    try {
      const fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    let holder = NaN;
    let raw: string;
    try {
      raw = readFileSync(lock, 'utf8');
      holder = Number(raw.trim());
    } catch {
      continue; // released meanwhile
    }
    // A lock without a valid pid (its writer died between creating and writing it) is stale after 30 s.
    let unnamedAndOld = false;
    if (!(Number.isInteger(holder) && holder > 0)) {
      try {
        unnamedAndOld = Date.now() - statSync(lock).mtimeMs > 30_000;
      } catch {
        continue;
      }
    }
    if (unnamedAndOld || (Number.isInteger(holder) && holder > 0 && !pidAlive(holder))) {
      // Stale: take it over atomically (rename a fresh lock over it only if it is still the stale one).
      const mine = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}`;
      writeFileSync(mine, `${process.pid}\n`);
      try {
        if (readFileSync(lock, 'utf8') === raw) {
          renameSync(mine, lock);
          if (readFileSync(lock, 'utf8').trim() === String(process.pid)) return () => rmSync(lock, { force: true });
        }
      } catch {
        /* try again */
      } finally {
        rmSync(mine, { force: true });
      }
      continue;
    }
    if (Date.now() - start > timeoutMs) {
      throw new BrickyardError('STORE_LOCKED', `the store ${store} is locked by process ${holder} (another import)`, {
        hint: `wait for it to finish; if no such process runs, remove ${lock}`,
        exitCode: 1,
      });
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}

// ---------------------------------------------------------------------------------------------
// Store state

function currentGeneration(store: string): { n: number; dir: string } | undefined {
  let target: string;
  try {
    target = readlinkSync(join(store, 'current'));
  } catch {
    return undefined;
  }
  const m = /^generations\/(\d+)$/.exec(target);
  if (!m) throw new BrickyardError('FILE_UNREADABLE', `${store}/current points at ${target}, not at a generation`);
  return { n: Number(m[1]), dir: join(store, target) };
}

function readState(store: string): StoreState {
  const cur = currentGeneration(store);
  if (!cur) return { kind: 'brickyard-store', version: 1, generation: 0, lastSerial: {}, bundles: [], images: [] };
  return JSON.parse(readFileSync(join(cur.dir, 'state.json'), 'utf8')) as StoreState;
}

/** Remove what an interrupted import left: staging folders, generations `current` does not name. */
function recover(store: string): void {
  const cur = currentGeneration(store);
  for (const name of readdirSync(store)) {
    if (name.startsWith('.staging-') || /^\.lock\..+/.test(name) || name === 'current.new') rmSync(join(store, name), { recursive: true, force: true });
  }
  const gens = join(store, 'generations');
  if (existsSync(gens)) {
    for (const g of readdirSync(gens)) if (!cur || `generations/${g}` !== `generations/${cur.n}`) rmSync(join(gens, g), { recursive: true, force: true });
  }
  if (cur) ensureLinks(store);
}

function ensureStore(store: string): void {
  mkdirSync(store, { recursive: true });
}

function ensureLinks(store: string): void {
  for (const name of ['oci', 'bundles', 'audit.log', 'state.json']) {
    const p = join(store, name);
    let ok = false;
    try {
      ok = readlinkSync(p) === `current/${name}`;
    } catch {
      ok = false;
    }
    if (!ok) {
      const tmp = join(store, `.${name}.link-${randomBytes(4).toString('hex')}`);
      symlinkSync(`current/${name}`, tmp);
      renameSync(tmp, p);
    }
  }
}

/** Hard-link a tree (files linked, folders made). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const name of readdirSync(from)) {
    const a = join(from, name);
    const b = join(to, name);
    const st = lstatSync(a);
    if (st.isDirectory()) linkTree(a, b);
    else if (st.isFile()) linkSync(a, b);
  }
}

function fsyncPath(p: string): void {
  try {
    const fd = openSync(p, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* best effort (some file systems refuse fsync on folders) */
  }
}

// ---------------------------------------------------------------------------------------------
// Audit log

function lineHash(line: string): string {
  return createHash('sha256').update(line).digest('hex');
}

/** Check the chain of an audit log; returns its entries, or throws naming the first bad line. */
export function verifyAuditLog(pathOrStore: string): AuditEntry[] {
  const path = statSync(pathOrStore).isDirectory() ? join(pathOrStore, 'audit.log') : pathOrStore;
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  if (text !== '' && !text.endsWith('\n')) throw new BrickyardError('AUDIT_LOG_INVALID', `${path}: the last line is incomplete`, { exitCode: 1 });
  const out: AuditEntry[] = [];
  let prev = ZERO;
  for (const [i, line] of text.split('\n').slice(0, -1).entries()) {
    let e: AuditEntry;
    try {
      e = JSON.parse(line) as AuditEntry;
    } catch {
      throw new BrickyardError('AUDIT_LOG_INVALID', `${path}:${i + 1} is not JSON`, { exitCode: 1 });
    }
    if (e.prev !== prev) throw new BrickyardError('AUDIT_LOG_INVALID', `${path}:${i + 1} does not chain to the line before it (edited, removed or reordered lines)`, { exitCode: 1 });
    if (e.seq !== i + 1) throw new BrickyardError('AUDIT_LOG_INVALID', `${path}:${i + 1} has sequence number ${e.seq}`, { exitCode: 1 });
    prev = lineHash(line);
    out.push(e);
  }
  // The newest line is covered by no later one: the store's state records its hash.
  const statePath = join(dirname(path), 'state.json');
  if (existsSync(statePath)) {
    const head = (JSON.parse(readFileSync(statePath, 'utf8')) as StoreState).auditHead;
    if (head !== undefined && head !== prev) {
      throw new BrickyardError('AUDIT_LOG_INVALID', `${path}:${out.length}: the last line is not the one the store recorded (edited or removed)`, { exitCode: 1 });
    }
  }
  return out;
}

function refusePolicy(reason: string, message: string, entry?: string, hint?: string): never {
  throw new BundleError('POLICY_REFUSED', reason, message, entry, hint ? { hint } : {});
}

// ---------------------------------------------------------------------------------------------
// Import

/** The policy, after checking that the trusted root given is the one it pins. */
function policyWithRoot(policyPath: string, trustedRootPath: string | undefined): LoadedPolicy {
  const loaded = loadPolicy(policyPath);
  const { policy, trustedRootPath: fromPolicy } = loaded;
  const trustedRoot = trustedRootPath ?? fromPolicy;
  if (!trustedRoot) {
    throw new BrickyardError('POLICY_INVALID', 'the site policy pins a trusted root, but no trusted root file was given', { hint: 'set trustedRoot.path in the policy or pass --trusted-root' });
  }
  let rootBytes: Buffer;
  try {
    rootBytes = readFileSync(trustedRoot);
  } catch {
    throw new BrickyardError('FILE_UNREADABLE', `cannot read the trusted root ${trustedRoot}`);
  }
  const rootSha = createHash('sha256').update(rootBytes).digest('hex');
  if (rootSha !== policy.trustedRoot.sha256) {
    throw new BundleError('POLICY_REFUSED', 'trusted-root', `the trusted root ${trustedRoot} (sha256 ${rootSha}) is not the one the site policy pins (${policy.trustedRoot.sha256})`, undefined, {
      hint: 'use the trusted root the site pinned; a different root is never accepted',
    });
  }
  return loaded;
}

/**
 * A confidential bundle is decrypted (into `workDir`, inside the staging folder) before its
 * images are checked; a plaintext bundle is refused where the policy requires encryption.
 */
async function decryptIfNeeded(loaded: LoadedPolicy, v: VerifiedBundle, keyPath: string | undefined, workDir: string): Promise<Map<string, OciDescriptor> | undefined> {
  const info = v.manifest.encryption;
  if (!info) {
    if (loaded.policy.encryption?.required) refusePolicy('encryption', `the bundle's images are not encrypted, and the site policy requires encrypted bundles for ${loaded.policy.system}`, undefined, 'ask for a bundle made with --encrypt-for this site\'s public key');
    return undefined;
  }
  const key = keyPath ?? loaded.decryptionKeyPath;
  if (!key) {
    refusePolicy('encryption', `the bundle's images are encrypted (for ${info.recipients.map((r) => r.slice(0, 16) + '…').join(', ')}), and no decryption key was given`, undefined, 'give --decryption-key FILE or set encryption.privateKey in the site policy');
  }
  try {
    return await decryptImages(info, join(v.stagingDir!, 'oci'), key, workDir);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function limitsOf(policy: SitePolicy): { maxEntryBytes?: number; maxBundleBytes?: number } {
  return { ...(policy.limits?.maxEntryBytes ? { maxEntryBytes: policy.limits.maxEntryBytes } : {}), ...(policy.limits?.maxBundleBytes ? { maxBundleBytes: policy.limits.maxBundleBytes } : {}) };
}

export interface CheckOptions {
  bundlePath: string;
  policyPath: string;
  verifier: SiteVerifier;
  now: Date;
  trustedRootPath?: string;
  decryptionKeyPath?: string;
  /** A store to check serials and prerequisites against (read only). */
  store?: string;
}

/**
 * `brickyard verify <bundle> --policy P`: everything an import checks, without importing. The
 * bundle is extracted into a temporary folder (the content checks read its files) that is removed.
 */
export async function checkBundle(opts: CheckOptions): Promise<{ manifest: Manifest; identity: string; issuer: string; images: number; bytes: number; admitted: AdmittedImage[]; skipped: SkippedRef[] }> {
  const loaded = policyWithRoot(opts.policyPath, opts.trustedRootPath);
  const { policy } = loaded;
  const store = opts.store ? resolve(opts.store) : undefined;
  const state = store ? readState(store) : readState(join(tmpdir(), `brickyard-no-store-${randomBytes(4).toString('hex')}`));
  const cur = store ? currentGeneration(store) : undefined;
  const storeBlobs = (hex: string): boolean => !!cur && existsSync(join(cur.dir, 'oci', 'blobs', 'sha256', hex));
  const tmp = mkdtempSync(join(tmpdir(), 'brickyard-check-'));
  let encrypted = false;
  try {
    const v = await readBundle({
      bundlePath: opts.bundlePath,
      verifier: opts.verifier,
      stagingDir: join(tmp, 'bundle'),
      // The content checks read no image blob (verified in passing) unless they must decrypt them.
      stage: (e) => e.role !== 'image-blob' || encrypted,
      limits: limitsOf(policy),
      onManifest: (m, signer) => {
        encrypted = m.encryption !== undefined;
        checkManifest(policy, m, signer, state.lastSerial, opts.now, storeBlobs);
      },
    });
    const decrypted = await decryptIfNeeded(loaded, v, opts.decryptionKeyPath, join(tmp, 'decrypt'));
    const { admitted, skipped } = await admitImages(policy, v, opts.verifier, storeBlobs, decrypted);
    return { manifest: v.manifest, identity: v.identity, issuer: v.issuer, images: admitted.length, bytes: v.bytes, admitted, skipped };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function importBundle(opts: ImportOptions): Promise<ImportResult> {
  const loaded = policyWithRoot(opts.policyPath, opts.trustedRootPath);
  const policy: SitePolicy = loaded.policy;

  const store = resolve(opts.store);
  ensureStore(store);
  const release = await acquireLock(store, opts.lockTimeoutMs);
  let staging: string | undefined;
  try {
    await stage('locked', opts.onStage);
    recover(store);
    // A broken hash chain means someone edited the history: refuse to build on it.
    if (currentGeneration(store)) verifyAuditLog(store);
    const state = readState(store);
    const cur = currentGeneration(store);
    const blobsDir = cur ? join(cur.dir, 'oci', 'blobs', 'sha256') : undefined;
    const storeBlobs = (hex: string): boolean => !!blobsDir && existsSync(join(blobsDir, hex));

    staging = join(store, `.staging-${randomBytes(8).toString('hex')}`);
    mkdirSync(staging, { mode: 0o700 });
    const bundleDir = join(staging, 'bundle');
    let verdict: ReturnType<typeof checkManifest> | undefined;
    const v = await readBundle({
      bundlePath: opts.bundlePath,
      verifier: opts.verifier,
      stagingDir: bundleDir,
      limits: limitsOf(policy),
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      onManifest: (m, signer) => {
        verdict = checkManifest(policy, m, signer, state.lastSerial, opts.now, storeBlobs);
      },
    });
    await stage('verified', opts.onStage);
    const decrypted = await decryptIfNeeded(loaded, v, opts.decryptionKeyPath, join(staging, 'decrypt'));
    const { admitted, skipped } = await admitImages(policy, v, opts.verifier, storeBlobs, decrypted);
    const images = admitted.length;
    const m = v.manifest;
    if (state.bundles.some((b) => b.bundleId === m.bundleId)) refusePolicy('duplicate-bundle', `the store already holds a bundle named ${m.bundleId}`);

    // The next generation, built entirely inside the staging folder.
    const gen = join(staging, 'gen');
    const next = (cur?.n ?? 0) + 1;
    if (cur) {
      linkTree(join(cur.dir, 'oci'), join(gen, 'oci'));
      linkTree(join(cur.dir, 'bundles'), join(gen, 'bundles'));
    } else {
      mkdirSync(join(gen, 'oci', 'blobs', 'sha256'), { recursive: true });
      mkdirSync(join(gen, 'bundles'), { recursive: true });
      writeFileSync(join(gen, 'oci', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
    }
    let newBlobs = 0;
    const incoming = join(bundleDir, 'oci', 'blobs', 'sha256');
    // Only what the admitted images need enters the store.
    const needed = reachableBlobs(admitted.map((a) => a.manifestDigest.slice('sha256:'.length)), [incoming, ...(blobsDir ? [blobsDir] : [])]);
    if (existsSync(incoming)) {
      for (const hex of readdirSync(incoming)) {
        const dest = join(gen, 'oci', 'blobs', 'sha256', hex);
        if (existsSync(dest) || !needed.has(hex)) rmSync(join(incoming, hex));
        else {
          renameSync(join(incoming, hex), dest);
          newBlobs++;
        }
      }
      rmSync(join(bundleDir, 'oci', 'blobs'), { recursive: true });
    }
    const indexPath = join(gen, 'oci', 'index.json');
    const index = existsSync(indexPath) ? (JSON.parse(readFileSync(indexPath, 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] }) : { manifests: [] };
    // References only for the admitted images; the bundle's index.json is kept with the bundle, not merged.
    const theirs = { manifests: admitted.map((a) => a.descriptor as { digest: string; annotations?: Record<string, string> }) };
    const ref = (d: { annotations?: Record<string, string> }): string | undefined => d.annotations?.['org.opencontainers.image.ref.name'];
    const merged = [...index.manifests.filter((d) => !theirs.manifests.some((t) => ref(t) !== undefined && ref(t) === ref(d))), ...theirs.manifests];
    merged.sort((a, b) => ((ref(a) ?? a.digest) < (ref(b) ?? b.digest) ? -1 : 1));
    rmSync(indexPath, { force: true }); // a hard link to the old generation's: replace, never write through
    writeFileSync(indexPath, JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: merged }, null, 2) + '\n');
    renameSync(bundleDir, join(gen, 'bundles', m.bundleId));

    const imported = opts.now.toISOString();
    const newImages: Inventory['images'] = admitted.map((a) => ({ recipe: a.recipe, version: a.version, system: a.system, partition: a.partition, refName: a.refName, manifestDigest: a.manifestDigest, bundleId: m.bundleId }));
    const newState: StoreState = {
      kind: 'brickyard-store',
      version: 1,
      generation: next,
      lastSerial: { ...state.lastSerial, [verdict!.rollbackKey]: m.serial },
      bundles: [...state.bundles, { bundleId: m.bundleId, serial: m.serial, repository: m.source.repository, commit: m.source.commit, imported }],
      images: [...state.images.filter((i) => !newImages.some((n) => n.refName === i.refName)), ...newImages],
    };
    const oldLog = cur && existsSync(join(cur.dir, 'audit.log')) ? readFileSync(join(cur.dir, 'audit.log'), 'utf8') : '';
    const lines = oldLog.split('\n').filter((l) => l !== '');
    const entry: AuditEntry = {
      seq: lines.length + 1,
      time: imported,
      action: 'import',
      bundleId: m.bundleId,
      serial: m.serial,
      source: m.source,
      identity: v.identity,
      issuer: v.issuer,
      rollbackKey: verdict!.rollbackKey,
      signedAt: verdict!.signedAt.toISOString(),
      policySha256: loaded.sha256,
      manifestSha256: createHash('sha256').update(v.manifestBytes).digest('hex'),
      entries: m.entries.length,
      bytes: v.bytes,
      generation: next,
      prev: lines.length ? lineHash(lines.at(-1)!) : ZERO,
    };
    writeFileSync(join(gen, 'audit.log'), oldLog + JSON.stringify(entry) + '\n');
    writeFileSync(join(gen, 'state.json'), JSON.stringify({ ...newState, auditHead: lineHash(JSON.stringify(entry)) }, null, 2) + '\n');
    fsyncPath(join(gen, 'audit.log'));
    fsyncPath(join(gen, 'state.json'));
    await stage('built', opts.onStage);

    // Commit: the generation moves out of staging, then `current` is swapped in one rename.
    mkdirSync(join(store, 'generations'), { recursive: true });
    renameSync(gen, join(store, 'generations', String(next)));
    fsyncPath(join(store, 'generations'));
    await stage('renamed', opts.onStage);
    const link = join(staging, 'current.new');
    symlinkSync(`generations/${next}`, link);
    renameSync(link, join(store, 'current'));
    fsyncPath(store);
    await stage('committed', opts.onStage);

    ensureLinks(store);
    if (cur) rmSync(cur.dir, { recursive: true, force: true });
    rmSync(staging, { recursive: true, force: true });
    staging = undefined;
    await stage('cleaned', opts.onStage);
    return { bundleId: m.bundleId, serial: m.serial, generation: next, identity: v.identity, images, bytes: v.bytes, newBlobs, auditEntry: entry, admitted, skipped, policySha256: loaded.sha256 };
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
    release();
  }
}

/** What the site holds, for the next bundle to be a delta against. */
export function exportInventory(store: string): Inventory {
  const state = readState(store);
  const cur = currentGeneration(store);
  const blobs = cur && existsSync(join(cur.dir, 'oci', 'blobs', 'sha256')) ? readdirSync(join(cur.dir, 'oci', 'blobs', 'sha256')).sort().map((h) => `sha256:${h}`) : [];
  return { kind: 'brickyard-inventory', version: 1, blobs, images: state.images, bundles: state.bundles, lastSerial: state.lastSerial };
}

/** Remove a stale lock file left by a dead process (the import does this itself; for tooling). */
export function unlockIfStale(store: string): boolean {
  const lock = join(store, '.lock');
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && !pidAlive(pid)) {
      unlinkSync(lock);
      return true;
    }
  } catch {
    /* none */
  }
  return false;
}
