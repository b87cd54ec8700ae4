/**
 * An import's first steps, taken before its policy, trusted root and verifier are loaded: the
 * store opened and locked, what an interrupted import left removed, the staging folder made, and
 * the bundle's large entries (the image layers, most of its bytes) hashed and copied into that
 * folder by the hashing workers (bundle/prehash.ts). Loading the rest takes a few hundred
 * milliseconds; the copy overlaps it instead of following it.
 *
 * Nothing is trusted any earlier for it: the reader takes a copy only for the very byte range it
 * found, after the manifest's signature is verified and the entry admitted, and compares its
 * digest with the signed manifest like any other. Until the import adopts it, this holds only
 * what an import would make anyway under the same lock, and `close` takes all of it back.
 *
 * It only goes ahead where it can at once: the lock free (else the import waits its turn as
 * usual), a folder that is a store or can become one, and room on the store's file system for
 * the whole bundle twice over (so a bundle refused later has not used space others needed).
 * Anything else leaves it empty, and the import does everything in its usual order.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statfsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { directIoWorks, RangeHasher } from '../bundle/hasher.ts';
import { Prehash } from '../bundle/prehash.ts';
import { openStore, recover, undoOpen, type Opened } from './layout.ts';
import { tryLock, type StoreLock } from './lock.ts';

/** Bundles smaller than this are imported in the usual order (an early worker saves nothing there). */
export const EARLY_IMPORT_MIN_BUNDLE_BYTES = 32 << 20;

/** What the import takes over: it then owns all of it (and takes it back if refused). */
export interface ImportHead {
  opened: Opened;
  lock: StoreLock;
  /** `<store>/.staging-<random>`, made under the lock, after recovery. */
  staging: string;
  /** The large entries' digests and copies (in `<staging>/ahead`). */
  ahead: Prehash;
}

export class EarlyImport {
  readonly store: string;
  readonly bundlePath: string;
  /** The copies under way (how many the reader took: `ahead.taken`). */
  readonly ahead: Prehash | undefined;
  private head: ImportHead | undefined;
  private adopted = false;

  private constructor(store: string, bundlePath: string, head: ImportHead | undefined) {
    this.store = store;
    this.bundlePath = bundlePath;
    this.head = head;
    this.ahead = head?.ahead;
  }

  /** Starts an import of `bundlePath` into `store` as far as it can at once (see above). */
  static begin(store: string, bundlePath: string, minBytes = EARLY_IMPORT_MIN_BUNDLE_BYTES): EarlyImport {
    const abs = resolve(store);
    const bundle = resolve(bundlePath);
    const size = fileSize(bundle);
    if (size === undefined || size < minBytes) return new EarlyImport(abs, bundle, undefined);
    return new EarlyImport(abs, bundle, startHead(abs, bundle, size, minBytes));
  }

  /** Whether the store is locked and the copies under way. */
  get started(): boolean {
    return this.head !== undefined;
  }

  /** The head, handed over once, to an import of this very bundle into this very store. */
  adopt(store: string, bundlePath: string): ImportHead | undefined {
    if (this.adopted || this.head === undefined || resolve(store) !== this.store || resolve(bundlePath) !== this.bundlePath) return undefined;
    this.adopted = true;
    return this.head;
  }

  /**
   * Takes back what was not handed over (the staging folder, a store folder or marker it made,
   * the lock), and lets the workers go.
   */
  close(): void {
    const head = this.head;
    if (head === undefined) return;
    this.head = undefined;
    head.ahead.close();
    if (this.adopted) return;
    rmSync(head.staging, { recursive: true, force: true });
    undoOpen(this.store, head.opened, true);
    head.lock.release();
  }
}

function startHead(store: string, bundle: string, size: number, minBytes: number): ImportHead | undefined {
  let opened: Opened;
  try {
    opened = openStore(store);
  } catch {
    return undefined; // not a store, unwritable: the import says so, in its own order
  }
  let lock: StoreLock | undefined;
  let staging: string | undefined;
  try {
    const got = tryLock(store);
    if ('heldBy' in got) throw new Error('locked');
    lock = got;
    recover(store);
    if (!roomFor(store, 2 * size)) throw new Error('no room');
    staging = join(store, `.staging-${randomBytes(8).toString('hex')}`);
    mkdirSync(staging, { mode: 0o700 });
    const dir = join(staging, 'ahead');
    mkdirSync(dir);
    const ahead = Prehash.start(bundle, minBytes, new RangeHasher(), { dir, sync: true, direct: directIoWorks(dir) });
    return { opened, lock, staging, ahead };
  } catch {
    if (staging !== undefined) rmSync(staging, { recursive: true, force: true });
    undoOpen(store, opened, lock !== undefined);
    lock?.release();
    return undefined;
  }
}

function fileSize(path: string): number | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the file system of `dir` has at least `bytes` free for this user. */
export function roomFor(dir: string, bytes: number): boolean {
  const fs = statfsSync(dir);
  return fs.bavail * fs.bsize >= bytes;
}
