/**
 * Reading and verifying a bundle (any of the three forms write.ts makes), in one streaming pass
 * per byte, optionally extracting into a staging folder.
 *
 * Order of checks:
 * 1. manifest.json and manifest.sigstore.json are read first (bounded in size; in a tar they must
 *    be its first two entries) and the signature is verified through the ManifestVerifier before
 *    anything else is read or written; the manifest is checked against its schema.
 * 2. Split bundles: every part is checked (regular file, size, sha256, in the manifest's order)
 *    before the parts are read as one tar; a bad, missing, swapped or extra part is named.
 * 3. Every entry: a safe relative path (no `..`, not absolute, no backslash or control
 *    characters), a regular file (links, devices, FIFOs and extension headers are refused),
 *    not seen before, listed in the manifest, not over the size limit, its size and sha256
 *    equal to the manifest's; entries the manifest lists but the bundle lacks are named.
 * 4. checksums.txt must agree with what was received.
 *
 * Only uncompressed tar is accepted (tar.ts): there is nothing to inflate, so no decompression bomb.
 * Files are written only under the staging folder (created here, must not exist), each opened
 * with O_EXCL; on any error the staging folder is removed before the error is thrown.
 */
import { createHash } from 'node:crypto';
import type { Prehash } from './prehash.ts';
import { directIoWorks, PARALLEL_HASH_MIN_BYTES, RangeHasher, sha256For, warmSha256, type ByteRange, type RangeCopy, type RangeDigest, type Sha256 } from './hasher.ts';
import { close, closeSync, constants, fdatasync, fstatSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { BrickyardError } from '../util/errors.ts';
import { BundleError } from './errors.ts';
import { CHECKSUMS, MANIFEST, parseChecksums, parseManifest, SIGNATURE, type Manifest, type ManifestEntry } from './manifest.ts';
import type { ManifestVerifier, VerifiedSignatureInfo } from './signing.ts';
import { ByteSource, walkTar, type TarBody, type TarEntryHeader } from './tar.ts';

export interface ReadLimits {
  /** Largest single entry, bytes. */
  maxEntryBytes: number;
  /** Largest bundle (sum of entries), bytes. */
  maxBundleBytes: number;
  /** Largest manifest.json / checksums.txt, bytes. */
  maxManifestBytes: number;
  /** Largest manifest.sigstore.json, bytes (a signature is kilobytes: refused past this before it is parsed). */
  maxSignatureBytes: number;
}

export const DEFAULT_LIMITS: ReadLimits = {
  maxEntryBytes: 64 * 2 ** 30,
  maxBundleBytes: 1024 * 2 ** 30,
  maxManifestBytes: 64 * 2 ** 20,
  maxSignatureBytes: 1 << 20,
};

export interface ReadBundleOptions {
  bundlePath: string;
  verifier: ManifestVerifier;
  /** Extract here (must not exist; created, and removed on error). Without it, only verify. */
  stagingDir?: string;
  /** With stagingDir: which entries to write there (default all); the others are only verified. */
  stage?: (entry: ManifestEntry) => boolean;
  limits?: Partial<ReadLimits>;
  /** Called before the entries are read, after the signature has been verified (for policy checks that need only the manifest). */
  onManifest?: (m: Manifest, signer: VerifiedSignatureInfo) => void | Promise<void>;
  /** Entry bytes read so far, and the total the manifest lists (for a progress bar). */
  onProgress?: (done: number, total: number) => void;
  /**
   * Checks that need only the staged entries, run while the large entries that are not staged
   * are still being hashed (check-bundle's content checks). The bundle is accepted only if the
   * hashes then match as well; a digest mismatch is reported before an error of these checks.
   */
  whileHashing?: (v: VerifiedBundle) => Promise<void>;
  /**
   * With stagingDir: each large staged file is sent to disk (fdatasync) as soon as it is
   * complete, while the rest is read. In a tar or split bundle the worker that writes it does so
   * before its verdict (the bundle is accepted only after); in an unpacked folder in the
   * background, and VerifiedBundle.synced settles when all of them are. An import awaits that,
   * then syncs the rest in one pass, before it commits.
   */
  durable?: boolean;
  /** Digests (and an import's copies) of large entries started before the bundle was read (prehash.ts), taken for the very byte ranges the reader finds. */
  prehash?: Prehash;
}

export interface VerifiedBundle {
  manifest: Manifest;
  manifestBytes: Buffer;
  signature: unknown;
  identity: string;
  issuer: string;
  /** Who signed the manifest, as verified (identity, issuer, certificate extensions, signing times). */
  signer: VerifiedSignatureInfo;
  form: 'tar' | 'dir' | 'parts';
  stagingDir?: string;
  /** Bytes of entries read. */
  bytes: number;
  /** With `durable`: every large staged entry's bytes are on disk once this resolves (it rejects on an I/O error). */
  synced?: Promise<void>;
}

const CHUNK = 1 << 20;
/** How much of a large staged entry is written before the next background write-out starts. */
const WRITEBACK_BYTES = 64 << 20;

/** Why a path may not be written: undefined when it is a safe, normalised relative path. */
export function unsafePath(p: string): string | undefined {
  if (p === '') return 'it is empty';
  if (p.startsWith('/')) return 'it is absolute';
  if (/^[A-Za-z]:/.test(p)) return 'it names a drive';
  if (p.includes('\\')) return 'it contains a backslash';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(p)) return 'it contains a control character';
  for (const seg of p.split('/')) {
    if (seg === '..') return 'it leaves the target folder (..)';
    if (seg === '' || seg === '.') return 'it is not normalised';
  }
  if (Buffer.byteLength(p) > 4096) return 'it is too long';
  return undefined;
}

