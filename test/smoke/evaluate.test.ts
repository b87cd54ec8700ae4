import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { SystemDoc, ThresholdDoc } from '../../pipeline/src/model/types.ts';
import { evaluateCommand, evaluateGpu, evaluatePingPong, overall, VERDICT_RANK, type PingPongContext, type TestResult, type Verdict } from '../../pipeline/src/smoke/evaluate.ts';
import { parseGpuQuery, parsePingPong, type PingPongRun } from '../../pipeline/src/smoke/pingpong.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const smokeOf = (system: string) => (parse(readFileSync(join(ROOT, 'systems', `${system}.yaml`), 'utf8')) as SystemDoc).partitions[0]!.smoke;

/** systems/local.yaml: 2 ranks on one node; latency warn 5 / fail 50 µs, bandwidth warn 1000 / fail 100 MB/s. */
const LOCAL = smokeOf('local');
/** systems/lumi.yaml standard-g: 2 nodes; latency warn 3 / fail 10 µs, bandwidth warn 20000 / fail 5000 MB/s. */
const LUMI = smokeOf('lumi');

const OMPI = parsePingPong(fixture('openmpi-shm-2ranks.stdout'));

function localCtx(over: Partial<PingPongContext> = {}): PingPongContext {
  return {
    exitCode: 0,
    stderr: '',
    expectLibrary: 'Open MPI',
    expectedRanks: LOCAL.mpi.nodes * LOCAL.mpi.ranksPerNode,
    thresholds: { latency: LOCAL.mpi.latency, bandwidth: LOCAL.mpi.bandwidth },
    nodes: LOCAL.mpi.nodes,
    ...over,
  };
}

function lumiCtx(over: Partial<PingPongContext> = {}): PingPongContext {
  return {
    exitCode: 0,
    stderr: '',
    expectLibrary: 'CRAY MPICH',
    expectedRanks: 2,
    thresholds: { latency: LUMI.mpi.latency, bandwidth: LUMI.mpi.bandwidth },
    nodes: 2,
    ...over,
  };
}

/** A complete inter-node run on LUMI-like hardware, with the 8 B latency and 4 MiB bandwidth given. */
function lumiRun(latency8: number, bw4MiB: number, hosts = ['nid005001', 'nid005002']): PingPongRun {
  const points = Array.from({ length: 23 }, (_, i) => {
    const bytes = 2 ** i;
    const latencyUs = bytes === 8 ? latency8 : 2 + bytes / 24000;
    return { bytes, iterations: 100, latencyUs, bandwidthMBps: bytes === 4194304 ? bw4MiB : Math.min(bytes / latencyUs, bw4MiB) };
  });
  return {
    formatVersion: 1,
    library: 'MPI VERSION    : CRAY MPICH version 8.1.29.3 (ANL base 3.4a2)',
    mpiVersion: '3.1',
    ranks: 2,
    hosts,
    points,
    complete: true,
    errors: [],
  };
}

const at = (run: PingPongRun, bytes: number, change: { latencyUs?: number; bandwidthMBps?: number }): PingPongRun => ({
  ...run,
  points: run.points.map((p) => (p.bytes === bytes ? { ...p, ...change } : p)),
});

