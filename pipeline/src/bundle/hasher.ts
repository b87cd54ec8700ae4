/**
 * sha256 on a second core. Importing a bundle reads, hashes and writes every byte; done one after
 * the other, hashing costs as much as the copy itself. For large entries the bytes go through a
 * small shared ring (8 × 1 MiB) to a worker thread that hashes while this thread writes. The API
 * stays synchronous (update, then digest), like node:crypto's, so the streaming reader keeps its
 * shape; the ring bounds memory whatever the entry's size.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, constants, openSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

const SLOT = 1 << 20;
const SLOTS = 8;
/** Entries at least this large are hashed in parallel; a worker costs a few milliseconds to start. */
export const PARALLEL_HASH_MIN_BYTES = 16 << 20;

// Control words: 0 chunks written, 1 chunks hashed, 2 finish requested, 3 digest ready.
const WORKER = `
const { workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { sab, slot, slots } = workerData;
const ctrl = new Int32Array(sab, slot * slots, 4);
const lens = new Int32Array(sab, slot * slots + 16, slots);
const out = new Uint8Array(sab, slot * slots + 16 + 4 * slots, 32);
const h = createHash('sha256');
let tail = 0;
for (;;) {
  const head = Atomics.load(ctrl, 0);
  if (tail < head) {
    const i = tail % slots;
    h.update(new Uint8Array(sab, i * slot, lens[i]));
    tail++;
    Atomics.store(ctrl, 1, tail);
    Atomics.notify(ctrl, 1);
    continue;
  }
  if (Atomics.load(ctrl, 2) === 1) {
    out.set(h.digest());
    Atomics.store(ctrl, 3, 1);
    Atomics.notify(ctrl, 3);
    break;
  }
  Atomics.wait(ctrl, 0, head, 1000);
}
`;

export interface Sha256 {
  update(chunk: Uint8Array): void;
  digestHex(): string;
  dispose(): void;
}

class InlineSha256 implements Sha256 {
  private readonly h: Hash = createHash('sha256');
  update(chunk: Uint8Array): void {
    this.h.update(chunk);
  }
  digestHex(): string {
    return this.h.digest('hex');
  }
  dispose(): void {
    // nothing held: the one-shot hash is collected with this object
  }
}

class ParallelSha256 implements Sha256 {
  private readonly sab = new SharedArrayBuffer(SLOT * SLOTS + 16 + 4 * SLOTS + 32);
  private readonly ctrl = new Int32Array(this.sab, SLOT * SLOTS, 4);
  private readonly lens = new Int32Array(this.sab, SLOT * SLOTS + 16, SLOTS);
  private readonly worker: Worker;
  private head = 0;

  constructor() {
    this.worker = new Worker(WORKER, { eval: true, workerData: { sab: this.sab, slot: SLOT, slots: SLOTS } });
    this.worker.unref();
  }

  update(chunk: Uint8Array): void {
    for (let off = 0; off < chunk.length;) {
      // Wait for a free slot: at most SLOTS chunks ahead of the worker.
      for (let hashed = Atomics.load(this.ctrl, 1); this.head - hashed >= SLOTS; hashed = Atomics.load(this.ctrl, 1)) {
        Atomics.wait(this.ctrl, 1, hashed, 1000);
      }
      const i = this.head % SLOTS;
      const n = Math.min(SLOT, chunk.length - off);
      new Uint8Array(this.sab, i * SLOT, n).set(chunk.subarray(off, off + n));
      this.lens[i] = n;
      this.head++;
      Atomics.store(this.ctrl, 0, this.head);
      Atomics.notify(this.ctrl, 0);
      off += n;
    }
  }

  digestHex(): string {
    Atomics.store(this.ctrl, 2, 1);
    Atomics.notify(this.ctrl, 0);
    while (Atomics.load(this.ctrl, 3) === 0) Atomics.wait(this.ctrl, 3, 0, 1000);
    const hex = Buffer.from(new Uint8Array(this.sab, SLOT * SLOTS + 16 + 4 * SLOTS, 32)).toString('hex');
    this.dispose();
    return hex;
  }

  dispose(): void {
    void this.worker.terminate();
  }
}

/** A sha256 for an entry of `size` bytes: on a second core when that pays off. */
export function sha256For(size: number): Sha256 {
  if (size < PARALLEL_HASH_MIN_BYTES) return new InlineSha256();
  const h = spare ?? new ParallelSha256();
  spare = undefined;
  return h;
}

let spare: ParallelSha256 | undefined;

/**
 * Start a worker for the next large entry now, so that its start-up (tens of milliseconds)
 * overlaps the signature check instead of stalling the first large entry; `release` stops it
 * if no large entry came.
 */
export function warmSha256(): { release(): void } {
  spare ??= new ParallelSha256();
  return {
    release: () => {
      spare?.dispose();
      spare = undefined;
    },
  };
}

/** Where an entry's bytes lie: one or more stretches of files (a split bundle's parts). */
export interface ByteRange {
  path: string;
  offset: number;
  length: number;
}