function refuse(reason: string, message: string, entry?: string, hint?: string): never {
  throw new BundleError('BUNDLE_UNSAFE', reason, message, entry, hint ? { hint } : {});
}

function mismatch(reason: string, message: string, entry?: string): never {
  throw new BundleError('BUNDLE_MISMATCH', reason, message, entry, { hint: 'the bundle was damaged or altered in transit; get a fresh copy' });
}

/** A new file for `entry` under the staging folder (never outside it, never an existing file or link), open for writing. */
function openStaged(staging: string, entry: ManifestEntry, direct = false): number {
  const dest = resolve(staging, entry.path);
  if (!dest.startsWith(staging + sep)) refuse('path-escape', `${entry.path} would be written outside the staging folder`, entry.path);
  mkdirSync(dirname(dest), { recursive: true });
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | (direct ? constants.O_DIRECT : 0);
  return openSync(dest, flags, entry.executable ? 0o755 : 0o644);
}

/** Writes one entry under the staging folder while hashing it. */
class EntrySink implements TarBody {
  private readonly hash: Sha256;
  private fd: number | undefined;
  private got = 0;
  private readonly entry: ManifestEntry;
  private readonly onDone: (bytes: number) => void;
  private readonly onData: ((n: number) => void) | undefined;

  private readonly syncs: Promise<void>[] | undefined;
  /** An fdatasync under way on fd (the file is closed only after it). */
  private inFlight: Promise<void> | undefined;
  private unsynced = 0;
  private syncError: NodeJS.ErrnoException | undefined;

  constructor(entry: ManifestEntry, staging: string | undefined, onDone: (bytes: number) => void, onData?: (n: number) => void, syncs?: Promise<void>[]) {
    this.entry = entry;
    this.syncs = syncs;
    this.onDone = onDone;
    this.onData = onData;
    this.hash = sha256For(entry.size);
    if (staging !== undefined) this.fd = openStaged(staging, entry);
  }

  data(chunk: Buffer): void {
    this.got += chunk.length;
    if (this.got > this.entry.size) mismatch('size', `${this.entry.path} is larger than the manifest says (${this.entry.size} bytes)`, this.entry.path);
    this.hash.update(chunk);
    this.onData?.(chunk.length);
    if (this.fd !== undefined) {
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
      this.unsynced += chunk.length;
      // A large entry is written out as it comes (every WRITEBACK_BYTES, in the background): the
      // disk works while the rest is read, and the dirty pages never pile up.
      if (this.syncs && this.unsynced >= WRITEBACK_BYTES && !this.inFlight) {
        this.unsynced = 0;
        const fd = this.fd;
        this.inFlight = new Promise((done) =>
          fdatasync(fd, (err) => {
            this.syncError ??= err ?? undefined;
            this.inFlight = undefined;
            done();
          }),
        );
      }
    }
  }

