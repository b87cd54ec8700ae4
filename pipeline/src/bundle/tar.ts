/**
 * The two ends of a bundle's tar, kept deliberately small.
 *
 * Writing: plain ustar (node-tar's Header encodes each 512-byte header), regular files only, in
 * the order the caller gives, with mtime fixed, uid/gid 0, empty uname/gname, mode 0644 or
 * 0755, no pax or GNU extension headers (a path that does not fit ustar's 255 bytes is an
 * error), ended by two zero blocks. The same inputs give the same bytes. Output goes to one
 * file or is cut into parts of a fixed size, each part hashed as it is written.
 *
 * Reading: one pass over a byte source (one file, or parts read one after the other), each
 * header parsed by node-tar's Header (checksum checked), bodies handed to the caller chunk by
 * chunk; nothing is buffered beyond one chunk. What is refused here: a stream that is not
 * uncompressed ustar (compressed input is not accepted: bundles are never compressed, so there is
 * no decompression bomb to defuse), bad header checksums, truncation, extension headers, and
 * trailing garbage after the end-of-archive marker. What an entry may be (type, path, size) is
 * the caller's decision (read.ts).
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { Header } from 'tar/header';
import { BundleError } from './errors.ts';
import type { ByteRange } from './hasher.ts';

const BLOCK = 512;
const CHUNK = 1 << 20;

/** Where tar bytes go: one file, or parts `<base>.partNNN` of `chunkSize` bytes. */
export class TarSink {
  private readonly base: string;
  private readonly chunkSize: number | undefined;
  /** The one file when not cut into parts. */
  private fd: number | undefined;
  /** The part being written, when cut. */
  private part: { fd: number; name: string; hash: Hash; bytes: number } | undefined;
  readonly parts: { name: string; path: string; size: number; sha256: string }[] = [];
  readonly total = createHash('sha256');
  size = 0;

  onProgress: ((bytes: number) => void) | undefined;

  constructor(path: string, chunkSize?: number, onProgress?: (bytes: number) => void) {
    this.onProgress = onProgress;
    this.base = path;
    this.chunkSize = chunkSize;
    if (chunkSize !== undefined && (!Number.isInteger(chunkSize) || chunkSize < BLOCK)) {
      throw new BundleError('USAGE', 'usage', `the chunk size must be a whole number of bytes, at least ${BLOCK}`);
    }
    if (chunkSize === undefined) this.fd = openSync(path, 'w');
  }

  write(data: Uint8Array): void {
    this.total.update(data);
    this.size += data.length;
    this.onProgress?.(this.size);
    if (this.chunkSize === undefined) {
      if (this.fd === undefined) throw new BundleError('USAGE', 'usage', `${this.base} was written after it was closed`);
      writeAll(this.fd, data);
      return;
    }
    let off = 0;
    while (off < data.length) {
      const part = this.part ?? this.openPart();
      const n = Math.min(this.chunkSize - part.bytes, data.length - off);
      const slice = data.subarray(off, off + n);
      writeAll(part.fd, slice);
      part.hash.update(slice);
      part.bytes += n;
      off += n;
      if (part.bytes === this.chunkSize) this.closePart(part);
    }
  }

  private openPart(): NonNullable<TarSink['part']> {
    const name = `${this.base}.part${String(this.parts.length).padStart(3, '0')}`;
    this.part = { fd: openSync(name, 'w'), name, hash: createHash('sha256'), bytes: 0 };
    return this.part;
  }

  private closePart(part: NonNullable<TarSink['part']>): void {
    closeSync(part.fd);
    this.parts.push({ name: part.name.slice(part.name.lastIndexOf('/') + 1), path: part.name, size: part.bytes, sha256: part.hash.digest('hex') });
    this.part = undefined;
  }

