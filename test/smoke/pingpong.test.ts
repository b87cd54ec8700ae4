import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrickyardError } from '../../pipeline/src/util/errors.ts';
import { exitCodeFor } from '../../pipeline/src/cli/exit-codes.ts';
import { parseGpuQuery, parsePingPong, parsePingPongVersion, SmokeParseError, type PingPongPoint } from '../../pipeline/src/smoke/pingpong.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');

/** Open MPI 4.1.4 (Debian), 2 ranks on the build host, captured with mpirun -np 2. */
const OMPI = fixture('openmpi-shm-2ranks.stdout');

function parseError(text: string): SmokeParseError {
  try {
    parsePingPong(text);
  } catch (e) {
    expect(e).toBeInstanceOf(SmokeParseError);
    return e as SmokeParseError;
  }
  throw new Error('parsePingPong accepted malformed output');
}

describe('parsePingPong', () => {
  it('reads a real Open MPI capture', () => {
    const run = parsePingPong(OMPI);
    expect(run.formatVersion).toBe(1);
    expect(run.library).toBe('Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4, May 26, 2022');
    expect(run.mpiVersion).toBe('3.1');
    expect(run.ranks).toBe(2);
    expect(run.hosts).toEqual(['vm', 'vm']);
    expect(run.complete).toBe(true);
    expect(run.errors).toEqual([]);
    expect(run.points).toHaveLength(23);
    expect(run.points[0]).toEqual({ bytes: 1, iterations: 10000, latencyUs: 0.1, bandwidthMBps: 10.15 });
    expect(run.points.find((p) => p.bytes === 8)).toEqual({ bytes: 8, iterations: 10000, latencyUs: 0.1, bandwidthMBps: 79.49 });
    expect(run.points.at(-1)).toEqual({ bytes: 4194304, iterations: 100, latencyUs: 270.19, bandwidthMBps: 15523.54 });
    expect(run.points.map((p) => p.bytes)).toEqual(Array.from({ length: 23 }, (_, i) => 2 ** i));
  });

  it('keeps the MPICH library line as printed, tab included', () => {
    const run = parsePingPong(fixture('mpich-shm-2ranks.stdout'));
    expect(run.library).toBe('MPICH Version:\t4.0.2');
    expect(run.mpiVersion).toBe('4.0');
    expect(run.complete).toBe(true);
  });

  it('reads a singleton: only the error line, nothing complete', () => {
    const run = parsePingPong(fixture('openmpi-singleton.stdout'));
    expect(run).toEqual({
      library: '',
      mpiVersion: '',
      ranks: 0,
      hosts: [],
      points: [],
      complete: false,
      errors: ['need at least 2 ranks, got 1 (singleton: check the PMI / launcher)'],
    });
  });

  it('reads a payload mismatch as an error and an incomplete run', () => {
    const head = OMPI.split('\n').slice(0, 18).join('\n');
    const run = parsePingPong(`${head}\n# error: payload mismatch at 2048 bytes\n`);
    expect(run.points.at(-1)!.bytes).toBe(1024);
    expect(run.errors).toEqual(['payload mismatch at 2048 bytes']);
    expect(run.complete).toBe(false);
  });

  it('tolerates CRLF line ends, blank lines and no final newline', () => {
    const run = parsePingPong(OMPI.replace(/\n/g, '\r\n').replace('# ranks: 2\r\n', '# ranks: 2\r\n\r\n').trimEnd());
    expect(run).toEqual(parsePingPong(OMPI));
  });

  it('names the line of malformed output', () => {
    const lines = OMPI.split('\n');
    const at = (i: number, text: string): string => [...lines.slice(0, i - 1), text, ...lines.slice(i)].join('\n');
    const cases: [string, number, RegExp][] = [
      [at(9, '2 10000 0.10'), 9, /expected '<bytes> <iterations> <latency_us> <bandwidth_MBps>'/],
      [at(12, '8 10000 0,10 79,49'), 12, /expected '<bytes>/],
      [at(10, '1 10000 0.10 10.15'), 10, /message size 1 does not follow 2/],
      [at(1, '# brickyard-pingpong 2'), 1, /format version 2/],
      [at(1, 'hello'), 1, /expected '<bytes>/],
      [at(2, '# brickyard-pingpong 1'), 2, /second '# brickyard-pingpong' line/],
      [at(4, '# ranks: two'), 4, /unknown report line/],
      [at(7, '# columns moved'), 7, /unknown report line/],
      [at(7, '# bytes latency'), 7, /unknown report line/],
      [`${OMPI}1 1 1.00 1.00\n`, 32, /after '# done'/],
      [lines.slice(1).join('\n'), 1, /before the '# brickyard-pingpong 1' header/],
      [[...lines.slice(0, 6), ...lines.slice(7)].join('\n'), 7, /measurement before the/],
      [at(8, '0 10000 0.10 10.15'), 8, /at least 1/],
    ];
    for (const [text, line, message] of cases) {
      const e = parseError(text);
      expect(e).toBeInstanceOf(BrickyardError);
      expect(e.code).toBe('SMOKE_OUTPUT');
      expect(exitCodeFor(e.code)).toBe(1);
      expect(e.line, e.message).toBe(line);
      expect(e.message).toMatch(new RegExp(`^brickyard-pingpong output, line ${line}: `));
      expect(e.message).toMatch(message);
    }
  });

  it('reads back whatever the probe prints (property)', () => {
    const point = fc.record({
      iterations: fc.integer({ min: 1, max: 10000 }),
      latency: fc.integer({ min: 0, max: 10_000_000 }),
      bandwidth: fc.integer({ min: 0, max: 100_000_000 }),
    });
    fc.assert(
      fc.property(fc.array(point, { maxLength: 23 }), fc.boolean(), (pts, done) => {
        // printf("%zu %d %.2f %.2f\n") with sizes 1, 2, 4, ...
        const expected: PingPongPoint[] = pts.map((p, i) => ({
          bytes: 2 ** i,
          iterations: p.iterations,
          latencyUs: p.latency / 100,
          bandwidthMBps: p.bandwidth / 100,
        }));
        const text = [
          '# brickyard-pingpong 1',
          '# mpi_library: Open MPI v5.0.5',
          '# mpi_version: 3.1',
          '# ranks: 2',
          '# rank 0 host: nid001',
          '# rank 1 host: nid002',
          '# bytes iterations latency_us bandwidth_MBps',
          ...expected.map((p) => `${p.bytes} ${p.iterations} ${p.latencyUs.toFixed(2)} ${p.bandwidthMBps.toFixed(2)}`),
          ...(done ? ['# done'] : []),
        ].join('\n');
        const run = parsePingPong(`${text}\n`);
        expect(run.points).toEqual(expected);
        expect(run.complete).toBe(done);
        expect(run.hosts).toEqual(['nid001', 'nid002']);
      }),
    );
  });

  it('reads --version', () => {
    expect(parsePingPongVersion('brickyard-pingpong 1\n')).toBe(1);
    expect(() => parsePingPongVersion('usage: brickyard-pingpong [--version | --help]\n')).toThrow(SmokeParseError);
  });
});

const CUDA = `# brickyard-gpu-query 1
# runtime: cuda 12.6
# driver: cuda 12.8
devices: 4
device 0: name="NVIDIA GH200 120GB" arch=sm_90 memory_MiB=97871
device 1: name="NVIDIA GH200 120GB" arch=sm_90 memory_MiB=97871
device 2: name="NVIDIA GH200 120GB" arch=sm_90 memory_MiB=97871
device 3: name="NVIDIA GH200 120GB" arch=sm_90 memory_MiB=97871
`;

const HIP8 = [
  '# brickyard-gpu-query 1',
  '# runtime: hip 6.0',
  '# driver: hip 60032830',
  'devices: 8',
  ...Array.from({ length: 8 }, (_, i) => `device ${i}: name="AMD Instinct MI250X" arch=gfx90a memory_MiB=65520`),
  '',
].join('\n');

describe('parseGpuQuery', () => {
  it('reads the CUDA and HIP forms', () => {
    const q = parseGpuQuery(CUDA);
    expect(q.runtime).toBe('cuda 12.6');
    expect(q.driver).toBe('cuda 12.8');
    expect(q.declaredCount).toBe(4);
    expect(q.errors).toEqual([]);
    expect(q.devices[3]).toEqual({ index: 3, name: 'NVIDIA GH200 120GB', arch: 'sm_90', memoryMiB: 97871 });
    const h = parseGpuQuery(HIP8);
    expect(h.runtime).toBe('hip 6.0');
    expect(h.devices.map((d) => d.arch)).toEqual(Array(8).fill('gfx90a'));
  });

  it('reads a query that found no device, and one whose runtime failed', () => {
    const none = parseGpuQuery(
      '# brickyard-gpu-query 1\n# runtime: cuda 12.6\n# driver: cuda 0.0\ndevices: 0\n# error: no CUDA device: CUDA driver version is insufficient for CUDA runtime version\n',
    );
    expect(none.declaredCount).toBe(0);
    expect(none.devices).toEqual([]);
    expect(none.errors).toEqual(['no CUDA device: CUDA driver version is insufficient for CUDA runtime version']);
    const broken = parseGpuQuery('# error: cudaRuntimeGetVersion: unknown error\n');
    expect(broken.formatVersion).toBeUndefined();
    expect(broken.errors).toEqual(['cudaRuntimeGetVersion: unknown error']);
  });

  it('names the line of malformed output', () => {
    const cases: [string, number, RegExp][] = [
      [CUDA.replace('arch=sm_90 memory_MiB=97871\ndevice 2', 'arch=sm_90\ndevice 2'), 6, /expected 'device <i>/],
      [CUDA.replace('device 2:', 'device 3:'), 7, /device 3 where device 2 was due/],
      [CUDA.replace('devices: 4\n', ''), 4, /before 'devices: N'/],
      [`GPU 0: NVIDIA A100\n${CUDA}`, 1, /before the '# brickyard-gpu-query 1' header/],
      [CUDA.replace('# runtime: cuda 12.6', '# runtime: opencl 3.0'), 2, /unknown line/],
      [CUDA.replace('# brickyard-gpu-query 1', '# brickyard-gpu-query 7'), 1, /format version 7/],
    ];
    for (const [text, line, message] of cases) {
      let err: unknown;
      try {
        parseGpuQuery(text);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(SmokeParseError);
      const e = err as SmokeParseError;
      expect(e.code).toBe('SMOKE_OUTPUT');
      expect(e.line, e.message).toBe(line);
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(new RegExp(`^brickyard-gpu-query output, line ${line}: `));
    }
  });
});