  end(): void {
    if (this.fd !== undefined && this.syncs && this.entry.size >= PARALLEL_HASH_MIN_BYTES) {
      // A large entry is written out in the background (the kernel starts now, not at the
      // commit), then closed; small ones are left to the caller's one pass before its commit.
      const fd = this.fd;
      this.fd = undefined;
      const synced = (this.inFlight ?? Promise.resolve()).then(
        () =>
          new Promise<void>((resolve, reject) =>
            fdatasync(fd, (err) =>
              close(fd, () => {
                const e = err ?? this.syncError;
                if (e) reject(e);
                else resolve();
              }),
            ),
          ),
      );
      synced.catch(() => undefined); // judged where VerifiedBundle.synced is awaited
      this.syncs.push(synced);
    }
    this.close();
    if (this.got !== this.entry.size) mismatch('size', `${this.entry.path} is ${this.got} bytes; the manifest says ${this.entry.size}`, this.entry.path);
    const digest = this.hash.digestHex();
    if (digest !== this.entry.sha256)
      mismatch(
        'digest',
        `${this.entry.path} does not match its sha256 in the manifest (got ${digest.slice(0, 16)}…, expected ${this.entry.sha256.slice(0, 16)}…)`,
        this.entry.path,
      );
    this.onDone(this.got);
  }

  close(): void {
    const fd = this.fd;
    this.fd = undefined;
    if (fd === undefined) return;
    if (this.inFlight)
      void this.inFlight.then(() => {
        try {
          closeSync(fd);
        } catch {
          /* already gone: nothing to release */
        }
      });
    else closeSync(fd);
  }

  /** Stop without a verdict (the read failed elsewhere). */
  abandon(): void {
    this.close();
    this.hash.dispose();
  }
}

/**
 * A large entry hashed by a worker reading the bundle itself: only verified (check-bundle), or
 * also copied by that worker into the staging folder (`out`, an import), and then made durable
 * there where the import asks for it.
 */
class RangeEntry implements TarBody {
  private digest: Promise<RangeDigest> | undefined;
  private readonly entry: ManifestEntry;
  private readonly hasher: Pick<RangeHasher, 'hash'>;
  private readonly pending: Promise<void>[];
  private readonly onDone: (bytes: number) => void;
  private readonly out: (RangeCopy & { path: string }) | undefined;
  private readonly onBytes: ((n: number) => void) | undefined;

  constructor(
    entry: ManifestEntry,
    hasher: Pick<RangeHasher, 'hash'>,
    pending: Promise<void>[],
    onDone: (bytes: number) => void,
    out?: RangeCopy & { path: string },
    onBytes?: (n: number) => void,
  ) {
    this.entry = entry;
    this.hasher = hasher;
    this.pending = pending;
    this.onDone = onDone;
    this.out = out;
    this.onBytes = onBytes;
  }

  range(ranges: ByteRange[]): void {
    const out = this.out;
    this.digest = this.hasher.hash(ranges, out && { fd: out.fd, sync: out.sync, direct: out.direct }, this.onBytes);
    // Closed here once the worker is done with it (its writes, its sync), whatever the verdict.
    if (out) this.digest = this.digest.finally(() => closeSync(out.fd));
  }

  data(): void {
    throw new Error('RangeEntry is read by range');
  }

  /** The verdict is awaited with the others before the bundle is accepted (never rejects until then). */
  end(): void {
    const e = this.entry;
    const digest = this.digest;
    // The tar reader hands a large entry its ranges before its end: no ranges is a reader bug.
    if (digest === undefined) throw new Error(`internal: ${e.path} ended before its byte ranges were given`);
    const verdict = digest.then((d) => {
      if (d.error !== undefined && d.phase === 'write' && this.out) {
        // As a write in this thread would fail (writeSync names no path, so the fault report is
        // the same whichever thread wrote): the errno (ENOSPC, EIO, …) for the caller's fault report.
        throw Object.assign(new Error(`${d.code ?? 'error'}: cannot write ${this.out.path}: ${d.error}`), { code: d.code });
      }
      if (d.error !== undefined) throw new BrickyardError('FILE_UNREADABLE', `cannot read ${e.path} from the bundle: ${d.error}`);
      if (d.bytes !== e.size) mismatch('size', `${e.path} is ${d.bytes} bytes; the manifest says ${e.size} (the bundle changed while it was read)`, e.path);
      if (d.hex !== e.sha256)
        mismatch('digest', `${e.path} does not match its sha256 in the manifest (got ${(d.hex ?? 'nothing').slice(0, 16)}…, expected ${e.sha256.slice(0, 16)}…)`, e.path);
      this.onDone(d.bytes);
    });
    verdict.catch(() => undefined); // judged where the verdicts are awaited, or moot when the read failed before
    this.pending.push(verdict);
  }
}