  close(): void {
    if (this.part) this.closePart(this.part);
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

export type TarSource = { kind: 'bytes'; data: Uint8Array } | { kind: 'file'; path: string };

/** Deterministic ustar writer. */
export class TarWriter {
  private readonly sink: TarSink;
  private readonly mtime: Date;

  constructor(sink: TarSink, mtime: Date) {
    this.sink = sink;
    this.mtime = new Date(Math.floor(mtime.getTime() / 1000) * 1000);
  }

  add(path: string, size: number, source: TarSource, executable = false): void {
    const h = new Header({ path, mode: executable ? 0o755 : 0o644, uid: 0, gid: 0, size, mtime: this.mtime, type: 'File', uname: '', gname: '' });
    const needPax = h.encode();
    if (needPax) throw new BundleError('BUNDLE_INVALID', 'path-too-long', `${path} does not fit a ustar header (255 bytes, split at a slash)`, path);
    if (!h.block) throw new BundleError('BUNDLE_INVALID', 'path-too-long', `${path}: no ustar header could be made`, path);
    this.sink.write(h.block);
    let written = 0;
    if (source.kind === 'bytes') {
      this.sink.write(source.data);
      written = source.data.length;
    } else {
      const fd = openSync(source.path, 'r');
      try {
        const buf = Buffer.allocUnsafe(CHUNK);
        for (;;) {
          const n = readSync(fd, buf, 0, CHUNK, null);
          if (n === 0) break;
          this.sink.write(buf.subarray(0, n));
          written += n;
        }
      } finally {
        closeSync(fd);
      }
    }
    if (written !== size)
      throw new BundleError('BUNDLE_INVALID', 'changed', `${source.kind === 'file' ? source.path : path} changed size while it was written (${size} → ${written})`, path);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad) this.sink.write(Buffer.alloc(pad));
  }

  end(): void {
    this.sink.write(Buffer.alloc(BLOCK * 2));
    this.sink.close();
  }
}

/** A byte source read in order: one file, or several (the parts) one after the other. */
export class ByteSource {
  private readonly files: string[];
  private index = 0;
  private fd: number | undefined;
  /** Where the next byte lies in the current file. */
  private pos = 0;
  offset = 0;

  constructor(files: string[]) {
    this.files = files;
  }

  private nextFile(): boolean {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    const file = this.files[this.index];
    if (file === undefined) return false;
    this.index++;
    this.fd = openSync(file, 'r');
    this.pos = 0;
    return true;
  }

  /** Fill `buf[0..len)`; returns how many bytes came (less only at the end of the data). */
  read(buf: Buffer, len: number): number {
    let got = 0;
    while (got < len) {
      if (this.fd === undefined && !this.nextFile()) break;
      if (this.fd === undefined) break;
      const n = readSync(this.fd, buf, got, len - got, this.pos);
      if (n === 0) {
        if (!this.nextFile()) break;
        continue;
      }
      this.pos += n;
      got += n;
    }
    this.offset += got;
    return got;
  }

