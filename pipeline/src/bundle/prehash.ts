/**
 * Hashing a tar bundle's large entries before the bundle is read. `check-bundle` spends its first
 * few hundred milliseconds loading its verifier, parsing the policy and the trusted root and
 * checking the manifest's signature; the large entries (the image layers, most of the bytes) only
 * go to the hashing workers once the reader reaches them. Started first, from a scan of the tar
 * headers alone, the workers hash while all of that happens.
 *
 * An import does the same with a copy (site/early-import.ts): each worker also writes the entry
 * into a file of the import's staging folder, which the reader renames into place when it reaches
 * that entry, instead of copying it then.
 *
 * Nothing here is trusted: a digest (and a copy) is only taken by the reader for the very byte
 * range it found itself, after the manifest's signature is verified and the entry admitted, and
 * then compared with the signed manifest like any other (read.ts). A scan that meets anything
 * unexpected (not a tar, a bad header checksum, an impossible size) stops, and the reader hashes
 * the rest as usual.
 */
import { chmodSync, closeSync, constants, openSync, readSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Header } from 'tar/header';
import { PARALLEL_HASH_MIN_BYTES, RangeHasher, type ByteRange, type RangeDigest } from './hasher.ts';

const BLOCK = 512;
/**
 * Bundles smaller than this are read as usual: their large entries hash in less time than the
 * scan and an early worker cost (a 43 MiB bundle measured 10 ms slower with it, a 370 MiB one
 * 120 ms faster).
 */
export const PREHASH_MIN_BUNDLE_BYTES = 128 << 20;
/** Headers scanned at most: a bundle lists a few hundred entries; a hostile tar must not make the scan long. */
const MAX_HEADERS = 100_000;

/** Where the workers also write what they hash: a folder of the import's own (empty, made by it). */
export interface AheadCopy {
  dir: string;
  /** Each file made durable (fdatasync) before its digest comes back. */
  sync: boolean;
  /** The folder takes O_DIRECT (directIoWorks). */
  direct: boolean;
}

interface Job {
  digest: Promise<RangeDigest>;
  /** The copy, when the entry is copied as well as hashed. */
  file?: string;
  /** Bytes hashed before the reader took it, reported to its listener when it does. */
  bytes: number;
  listener?: (n: number) => void;
}

const keyOf = (r: ByteRange): string => `${r.offset}:${r.length}:${r.path}`;

export class Prehash {
  private readonly jobs = new Map<string, Job>();
  private readonly hasher: RangeHasher;
  /** How many digests the reader took (for tests and benchmarks). */
  taken = 0;

  private constructor(hasher: RangeHasher) {
    this.hasher = hasher;
  }

  /**
   * Scans the tar at `path` (an absolute path, as the reader will name it) and starts hashing its
   * large entries, when it has at least `minBytes`; with `copy`, each into a file of `copy.dir` too.
   */
  static start(path: string, minBytes = PREHASH_MIN_BUNDLE_BYTES, hasher: RangeHasher = new RangeHasher(), copy?: AheadCopy): Prehash {
    const p = new Prehash(hasher);
    if (sizeOf(path) < minBytes) return p;
    for (const [i, range] of largeEntries(path).entries()) {
      const job: Job = { digest: Promise.resolve({ bytes: 0 }), bytes: 0 };
      const onBytes = (n: number): void => {
        job.bytes += n;
        job.listener?.(n);
      };
      const out = copy && openCopy(join(copy.dir, String(i)), copy.direct);
      if (copy && out === undefined) continue; // cannot be written here: the reader copies it when it comes to it
      if (copy && out !== undefined) {
        job.file = join(copy.dir, String(i));
        // Closed once the worker is done with it (its writes and sync), whatever comes of the digest.
        job.digest = hasher.hash([range], { fd: out, sync: copy.sync, direct: copy.direct }, onBytes).finally(() => closeSync(out));
      } else job.digest = hasher.hash([range], undefined, onBytes);
      p.jobs.set(keyOf(range), job);
    }
    return p;
  }

  /** How many entries are being hashed ahead. */
  get size(): number {
    return this.jobs.size;
  }

  /**
   * The digest of exactly these bytes, if it was started ahead (once: a second take of the same
   * range gets nothing); progress so far is reported to `onBytes` now, the rest as it comes.
   * With `into` (the reader's copy of the entry, a new file it made), the copy made ahead takes
   * its mode and is renamed over it once complete; where none was made, nothing is taken and the
   * reader copies.
   */
  take(ranges: ByteRange[], onBytes?: (n: number) => void, into?: string): Promise<RangeDigest> | undefined {
    const [range, ...more] = ranges;
    if (range === undefined || more.length > 0) return undefined;
    const key = keyOf(range);
    const job = this.jobs.get(key);
    if (job === undefined || (into !== undefined && job.file === undefined)) return undefined;
    this.jobs.delete(key);
    this.taken++;
    if (onBytes) {
      if (job.bytes > 0) onBytes(job.bytes);
      job.listener = onBytes;
    }
    const file = job.file;
    if (into === undefined || file === undefined) return job.digest;
    // A failed copy stays where it is (the staging folder goes with the refused import); its error is the reader's to report.
    return job.digest.then((d) => {
      if (d.error === undefined) {
        chmodSync(file, statSync(into).mode & 0o7777);
        renameSync(file, into);
      }
      return d;
    });
  }

  /** Idle workers stop now, busy ones when their entry is hashed (what was not taken is dropped). */
  close(): void {
    this.jobs.clear();
    this.hasher.close();
  }
}

/** A new file for a copy (never an existing file or link); undefined where it cannot be made. */
function openCopy(path: string, direct: boolean): number | undefined {
  try {
    return openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | (direct ? constants.O_DIRECT : 0), 0o644);
  } catch {
    return undefined;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The byte ranges of the regular files of at least PARALLEL_HASH_MIN_BYTES in a plain ustar file, as far as its headers can be trusted. */
export function largeEntries(path: string): ByteRange[] {
  const found: ByteRange[] = [];
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return found; // a folder, or unreadable: the reader says what is wrong
  }
  try {
    const block = Buffer.alloc(BLOCK);
    let at = 0;
    for (let i = 0; i < MAX_HEADERS; i++) {
      if (readSync(fd, block, 0, BLOCK, at) < BLOCK || block.every((b) => b === 0)) break;
      if (block.subarray(257, 262).toString('latin1') !== 'ustar') break;
      const h = new Header(block, 0);
      const size = h.size ?? -1;
      if (!h.cksumValid || !Number.isSafeInteger(size) || size < 0) break;
      if (h.type === 'File' && size >= PARALLEL_HASH_MIN_BYTES) found.push({ path, offset: at + BLOCK, length: size });
      at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
  } catch {
    // an unreadable header: stop here
  } finally {
    closeSync(fd);
  }
  return found;
}