/** Buffers a small entry (manifest, signature, checksums), refusing it past `limit`. */
class SmallBody implements TarBody {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly name: string;
  private readonly limit: number;
  private readonly done: (b: Buffer) => Promise<void> | void;
  constructor(name: string, limit: number, done: (b: Buffer) => Promise<void> | void) {
    this.name = name;
    this.limit = limit;
    this.done = done;
  }
  data(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > this.limit) refuse('oversize', `${this.name} is over ${this.limit} bytes`, this.name);
    this.chunks.push(Buffer.from(chunk));
  }
  end(): Promise<void> | void {
    return this.done(Buffer.concat(this.chunks));
  }
}

function readSmallFile(path: string, name: string, limit: number): Buffer {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return refuse('missing', `the bundle has no ${name}`, name);
  }
  if (st.isSymbolicLink()) refuse('link', `${name} is a symbolic link`, name);
  if (!st.isFile()) refuse('device', `${name} is not a regular file`, name);
  if (st.size > limit) refuse('oversize', `${name} is over ${limit} bytes`, name);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, null);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

async function verifySignature(verifier: ManifestVerifier, mBytes: Buffer, sigBytes: Buffer): Promise<VerifiedSignatureInfo & { signature: unknown }> {
  let signature: unknown;
  try {
    signature = JSON.parse(sigBytes.toString('utf8'));
  } catch {
    throw new BundleError('SIGNATURE_INVALID', 'signature', `${SIGNATURE} is not JSON`, SIGNATURE);
  }
  try {
    const who = await verifier.verify(new Uint8Array(mBytes), signature);
    return { ...who, signature };
  } catch (e) {
    if (e instanceof BundleError) throw e;
    const msg = (e as { message?: string }).message ?? String(e);
    throw new BundleError('SIGNATURE_INVALID', 'signature', e instanceof BrickyardError ? msg : `the manifest signature is not valid: ${msg}`, SIGNATURE, {
      hint: 'the manifest was altered or signed by an identity this site does not trust',
      cause: e,
    });
  }
}

/** Whether the bundle at `path` can hold an entry hashed on another core (a folder or an unreadable path: maybe). */
function mayHoldLargeEntry(path: string): boolean {
  try {
    const st = statSync(path);
    return !st.isFile() || st.size >= PARALLEL_HASH_MIN_BYTES;
  } catch {
    return true; // readInto says what is wrong with it
  }
}

export async function readBundle(opts: ReadBundleOptions): Promise<VerifiedBundle> {
  const limits: ReadLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const staging = opts.stagingDir === undefined ? undefined : resolve(opts.stagingDir);
  if (staging !== undefined) mkdirSync(staging, { mode: 0o700 }); // throws if it exists
  const open: EntrySink[] = [];
  // Large entries of a tar or split bundle go to workers that read the bundle themselves: only
  // hashed where they are only verified, hashed and copied into the staging folder where they are
  // kept (an import); one starts now, while the signature is checked.
  // A tar smaller than the threshold holds no large entry: no worker is started for it (a worker
  // costs tens of milliseconds of CPU; most bundles a site checks are small). Only a hint: a large
  // entry still gets its worker when it comes.
  const large = mayHoldLargeEntry(opts.bundlePath);
  const hasher = opts.stage || staging !== undefined ? new RangeHasher() : undefined;
  // (Not when check-bundle hashes them already, from before the read: prehash.ts.)
  if (large && !opts.prehash?.size) hasher?.warm();
  // A bundle unpacked into a folder is staged by this thread, large entries hashed on a second core as they are written.
  const ring = large && staging !== undefined && !opts.stage && isDirectory(opts.bundlePath) ? warmSha256() : undefined;
  try {
    return await readInto(opts, limits, staging, open, hasher);
  } catch (e) {
    for (const s of open) s.abandon();
    if (staging !== undefined) rmSync(staging, { recursive: true, force: true });
    throw e;
  } finally {
    hasher?.close();
    ring?.release();
  }
}

async function readInto(opts: ReadBundleOptions, limits: ReadLimits, staging: string | undefined, open: EntrySink[], hasher: RangeHasher | undefined): Promise<VerifiedBundle> {
  const isDir = isFolder(opts.bundlePath);
  const reading = new BundleReading(opts, limits, staging, open, hasher);
  let form: VerifiedBundle['form'];
  if (!isDir) {
    form = 'tar';
    await readTarBundle(reading);
  } else {
    const manifest = await reading.accept(
      readSmallFile(join(opts.bundlePath, MANIFEST), MANIFEST, limits.maxManifestBytes),
      readSmallFile(join(opts.bundlePath, SIGNATURE), SIGNATURE, limits.maxSignatureBytes),
    );
    if (manifest.parts) {
      form = 'parts';
      await readSplitBundle(reading, manifest.parts);
    } else {
      form = 'dir';
      readFolderBundle(reading);
    }
  }
  return finishReading(reading, form);
}