  /** Pass over `len` bytes without reading them: where they lie, and how many there were (less only at the end of the data). */
  skip(len: number): { ranges: ByteRange[]; got: number } {
    const ranges: ByteRange[] = [];
    let got = 0;
    while (got < len) {
      if (this.fd === undefined && !this.nextFile()) break;
      const path = this.files[this.index - 1];
      if (this.fd === undefined || path === undefined) break;
      const n = Math.min(fstatSync(this.fd).size - this.pos, len - got);
      if (n <= 0) {
        if (!this.nextFile()) break;
        continue;
      }
      ranges.push({ path, offset: this.pos, length: n });
      this.pos += n;
      got += n;
    }
    this.offset += got;
    return { ranges, got };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

export interface TarEntryHeader {
  path: string;
  /** node-tar's type name: File, Directory, SymbolicLink, Link, CharacterDevice, … */
  type: string;
  size: number;
  mode: number;
  linkpath: string | undefined;
  offset: number;
}

export interface TarVisitor {
  /** Called for each header; returns a body consumer, or undefined to skip (only for empty bodies). */
  header(h: TarEntryHeader): Promise<TarBody | undefined> | TarBody | undefined;
}

export interface TarBody {
  data(chunk: Buffer): void;
  end(): Promise<void> | void;
  /** When present, the body is not read: it is handed over by where it lies (instead of data()). */
  range?(ranges: ByteRange[]): void;
}

const GZIP = [0x1f, 0x8b];
const ZSTD = [0x28, 0xb5, 0x2f, 0xfd];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a];
const BZIP2 = [0x42, 0x5a, 0x68];

function startsWith(b: Buffer, magic: number[]): boolean {
  return magic.every((m, i) => b[i] === m);
}

/** One streaming pass over a tar. Throws BundleError on anything malformed. */
export async function walkTar(src: ByteSource, visit: TarVisitor, what: string): Promise<void> {
  const block = Buffer.alloc(BLOCK);
  const buf = Buffer.allocUnsafe(CHUNK);
  let first = true;
  for (;;) {
    const at = src.offset;
    const n = src.read(block, BLOCK);
    if (n === 0 && first) throw new BundleError('BUNDLE_INVALID', 'empty', `${what} is empty`);
    if (n < BLOCK) throw new BundleError('BUNDLE_INVALID', 'truncated', `${what} is truncated: it ends at byte ${at + n} without the end-of-archive marker`);
    if (first) {
      if (startsWith(block, GZIP) || startsWith(block, ZSTD) || startsWith(block, XZ) || startsWith(block, BZIP2)) {
        throw new BundleError('BUNDLE_INVALID', 'compressed', `${what} is compressed; bundles are plain (uncompressed) tar`, undefined, {
          hint: 'decompress it first if you compressed it for transport; Brickyard never compresses bundles, so it never inflates untrusted data',
        });
      }
      const magic = block.subarray(257, 262).toString('latin1');
      if (magic !== 'ustar') throw new BundleError('BUNDLE_INVALID', 'not-tar', `${what} is not a ustar archive`);
      first = false;
    }
    if (block.every((b) => b === 0)) {
      const second = Buffer.alloc(BLOCK);
      const m = src.read(second, BLOCK);
      if (m < BLOCK || !second.every((b) => b === 0)) {
        throw new BundleError('BUNDLE_INVALID', 'truncated', `${what} is damaged: a zero block at byte ${at} is not followed by the end-of-archive marker`);
      }
      // Anything after the marker must be zero padding (a record's worth is common).
      for (;;) {
        const k = src.read(buf, CHUNK);
        if (k === 0) return;
        if (!buf.subarray(0, k).every((b) => b === 0)) throw new BundleError('BUNDLE_INVALID', 'trailing-data', `${what} has data after its end-of-archive marker`);
      }
    }
    let h: Header;
    try {
      h = new Header(block, 0);
    } catch (e) {
      throw new BundleError('BUNDLE_INVALID', 'bad-header', `${what}: unreadable tar header at byte ${at}: ${(e as Error).message}`);
    }
    if (!h.cksumValid) throw new BundleError('BUNDLE_INVALID', 'bad-header', `${what}: the tar header at byte ${at} fails its checksum`);
    const size = h.size ?? 0;
    if (!Number.isSafeInteger(size) || size < 0) throw new BundleError('BUNDLE_INVALID', 'bad-header', `${what}: the tar header at byte ${at} has an impossible size`);
    const consumer = await visit.header({ path: h.path ?? '', type: h.type, size, mode: h.mode ?? 0, linkpath: h.linkpath, offset: at });
    let left = size;
    if (consumer?.range && size > 0) {
      const { ranges, got } = src.skip(size);
      if (got < size) throw new BundleError('BUNDLE_INVALID', 'truncated', `${what} is truncated inside ${h.path}: ${size - got} byte(s) of it are missing`, h.path);
      consumer.range(ranges);
      left = 0;
    }
    while (left > 0) {
      const want = Math.min(CHUNK, left);
      const k = src.read(buf, want);
      if (k < want) {
        throw new BundleError('BUNDLE_INVALID', 'truncated', `${what} is truncated inside ${h.path}: ${left - k} byte(s) of it are missing`, h.path);
      }
      consumer?.data(buf.subarray(0, k));
      left -= k;
    }
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad && src.read(buf, pad) < pad) throw new BundleError('BUNDLE_INVALID', 'truncated', `${what} is truncated after ${h.path}`, h.path);
    await consumer?.end();
  }
}
