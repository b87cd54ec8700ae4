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
 *   <store>/.brickyard-store   the marker: only a folder carrying it is treated (and recovered) as a store (layout.ts)
 *   <store>/.lock/<N>          the import lock while an import runs (lock.ts)
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
import type { Prehash } from '../bundle/prehash.ts';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BundleError } from '../bundle/errors.ts';
import type { Manifest } from '../bundle/manifest.ts';
import { readBundle, type VerifiedBundle } from '../bundle/read.ts';
import type { SiteVerifier } from '../bundle/signing.ts';
import type { Inventory } from '../bundle/write.ts';
import { decryptImages, encryptedDescriptors } from '../bundle/encrypt.ts';
import type { OciDescriptor } from '../build/oci.ts';
import { reachableBlobs } from '../oci/reach.ts';
import { BrickyardError } from '../util/errors.ts';
import { lineHash, verifyStoreHistory, ZERO, type AuditEntry } from './audit.ts';
import { admitImages, checkManifest, type AdmittedImage, type SkippedRef } from './checks.ts';
import { confined } from './confine.ts';
import type { EarlyImport } from './early-import.ts';
import { fileSystemFault } from './faults.ts';
import { currentGeneration, emptyState, ensureLinks, openStore, readState, recover, undoOpen, type Opened, type StoreState } from './layout.ts';
import { acquireStoreLock, pidAlive, type StoreLock } from './lock.ts';
import type { LoadedPolicy, SitePolicy } from './policy.ts';
import { loadTrustedRoot } from './trusted-root.ts';

export type { StoreState } from './layout.ts';
export { verifyAuditLog, type AuditEntry } from './audit.ts';

export interface ImportOptions {
  bundlePath: string;
  /** The site policy, loaded once (loadPolicy) by the caller: what is enforced and what the records hash. */
  policy: LoadedPolicy;
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
  /** The import as begun before the policy and verifier were loaded (early-import.ts): its lock, staging folder and copies are taken over. */
  early?: EarlyImport;
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

/** Test hook: BRICKYARD_IMPORT_PAUSE=<stage> makes an import stop at that stage and wait (to be killed). */
async function stage(name: string, onStage?: (s: string) => void): Promise<void> {
  onStage?.(name);
  if (process.env['BRICKYARD_IMPORT_PAUSE'] === name) {
    process.stderr.write(`BRICKYARD_IMPORT_PAUSED ${name}\n`);
    await new Promise(() => setInterval(() => undefined, 1 << 30));
  }
}

/** Hard-link a tree (files linked, folders made). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  chmodSync(to, lstatSync(from).mode & 0o7777); // folders keep their mode from generation to generation
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

/**
 * fdatasync every file with one link (made by this import) and fsync every folder under `root`,
 * in parallel (the kernel writes them out together). Folders are best effort, as in fsyncPath.
 */
async function syncTree(root: string): Promise<void> {
  const files: string[] = [];
  const dirs: string[] = [];
  const walk = (dir: string): void => {
    dirs.push(dir);
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.isFile() && lstatSync(p).nlink === 1) files.push(p);
    }
  };
  walk(root);
  const sync = async (p: string): Promise<void> => {
    const fh = await open(p, 'r');
    try {
      await fh.datasync();
    } finally {
      await fh.close();
    }
  };
  await Promise.all([...files.map(sync), ...dirs.map((d) => sync(d).catch(() => undefined))]);
}

function refusePolicy(reason: string, message: string, entry?: string, hint?: string): never {
  throw new BundleError('POLICY_REFUSED', reason, message, entry, hint ? { hint } : {});
}

// ---------------------------------------------------------------------------------------------
// Import

/** The policy, after checking that the trusted root given is the one it pins (missing, a folder, not JSON: TRUSTED_ROOT_INVALID). */
function policyWithRoot(loaded: LoadedPolicy, trustedRootPath: string | undefined): LoadedPolicy {
  const { policy, trustedRootPath: fromPolicy } = loaded;
  const trustedRoot = trustedRootPath ?? fromPolicy;
  if (!trustedRoot) {
    throw new BrickyardError('POLICY_INVALID', 'the site policy pins a trusted root, but no trusted root file was given', {
      hint: 'set trustedRoot.path in the policy or pass --trusted-root',
    });
  }
  loadTrustedRoot(trustedRoot, policy.trustedRoot.sha256); // its digest checked before it is parsed
  return loaded;
}