function isFolder(bundlePath: string): boolean {
  try {
    return statSync(bundlePath).isDirectory(); // the path given may be a link; nothing inside it may
  } catch {
    throw new BrickyardError('FILE_UNREADABLE', `no bundle at ${bundlePath}`);
  }
}

/** One read of a bundle: what has been received so far, and the checks every entry passes on arrival. */
class BundleReading {
  manifest: Manifest | undefined;
  manifestBytes: Buffer | undefined;
  signer: (VerifiedSignatureInfo & { signature: unknown }) | undefined;
  checksums: Map<string, string> | undefined;
  readonly expected = new Map<string, ManifestEntry>();
  readonly seen = new Set<string>();
  readonly digests = new Map<string, string>();
  /** Entry bytes listed so far (the size limits are judged on it). */
  total = 0;
  /** Verdicts of the entries hashed by range in workers. */
  readonly pending: Promise<void>[] = [];
  readonly syncs: Promise<void>[] | undefined;
  readonly progress: ((n: number) => void) | undefined;
  private done = 0;
  private totalBytes = -1;
  /** Whether the staging folder takes O_DIRECT (tried at the first entry a worker copies). */
  private direct: boolean | undefined;

  readonly opts: ReadBundleOptions;
  readonly limits: ReadLimits;
  readonly staging: string | undefined;
  private readonly open: EntrySink[];
  private readonly hasher: RangeHasher | undefined;

  constructor(opts: ReadBundleOptions, limits: ReadLimits, staging: string | undefined, open: EntrySink[], hasher: RangeHasher | undefined) {
    this.opts = opts;
    this.limits = limits;
    this.staging = staging;
    this.open = open;
    this.hasher = hasher;
    this.syncs = opts.durable && staging !== undefined ? [] : undefined;
    const onProgress = opts.onProgress;
    this.progress = onProgress
      ? (n: number): void => {
          this.done += n;
          if (this.totalBytes < 0) this.totalBytes = (this.manifest?.entries ?? []).reduce((t, x) => t + x.size, 0);
          onProgress(this.done, this.totalBytes);
        }
      : undefined;
  }

  /** The manifest and its signature: verified, parsed, recorded (and staged) before any entry is read. */
  async accept(m: Buffer, s: Buffer): Promise<Manifest> {
    const signer = await verifySignature(this.opts.verifier, m, s);
    const manifest = parseManifest(m);
    this.signer = signer;
    this.manifest = manifest;
    this.manifestBytes = m;
    this.digests.set(MANIFEST, createHash('sha256').update(m).digest('hex'));
    this.digests.set(SIGNATURE, createHash('sha256').update(s).digest('hex'));
    for (const e of manifest.entries) this.expected.set(e.path, e);
    const { signature: _s, ...who } = signer;
    await this.opts.onManifest?.(manifest, who);
    if (this.staging !== undefined) {
      writeNew(join(this.staging, MANIFEST), m);
      writeNew(join(this.staging, SIGNATURE), s);
    }
    return manifest;
  }

  /** Where one entry's bytes go, once its path, listing and size have passed. */
  entrySink(path: string, size: number, byRange = false): TarBody {
    const e = this.admitEntry(path, size);
    const kept = this.opts.stage === undefined || this.opts.stage(e);
    // Kept entries are copied by the worker only where nothing reads them before the verdicts
    // (whileHashing reads the staged entries while the others still hash).
    const staging = this.staging;
    const copy = kept && staging !== undefined && !this.opts.whileHashing;
    if (byRange && this.hasher && size >= PARALLEL_HASH_MIN_BYTES && (!kept || copy)) {
      // Its digest is taken as the manifest's for the checksums.txt comparison; the bundle is
      // accepted only once the worker's digest is found equal (the verdicts awaited below).
      this.digests.set(path, e.sha256);
      if (!copy) return new RangeEntry(e, this.hashing(this.hasher), this.pending, (n) => this.progress?.(n));
      // The worker writes it (straight to the disk where the file system allows O_DIRECT: no
      // second copy, nothing left to write out), and with `durable` makes it durable (fdatasync)
      // before its verdict.
      this.direct ??= directIoWorks(staging);
      const out = { fd: openStaged(staging, e, this.direct), sync: this.opts.durable === true, direct: this.direct, path: resolve(staging, e.path) };
      return new RangeEntry(e, this.hashing(this.hasher, out.path), this.pending, () => undefined, out, this.progress);
    }
    const sink = new EntrySink(e, kept ? this.staging : undefined, () => this.digests.set(path, e.sha256), this.progress, this.syncs);
    this.open.push(sink);
    return sink;
  }

