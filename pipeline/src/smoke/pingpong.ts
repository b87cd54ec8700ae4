/**
 * Parsers for the two smoke-test probes the catalogue builds into images:
 * brickyard-pingpong (catalog/blocks/pingpong/files/pingpong.c) and
 * brickyard-gpu-query (catalog/blocks/gpu-query/files/gpu_query.cu and gpu_query_hip.cpp).
 *
 * Both print a line-oriented format (version 1). The parsers are strict: a line that is not one of
 * the forms the probe prints is an error naming its line number, because a smoke test that
 * silently skips what it cannot read could pass on output it never understood. Blank lines and
 * CRLF line ends are tolerated. Deciding whether a run is good is evaluate.ts's job, not the
 * parser's: a singleton's lone `# error:` line parses fine.
 */
import { BrickyardError } from '../util/errors.ts';
import { group } from '../util/match.ts';

/** The probes' output format version these parsers understand. */
export const PROBE_FORMAT_VERSION = 1;

/**
 * Output of a probe that does not follow its format. `line` is 1-based. Exit code 1: the smoke
 * check failed (the image's probe printed something this Brickyard cannot judge).
 */
export class SmokeParseError extends BrickyardError {
  readonly probe: string;
  readonly line: number;

  constructor(probe: string, line: number, message: string, text?: string) {
    super('SMOKE_OUTPUT', `${probe} output, line ${line}: ${message}${text === undefined ? '' : ` (${JSON.stringify(clip(text))})`}`, {
      hint: `check that the image's ${probe} prints format version ${PROBE_FORMAT_VERSION} (${probe} --version) and that nothing else writes to its stdout`,
    });
    this.name = 'SmokeParseError';
    this.probe = probe;
    this.line = line;
  }
}

export interface PingPongPoint {
  bytes: number;
  iterations: number;
  /** Half the round-trip time, µs. */
  latencyUs: number;
  /** bytes / latencyUs, MB/s (MB = 1e6 B). */
  bandwidthMBps: number;
}

export interface PingPongRun {
  /** `# brickyard-pingpong <n>`; undefined when the header never came (e.g. a singleton). */
  formatVersion?: number;
  /** First line of MPI_Get_library_version, e.g. "Open MPI v4.1.4, package: …" or "MPICH Version:\t4.0.2". */
  library: string;
  /** MPI standard version, "<major>.<minor>". */
  mpiVersion: string;
  /** MPI_COMM_WORLD size; 0 when not reported. */
  ranks: number;
  /** Processor names of rank 0 and rank 1, by rank. */
  hosts: (string | undefined)[]; // indexed by rank: a rank that names no host leaves a hole
  /** The curve, in the order printed (ascending message size). */
  points: PingPongPoint[];
  /** Saw `# done`: the sweep finished and every payload verified. */
  complete: boolean;
  /** Text after `# error:` on each error line. */
  errors: string[];
}

const PP = 'brickyard-pingpong';
const NUM = String.raw`(\d+(?:\.\d+)?)`;
const DATA_RE = new RegExp(String.raw`^(\d+)\s+(\d+)\s+${NUM}\s+${NUM}$`);
const COLUMNS = '# bytes iterations latency_us bandwidth_MBps';