/**
 * A confidential bundle is decrypted (into `workDir`, inside the staging folder) before its
 * images are checked; a plaintext bundle is refused where the policy requires encryption. Where
 * the policy keeps images encrypted at rest, the plaintext goes to a private temporary folder
 * (never the store's file system) and is removed once checked.
 */
async function decryptIfNeeded(loaded: LoadedPolicy, v: VerifiedBundle, keyPath: string | undefined, stagingWorkDir: string): Promise<Map<string, OciDescriptor> | undefined> {
  const info = v.manifest.encryption;
  if (!info) {
    if (loaded.policy.encryption?.required)
      refusePolicy(
        'encryption',
        `the bundle's images are not encrypted, and the site policy requires encrypted bundles for ${loaded.policy.system}`,
        undefined,
        "ask for a bundle made with --encrypt-for this site's public key",
      );
    return undefined;
  }
  const key = keyPath ?? loaded.decryptionKeyPath;
  if (!key) {
    refusePolicy(
      'encryption',
      `the bundle's images are encrypted (for ${info.recipients.map((r) => r.slice(0, 16) + '…').join(', ')}), and no decryption key was given`,
      undefined,
      'give --decryption-key FILE or set encryption.privateKey in the site policy',
    );
  }
  if (v.stagingDir === undefined) throw new Error('internal: a confidential bundle was read without being staged');
  const staged = join(v.stagingDir, 'oci');
  const keep = keepsEncrypted(loaded);
  let workDir = stagingWorkDir;
  if (keep) {
    // A process killed mid-check leaves plaintext there: the next import removes it.
    removeStaleWorkFolders(tmpdir(), DECRYPT_PREFIX);
    const own = join(tmpdir(), `${DECRYPT_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
    mkdirSync(own, { mode: 0o700 });
    workDir = join(own, 'work');
  }
  try {
    return await decryptImages(info, staged, key, workDir, { keepEncrypted: keep });
  } finally {
    rmSync(keep ? dirname(workDir) : workDir, { recursive: true, force: true });
  }
}

const DECRYPT_PREFIX = 'brickyard-decrypt-';

function keepsEncrypted(loaded: LoadedPolicy): boolean {
  return loaded.policy.encryption?.atRest === 'keep';
}

function limitsOf(policy: SitePolicy): { maxEntryBytes?: number; maxBundleBytes?: number } {
  return {
    ...(policy.limits?.maxEntryBytes ? { maxEntryBytes: policy.limits.maxEntryBytes } : {}),
    ...(policy.limits?.maxBundleBytes ? { maxBundleBytes: policy.limits.maxBundleBytes } : {}),
  };
}

export interface CheckOptions {
  bundlePath: string;
  /** The site policy, loaded once (loadPolicy) by the caller. */
  policy: LoadedPolicy;
  verifier: SiteVerifier;
  now: Date;
  trustedRootPath?: string;
  decryptionKeyPath?: string;
  /** A store to check serials and prerequisites against (read only). */
  store?: string;
  /** The bundle's large entries, hashed from before it is read (bundle/prehash.ts). */
  prehash?: Prehash;
}

/**
 * `brickyard verify <bundle> --policy P`: everything an import checks, without importing. The
 * bundle is extracted into a temporary folder (the content checks read its files) that is removed.
 */
export async function checkBundle(
  opts: CheckOptions,
): Promise<{ manifest: Manifest; identity: string; issuer: string; images: number; bytes: number; admitted: AdmittedImage[]; skipped: SkippedRef[] }> {
  const loaded = policyWithRoot(opts.policy, opts.trustedRootPath);
  const { policy } = loaded;
  const store = opts.store ? resolve(opts.store) : undefined;
  if (store) verifyStoreHistory(store); // read only: what an import would check first
  const state = store ? readState(store) : emptyState();
  const cur = store ? currentGeneration(store) : undefined;
  const storeBlobs = (hex: string): boolean => !!cur && /^[0-9a-f]{64}$/.test(hex) && existsSync(join(cur.dir, 'oci', 'blobs', 'sha256', hex));
  removeStaleWorkFolders(tmpdir(), CHECK_PREFIX);
  const tmp = join(tmpdir(), `${CHECK_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`);
  let encrypted = false;
  let checked: { admitted: AdmittedImage[]; skipped: SkippedRef[] } | undefined;
  try {
    mkdirSync(tmp, { mode: 0o700 });
    const v = await readBundle({
      bundlePath: opts.bundlePath,
      verifier: opts.verifier,
      stagingDir: join(tmp, 'bundle'),
      ...(opts.prehash ? { prehash: opts.prehash } : {}),
      // The content checks read no image blob (verified in passing) unless they must decrypt them.
      stage: (e) => e.role !== 'image-blob' || encrypted,
      limits: limitsOf(policy),
      onManifest: (m, signer) => {
        encrypted = m.encryption !== undefined;
        checkManifest(policy, m, signer, state.lastSerial, opts.now, storeBlobs);
      },
      // The content checks read only staged entries: they run while the image blobs still hash.
      whileHashing: async (staged) => {
        const decrypted = await decryptIfNeeded(loaded, staged, opts.decryptionKeyPath, join(tmp, 'decrypt'));
        checked = await admitImages(policy, staged, opts.verifier, storeBlobs, decrypted);
      },
    });
    if (!checked) throw new Error('internal: the bundle was read without its content being checked');
    const { admitted, skipped } = checked;
    return { manifest: v.manifest, identity: v.identity, issuer: v.issuer, images: admitted.length, bytes: v.bytes, admitted, skipped };
  } catch (e) {
    throw fileSystemFault(e, { what: 'check-bundle', folder: `the temporary folder ${tmpdir()}`, unchanged: 'Nothing was imported; the bundle was not judged.' }) ?? e;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const CHECK_PREFIX = 'brickyard-check-';

/** Work folders of earlier check-bundle runs that were killed (their process is gone): removed. */
function removeStaleWorkFolders(dir: string, prefix: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const ours = new RegExp(`^${prefix}([0-9]+)-[0-9a-f]{12}$`); // once, not per name: $TMPDIR may hold thousands
  for (const n of names) {
    const m = ours.exec(n);
    if (m && !pidAlive(Number(m[1]))) rmSync(join(dir, n), { recursive: true, force: true });
  }
}

/** What an import has made so far: taken back (undoImport) unless it committed. */
interface ImportRun {
  store: string;
  opened?: Opened;
  lock?: StoreLock;
  staging?: string;
  /** The early import's hashing workers (early-import.ts), stopped when the import ends. */
  ahead?: Prehash;
  committed: boolean;
  renamedGeneration?: string;
  madeGenerations?: string;
}

export async function importBundle(opts: ImportOptions): Promise<ImportResult> {
  const loaded = policyWithRoot(opts.policy, opts.trustedRootPath);
  const run: ImportRun = { store: resolve(opts.store), committed: false };
  try {
    return await importUnderLock(opts, loaded, run);
  } catch (e) {
    throw (
      fileSystemFault(e, {
        what: 'import',
        folder: run.store,
        unchanged: run.committed
          ? 'The bundle was imported (committed), but tidying up after it failed: the next import finishes it.'
          : 'Nothing was imported: the store is as it was.',
      }) ?? e
    );
  } finally {
    undoImport(run);
  }
}

/** A refused import takes back everything it made, holding the lock while it does. */
function undoImport(run: ImportRun): void {
  run.ahead?.close();
  if (run.staging) rmSync(run.staging, { recursive: true, force: true });
  if (!run.committed) {
    if (run.renamedGeneration) rmSync(run.renamedGeneration, { recursive: true, force: true });
    if (run.madeGenerations) rmSync(run.madeGenerations, { recursive: true, force: true });
    if (run.opened) undoOpen(run.store, run.opened, run.lock !== undefined);
  }
  run.lock?.release();
}

async function importUnderLock(opts: ImportOptions, loaded: LoadedPolicy, run: ImportRun): Promise<ImportResult> {
  const { store } = run;
  const head = opts.early?.adopt(store, opts.bundlePath);
  if (head) Object.assign(run, head); // store opened, locked and recovered already
  run.opened ??= openStore(store); // refuses a folder that is not a store before anything is written or removed
  const lock = run.lock ?? (await acquireStoreLock(store, opts.lockTimeoutMs));
  run.lock = lock;
  await stage('locked', opts.onStage);
  if (!head) recover(store);
  // The same check `brickyard audit` makes: an edited, removed or unanchored history is not built on.
  verifyStoreHistory(store);
  const state = readState(store);
  const cur = currentGeneration(store);
  const blobsDir = cur ? join(cur.dir, 'oci', 'blobs', 'sha256') : undefined;
  const storeBlobs = (hex: string): boolean => !!blobsDir && /^[0-9a-f]{64}$/.test(hex) && existsSync(join(blobsDir, hex));

  const staging = head?.staging ?? confined(store, `.staging-${randomBytes(8).toString('hex')}`);
  if (!head) mkdirSync(staging, { mode: 0o700 });
  run.staging = staging;
  const bundleDir = join(staging, 'bundle');
  const { v, verdict } = await verifyIntoStaging(opts, loaded.policy, bundleDir, state, storeBlobs, head?.ahead);
  await stage('verified', opts.onStage);
  const decrypted = await decryptIfNeeded(loaded, v, opts.decryptionKeyPath, join(staging, 'decrypt'));
  const { admitted, skipped } = await admitImages(loaded.policy, v, opts.verifier, storeBlobs, decrypted);
  const m = v.manifest;
  if (state.bundles.some((b) => b.bundleId === m.bundleId)) refusePolicy('duplicate-bundle', `the store already holds a bundle named ${m.bundleId}`);

  // The next generation, built entirely inside the staging folder.
  const gen = join(staging, 'gen');
  const next = (cur?.n ?? 0) + 1;
  startGeneration(gen, cur);
  // Kept encrypted at rest: the index names each admitted image's encrypted manifest (the one the
  // signed encryption table names); the plaintext manifest is kept beside it, its layers are not.
  const atRest = m.encryption && keepsEncrypted(loaded) ? encryptedDescriptors(m.encryption, join(bundleDir, 'oci')) : undefined;
  const stored = admitted.map((a) => ({ image: a, descriptor: atRest?.get(a.refName) ?? a.descriptor }));
  const newBlobs = moveAdmittedBlobs(bundleDir, gen, blobsDir, stored);
  writeMergedIndex(
    gen,
    stored.map((s) => s.descriptor),
  );
  const bundleHome = confined(gen, 'bundles', m.bundleId);
  renameSync(bundleDir, bundleHome);
  chmodSync(bundleHome, 0o755); // as every later generation makes it (linkTree)
  const entry = writeStateAndAudit(gen, cur, state, { v, verdict, admitted, next, policySha256: loaded.sha256, imported: opts.now.toISOString() });
  // Everything the new generation holds is on disk before `current` can point at it: the
  // bundle's files (each large one synced as soon as it was complete), then in one parallel
  // pass every file this import made (not the hard links to the last generation, on disk
  // already) and every folder.
  await v.synced;
  await syncTree(gen);
  await stage('built', opts.onStage);

  await commitGeneration(run, lock, staging, gen, next, opts.onStage);
  ensureLinks(store);
  if (cur) rmSync(cur.dir, { recursive: true, force: true });
  rmSync(staging, { recursive: true, force: true });
  run.staging = undefined;
  await stage('cleaned', opts.onStage);
  return {
    bundleId: m.bundleId,
    serial: m.serial,
    generation: next,
    identity: v.identity,
    images: admitted.length,
    bytes: v.bytes,
    newBlobs,
    auditEntry: entry,
    admitted,
    skipped,
    policySha256: loaded.sha256,
  };
}

/** The bundle read, verified and extracted into the staging folder; the manifest checked against the policy and the store's serials before any entry is read. */
async function verifyIntoStaging(
  opts: ImportOptions,
  policy: SitePolicy,
  bundleDir: string,
  state: StoreState,
  storeBlobs: (hex: string) => boolean,
  ahead: Prehash | undefined,
): Promise<{ v: VerifiedBundle; verdict: ReturnType<typeof checkManifest> }> {
  let verdict: ReturnType<typeof checkManifest> | undefined;
  const v = await readBundle({
    bundlePath: opts.bundlePath,
    verifier: opts.verifier,
    stagingDir: bundleDir,
    durable: true,
    limits: limitsOf(policy),
    ...(ahead ? { prehash: ahead } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    onManifest: (m, signer) => {
      verdict = checkManifest(policy, m, signer, state.lastSerial, opts.now, storeBlobs);
    },
  });
  if (!verdict) throw new Error('internal: the bundle was read without its manifest being checked');
  return { v, verdict };
}

/** The new generation starts as hard links to the current one's images and bundles (or empty, for the first). */
function startGeneration(gen: string, cur: { dir: string } | undefined): void {
  if (cur) {
    linkTree(join(cur.dir, 'oci'), join(gen, 'oci'));
    linkTree(join(cur.dir, 'bundles'), join(gen, 'bundles'));
  } else {
    mkdirSync(join(gen, 'oci', 'blobs', 'sha256'), { recursive: true });
    mkdirSync(join(gen, 'bundles'), { recursive: true });
    writeFileSync(join(gen, 'oci', 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
  }
}

/** Only what the admitted images need enters the store: their blobs the store lacks are moved in, the rest removed. Returns how many were moved. */
function moveAdmittedBlobs(bundleDir: string, gen: string, blobsDir: string | undefined, stored: { image: AdmittedImage; descriptor: OciDescriptor }[]): number {
  const incoming = join(bundleDir, 'oci', 'blobs', 'sha256');
  const needed = reachableBlobs(
    [...stored.map((s) => s.image.manifestDigest.slice('sha256:'.length)), ...stored.map((s) => s.descriptor.digest.slice('sha256:'.length))],
    [incoming, ...(blobsDir ? [blobsDir] : [])],
  );
  if (!existsSync(incoming)) return 0;
  let newBlobs = 0;
  for (const hex of readdirSync(incoming)) {
    const dest = confined(gen, 'oci', 'blobs', 'sha256', hex);
    if (existsSync(dest) || !needed.has(hex)) rmSync(join(incoming, hex));
    else {
      renameSync(join(incoming, hex), dest);
      newBlobs++;
    }
  }
  rmSync(join(bundleDir, 'oci', 'blobs'), { recursive: true });
  return newBlobs;
}

interface Ref {
  digest: string;
  annotations?: Record<string, string>;
}

/** The generation's index.json: the old references, with the admitted images' replacing any of the same name. */
function writeMergedIndex(gen: string, admitted: OciDescriptor[]): void {
  const indexPath = join(gen, 'oci', 'index.json');
  const index = existsSync(indexPath) ? (JSON.parse(readFileSync(indexPath, 'utf8')) as { manifests: Ref[] }) : { manifests: [] };
  // References only for the admitted images; the bundle's index.json is kept with the bundle, not merged.
  const theirs = admitted as Ref[];
  const ref = (d: { annotations?: Record<string, string> }): string | undefined => d.annotations?.['org.opencontainers.image.ref.name'];
  const merged = [...index.manifests.filter((d) => !theirs.some((t) => ref(t) !== undefined && ref(t) === ref(d))), ...theirs];
  merged.sort((a, b) => ((ref(a) ?? a.digest) < (ref(b) ?? b.digest) ? -1 : 1));
  rmSync(indexPath, { force: true }); // a hard link to the old generation's: replace, never write through
  writeFileSync(indexPath, JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: merged }, null, 2) + '\n');
}

/** The generation's state.json and audit.log (the old log and one entry chained to its last line). Returns the entry. */
function writeStateAndAudit(
  gen: string,
  cur: { dir: string } | undefined,
  state: StoreState,
  r: { v: VerifiedBundle; verdict: ReturnType<typeof checkManifest>; admitted: AdmittedImage[]; next: number; policySha256: string; imported: string },
): AuditEntry {
  const { v, verdict, next, imported } = r;
  const m = v.manifest;
  const newImages: Inventory['images'] = r.admitted.map((a) => ({
    recipe: a.recipe,
    version: a.version,
    system: a.system,
    partition: a.partition,
    refName: a.refName,
    manifestDigest: a.manifestDigest,
    bundleId: m.bundleId,
  }));
  const newState: StoreState = {
    kind: 'brickyard-store',
    version: 1,
    generation: next,
    lastSerial: { ...state.lastSerial, [verdict.rollbackKey]: m.serial },
    bundles: [...state.bundles, { bundleId: m.bundleId, serial: m.serial, repository: m.source.repository, commit: m.source.commit, imported }],
    images: [...state.images.filter((i) => !newImages.some((n) => n.refName === i.refName)), ...newImages],
  };
  const oldLog = cur && existsSync(join(cur.dir, 'audit.log')) ? readFileSync(join(cur.dir, 'audit.log'), 'utf8') : '';
  const lines = oldLog.split('\n').filter((l) => l !== '');
  const last = lines.at(-1);
  const entry: AuditEntry = {
    seq: lines.length + 1,
    time: imported,
    action: 'import',
    bundleId: m.bundleId,
    serial: m.serial,
    source: m.source,
    identity: v.identity,
    issuer: v.issuer,
    rollbackKey: verdict.rollbackKey,
    signedAt: verdict.signedAt.toISOString(),
    policySha256: r.policySha256,
    manifestSha256: createHash('sha256').update(v.manifestBytes).digest('hex'),
    entries: m.entries.length,
    bytes: v.bytes,
    generation: next,
    prev: last === undefined ? ZERO : lineHash(last),
  };
  writeFileSync(join(gen, 'audit.log'), oldLog + JSON.stringify(entry) + '\n');
  writeFileSync(join(gen, 'state.json'), JSON.stringify({ ...newState, auditHead: lineHash(JSON.stringify(entry)), auditEntries: entry.seq }, null, 2) + '\n');
  return entry;
}

/**
 * Commit: the generation moves out of staging, then `current` is swapped in one rename — only
 * while this import still holds the lock (the fencing check).
 */
async function commitGeneration(run: ImportRun, lock: StoreLock, staging: string, gen: string, next: number, onStage: ImportOptions['onStage']): Promise<void> {
  const { store } = run;
  const link = join(staging, 'current.new');
  symlinkSync(`generations/${next}`, link);
  if (!lock.stillHolds()) {
    throw new BrickyardError('STORE_LOCKED', `another process took over the lock of ${store} during this import`, { hint: 'run the import again; nothing was committed' });
  }
  const gensDir = confined(store, 'generations');
  if (!existsSync(gensDir)) {
    mkdirSync(gensDir);
    run.madeGenerations = gensDir;
  }
  run.renamedGeneration = confined(gensDir, String(next));
  renameSync(gen, run.renamedGeneration);
  fsyncPath(gensDir);
  await stage('renamed', onStage);
  renameSync(link, join(store, 'current'));
  run.committed = true;
  fsyncPath(store);
  await stage('committed', onStage);
}

/** What the site holds, for the next bundle to be a delta against. */
export function exportInventory(store: string): Inventory {
  const state = readState(store);
  const cur = currentGeneration(store);
  const blobs =
    cur && existsSync(join(cur.dir, 'oci', 'blobs', 'sha256'))
      ? readdirSync(join(cur.dir, 'oci', 'blobs', 'sha256'))
          .sort()
          .map((h) => `sha256:${h}`)
      : [];
  return { kind: 'brickyard-inventory', version: 1, blobs, images: state.images, bundles: state.bundles, lastSerial: state.lastSerial };
}