  /**
   * Hashed (and copied into `into`) ahead, where check-bundle or import started it (prehash.ts)
   * for these very bytes; else now.
   */
  private hashing(hasher: RangeHasher, into?: string): Pick<RangeHasher, 'hash'> {
    const ahead = this.opts.prehash;
    if (!ahead) return hasher;
    return { hash: (r: ByteRange[], o?: RangeCopy, onBytes?: (n: number) => void) => ahead.take(r, onBytes, into) ?? hasher.hash(r, o, onBytes) };
  }

  private admitEntry(path: string, size: number): ManifestEntry {
    const { limits } = this;
    const why = unsafePath(path);
    if (why) refuse('path-escape', `refusing ${JSON.stringify(path)}: ${why}`, path);
    if (this.seen.has(path)) refuse('duplicate', `${path} appears twice in the bundle`, path);
    this.seen.add(path);
    const e = this.expected.get(path);
    if (!e) refuse('unlisted', `${path} is not listed in the signed manifest`, path);
    if (size > limits.maxEntryBytes)
      refuse('oversize', `${path} is ${size} bytes, over the limit of ${limits.maxEntryBytes}`, path, 'raise the limit in the site policy if this is expected');
    this.total += size;
    if (this.total > limits.maxBundleBytes) refuse('oversize', `the bundle is over the limit of ${limits.maxBundleBytes} bytes (at ${path})`, path);
    if (size !== e.size) mismatch('size', `${path} is ${size} bytes; the manifest says ${e.size}`, path);
    return e;
  }

  onChecksums(b: Buffer): void {
    this.checksums = parseChecksums(b.toString('utf8'));
    if (this.staging !== undefined) writeNew(join(this.staging, CHECKSUMS), b);
  }

  /** checksums.txt beside a folder's manifest, when there is one. */
  readChecksumsFile(): boolean {
    const cs = join(this.opts.bundlePath, CHECKSUMS);
    if (!exists(cs)) return false;
    this.onChecksums(readSmallFile(cs, CHECKSUMS, this.limits.maxManifestBytes));
    return true;
  }
}

/** Only regular files and folders may be in a bundle's tar. */
function checkEntryType(h: TarEntryHeader): void {
  if (h.type === 'SymbolicLink' || h.type === 'Link')
    refuse('link', `${h.path} is a ${h.type === 'Link' ? 'hard' : 'symbolic'} link (to ${h.linkpath ?? '?'}); bundles carry regular files only`, h.path);
  if (h.type === 'CharacterDevice' || h.type === 'BlockDevice' || h.type === 'FIFO') refuse('device', `${h.path} is a ${h.type}; bundles carry regular files only`, h.path);
  if (!['File', 'OldFile', 'ContiguousFile', 'Directory'].includes(h.type)) {
    refuse('unsupported-entry', `${h.path || '(no name)'} is a tar entry of type ${h.type}; bundles carry plain ustar files only`, h.path);
  }
}

/** A folder entry: a safe path and no content; nothing is written for it. */
function checkFolderEntry(h: TarEntryHeader): void {
  const p = h.path.replace(/\/$/, '');
  const why = unsafePath(p);
  if (why) refuse('path-escape', `refusing ${JSON.stringify(h.path)}: ${why}`, h.path);
  if (h.size !== 0) refuse('unsupported-entry', `${h.path} is a folder with content`, h.path);
}