describe('evaluatePingPong', () => {
  it('passes the real build-host capture against systems/local.yaml and reports the figures', () => {
    const r = evaluatePingPong(OMPI, localCtx());
    expect(r.verdict).toBe('PASSED');
    expect(r.kind).toBe('mpi-pingpong');
    expect(r.figures).toMatchObject({
      latency_8B_us: 0.1,
      bandwidth_4MiB_MBps: 15523.54,
      peak_bandwidth_MBps: 15741.75,
      peak_bandwidth_bytes: 2097152,
      library: 'Open MPI v4.1.4, package: Debian OpenMPI, ident: 4.1.4, repo rev: v4.1.4, May 26, 2022',
      ranks: 2,
      hosts: 'vm,vm',
      node_local: 'yes',
    });
    expect(r.thresholds).toMatchObject({ latency_warn_us: 1, latency_fail_us: 5, bandwidth_warn_MBps: 1000, bandwidth_fail_MBps: 100, tcp_latency_limit_us: 5 });
    expect(r.summary).toBe(
      'latency 0.1 µs at 8 B (warn > 1, fail > 5); bandwidth 15523.54 MB/s at 4 MiB (warn < 1000, fail < 100); ' +
        'peak 15741.75 MB/s at 2 MiB; Open MPI v4.1.4, 2 ranks on vm, vm',
    );
    // The whole curve is in the details.
    expect(r.details).toContain('bytes iterations latency_us bandwidth_MBps');
    expect(r.details).toContain('4194304 100 270.19 15523.54');
    expect(r.details!.filter((d) => /^\d+ \d+ /.test(d))).toHaveLength(23);
  });

  it("warns, never passes quietly, when podman lost a complete trial's exit code; a 127 alone still fails", () => {
    const lost =
      "trial 2: podman lost the exit code of container 0938e1cd4576 ('container has already been removed', the podman 4.3 --rm race) and exited 127; the probe's report is complete and every payload verified, so the trial counts";
    const r = evaluatePingPong(OMPI, localCtx({ runtimeWarnings: [lost] }));
    expect(r.verdict).toBe('WARNED');
    expect(r.summary).toContain('podman lost the exit code of container 0938e1cd4576');
    expect(evaluatePingPong(OMPI, localCtx({ exitCode: 127 })).verdict).toBe('FAILED');
  });

  it('matches the library case-insensitively and fails the wrong one', () => {
    const mpich = parsePingPong(fixture('mpich-shm-2ranks.stdout'));
    expect(evaluatePingPong(mpich, localCtx({ expectLibrary: 'mpich' })).verdict).toBe('PASSED');
    const wrong = evaluatePingPong(mpich, localCtx({ expectLibrary: 'Open MPI' }));
    expect(wrong.verdict).toBe('FAILED');
    expect(wrong.summary).toMatch(/^wrong MPI library: 'MPICH Version: 4\.0\.2' is not Open MPI/);
    expect(evaluatePingPong(lumiRun(1.8, 23800), lumiCtx({ expectLibrary: 'cray mpich' })).verdict).toBe('PASSED');
  });

  it('fails a singleton, by exit code, by the error line, and by the rank count', () => {
    const single = parsePingPong(fixture('openmpi-singleton.stdout'));
    const stderr = fixture('openmpi-singleton.stderr');
    const r = evaluatePingPong(single, localCtx({ exitCode: 3, stderr }));
    expect(r.verdict).toBe('FAILED');
    expect(r.summary).toMatch(/^singleton: need at least 2 ranks, got 1/);
    expect(r.details).toContain('stderr (last 10 lines):');
    // Exit 3 alone (no stdout), and the line alone (a launcher that swallowed the exit code).
    expect(evaluatePingPong(undefined, localCtx({ exitCode: 3 })).summary).toMatch(/^singleton: the probe exited with 3/);
    expect(evaluatePingPong(single, localCtx({ exitCode: 0 })).verdict).toBe('FAILED');
    // N singletons each print the line; a run with the wrong world size is just as wrong.
    const four = evaluatePingPong(OMPI, localCtx({ expectedRanks: 4 }));
    expect(four.verdict).toBe('FAILED');
    expect(four.summary).toMatch(/^ran with 2 ranks, expected 4/);
  });

  it('fails a payload mismatch, an incomplete run, a failed MPI call and missing output', () => {
    const text = fixture('openmpi-shm-2ranks.stdout');
    const head = text.split('\n').slice(0, 18).join('\n');
    const corrupt = parsePingPong(`${head}\n# error: payload mismatch at 2048 bytes\n`);
    const r = evaluatePingPong(corrupt, localCtx({ exitCode: 4 }));
    expect(r.verdict).toBe('FAILED');
    expect(r.summary).toMatch(/^payload mismatch at 2048 bytes: messages arrived corrupted/);
    expect(evaluatePingPong(undefined, localCtx({ exitCode: 4 })).summary).toMatch(/^payload mismatch \(exit 4\)/);

    const cut = parsePingPong(text.replace('# done\n', ''));
    const inc = evaluatePingPong(cut, localCtx());
    expect(inc.verdict).toBe('FAILED');
    expect(inc.summary).toMatch(/^incomplete output: no '# done' line after 23 message sizes/);

    const mpiFail = parsePingPong(`${head}\n# error: rank 1: MPI_Send failed (line 150): MPI_ERR_OTHER\n`);
    const f = evaluatePingPong(mpiFail, localCtx({ exitCode: 5 }));
    expect(f.verdict).toBe('FAILED');
    expect(f.summary).toMatch(/^the probe exited with 5 \(an MPI call failed\); the probe reported: rank 1: MPI_Send failed/);

    expect(evaluatePingPong(undefined, localCtx({ parseError: 'brickyard-pingpong output, line 3: ...' })).summary).toMatch(/^unreadable output: /);
    expect(evaluatePingPong(undefined, localCtx({ exitCode: 137 })).summary).toMatch(/exited with 137 \(killed/);
    // Exit status 0 is not enough.
    expect(evaluatePingPong(parsePingPong(''), localCtx()).verdict).toBe('FAILED');
  });

  it('puts each threshold edge on the right side (LUMI: latency 3/10 µs, bandwidth 20000/5000 MB/s)', () => {
    const v = (lat: number, bw: number): Verdict => evaluatePingPong(lumiRun(lat, bw), lumiCtx()).verdict;
    expect(v(1.8, 23820)).toBe('PASSED');
    expect(v(3, 23820)).toBe('PASSED');
    expect(v(3.01, 23820)).toBe('WARNED');
    expect(v(10, 23820)).toBe('WARNED');
    expect(v(10.01, 23820)).toBe('FAILED');
    expect(v(1.8, 20000)).toBe('PASSED');
    expect(v(1.8, 19999.99)).toBe('WARNED');
    expect(v(1.8, 5000)).toBe('WARNED');
    expect(v(1.8, 4999.99)).toBe('FAILED');
    const warned = evaluatePingPong(lumiRun(3.5, 19000), lumiCtx());
    expect(warned.summary).toMatch(/^latency 3\.5 µs at 8 B is above the warn threshold 3 µs; bandwidth 19000 MB\/s at 4 MiB is below the warn threshold 20000 MB\/s\. Measured: /);
    // The container MPI on LUMI (2.4 GB/s, hpc-systems.md §2c) fails by design.
    expect(evaluatePingPong(lumiRun(2.5, 2381), lumiCtx()).summary).toMatch(/^bandwidth 2381 MB\/s at 4 MiB is below the fail threshold 5000 MB\/s/);
  });

  it('judges the message sizes the thresholds name', () => {
    const run = at(lumiRun(1.8, 23820), 256, { latencyUs: 4 });
    const latency: ThresholdDoc = { ...LUMI.mpi.latency, messageBytes: 256 };
    const r = evaluatePingPong(run, lumiCtx({ thresholds: { latency, bandwidth: LUMI.mpi.bandwidth } }));
    expect(r.verdict).toBe('WARNED');
    expect(r.figures).toMatchObject({ latency_8B_us: 1.8, latency_256B_us: 4 });
    const missing = evaluatePingPong({ ...run, points: run.points.filter((p) => p.bytes !== 4194304) }, lumiCtx());
    expect(missing.summary).toMatch(/^no bandwidth measured at 4 MiB/);
  });

  it("reads a slow number as a TCP sign, never as proof: WARNED without the library's report", () => {
    // mpirun --mca btl tcp,self on an idle host: 5.9 µs at 8 B.
    const tcp = parsePingPong(fixture('openmpi-tcp-2ranks.stdout'));
    const r = evaluatePingPong(tcp, localCtx());
    // FAILED by local.yaml's fail threshold (5 µs; nothing in the run says the host was loaded), not by a guess at TCP.
    expect(r.verdict).toBe('FAILED');
    expect(r.summary).toMatch(/^latency 5\.9 µs at 8 B is above the fail threshold 5 µs/);
    expect(r.summary).not.toMatch(/TCP fallback/);
    expect(r.summary).toMatch(/latency 5\.9 µs at 8 B is above 5 µs, as TCP would be, but the MPI library did not report its transport/);
    // Inter-node: 20 µs.
    const loose = { latency: { warn: 3, fail: 50, source: 't' }, bandwidth: LUMI.mpi.bandwidth };
    expect(evaluatePingPong(lumiRun(19.9, 23000), lumiCtx({ thresholds: loose })).summary).not.toMatch(/as TCP would be/);
    expect(evaluatePingPong(lumiRun(20.5, 23000), lumiCtx({ thresholds: loose })).summary).toMatch(/20\.5 µs at 8 B is above 20 µs, as TCP would be/);

    const evidence = [
      '[nid001][[1234,1],0][btl_tcp_endpoint.c:626:mca_btl_tcp_endpoint_recv_connect_ack] received unexpected process identifier [[1234,1],3]',
      'libfabric:12345:1700000000::core:core:ofi_get_prov():... falling back to TCP provider',
      'MPICH: Open Fabrics provider: tcp;ofi_rxm',
    ];
    for (const line of evidence) {
      const e = evaluatePingPong(OMPI, localCtx({ stderr: `some noise\n${line}\n` }));
      expect(e.verdict, line).toBe('FAILED');
      expect(e.summary).toMatch(/^TCP fallback: stderr says/);
    }
    // Loading the TCP component is not fallback: Open MPI does it in every run.
    const verbose = fixture('openmpi-singleton.stderr') + '[vm:30733] select: initializing btl component tcp\n[vm:30733] btl: tcp: Using interface: sppp\n';
    expect(evaluatePingPong(OMPI, localCtx({ stderr: verbose })).verdict).toBe('PASSED');
  });

  it('warns when a multi-node test ran both ranks on one host', () => {
    const r = evaluatePingPong(lumiRun(1.8, 23820, ['nid005001', 'nid005001']), lumiCtx());
    expect(r.verdict).toBe('WARNED');
    expect(r.summary).toMatch(/^ranks 0 and 1 both ran on nid005001 although the test spans 2 nodes/);
  });

  it('compares the container with the host run and warns past 10 % worse', () => {
    const host = lumiRun(2, 20000);
    const v = (lat: number, bw: number): TestResult =>
      evaluatePingPong(lumiRun(lat, bw), lumiCtx({ hostRun: host, thresholds: { latency: LUMI.mpi.latency, bandwidth: { ...LUMI.mpi.bandwidth, warn: 10000 } } }));
    const same = v(2.2, 18000);
    expect(same.verdict).toBe('PASSED');
    expect(same.figures).toMatchObject({ latency_ratio: 1.1, bandwidth_ratio: 0.9, host_latency_us: 2, host_bandwidth_MBps: 20000 });
    expect(same.thresholds).toMatchObject({ host_ratio_warn_pct: 10 });
    expect(same.summary).toMatch(/container\/host latency x1\.1, bandwidth x0\.9 \(warns when the container is more than 10 % worse than the host\)$/);
    const lat = v(2.21, 18000);
    expect(lat.verdict).toBe('WARNED');
    expect(lat.summary).toMatch(/^latency 2\.21 µs is 10\.5 % above the host's 2 µs \(warn above 10 %\)/);
    const bw = v(2, 17999);
    expect(bw.verdict).toBe('WARNED');
    expect(bw.summary).toMatch(/^bandwidth 17999 MB\/s is 10 % below the host's 20000 MB\/s/);
    // Floating point does not move the edge: 0.11 / 0.10 is 1.0999...
    const tiny = evaluatePingPong(at(OMPI, 8, { latencyUs: 0.11 }), localCtx({ hostRun: OMPI }));
    expect(tiny.verdict).toBe('PASSED');
    // podman's 0.23 µs against mpirun's 0.10 µs on the host warns, unless a slack in µs is allowed.
    const podman = at(OMPI, 8, { latencyUs: 0.23 });
    expect(evaluatePingPong(podman, localCtx({ hostRun: OMPI })).verdict).toBe('WARNED');
    expect(evaluatePingPong(podman, localCtx({ hostRun: OMPI, hostLatencySlackUs: 0.5 })).verdict).toBe('PASSED');
    expect(evaluatePingPong(at(OMPI, 8, { latencyUs: 0.7 }), localCtx({ hostRun: OMPI, hostLatencySlackUs: 0.5 })).verdict).toBe('WARNED');
    // A host run without the sizes gives no ratio, and says so.
    const noHost = evaluatePingPong(OMPI, localCtx({ hostRun: { ...OMPI, points: [] } }));
    expect(noHost.verdict).toBe('PASSED');
    expect(noHost.details).toContain('no container/host latency ratio: the host run has no usable 8 B measurement');
    expect(noHost.summary).toMatch(/container\/host not comparable/);
  });

  it('never gets better as latency rises or bandwidth falls (property)', () => {
    const ctxs = [localCtx(), lumiCtx({ expectLibrary: 'Open MPI' }), lumiCtx({ expectLibrary: 'Open MPI', hostRun: OMPI })];
    const run = (lat: number, bw: number, hosts: string[]): PingPongRun => at(at({ ...OMPI, hosts }, 8, { latencyUs: lat }), 4194304, { bandwidthMBps: bw });
    const lat = fc.double({ min: 0.01, max: 200, noNaN: true });
    const bw = fc.double({ min: 1, max: 50000, noNaN: true });
    fc.assert(
      fc.property(lat, lat, bw, bw, fc.constantFrom(...ctxs), fc.constantFrom<string[]>(['vm', 'vm'], ['nid1', 'nid2']), (l1, l2, b1, b2, ctx, hosts) => {
        const [lo, hi] = l1 <= l2 ? [l1, l2] : [l2, l1];
        const [bwLo, bwHi] = b1 <= b2 ? [b1, b2] : [b2, b1];
        const rank = (l: number, b: number): number => VERDICT_RANK[evaluatePingPong(run(l, b, hosts), ctx).verdict];
        expect(rank(lo, bwHi)).toBeLessThanOrEqual(rank(hi, bwHi));
        expect(rank(lo, bwHi)).toBeLessThanOrEqual(rank(lo, bwLo));
      }),
    );
  });
});

const HIP8 = [
  '# brickyard-gpu-query 1',
  '# runtime: hip 6.0',
  '# driver: hip 60032830',
  'devices: 8',
  ...Array.from({ length: 8 }, (_, i) => `device ${i}: name="AMD Instinct MI250X" arch=gfx90a memory_MiB=65520`),
  '',
].join('\n');

describe('evaluateGpu', () => {
  const gpu = LUMI.gpu!;
  const ok = { partitionHasGpu: true, expectDeviceCount: gpu.expectDeviceCount, expectArch: gpu.expectArch!, exitCode: 0 };

  it('passes what lumi.yaml expects: 8 GCDs of gfx90a', () => {
    const r = evaluateGpu(parseGpuQuery(HIP8), ok);
    expect(r.verdict).toBe('PASSED');
    expect(r.summary).toBe('8 GPUs (gfx90a, AMD Instinct MI250X), hip 6.0');
    expect(r.figures).toMatchObject({ device_count: 8, arch: 'gfx90a', runtime: 'hip 6.0' });
    expect(r.thresholds).toEqual({ expect_device_count: 8, expect_arch: 'gfx90a' });
    expect(evaluateGpu(parseGpuQuery(HIP8), { ...ok, expectArch: 'GFX90A:sramecc+:xnack-' }).verdict).toBe('PASSED');
  });

  it('is SKIPPED, never PASSED, where the partition or the host has no GPU', () => {
    const cpu = evaluateGpu(undefined, { partitionHasGpu: false });
    expect(cpu).toMatchObject({ verdict: 'SKIPPED', summary: 'skipped: the partition has no GPU' });
    const host = evaluateGpu(undefined, { partitionHasGpu: true, hostHasGpu: false, reason: 'the local build host has no GPU' });
    expect(host).toMatchObject({ verdict: 'SKIPPED', summary: 'skipped: the local build host has no GPU' });
    expect(evaluateGpu(undefined, { partitionHasGpu: true, reason: 'no GPU runner' }).verdict).toBe('SKIPPED');
    // Even good output does not turn a skip into a pass.
    fc.assert(
      fc.property(fc.boolean(), fc.option(fc.string(), { nil: undefined }), (withOutput, reason) => {
        const q = withOutput ? parseGpuQuery(HIP8) : undefined;
        expect(evaluateGpu(q, { partitionHasGpu: false, ...(reason === undefined ? {} : { reason }) }).verdict).toBe('SKIPPED');
        expect(evaluateGpu(q, { partitionHasGpu: true, hostHasGpu: false }).verdict).toBe('SKIPPED');
      }),
    );
  });

  it('fails a wrong count, a wrong architecture, no device, a cut-off list and missing output', () => {
    const four = parseGpuQuery(HIP8.split('\n').slice(0, 8).join('\n').replace('devices: 8', 'devices: 4'));
    expect(evaluateGpu(four, ok).summary).toMatch(/^4 GPUs visible, expected 8/);
    const sm = parseGpuQuery(
      '# brickyard-gpu-query 1\n# runtime: cuda 12.6\n# driver: cuda 12.8\ndevices: 1\ndevice 0: name="NVIDIA A100-SXM4-40GB" arch=sm_80 memory_MiB=40326\n',
    );
    expect(evaluateGpu(sm, { partitionHasGpu: true, expectDeviceCount: 1, expectArch: 'sm_90' }).summary).toMatch(/^GPU architecture sm_80 where sm_90 was expected/);
    const none = parseGpuQuery('# brickyard-gpu-query 1\n# runtime: hip 6.0\n# driver: hip 0\ndevices: 0\n# error: no HIP device: no ROCm-capable device is detected\n');
    const r = evaluateGpu(none, { ...ok, exitCode: 2 });
    expect(r.verdict).toBe('FAILED');
    expect(r.summary).toMatch(/^the query exited with 2 \(no device visible\); the query reported: no HIP device/);
    expect(evaluateGpu(none, { partitionHasGpu: true }).verdict).toBe('FAILED');
    const cut = parseGpuQuery(HIP8.split('\n').slice(0, 7).join('\n'));
    expect(evaluateGpu(cut, { partitionHasGpu: true }).summary).toMatch(/^incomplete output: 8 devices announced, 3 listed/);
    expect(evaluateGpu(undefined, { partitionHasGpu: true }).summary).toBe('no query output to judge');
    expect(evaluateGpu(undefined, { partitionHasGpu: true, exitCode: 127 }).verdict).toBe('FAILED');
  });
});

describe('evaluateCommand', () => {
  const run = (over: Partial<{ exitCode: number; stdout: string; stderr: string; timedOut: boolean }> = {}) => ({
    exitCode: 0,
    stdout: 'brickyard-pingpong 1\n',
    stderr: '',
    timedOut: false,
    ...over,
  });

  it('checks the exit code (0 unless stated)', () => {
    expect(evaluateCommand('v', run(), {}).verdict).toBe('PASSED');
    const r = evaluateCommand('v', run({ exitCode: 1, stderr: 'boom' }), {});
    expect(r).toMatchObject({ name: 'v', kind: 'command', verdict: 'FAILED', summary: 'exited with 1, expected 0' });
    expect(r.details).toEqual(['exited with 1, expected 0', 'stdout (last 1 lines):', '  brickyard-pingpong 1', 'stderr (last 1 lines):', '  boom']);
    expect(evaluateCommand('v', run({ exitCode: 2 }), { exitCode: 2 }).verdict).toBe('PASSED');
  });

  it('checks stdout by regular expression, per line, and by substring', () => {
    const out = run({ stdout: 'torch 2.5.1\ngpus 4\n' });
    expect(evaluateCommand('t', out, { stdoutMatches: 'gpus [1-9][0-9]*' }).verdict).toBe('PASSED');
    expect(evaluateCommand('t', out, { stdoutMatches: '^gpus 4$' }).verdict).toBe('PASSED');
    expect(evaluateCommand('t', run({ stdout: 'gpus 0\n' }), { stdoutMatches: 'gpus [1-9][0-9]*' }).summary).toBe('stdout does not match /gpus [1-9][0-9]*/');
    expect(evaluateCommand('t', out, { stdoutMatches: '(' }).summary).toMatch(/^stdoutMatches is not a valid regular expression/);
    expect(evaluateCommand('t', run(), { exitCode: 0, stdoutContains: 'brickyard-pingpong 1' })).toMatchObject({
      verdict: 'PASSED',
      summary: 'exit 0, stdout contains "brickyard-pingpong 1"',
    });
    expect(evaluateCommand('t', run({ stdout: 'Solution fails\n' }), { stdoutContains: 'Solution Validates' }).summary).toBe('stdout does not contain "Solution Validates"');
  });

  it('fails a timeout whatever the output', () => {
    const r = evaluateCommand('t', run({ timedOut: true, exitCode: 0 }), { stdoutContains: 'brickyard' });
    expect(r).toMatchObject({ verdict: 'FAILED', summary: 'timed out', figures: { timed_out: 'yes' } });
  });
});

describe('overall', () => {
  const t = (verdict: Verdict): TestResult => ({ name: verdict, kind: 'command', verdict, summary: '' });
  it('fails on any failure, warns on any warning, and needs a pass to pass', () => {
    expect(overall([t('PASSED'), t('SKIPPED')])).toBe('PASSED');
    expect(overall([t('PASSED'), t('WARNED'), t('SKIPPED')])).toBe('WARNED');
    expect(overall([t('PASSED'), t('WARNED'), t('FAILED')])).toBe('FAILED');
    expect(overall([t('SKIPPED'), t('FAILED')])).toBe('FAILED');
    expect(overall([t('SKIPPED'), t('SKIPPED')])).toBe('WARNED');
    expect(overall([])).toBe('WARNED');
  });
});

describe('verdicts a busy host cannot flip (recorded measurements)', () => {
  // Three trials each, recorded on the 2-core build host under a load of ~13 (fixtures/README.md):
  // shared memory (vader) at 21-37 µs for 8 B, TCP over loopback at 74-524 µs.
  const loaded = [1, 2, 3].map((i) => parsePingPong(fixture(`openmpi-vader-loaded-${i}.stdout`)));
  const tcpLoaded = [1, 2, 3].map((i) => parsePingPong(fixture(`openmpi-tcp-loaded-${i}.stdout`)));
  const vaderStderr = fixture('openmpi-vader-verbose.stderr');
  const tcpStderr = fixture('openmpi-tcp-verbose.stderr');
  const idleTcp = parsePingPong(fixture('openmpi-tcp-2ranks.stdout'));

  it('judges the best trial and reports the median and spread of the trials', () => {
    const r = evaluatePingPong(loaded[0], localCtx({ trials: loaded, stderr: vaderStderr }));
    expect(r.figures).toMatchObject({ trials: 3, latency_8B_us: 21.1, latency_8B_median_us: 33.22, latency_8B_max_us: 37.04, bandwidth_4MiB_MBps: 342.54 });
    expect(Number(r.figures?.['latency_8B_spread_pct'])).toBeCloseTo(((37.04 - 21.1) / 33.22) * 100, 0);
    expect(r.summary).toMatch(/best of 3; median 33\.22, spread 48 %/);
  });

  it('never FAILS shared memory that a loaded host made slow: the library reported vader', () => {
    const r = evaluatePingPong(loaded[0], localCtx({ trials: loaded, stderr: vaderStderr }));
    expect(r.verdict).toBe('WARNED');
    expect(r.figures).toMatchObject({ transport: 'shared-memory', transport_expected: 'shared-memory', transport_evidence: 'openmpi-verbose' });
    expect(r.summary).toMatch(/latency 21\.1 µs at 8 B is above the fail threshold 5 µs, but the library used the transport that was due \(vader \(shared-memory\)/);
    expect(r.summary).toMatch(/above 5 µs although vader \(shared-memory\) by openmpi-verbose, pml ob1: a loaded machine, not a fallback/);
    expect(r.summary).not.toMatch(/TCP fallback/);
  });

  it("never FAILS what the interleaved host baseline shows as load, even without the library's report", () => {
    // Container trials 1 and 3, host trials 2 and 3 interleaved in the same run.
    const r = evaluatePingPong(loaded[0], localCtx({ trials: [loaded[0]!, loaded[2]!], hostTrials: [loaded[1]!, loaded[2]!] }));
    expect(r.verdict).toBe('WARNED');
    expect(r.summary).toMatch(/but the host baseline in the same run is as slow \(container\/host x1/);
    expect(r.figures).toMatchObject({ host_latency_us: 21.1, latency_ratio: 1 });
  });

  it('gives the same verdict class for every mix of idle and loaded trials (no flip between PASSED and FAILED)', () => {
    const pool = [OMPI, ...loaded];
    const verdicts = new Set<string>();
    for (let mask = 1; mask < 16; mask++) {
      const trials = pool.filter((_, i) => mask & (1 << i));
      for (let hostMask = 0; hostMask < 16; hostMask += 5) {
        const hostTrials = pool.filter((_, i) => hostMask & (1 << i));
        const r = evaluatePingPong(trials[0], localCtx({ trials, stderr: vaderStderr, ...(hostTrials.length ? { hostTrials } : {}) }));
        verdicts.add(r.verdict);
        expect(r.verdict, `trials ${mask.toString(2)}, host ${hostMask.toString(2)}: ${r.summary}`).not.toBe('FAILED');
      }
    }
    // The mixes do differ (an idle trial passes): the logic is not just returning a constant.
    expect(verdicts).toEqual(new Set(['PASSED', 'WARNED']));
  });

  it("FAILS a real TCP fallback on one node, loaded or idle, from the library's own report", () => {
    for (const [label, trials] of [
      ['loaded', tcpLoaded],
      ['idle', [idleTcp]],
    ] as const) {
      const r = evaluatePingPong(trials[0], localCtx({ trials: [...trials], stderr: tcpStderr, hostTrials: loaded }));
      expect(r.verdict, label).toBe('FAILED');
      expect(r.summary, label).toMatch(
        /^TCP fallback: tcp \(tcp\) by openmpi-verbose, pml ob1, where shared memory between ranks on one node was due \('\[vm:\d+\] mca: bml: Using tcp btl for send to \[\[7293,1\],1\] on node vm'\)/,
      );
      expect(r.figures).toMatchObject({ transport: 'tcp', transport_expected: 'shared-memory' });
    }
  });

  it('accepts TCP between nodes where the interconnect is Ethernet, and fails it where a fabric was due', () => {
    const twoNodes = (run: PingPongRun): PingPongRun => ({ ...run, hosts: ['n1', 'n2'] });
    const stderr = tcpStderr.replaceAll('on node vm', 'on node n2');
    const ctx = (interconnect: string): PingPongContext =>
      localCtx({
        nodes: 2,
        interconnect,
        stderr,
        trials: tcpLoaded.map(twoNodes),
        thresholds: { latency: { warn: 1000, fail: 2000, source: 't' }, bandwidth: { warn: 50, fail: 10, source: 't' } },
      });
    const eth = evaluatePingPong(twoNodes(tcpLoaded[0]!), ctx('ethernet'));
    expect(eth.verdict, eth.summary).toBe('PASSED');
    expect(eth.figures).toMatchObject({ node_local: 'no', transport: 'tcp', transport_expected: 'tcp' });
    const ib = evaluatePingPong(twoNodes(tcpLoaded[0]!), ctx('infiniband-hdr'));
    expect(ib.verdict).toBe('FAILED');
    expect(ib.summary).toMatch(/^TCP fallback: .* where the partition's fabric was due/);
  });

  it('reads the recorded two-node run (n1, n2 over a veth pair) as inter-node TCP, which is due there', () => {
    const run = parsePingPong(fixture('openmpi-2node-srun.stdout'));
    const r = evaluatePingPong(
      run,
      localCtx({ nodes: 2, interconnect: 'loopback', thresholds: { latency: { warn: 2000, fail: 10000, source: 't' }, bandwidth: { warn: 20, fail: 2, source: 't' } } }),
    );
    expect(r.verdict, r.summary).toBe('PASSED');
    expect(r.figures).toMatchObject({ hosts: 'n1,n2', node_local: 'no', transport_expected: 'tcp', latency_8B_us: 74.3, bandwidth_4MiB_MBps: 533.6 });
  });

  it("says a container/host gap inside the trials' spread is uncertain, and still only warns", () => {
    const r = evaluatePingPong(loaded[0], localCtx({ trials: loaded, hostTrials: [OMPI, OMPI], stderr: vaderStderr, hostLatencySlackUs: 0.5 }));
    expect(r.verdict).toBe('WARNED');
    // Against an idle host the loaded container is far off (not explained by load), but the library said vader: WARNED.
    expect(r.summary).toMatch(/latency 21\.1 µs is 21000 % above the host's 0\.1 µs \(warn above 10 %\);/);
    const near = evaluatePingPong(
      at(OMPI, 8, { latencyUs: 0.125 }),
      localCtx({ trials: [at(OMPI, 8, { latencyUs: 0.125 }), at(OMPI, 8, { latencyUs: 0.2 })], hostTrials: [OMPI, at(OMPI, 8, { latencyUs: 0.15 })] }),
    );
    expect(near.verdict).toBe('WARNED');
    expect(near.summary).toMatch(/latency 0\.125 µs is 25 % above the host's 0\.1 µs \(warn above 10 %\) \(uncertain: the trials spread \d+(\.\d)? %\)/);
    expect(near.figures?.['latency_ratio_uncertainty']).toBeGreaterThan(0.25);
  });
});
