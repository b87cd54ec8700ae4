/**
 * sha256 on a second core. Importing a bundle reads, hashes and writes every byte; done one after
 * the other, hashing costs as much as the copy itself. For large entries the bytes go through a
 * small shared ring (8 × 1 MiB) to a worker thread that hashes while this thread writes. The API
 * stays synchronous (update, then digest), like node:crypto's, so the streaming reader keeps its
 * shape; the ring bounds memory whatever the entry's size.
 */
import { createHash, type Hash } from 'node:crypto';
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
    for (let off = 0; off < chunk.length; ) {
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
  return size >= PARALLEL_HASH_MIN_BYTES ? new ParallelSha256() : new InlineSha256();
}