/** How often (bytes) a worker reports progress. */
const PROGRESS_STEP = 16 << 20;

/** A copying worker's piece: 4 MiB reads and writes (few system calls; three buffers, reused). */
const COPY_CHUNK = 4 << 20;
/** Direct I/O: buffer address, write offset and length in whole blocks of this size (the largest logical block size in common use). */
export const DIRECT_ALIGN = 4096;

/**
 * Whether files in `dir` can be written with O_DIRECT (most disk file systems; not all: tmpfs
 * before Linux 6.6, some network and FUSE file systems refuse it). Tried on a probe file, removed.
 */
export function directIoWorks(dir: string): boolean {
  if (!(constants.O_DIRECT as number | undefined)) return false; // not every platform has it
  const probe = join(dir, '.direct-io-probe');
  try {
    closeSync(openSync(probe, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_DIRECT, 0o600));
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { force: true });
  }
}

/** A hashing worker's piece when nothing is copied: 1 MiB reads (a few stay in the cache between read and hash). */
const HASH_CHUNK = 1 << 20;

// Reads a range and hashes it; given a file to copy into, writes each piece there once hashed.
// Three buffers go round: while this thread hashes one piece, the next is read and the one before
// is written, both by libuv's thread pool (a read from the page cache is a copy as long as a
// third of the hash; done in turn with it, the two added up). Where the file was opened with
// O_DIRECT, the bytes go from the buffer to the disk without a second copy into the page cache
// (the kernel's share of a copy, and the write-out before a sync, both saved).
const RANGE_WORKER = `
const { parentPort } = require('node:worker_threads');
const { open, read, write, writeSync, fdatasyncSync, ftruncateSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const COPY = ${COPY_CHUNK};
const HASH = ${HASH_CHUNK};
const ALIGN = ${DIRECT_ALIGN};
let rawCopy;
let rawHash;
let base = -1;
/** Three copy buffers; for direct I/O, views whose address is ALIGN-aligned (found by trying writes on fd). */
function copyBuffers(fd, direct) {
  rawCopy ??= Buffer.allocUnsafe(3 * COPY + ALIGN);
  const three = (b) => [rawCopy.subarray(b, b + COPY), rawCopy.subarray(b + COPY, b + 2 * COPY), rawCopy.subarray(b + 2 * COPY, b + 3 * COPY)];
  if (!direct) return three(0);
  // Memory from malloc is 16-byte aligned: one of these offsets is ALIGN-aligned. The probe
  // writes at offset 0 of the new file, which the copy then overwrites (or the truncate cuts).
  for (let b = base < 0 ? 0 : base; b < ALIGN; b += 16) {
    try {
      writeSync(fd, rawCopy, b, ALIGN, 0);
      base = b;
      return three(b);
    } catch (e) {
      if (e.code !== 'EINVAL') throw e;
    }
  }
  throw Object.assign(new Error('no aligned buffer for direct I/O'), { code: 'EINVAL' });
}
function hashBuffers() {
  rawHash ??= Buffer.allocUnsafe(3 * HASH);
  return [rawHash.subarray(0, HASH), rawHash.subarray(HASH, 2 * HASH), rawHash.subarray(2 * HASH)];
}
const call = (fn, ...args) => new Promise((resolve, reject) => fn(...args, (e, r) => (e ? reject(e) : resolve(r))));
async function writeAll(fd, buf, len, pos) {
  for (let off = 0; off < len; ) off += await call(write, fd, buf.subarray(off), 0, len - off, pos + off);
}
/** Reads the ranges in order, a buffer's worth at a time: fills buf and says how much (0 at the end); close() after a failure. */
function rangeReader(ranges, st) {
  let i = 0;
  let done = 0;
  let fd;
  const next = async (buf) => {
    let fill = 0;
    while (fill < buf.length && i < ranges.length) {
      const r = ranges[i];
      fd ??= await call(open, r.path, 'r');
      const n = done < r.length ? await call(read, fd, buf, fill, Math.min(buf.length - fill, r.length - done), r.offset + done) : 0;
      fill += n;
      done += n;
      st.bytes += n;
      if (n === 0 || done >= r.length) {
        // the end of this range (or of its file, which shrank: fewer bytes than asked come back)
        closeSync(fd);
        fd = undefined;
        i++;
        done = 0;
      }
    }
    return fill;
  };
  next.close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return next;
}
async function job({ id, ranges, out }) {
  const h = createHash('sha256');
  const st = { bytes: 0, reported: 0, phase: 'read' };
  let result;
  let pending;
  let reading;
  let readInto;
  const progress = () => {
    if (st.bytes - st.reported < ${PROGRESS_STEP}) return;
    parentPort.postMessage({ id, progress: st.bytes - st.reported });
    st.reported = st.bytes;
  };
  try {
    const bufs = out ? copyBuffers(out.fd, out.direct) : hashBuffers();
    readInto = rangeReader(ranges, st);
    let written = 0;
    let k = 0;
    reading = readInto(bufs[0]);
    for (;;) {
      st.phase = 'read';
      const buf = bufs[k % 3];
      const fill = await reading;
      if (fill === 0) break;
      // The next piece is read while this one is hashed. Its buffer was written two pieces ago:
      // that write was awaited before the last one started.
      reading = readInto(bufs[(k + 1) % 3]);
      reading.catch(() => undefined); // judged when awaited
      h.update(buf.subarray(0, fill));
      if (out) {
        // With direct I/O every write is a whole number of ALIGN blocks at an aligned offset (the
        // last one padded with zeros, cut off by the truncate below).
        const len = out.direct ? Math.ceil(fill / ALIGN) * ALIGN : fill;
        if (len > fill) buf.fill(0, fill, len);
        st.phase = 'write';
        await pending;
        pending = writeAll(out.fd, buf, len, written);
        pending.catch(() => undefined); // judged when awaited
      }
      written += fill;
      k++;
      progress();
    }
    st.phase = 'write';
    await pending;
    if (out && out.direct) ftruncateSync(out.fd, written);
    if (out && out.sync) fdatasyncSync(out.fd);
    result = { id, hex: h.digest('hex'), bytes: st.bytes, progress: st.bytes - st.reported };
  } catch (e) {
    result = { id, error: String((e && e.message) || e), code: e && e.code, phase: st.phase, bytes: st.bytes, progress: st.bytes - st.reported };
  } finally {
    // No write or read in flight once the verdict goes out: the caller then closes the file.
    await pending?.catch(() => undefined);
    await reading?.catch(() => undefined);
    readInto?.close();
  }
  parentPort.postMessage(result);
}
// One job at a time per worker (they share the buffers).
let queue = Promise.resolve();
parentPort.on('message', (m) => {
  queue = queue.then(() => job(m));
});
`;