/** Parse brickyard-pingpong's stdout (rank 0's report). Throws SmokeParseError on a malformed line. */
export function parsePingPong(stdout: string): PingPongRun {
  const run: PingPongRun = { library: '', mpiVersion: '', ranks: 0, hosts: [], points: [], complete: false, errors: [] };
  let columns = false;
  const seen = new Set<string>();
  const once = (key: string, n: number, raw: string): void => {
    if (seen.has(key)) throw new SmokeParseError(PP, n, `second '${key}' line`, raw);
    seen.add(key);
  };

  lines(stdout).forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (line === '') return;
    const err = /^# error:\s?(.*)$/.exec(line);
    if (err) {
      run.errors.push(group(err, 1));
      return;
    }
    if (run.complete) throw new SmokeParseError(PP, n, "output after '# done'", raw);

    let m: RegExpExecArray | null;
    if ((m = /^# brickyard-pingpong (\d+)$/.exec(line))) {
      once('# brickyard-pingpong', n, raw);
      const v = Number(m[1]);
      if (v !== PROBE_FORMAT_VERSION) {
        throw new SmokeParseError(PP, n, `format version ${v}; this Brickyard reads version ${PROBE_FORMAT_VERSION}`, raw);
      }
      run.formatVersion = v;
      return;
    }
    if (line.startsWith('#') && run.formatVersion === undefined) {
      throw new SmokeParseError(PP, n, "report line before the '# brickyard-pingpong 1' header", raw);
    }
    if ((m = /^# mpi_library:(.*)$/.exec(line))) {
      once('# mpi_library', n, raw);
      run.library = group(m, 1).trim();
      return;
    }
    if ((m = /^# mpi_version: (\d+\.\d+)$/.exec(line))) {
      once('# mpi_version', n, raw);
      run.mpiVersion = group(m, 1);
      return;
    }
    if ((m = /^# ranks: (\d+)$/.exec(line))) {
      once('# ranks', n, raw);
      run.ranks = Number(m[1]);
      return;
    }
    if ((m = /^# rank (\d+) host:(.*)$/.exec(line))) {
      once(`# rank ${m[1]} host`, n, raw);
      run.hosts[Number(m[1])] = group(m, 2).trim();
      return;
    }
    if (line === COLUMNS) {
      once(COLUMNS, n, raw);
      columns = true;
      return;
    }
    if (line === '# done') {
      if (!columns) throw new SmokeParseError(PP, n, "'# done' before the column header", raw);
      run.complete = true;
      return;
    }
    if ((m = DATA_RE.exec(line))) {
      if (!columns) throw new SmokeParseError(PP, n, `measurement before the '${COLUMNS}' line`, raw);
      run.points.push(measuredPoint(m, run.points.at(-1), n, raw));
      return;
    }
    throw new SmokeParseError(PP, n, line.startsWith('#') ? 'unknown report line' : "expected '<bytes> <iterations> <latency_us> <bandwidth_MBps>'", raw);
  });
  return run;
}

/** One measurement line: sizes and iterations at least 1, sizes rising. */
function measuredPoint(m: RegExpExecArray, last: PingPongPoint | undefined, n: number, raw: string): PingPongPoint {
  const point: PingPongPoint = {
    bytes: Number(m[1]),
    iterations: Number(m[2]),
    latencyUs: Number(m[3]),
    bandwidthMBps: Number(m[4]),
  };
  if (point.bytes < 1 || point.iterations < 1) {
    throw new SmokeParseError(PP, n, 'message size and iterations must be at least 1', raw);
  }
  if (last && point.bytes <= last.bytes) {
    throw new SmokeParseError(PP, n, `message size ${point.bytes} does not follow ${last.bytes}`, raw);
  }
  return point;
}

/** `brickyard-pingpong --version` → the format version it prints, e.g. 1. */
export function parsePingPongVersion(stdout: string): number {
  const first = lines(stdout).find((l) => l.trim() !== '') ?? '';
  const m = /^brickyard-pingpong (\d+)$/.exec(first.trim());
  if (!m) throw new SmokeParseError(PP, 1, "expected 'brickyard-pingpong <format version>'", first);
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------------------

export interface GpuDevice {
  index: number;
  name: string;
  /** sm_XY (CUDA) or gfxNNN (HIP, feature flags dropped). */
  arch: string;
  memoryMiB: number;
}

export interface GpuQuery {
  formatVersion?: number;
  /** "cuda 12.6" or "hip 6.2"; '' when the header never came. */
  runtime: string;
  /** "cuda 12.8" (0.0: no driver) or "hip <n>"; '' when not reported. */
  driver: string;
  /** The `devices: N` line; undefined when absent. */
  declaredCount?: number;
  devices: GpuDevice[];
  errors: string[];
}

const GQ = 'brickyard-gpu-query';
const DEVICE_RE = /^device (\d+): name="([^"]*)" arch=(\S+) memory_MiB=(\d+)$/;

/** Parse brickyard-gpu-query's stdout. Throws SmokeParseError on a malformed line. */
export function parseGpuQuery(stdout: string): GpuQuery {
  const q: GpuQuery = { runtime: '', driver: '', devices: [], errors: [] };
  const seen = new Set<string>();
  const once = (key: string, n: number, raw: string): void => {
    if (seen.has(key)) throw new SmokeParseError(GQ, n, `second '${key}' line`, raw);
    seen.add(key);
  };

  lines(stdout).forEach((raw, i) => {
    const n = i + 1;
    const line = raw.trim();
    if (line === '') return;
    let m: RegExpExecArray | null;
    if ((m = /^# error:\s?(.*)$/.exec(line))) {
      q.errors.push(group(m, 1));
      return;
    }
    if ((m = /^# brickyard-gpu-query (\d+)$/.exec(line))) {
      once('# brickyard-gpu-query', n, raw);
      const v = Number(m[1]);
      if (v !== PROBE_FORMAT_VERSION) {
        throw new SmokeParseError(GQ, n, `format version ${v}; this Brickyard reads version ${PROBE_FORMAT_VERSION}`, raw);
      }
      q.formatVersion = v;
      return;
    }
    if (q.formatVersion === undefined) {
      throw new SmokeParseError(GQ, n, "line before the '# brickyard-gpu-query 1' header", raw);
    }
    if ((m = /^# runtime: ((?:cuda|hip) \S+)$/.exec(line))) {
      once('# runtime', n, raw);
      q.runtime = group(m, 1);
      return;
    }
    if ((m = /^# driver: ((?:cuda|hip) \S+)$/.exec(line))) {
      once('# driver', n, raw);
      q.driver = group(m, 1);
      return;
    }
    if ((m = /^devices: (\d+)$/.exec(line))) {
      once('devices', n, raw);
      q.declaredCount = Number(m[1]);
      return;
    }
    if ((m = DEVICE_RE.exec(line))) {
      if (q.declaredCount === undefined) throw new SmokeParseError(GQ, n, "device line before 'devices: N'", raw);
      const index = Number(m[1]);
      if (index !== q.devices.length) {
        throw new SmokeParseError(GQ, n, `device ${index} where device ${q.devices.length} was due`, raw);
      }
      q.devices.push({ index, name: group(m, 2), arch: group(m, 3), memoryMiB: Number(m[4]) });
      return;
    }
    throw new SmokeParseError(GQ, n, line.startsWith('device ') ? `expected 'device <i>: name="<name>" arch=<arch> memory_MiB=<n>'` : 'unknown line', raw);
  });
  return q;
}

function lines(text: string): string[] {
  const all = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (all.at(-1) === '') all.pop();
  return all;
}

function clip(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