/** A single-file bundle: manifest.json and its signature first, then checksums.txt and the entries in any order. */
async function readTarBundle(reading: BundleReading): Promise<void> {
  const { opts, limits } = reading;
  let n = 0;
  let mb: Buffer | undefined;
  const firstTwo = (h: TarEntryHeader, i: number): TarBody => {
    const want = i === 0 ? MANIFEST : SIGNATURE;
    if (h.type !== 'File' && h.type !== 'OldFile') refuse('layout', `the bundle's entry ${i + 1} must be ${want}; it is a ${h.type}`, h.path);
    if (h.path !== want) refuse('layout', `the bundle must start with ${MANIFEST} and ${SIGNATURE}; entry ${i + 1} is ${h.path}`, h.path);
    const limit = i === 0 ? limits.maxManifestBytes : limits.maxSignatureBytes;
    if (h.size > limit) refuse('oversize', `${want} is over ${limit} bytes`, want);
    return new SmallBody(want, limit, async (b) => {
      if (i === 0) mb = b;
      else if (mb) await reading.accept(mb, b);
    });
  };
  const src = new ByteSource([opts.bundlePath]);
  try {
    await walkTar(
      src,
      {
        header: (h) => {
          checkEntryType(h);
          const i = n++;
          if (i === 0 || i === 1) return firstTwo(h, i);
          if (h.type === 'Directory') {
            checkFolderEntry(h);
            return;
          }
          if (h.path === CHECKSUMS) {
            if (reading.checksums || reading.seen.has(CHECKSUMS)) refuse('duplicate', `${CHECKSUMS} appears twice in the bundle`, CHECKSUMS);
            reading.seen.add(CHECKSUMS);
            return new SmallBody(CHECKSUMS, limits.maxManifestBytes, (b) => reading.onChecksums(b));
          }
          if (h.path === MANIFEST || h.path === SIGNATURE) refuse('duplicate', `${h.path} appears twice in the bundle`, h.path);
          return reading.entrySink(h.path, h.size, true);
        },
      },
      opts.bundlePath,
    );
  } finally {
    src.close();
  }
  if (!reading.manifest) refuse('missing', `the bundle has no ${MANIFEST}`, MANIFEST);
}

/** A split bundle: every part checked whole, then the parts read as one tar of entries. */
async function readSplitBundle(reading: BundleReading, parts: NonNullable<Manifest['parts']>): Promise<void> {
  const { bundlePath } = reading.opts;
  const allowed = new Set([MANIFEST, SIGNATURE, CHECKSUMS, ...parts.map((p) => p.name)]);
  for (const name of readdirSync(bundlePath).sort()) {
    if (!allowed.has(name)) refuse('unlisted', `${name} is not a part of this bundle (the manifest lists ${parts.length} part(s))`, name);
  }
  const files: string[] = [];
  for (const [i, p] of parts.entries()) {
    const file = join(bundlePath, p.name);
    checkPart(file, p, i, parts.length);
    files.push(file);
    reading.digests.set(p.name, p.sha256);
  }
  reading.readChecksumsFile();
  const src = new ByteSource(files);
  try {
    await walkTar(
      src,
      {
        header: (h) => {
          checkEntryType(h);
          if (h.type === 'Directory') {
            checkFolderEntry(h);
            return;
          }
          return reading.entrySink(h.path, h.size, true);
        },
      },
      `the payload of ${bundlePath}`,
    );
  } finally {
    src.close();
  }
}

/** A folder bundle: each file beside the manifest is an entry. */
function readFolderBundle(reading: BundleReading): void {
  if (reading.readChecksumsFile()) reading.seen.add(CHECKSUMS);
  walkDir(reading.opts.bundlePath, '', (rel, abs, size) => {
    if (rel === MANIFEST || rel === SIGNATURE || rel === CHECKSUMS) return;
    const sink = reading.entrySink(rel, size);
    // A folder's entries are never hashed by range, so the sink is the in-line one.
    if (!(sink instanceof EntrySink)) throw new Error(`internal: ${rel} was given a range sink`);
    copyInto(abs, sink);
  });
}

