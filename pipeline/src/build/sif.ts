/**
 * SIF files for Apptainer and Singularity sites, made without Apptainer (Debian does not package
 * it) from the built OCI image: `umoci unpack` gives the root file system, Apptainer's own
 * metadata folder (/.singularity.d: runscript, environment, labels) is written into it the way
 * `apptainer build` would, `mksquashfs` squashes it, and `siftool` (the reference implementation
 * of the SIF format) assembles the container: the definition file (Def.FILE), the labels
 * (JSON.Labels) and the root file system (the primary system partition, squashfs).
 *
 * Reproducible: squashfs times come from SOURCE_DATE_EPOCH; siftool writes a random ID and the
 * current time into the header and every descriptor, so those fields are then set to the epoch
 * and to an ID derived from the file's content (normaliseSifHeader).
 */
import { sha256File } from './sources.ts';
/** Re-exported for the callers that hash SIF files. */
export { sha256File };
import {
  chmodSync,
  closeSync,
  createReadStream,
  createWriteStream,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
  type WriteStream,
} from 'node:fs';
import { join } from 'node:path';
import type { Arch } from '../model/types.ts';
import { arrayAt, objectAt, parseUnknownJson } from '../util/untrusted-json.ts';
import { BrickyardError } from '../util/errors.ts';
import { runOk, which } from '../util/exec.ts';

export interface SifRequest {
  /** OCI image layout and the name of the image in it. */
  layout: string;
  refName: string;
  /** Where the .sif goes. */
  out: string;
  /** A scratch folder (removed afterwards). */
  workDir: string;
  /** The pair's rendered Apptainer definition, stored in the SIF as its Def.FILE object. */
  definition: string;
  labels: Record<string, string>;
  arch: Arch;
  epoch: number;
  log?: WriteStream;
}

export interface SifResult {
  path: string;
  sha256: string;
  size: number;
  /** The size of the squashfs root file system inside. */
  rootfsBytes: number;
}

/** The tools a SIF needs, or what is missing. */
export function sifToolsMissing(): string[] {
  return ['umoci', 'mksquashfs', 'siftool'].filter((t) => !which(t));
}

const SIF_ARCH: Record<Arch, string> = { x86_64: '2', aarch64: '4' };

export async function buildSif(req: SifRequest): Promise<SifResult> {
  const missing = sifToolsMissing();
  if (missing.length > 0) {
    throw new BrickyardError('TOOL_MISSING', `making a SIF needs ${missing.join(', ')}`, {
      hint: 'run scripts/setup-host.sh as root (Debian packages umoci, squashfs-tools, siftool)',
    });
  }
  rmSync(req.workDir, { recursive: true, force: true });
  mkdirSync(req.workDir, { recursive: true });
  const bundle = join(req.workDir, 'bundle');
  const sqsh = join(req.workDir, 'rootfs.sqsh');
  const log = req.log;
  try {
    await runOk('umoci', ['unpack', '--image', `${req.layout}:${req.refName}`, bundle], { log, what: 'umoci unpack (for the SIF)' });
    // umoci's runtime config: only the process's environment and arguments are read, each a list of strings.
    const proc = objectAt(parseUnknownJson(readFileSync(join(bundle, 'config.json'), 'utf8')), 'process');
    const strings = (key: string): string[] => (arrayAt(proc, key) ?? []).filter((x) => typeof x === 'string');
    writeSingularityDir(join(bundle, 'rootfs'), strings('env'), strings('args'), req.labels);
    const env = { ...process.env, SOURCE_DATE_EPOCH: String(req.epoch) };
    await runOk('mksquashfs', [join(bundle, 'rootfs'), sqsh, '-noappend', '-quiet', '-no-progress', '-comp', 'zstd', '-Xcompression-level', '3', '-processors', '2'], {
      log,
      env,
      what: 'mksquashfs (SIF root file system)',
    });
    const defPath = join(req.workDir, 'apptainer.def');
    const labelsPath = join(req.workDir, 'labels.json');
    writeFileSync(defPath, req.definition);
    writeFileSync(labelsPath, JSON.stringify(sorted(req.labels), null, 2) + '\n');
    rmSync(req.out, { force: true });
    await runOk('siftool', ['new', req.out], { log, what: 'siftool new' });
    await runOk('siftool', ['add', req.out, defPath, '--datatype', '1', '--filename', 'apptainer.def'], { log, what: 'siftool add (definition)' });
    await runOk('siftool', ['add', req.out, labelsPath, '--datatype', '3', '--filename', 'labels.json'], { log, what: 'siftool add (labels)' });
    await runOk('siftool', ['add', req.out, sqsh, '--datatype', '4', '--parttype', '2', '--partfs', '1', '--partarch', SIF_ARCH[req.arch], '--filename', 'rootfs.sqsh'], {
      log,
      what: 'siftool add (root file system)',
    });
    await normaliseSifHeader(req.out, req.epoch);
    return { path: req.out, sha256: await sha256File(req.out), size: statSync(req.out).size, rootfsBytes: statSync(sqsh).size };
  } finally {
    rmSync(req.workDir, { recursive: true, force: true });
  }
}

/**
 * Apptainer's metadata in the root file system, as `apptainer build` from an OCI image writes it:
 * the image's environment, its entrypoint as runscript, the labels, and the action scripts.
 */
