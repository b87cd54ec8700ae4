/**
 * sha256 on a second core. Importing a bundle reads, hashes and writes every byte; done one after
 * the other, hashing costs as much as the copy itself. For large entries the bytes go through a
 * small shared ring (8 × 1 MiB) to a worker thread that hashes while this thread writes. The API
 * stays synchronous (update, then digest), like node:crypto's, so the streaming reader keeps its
 * shape; the ring bounds memory whatever the entry's size.
 */
import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
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

// Reads a range in 256 KiB pieces (they stay in the cache between read and hash) and hashes it.
const RANGE_WORKER = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buf = Buffer.allocUnsafe(1 << 18);
parentPort.on('message', ({ id, ranges }) => {
  const h = createHash('sha256');
  let bytes = 0;
  try {
    for (const r of ranges) {
      const fd = openSync(r.path, 'r');
      try {
        for (let done = 0; done < r.length; ) {
          const n = readSync(fd, buf, 0, Math.min(buf.length, r.length - done), r.offset + done);
          if (n === 0) break;
          h.update(buf.subarray(0, n));
          done += n;
          bytes += n;
        }
      } finally {
        closeSync(fd);
      }
    }
    parentPort.postMessage({ id, hex: h.digest('hex'), bytes });
  } catch (e) {
    parentPort.postMessage({ id, error: String(e && e.message || e), bytes });
  }
});
`;

export interface RangeDigest {
  hex?: string;
  /** Bytes actually read (fewer than asked: the file shrank). */
  bytes: number;
  error?: string;
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
  private readonly waiting = new Map<number, (d: RangeDigest) => void>();
  private next = 0;
  private readonly size: number;

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
    w.on('message', (m: RangeDigest & { id: number }) => {
      slot.busy--;
      const done = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      done?.(m);
    });
    w.on('error', (e: Error) => {
      for (const [id, done] of this.waiting) {
        this.waiting.delete(id);
        done({ bytes: 0, error: e.message });
      }
    });
    this.workers.push(slot);
    return slot;
  }

  hash(ranges: ByteRange[]): Promise<RangeDigest> {
    const idle = this.workers.find((s) => s.busy === 0);
    const slot = idle ?? (this.workers.length < this.size ? this.spawn() : this.workers.reduce((a, b) => (b.busy < a.busy ? b : a)));
    slot.busy++;
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      slot.w.postMessage({ id, ranges });
    });
  }

  close(): void {
    for (const s of this.workers) void s.w.terminate();
    this.workers.length = 0;
  }
}