export interface RangeDigest {
  hex?: string;
  /** Bytes actually read (fewer than asked: the file shrank). */
  bytes: number;
  error?: string;
  /** With an error: the errno code (ENOSPC, EIO, …) and whether reading the bundle or writing the copy failed. */
  code?: string;
  phase?: 'read' | 'write';
}

/**
 * Where a worker writes the bytes it hashes: an open file (the caller closes it once the digest
 * is back: no write of the worker's is in flight then), made durable
 * (fdatasync) before the digest comes back when `sync`; `direct` when it was opened with O_DIRECT.
 */
export interface RangeCopy {
  fd: number;
  sync: boolean;
  direct: boolean;
}

/**
 * Entries that are only verified, not kept (check-bundle passes over the image blobs), hashed by
 * worker threads reading the bundle file themselves: the reading thread skips their bytes and
 * goes on with the rest of the bundle (and the checks that need only the small entries) while
 * they hash, one entry per worker, as many workers as cores. Results never reject: a failed read
 * comes back as `error`, for the caller to judge in its own order.
 */
export class RangeHasher {
  private readonly workers: { w: Worker; busy: number }[] = [];
  private readonly waiting = new Map<number, { done: (d: RangeDigest) => void; onBytes: ((n: number) => void) | undefined }>();
  private next = 0;
  private readonly size: number;
  private closed = false;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.size = size;
  }

  /** Start one worker now (its start-up then overlaps whatever comes before the first large entry). */
  warm(): void {
    if (this.workers.length === 0) this.spawn();
  }

  private spawn(): { w: Worker; busy: number } {
    const w = new Worker(RANGE_WORKER, { eval: true });
    w.unref();
    const slot = { w, busy: 0 };
    w.on('message', (m: RangeDigest & { id: number; progress?: number }) => {
      const job = this.waiting.get(m.id);
      if (m.progress) job?.onBytes?.(m.progress);
      if (m.hex === undefined && m.error === undefined) return; // progress only
      slot.busy--;
      this.waiting.delete(m.id);
      job?.done(m);
      if (this.closed && slot.busy === 0) void w.terminate();
    });
    w.on('error', (e: Error) => {
      for (const [id, job] of this.waiting) {
        this.waiting.delete(id);
        job.done({ bytes: 0, error: e.message });
      }
    });
    this.workers.push(slot);
    return slot;
  }

  /**
   * The sha256 of the bytes at `ranges`; with `out`, the worker also writes them there as it
   * reads them (an import's large entries: read once, hashed and written by one thread, while
   * the reading thread goes on with the rest of the bundle). `onBytes` hears progress.
   */
  hash(ranges: ByteRange[], out?: RangeCopy, onBytes?: (n: number) => void): Promise<RangeDigest> {
    const idle = this.workers.find((s) => s.busy === 0);
    const slot = idle ?? (this.workers.length < this.size ? this.spawn() : this.workers.reduce((a, b) => (b.busy < a.busy ? b : a)));
    slot.busy++;
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, { done: resolve, onBytes });
      slot.w.postMessage({ id, ranges, out });
    });
  }

  /**
   * Idle workers stop now; a busy one once its job is done (a copying worker closes the file it
   * writes when its job ends: stopped mid-job, it would leave that descriptor open).
   */
  close(): void {
    this.closed = true;
    for (const s of this.workers) if (s.busy === 0) void s.w.terminate();
    this.workers.length = 0;
  }
}