function writeSingularityDir(rootfs: string, env: string[], args: string[], labels: Record<string, string>): void {
  const d = join(rootfs, '.singularity.d');
  for (const sub of ['env', 'actions', 'libs']) mkdirSync(join(d, sub), { recursive: true });
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const exports = env
    .map((e) => e.split(/=(.*)/s))
    .filter(([k]) => k && /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) && k !== 'HOME')
    .map(([k, v]) => (k === 'PATH' ? `export PATH=${q(v ?? '')}` : `export ${k}="\${${k}:-${(v ?? '').replace(/(["\\`$])/g, '\\$1')}}"`));
  const files: Record<string, string> = {
    'env/10-docker2singularity.sh': `#!/bin/sh\n${exports.join('\n')}\n`,
    'env/90-environment.sh': '#!/bin/sh\n# Custom environment shell code should follow\n',
    runscript: `#!/bin/sh\n${args.length ? `exec ${args.map(q).join(' ')} "$@"` : 'exec /bin/sh "$@"'}\n`,
    'actions/exec': '#!/bin/sh\nfor script in /.singularity.d/env/*.sh; do\n  if [ -f "$script" ]; then . "$script"; fi\ndone\nexec "$@"\n',
    'actions/run': '#!/bin/sh\nfor script in /.singularity.d/env/*.sh; do\n  if [ -f "$script" ]; then . "$script"; fi\ndone\nexec /.singularity.d/runscript "$@"\n',
    'actions/shell': '#!/bin/sh\nfor script in /.singularity.d/env/*.sh; do\n  if [ -f "$script" ]; then . "$script"; fi\ndone\nexec /bin/sh "$@"\n',
    'labels.json': JSON.stringify(sorted(labels), null, 2) + '\n',
  };
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(d, name), text);
    chmodSync(join(d, name), name === 'labels.json' ? 0o644 : 0o755);
  }
}

/**
 * Set the SIF global header's and every used descriptor's creation and modification times to
 * `epoch`, and the header's ID to a UUID derived from the rest of the file (siftool writes a
 * random one): two SIFs of the same inputs are then the same bytes. Layout (sif.go): ID at 48
 * (16 bytes), times at 64 and 72; descriptors (585 bytes each) from the offset at 96, their
 * times at +41 and +49, `used` at +4.
 */
export async function normaliseSifHeader(path: string, epoch: number): Promise<void> {
  const fd = openSync(path, 'r+');
  try {
    const head = Buffer.alloc(128);
    readSync(fd, head, 0, 128, 0);
    if (head.subarray(32, 41).toString('latin1') !== 'SIF_MAGIC') throw new BrickyardError('SIF_INVALID', `${path} is not a SIF file (no SIF_MAGIC)`);
    const time = Buffer.alloc(8);
    time.writeBigInt64LE(BigInt(epoch));
    writeSync(fd, time, 0, 8, 64);
    writeSync(fd, time, 0, 8, 72);
    const total = Number(head.readBigInt64LE(88));
    const offset = Number(head.readBigInt64LE(96));
    const DESC = 585;
    const desc = Buffer.alloc(DESC);
    for (let i = 0; i < total; i++) {
      const at = offset + i * DESC;
      readSync(fd, desc, 0, DESC, at);
      if (desc[4] !== 1) continue;
      writeSync(fd, time, 0, 8, at + 41);
      writeSync(fd, time, 0, 8, at + 49);
    }
    writeSync(fd, Buffer.alloc(16), 0, 16, 48);
  } finally {
    closeSync(fd);
  }
  // The ID: sha256 of the file with a zero ID, as an RFC 4122 UUID (version 5 bits, SHA-based).
  const id = Buffer.from(await sha256File(path), 'hex').subarray(0, 16);
  id[6] = (id.readUInt8(6) & 0x0f) | 0x50;
  id[8] = (id.readUInt8(8) & 0x3f) | 0x80;
  const fd2 = openSync(path, 'r+');
  try {
    writeSync(fd2, id, 0, 16, 48);
  } finally {
    closeSync(fd2);
  }
}

function sorted(o: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

const DATA_PARTITION = 0x4004;

/**
 * Copy the primary system partition (the squashfs root file system) out of a SIF, for runtimes
 * that mount a squashfs but do not read SIF (charliecloud's ch-run). Reads the descriptors
 * itself (same layout as normaliseSifHeader); the bytes are those `siftool dump` gives.
 */
export async function extractSifRootfs(sif: string, dest: string): Promise<void> {
  const fd = openSync(sif, 'r');
  let offset = 0;
  let size = 0;
  try {
    const head = Buffer.alloc(128);
    readSync(fd, head, 0, 128, 0);
    if (head.subarray(32, 41).toString('latin1') !== 'SIF_MAGIC') throw new BrickyardError('IMAGE_NOT_FOUND', `${sif} is not a SIF file (no SIF_MAGIC)`);
    const total = Number(head.readBigInt64LE(88));
    const descOffset = Number(head.readBigInt64LE(96));
    const desc = Buffer.alloc(585);
    for (let i = 0; i < total && size === 0; i++) {
      readSync(fd, desc, 0, 585, descOffset + i * 585);
      if (desc[4] !== 1 || desc.readInt32LE(0) !== DATA_PARTITION) continue;
      offset = Number(desc.readBigInt64LE(17));
      size = Number(desc.readBigInt64LE(25));
    }
  } finally {
    closeSync(fd);
  }
  if (size === 0) throw new BrickyardError('IMAGE_NOT_FOUND', `${sif} has no root file system partition`);
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(dest);
    out.on('error', reject).on('finish', () => resolve());
    createReadStream(sif, { start: offset, end: offset + size - 1, highWaterMark: 1 << 20 })
      .on('error', reject)
      .pipe(out);
  });
}