/** Everything was read: nothing listed is missing, the caller's checks run while hashing ends, and checksums.txt agrees. */
async function finishReading(reading: BundleReading, form: VerifiedBundle['form']): Promise<VerifiedBundle> {
  const { opts, staging, expected, seen, syncs, manifest, manifestBytes, signer, checksums } = reading;
  const missing = [...expected.keys()].filter((p) => !seen.has(p));
  if (missing.length) {
    mismatch('missing', `the bundle lacks ${missing.length} file(s) its manifest lists: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`, missing[0]);
  }
  if (!checksums) refuse('missing', `the bundle has no ${CHECKSUMS}`, CHECKSUMS);
  if (!manifest || !manifestBytes || !signer) refuse('missing', `the bundle has no ${MANIFEST}`, MANIFEST);
  const result: VerifiedBundle = {
    manifest,
    manifestBytes,
    signature: signer.signature,
    identity: signer.identity,
    issuer: signer.issuer,
    signer: { identity: signer.identity, issuer: signer.issuer, extensions: signer.extensions, signedAt: signer.signedAt },
    form,
    ...(staging === undefined ? {} : { stagingDir: staging }),
    bytes: reading.total,
    ...(syncs ? { synced: settledLater(Promise.all(syncs).then(() => undefined)) } : {}),
  };
  // The caller's checks on the staged entries overlap the hashing still under way. What decides
  // first is as when everything was read in line: the digests, then checksums.txt, then them.
  let checksFailed: { error: unknown } | undefined;
  if (opts.whileHashing) await opts.whileHashing(result).catch((error: unknown) => (checksFailed = { error }));
  const verdicts = await Promise.allSettled(reading.pending);
  for (const v of verdicts) if (v.status === 'rejected') throw v.reason;
  crossCheckChecksums(checksums, reading.digests, form === 'parts' ? expected : undefined);
  if (checksFailed) throw checksFailed.error;
  return result;
}

/** checksums.txt and what was received name the same files with the same digests (a split bundle's covers its parts, not the entries inside them). */
function crossCheckChecksums(checksums: Map<string, string>, digests: Map<string, string>, entriesInParts: Map<string, ManifestEntry> | undefined): void {
  for (const [path, sha] of checksums) {
    const got = digests.get(path);
    if (got === undefined) mismatch('checksums', `${CHECKSUMS} names ${path}, which the bundle does not hold`, CHECKSUMS);
    if (got !== sha) mismatch('checksums', `${CHECKSUMS} gives ${path} a different sha256 than the signed manifest`, path);
  }
  for (const path of digests.keys()) {
    if (entriesInParts?.has(path)) continue;
    if (!checksums.has(path)) mismatch('checksums', `${CHECKSUMS} does not cover ${path}`, CHECKSUMS);
  }
}

/** A promise whose rejection is judged by whoever awaits it (not an unhandled rejection if nobody does: the read failed first). */
function settledLater<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

function writeNew(path: string, data: Buffer): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
  } finally {
    closeSync(fd);
  }
}

function checkPart(file: string, p: { name: string; size: number; sha256: string }, i: number, count: number): void {
  const fail = (why: string): never => {
    throw new BundleError('BUNDLE_PART_INVALID', 'part', `part ${i + 1} of ${count}, ${p.name}, ${why}`, p.name, {
      hint: `copy ${p.name} again from the original media; the other parts are not read until every part checks out`,
    });
  };
  let st;
  try {
    st = lstatSync(file);
  } catch {
    return fail('is missing');
  }
  if (!st.isFile()) fail(st.isSymbolicLink() ? 'is a symbolic link' : 'is not a regular file');
  if (st.size !== p.size) fail(`is ${st.size} bytes; the manifest says ${p.size}`);
  const h = createHash('sha256');
  const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  const buf = Buffer.allocUnsafe(CHUNK);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  if (h.digest('hex') !== p.sha256) fail('does not match its sha256 in the signed manifest (damaged, swapped or out of order)');
}

function walkDir(root: string, rel: string, onFile: (rel: string, abs: string, size: number) => void): void {
  const dir = rel === '' ? root : join(root, rel);
  for (const name of readdirSync(dir).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const abs = join(root, r);
    const st = lstatSync(abs);
    if (st.isSymbolicLink()) refuse('link', `${r} is a symbolic link; bundles carry regular files only`, r);
    if (st.isDirectory()) walkDir(root, r, onFile);
    else if (st.isFile()) {
      if (st.nlink > 1) refuse('link', `${r} is hard-linked (${st.nlink} links); bundles carry plain files only`, r);
      onFile(r, abs, st.size);
    } else refuse('device', `${r} is not a regular file (device, FIFO or socket)`, r);
  }
}

function copyInto(abs: string, sink: EntrySink): void {
  const fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) refuse('device', `${abs} is not a regular file`);
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      sink.data(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  sink.end();
}

/** Verify a bundle without keeping anything: extract into a temporary folder that is then removed. */
export async function verifyBundle(opts: Omit<ReadBundleOptions, 'stagingDir'> & { extract?: boolean }): Promise<VerifiedBundle> {
  if (!opts.extract) return readBundle(opts);
  const tmp = mkdtempSync(join(tmpdir(), 'brickyard-verify-'));
  try {
    return await readBundle({ ...opts, stagingDir: join(tmp, 'bundle') });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
