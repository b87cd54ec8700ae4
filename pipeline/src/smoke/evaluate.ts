/**
 * Judge smoke-test results against a partition's thresholds (PartitionDoc.smoke).
 *
 * Threshold semantics (hpc-systems.md §2c, pipeline/schemas/system.schema.json): latency in µs
 * warns / fails when strictly ABOVE `warn` / `fail`; bandwidth in MB/s (1e6 B/s) when strictly
 * BELOW. A figure equal to a threshold is on the good side of it. Latency is judged at
 * `messageBytes` (default 8 B), bandwidth at `messageBytes` (default 4 MiB, as ReFrame's osu
 * checks and every source in systems/ measure it); the peak over 64 KiB–4 MiB is reported beside
 * it but not judged.
 *
 * The checks aim at misconfiguration, not at ranking performance: singletons, payload corruption,
 * the wrong MPI library, TCP fallback. Every failure reason goes into the summary and the details,
 * in the words a user can act on.
 */
import type { ThresholdDoc } from '../model/types.ts';
import type { GpuQuery, PingPongPoint, PingPongRun } from './pingpong.ts';
import { ratioOf, round, sample, sampleText, type Ratio, type Sample } from './stats.ts';
import { detectTransport, expectedTransport, judgeTransport, type TransportEvidence } from './transport.ts';

export type Verdict = 'PASSED' | 'WARNED' | 'FAILED' | 'SKIPPED';

export interface TestResult {
  name: string;
  kind: 'mpi-pingpong' | 'gpu-check' | 'command' | 'stream';
  verdict: Verdict;
  summary: string;
  figures?: Record<string, number | string>;
  thresholds?: Record<string, number | string>;
  details?: string[];
}

/** Worse is larger; SKIPPED ranks with PASSED because a skip says nothing bad about the image. */
export const VERDICT_RANK: Record<Verdict, number> = { SKIPPED: 0, PASSED: 0, WARNED: 1, FAILED: 2 };

export const LATENCY_BYTES = 8;
export const BANDWIDTH_BYTES = 4 * 1024 * 1024;
/** Range the peak bandwidth is taken over (inclusive). */
export const PEAK_RANGE_BYTES: readonly [number, number] = [64 * 1024, 4 * 1024 * 1024];

/** WARN when the container is more than this fraction worse than the same probe on the host. */
export const HOST_RATIO_WARN = 0.1;
/** Keeps 0.11 / 0.10 (= 1.0999…) and 1.1 on the same side of the 10 % line. */
const RATIO_EPSILON = 1e-9;

/**
 * TCP fallback by latency at 8 B. Node-local: shared memory takes 0.1–0.3 µs (measured on the build
 * host: Open MPI 4.1.4 vader 0.10 µs, MPICH 4.0.2 0.14 µs, podman 0.23 µs; §2c expects 0.2–0.6 µs
 * and fails intra-node above 5 µs), while Open MPI's TCP BTL over loopback measured 5.90 µs on the
 * same host (test/smoke/fixtures/openmpi-tcp-2ranks.stdout). So 5 µs, not a larger figure that
 * loopback TCP would pass under. Inter-node (or placement unknown): Slingshot/InfiniBand take
 * 1–3 µs, TCP over Ethernet tens of µs (57 µs in §2c's example); 20 µs keeps clear of a slow but
 * working fabric. These apply on top of the partition's thresholds, which may be looser.
 */
export const TCP_LATENCY_NODE_LOCAL_US = 5;
export const TCP_LATENCY_INTER_NODE_US = 20;

/**
 * stderr lines that show TCP in the data path. Loading the TCP component is not fallback (Open MPI
 * initialises it in every run; `btl: tcp: ...` verbose lines are ignored): these need a TCP BTL
 * endpoint talking to a peer, libfabric's tcp/sockets provider being chosen, or explicit
 * "falling back to TCP" wording (UCX, libfabric, NCCL, MPICH).
 */
export const TCP_FALLBACK_STDERR: readonly RegExp[] = [
  /\bmca_btl_tcp_endpoint|\bbtl_tcp_endpoint\.c\b/,
  /\bfall(?:s|ing)?[ -]?back (?:to|on) (?:the )?(?:tcp|sockets?)\b/i,
  /\b(?:tcp|sockets);ofi_rxm\b/i,
  /\b(?:ofi )?provider[:= ]+"?(?:tcp|sockets)\b/i,
];

const PINGPONG_EXIT: Record<number, string> = {
  2: 'usage error',
  3: 'fewer than two ranks: a singleton',
  4: 'payload mismatch',
  5: 'an MPI call failed',
  6: 'out of memory',
  124: 'timed out',
  137: 'killed (SIGKILL: a timeout or the out-of-memory killer)',
};

export interface PingPongContext {
  /** Test name; default 'mpi-pingpong'. */
  name?: string;
  exitCode: number;
  stderr: string;
  /** MpiStrategyDoc.expectLibrary, matched case-insensitively as a substring of the library line. */
  expectLibrary: string;
  expectedRanks: number;
  thresholds: { latency: ThresholdDoc; bandwidth: ThresholdDoc };
  /** The same probe run on the host, outside the container: the baseline for the ratios. */
  hostRun?: PingPongRun;
  /** Nodes the run was meant to span (PartitionDoc.smoke.mpi.nodes); refines the locality check. */
  nodes?: number;
  /** Why the output could not be parsed (SmokeParseError.message), when run is undefined for that reason. */
  parseError?: string;
  /** Override the TCP latency limit (µs at 8 B). */
  tcpLatencyUs?: number;
  /**
   * The container/host latency ratio warns only when the container is also this many µs slower
   * than the host (default 0: the plain 10 % rule). Sub-µs shared-memory latencies differ by more
   * than 10 % between launchers (host-infra: podman 0.23 µs, srun 0.21 µs, mpirun 0.10 µs).
   */
  hostLatencySlackUs?: number;
  /**
   * Every container trial of the probe (`run` is one of them, used for the launch checks). The
   * best trial is judged; the median and spread are reported. Default: `[run]`.
   */
  trials?: PingPongRun[];
  /** The host baseline's trials, interleaved with the container's in the same run (supersedes hostRun). */
  hostTrials?: PingPongRun[];
  /** The library's report of its transport; default: read from `stderr` (transport.ts). */
  transport?: TransportEvidence;
  /** SystemDoc.interconnect.type: what transport is due between nodes. */
  interconnect?: string;
  /** Faults of the container runtime that did not spoil the measurement (runtime-faults.ts): each WARNS. */
  runtimeWarnings?: string[];
}

/** What judging one ping-pong run gathers: the reasons it fails or warns, notes, and the figures and thresholds it reports. */
interface Judgement {
  fail: string[];
  warn: string[];
  notes: string[];
  figures: Record<string, number | string>;
  thresholds: Record<string, number | string>;
}

/** The trials' figures at the judged sizes: the best is judged, the median and spread reported (stats.ts). */
interface TrialSamples {
  trials: PingPongRun[];
  hostTrials: PingPongRun[];
  points: PingPongPoint[];
  latS: Sample | undefined;
  lat8S: Sample | undefined;
  bwS: Sample | undefined;
  hLatS: Sample | undefined;
  hBwS: Sample | undefined;
}

export function evaluatePingPong(run: PingPongRun | undefined, ctx: PingPongContext): TestResult {
  const { latency: latT, bandwidth: bwT } = ctx.thresholds;
  const latBytes = latT.messageBytes ?? LATENCY_BYTES;
  const bwBytes = bwT.messageBytes ?? BANDWIDTH_BYTES;
  const j: Judgement = { fail: [], warn: [], notes: [], figures: { exit_code: ctx.exitCode }, thresholds: pingPongThresholds(ctx, latBytes, bwBytes) };
  j.warn.push(...(ctx.runtimeWarnings ?? []));
  judgeLaunch(j, run, ctx);
  const { hosts, nodeLocal } = judgePlacement(j, run, ctx);
  const s = trialSamples(j, run, ctx, latBytes, bwBytes);
  const peak = peakOf(s.points);
  if (peak) {
    j.figures.peak_bandwidth_MBps = peak.bandwidthMBps;
    j.figures.peak_bandwidth_bytes = peak.bytes;
  }
  const { evidence, transport } = judgeTransportUsed(j, ctx, nodeLocal, s.lat8S);
  const { latRatio, bwRatio, ratioText } = judgeAgainstHost(j, ctx, s, latBytes, bwBytes);
  judgeThresholds(j, run, ctx, { lat: s.latS?.min, bw: s.bwS?.max, latBytes, bwBytes, latRatio, bwRatio, transport });

  const { fail, warn, notes } = j;
  const verdict: Verdict = fail.length > 0 ? 'FAILED' : warn.length > 0 ? 'WARNED' : 'PASSED';
  const measured: string[] = [];
  if (s.latS) measured.push(`latency ${sampleText(s.latS, 'µs', 'min')} at ${sizeText(latBytes)} (warn > ${latT.warn}, fail > ${latT.fail})`);
  if (s.bwS) measured.push(`bandwidth ${sampleText(s.bwS, 'MB/s', 'max')} at ${sizeText(bwBytes)} (warn < ${bwT.warn}, fail < ${bwT.fail})`);
  if (peak) measured.push(`peak ${peak.bandwidthMBps} MB/s at ${sizeText(peak.bytes)}`);
  if (run?.formatVersion !== undefined) measured.push(`${shortLibrary(run.library)}, ${run.ranks} ranks on ${hosts.join(', ') || 'unknown hosts'}`);
  if (evidence.source !== 'none') measured.push(`transport ${transport.used}`);
  const measuredText = measured.join('; ') + ratioText;
  const reasons = [...fail, ...warn];
  const summary = reasons.length === 0 ? measuredText : measuredText ? `${reasons.join('; ')}. Measured: ${measuredText}` : reasons.join('; ');
  const details = [...fail, ...warn, ...notes, ...trialTables(s.trials, s.hostTrials)];
  if (verdict === 'FAILED') details.push(...tail('stderr', ctx.stderr));
  return { name: ctx.name ?? 'mpi-pingpong', kind: 'mpi-pingpong', verdict, summary, figures: j.figures, thresholds: j.thresholds, details };
}

function pingPongThresholds(ctx: PingPongContext, latBytes: number, bwBytes: number): Record<string, number | string> {
  const { latency: latT, bandwidth: bwT } = ctx.thresholds;
  return {
    latency_bytes: latBytes,
    latency_warn_us: latT.warn,
    latency_fail_us: latT.fail,
    ...(latT.expected === undefined ? {} : { latency_expected_us: latT.expected }),
    latency_source: latT.source,
    bandwidth_bytes: bwBytes,
    bandwidth_warn_MBps: bwT.warn,
    bandwidth_fail_MBps: bwT.fail,
    ...(bwT.expected === undefined ? {} : { bandwidth_expected_MBps: bwT.expected }),
    bandwidth_source: bwT.source,
    expected_ranks: ctx.expectedRanks,
    expect_library: ctx.expectLibrary,
  };
}

/** Launch and correctness: exit status, singleton, corrupted payload, the probe's own errors, ranks and library. */
function judgeLaunch({ fail, figures }: Judgement, run: PingPongRun | undefined, ctx: PingPongContext): void {
  const errors = run?.errors ?? [];
  const singletonLine = errors.find((e) => /need at least 2 ranks/i.test(e));
  const payloadLine = errors.find((e) => /payload mismatch/i.test(e));
  if (ctx.exitCode === 3 || singletonLine !== undefined) {
    fail.push(
      `singleton: ${singletonLine ?? 'the probe exited with 3 (fewer than two ranks)'}; the launcher's PMI did not ` +
        'wire the ranks together (check the srun --mpi plugin against the container MPI)',
    );
  }
  if (ctx.exitCode === 4 || payloadLine !== undefined) {
    fail.push(`${payloadLine ?? 'payload mismatch (exit 4)'}: messages arrived corrupted`);
  }
  if (ctx.exitCode !== 0 && ctx.exitCode !== 3 && ctx.exitCode !== 4) {
    const meaning = PINGPONG_EXIT[ctx.exitCode];
    fail.push(`the probe exited with ${ctx.exitCode}${meaning ? ` (${meaning})` : ''}`);
  }
  for (const e of errors) {
    if (e !== singletonLine && e !== payloadLine) fail.push(`the probe reported: ${e}`);
  }
  if (run === undefined) {
    fail.push(ctx.parseError ? `unreadable output: ${ctx.parseError}` : 'no probe output to judge');
    return;
  }
  if (!run.complete && fail.length === 0) {
    fail.push(`incomplete output: no '# done' line after ${run.points.length} message sizes`);
  }
  if (run.formatVersion !== undefined) {
    figures.library = run.library;
    figures.mpi_version = run.mpiVersion;
    figures.ranks = run.ranks;
    if (run.ranks !== ctx.expectedRanks && singletonLine === undefined) {
      fail.push(`ran with ${run.ranks} ranks, expected ${ctx.expectedRanks}: the launcher placed the ranks wrongly`);
    }
    if (!run.library.toLowerCase().includes(ctx.expectLibrary.toLowerCase())) {
      fail.push(`wrong MPI library: '${oneLine(run.library)}' is not ${ctx.expectLibrary}`);
    }
  }
}

/** Placement: the hosts ranks 0 and 1 ran on, and whether they shared a node (from the run, or the nodes the test spans). */
function judgePlacement({ warn, figures }: Judgement, run: PingPongRun | undefined, ctx: PingPongContext): { hosts: string[]; nodeLocal: boolean | undefined } {
  const hosts = run ? run.hosts.filter((h): h is string => h !== undefined) : [];
  if (hosts.length > 0) figures.hosts = hosts.join(',');
  const nodeLocal = run?.hosts[0] !== undefined && run.hosts[1] !== undefined ? run.hosts[0] === run.hosts[1] : ctx.nodes === undefined ? undefined : ctx.nodes === 1;
  if (nodeLocal !== undefined) figures.node_local = nodeLocal ? 'yes' : 'no';
  if (nodeLocal === true && ctx.nodes !== undefined && ctx.nodes > 1 && hosts.length >= 2) {
    warn.push(`ranks 0 and 1 both ran on ${hosts[0] ?? '?'} although the test spans ${ctx.nodes} nodes: the network path was not measured`);
  }
  return { hosts, nodeLocal };
}

/** Figures over the trials: the best (min latency, max bandwidth) is judged, the median and the spread are reported beside it. */
function trialSamples({ figures }: Judgement, run: PingPongRun | undefined, ctx: PingPongContext, latBytes: number, bwBytes: number): TrialSamples {
  const trials = (ctx.trials ?? (run ? [run] : [])).filter((t) => t.points.length > 0);
  const hostTrials = ctx.hostTrials ?? (ctx.hostRun ? [ctx.hostRun] : []);
  const at = (runs: PingPongRun[], bytes: number, what: 'latencyUs' | 'bandwidthMBps'): Sample | undefined => sample(runs.map((t) => pointAt(t.points, bytes)?.[what] ?? NaN));
  const s: TrialSamples = {
    trials,
    hostTrials,
    points: run?.points ?? trials[0]?.points ?? [],
    latS: at(trials, latBytes, 'latencyUs'),
    lat8S: at(trials, LATENCY_BYTES, 'latencyUs'),
    bwS: at(trials, bwBytes, 'bandwidthMBps'),
    hLatS: at(hostTrials, latBytes, 'latencyUs'),
    hBwS: at(hostTrials, bwBytes, 'bandwidthMBps'),
  };
  const bw4S = at(trials, BANDWIDTH_BYTES, 'bandwidthMBps');
  if (trials.length > 1) figures.trials = trials.length;
  if (hostTrials.length > 1) figures.host_trials = hostTrials.length;
  if (s.lat8S) Object.assign(figures, spreadFigures('latency_8B', 'us', s.lat8S, 'min'));
  if (s.latS && latBytes !== LATENCY_BYTES) Object.assign(figures, spreadFigures(`latency_${sizeKey(latBytes)}`, 'us', s.latS, 'min'));
  if (bw4S) Object.assign(figures, spreadFigures('bandwidth_4MiB', 'MBps', bw4S, 'max'));
  if (s.bwS && bwBytes !== BANDWIDTH_BYTES) Object.assign(figures, spreadFigures(`bandwidth_${sizeKey(bwBytes)}`, 'MBps', s.bwS, 'max'));
  return s;
}

/** Transport, from the library's own report (transport.ts), TCP lines on stderr, and a latency only TCP would give. */
function judgeTransportUsed(
  { fail, warn, notes, figures, thresholds }: Judgement,
  ctx: PingPongContext,
  nodeLocal: boolean | undefined,
  lat8S: Sample | undefined,
): { evidence: TransportEvidence; transport: ReturnType<typeof judgeTransport> } {
  const evidence = ctx.transport ?? detectTransport(ctx.stderr);
  const expected = expectedTransport(nodeLocal, ctx.interconnect);
  const transport = judgeTransport(evidence, expected);
  figures.transport = transport.used;
  figures.transport_expected = transport.expected;
  figures.transport_evidence = evidence.source;
  if (transport.fallback) {
    const line = evidence.lines.find((l) => /\btcp\b/i.test(l)) ?? transport.text;
    fail.push(
      `TCP fallback: ${transport.text}, where ${expected === 'shared-memory' ? 'shared memory between ranks on one node' : "the partition's fabric"} was due ('${clip(line)}')`,
    );
  } else if (evidence.source !== 'none') {
    notes.push(`transport: ${transport.text}`);
  }
  const tcpLine = expected === 'tcp' ? undefined : ctx.stderr.split('\n').find((l) => TCP_FALLBACK_STDERR.some((re) => re.test(l)));
  if (tcpLine !== undefined && !transport.fallback) fail.push(`TCP fallback: stderr says '${clip(tcpLine.trim())}'`);
  const tcpLimit = ctx.tcpLatencyUs ?? (nodeLocal === true ? TCP_LATENCY_NODE_LOCAL_US : TCP_LATENCY_INTER_NODE_US);
  thresholds.tcp_latency_limit_us = tcpLimit;
  if (lat8S && lat8S.min > tcpLimit && expected !== 'tcp' && !transport.fallback && tcpLine === undefined) {
    // A slow number alone is not evidence: a loaded host is as slow as TCP.
    warn.push(
      transport.used === 'unknown'
        ? `latency ${lat8S.min} µs at 8 B is above ${tcpLimit} µs, as TCP would be, but the MPI library did not report its transport (run with OMPI_MCA_btl_base_verbose=100 or MPIR_CVAR_DEBUG_SUMMARY=1 to know)`
        : `latency ${lat8S.min} µs at 8 B is above ${tcpLimit} µs although ${transport.text}: a loaded machine, not a fallback`,
    );
  }
  return { evidence, transport };
}

/** Container against host, measured in the same run and interleaved: warns past HOST_RATIO_WARN. */
function judgeAgainstHost(
  j: Judgement,
  ctx: PingPongContext,
  s: TrialSamples,
  latBytes: number,
  bwBytes: number,
): { latRatio: Ratio | undefined; bwRatio: Ratio | undefined; ratioText: string } {
  const { warn, notes, figures } = j;
  const latRatio = s.latS && s.hLatS ? ratioOf(s.latS, s.hLatS, true) : undefined;
  const bwRatio = s.bwS && s.hBwS ? ratioOf(s.bwS, s.hBwS, false) : undefined;
  if (s.hostTrials.length === 0) return { latRatio, bwRatio, ratioText: '' };
  j.thresholds.host_ratio_warn_pct = HOST_RATIO_WARN * 100;
  const parts: string[] = [];
  if (latRatio && s.latS) {
    const lat = s.latS.min;
    figures.host_latency_us = latRatio.host.min;
    if (latRatio.host.n > 1) figures.host_latency_median_us = round(latRatio.host.median, 3);
    figures.latency_ratio = round(latRatio.ratio, 3);
    figures.latency_ratio_uncertainty = round(latRatio.uncertainty, 3);
    parts.push(`latency x${round(latRatio.ratio, 2)}${latRatio.uncertainty > 0 ? ` ±${pct(latRatio.uncertainty)} %` : ''}`);
    const r = latRatio.ratio;
    if (r > 1 + HOST_RATIO_WARN + RATIO_EPSILON && lat - latRatio.host.min > (ctx.hostLatencySlackUs ?? 0)) {
      const unsure = r - 1 <= latRatio.uncertainty ? ` (uncertain: the trials spread ${pct(latRatio.uncertainty)} %)` : '';
      warn.push(`latency ${lat} µs is ${pct(r - 1)} % above the host's ${latRatio.host.min} µs (warn above ${HOST_RATIO_WARN * 100} %)${unsure}`);
    }
  } else {
    notes.push(`no container/host latency ratio: the host run has no usable ${sizeText(latBytes)} measurement`);
  }
  if (bwRatio && s.bwS) {
    const bw = s.bwS.max;
    figures.host_bandwidth_MBps = bwRatio.host.max;
    if (bwRatio.host.n > 1) figures.host_bandwidth_median_MBps = round(bwRatio.host.median, 1);
    figures.bandwidth_ratio = round(bwRatio.ratio, 3);
    figures.bandwidth_ratio_uncertainty = round(bwRatio.uncertainty, 3);
    parts.push(`bandwidth x${round(bwRatio.ratio, 2)}${bwRatio.uncertainty > 0 ? ` ±${pct(bwRatio.uncertainty)} %` : ''}`);
    const r = bwRatio.ratio;
    if (r < 1 - HOST_RATIO_WARN - RATIO_EPSILON) {
      const unsure = 1 - r <= bwRatio.uncertainty ? ` (uncertain: the trials spread ${pct(bwRatio.uncertainty)} %)` : '';
      warn.push(`bandwidth ${bw} MB/s is ${pct(1 - r)} % below the host's ${bwRatio.host.max} MB/s (warn above ${HOST_RATIO_WARN * 100} %)${unsure}`);
    }
  } else {
    notes.push(`no container/host bandwidth ratio: the host run has no usable ${sizeText(bwBytes)} measurement`);
  }
  const ratioText = `; container/host ${parts.length ? parts.join(', ') : 'not comparable'} (warns when the container is more than ${HOST_RATIO_WARN * 100} % worse than the host)`;
  return { latRatio, bwRatio, ratioText };
}

/**
 * Absolute thresholds, on the best trial. Beyond `fail` is FAILED only when nothing in the same
 * run explains it as noise: a host baseline as slow as the container, or the library reporting
 * the transport that was due. Explained, it is WARNED with the reason.
 */
function judgeThresholds(
  { fail, warn }: Judgement,
  run: PingPongRun | undefined,
  ctx: PingPongContext,
  m: {
    lat: number | undefined;
    bw: number | undefined;
    latBytes: number;
    bwBytes: number;
    latRatio: Ratio | undefined;
    bwRatio: Ratio | undefined;
    transport: ReturnType<typeof judgeTransport>;
  },
): void {
  const { latency: latT, bandwidth: bwT } = ctx.thresholds;
  const { lat, bw, latBytes, bwBytes, latRatio, bwRatio, transport } = m;
  const noise = (r: Ratio | undefined, worse: number): string | undefined => {
    if (r && worse <= HOST_RATIO_WARN + r.uncertainty + RATIO_EPSILON) {
      return `the host baseline in the same run is as slow (container/host x${round(r.ratio, 2)}): the machine is loaded, re-run on an idle one`;
    }
    if (!transport.fallback && transport.used !== 'unknown' && transport.used === transport.expected) {
      return `the library used the transport that was due (${transport.text}): the machine is slow or loaded, not the image`;
    }
    return undefined;
  };
  if (lat !== undefined) {
    if (lat > latT.fail) {
      const why = noise(latRatio, latRatio ? latRatio.ratio - 1 : Infinity);
      const text = `latency ${lat} µs at ${sizeText(latBytes)} is above the fail threshold ${latT.fail} µs`;
      if (why) warn.push(`${text}, but ${why}`);
      else fail.push(text);
    } else if (lat > latT.warn) warn.push(`latency ${lat} µs at ${sizeText(latBytes)} is above the warn threshold ${latT.warn} µs`);
  } else if (run?.complete) {
    fail.push(`no latency measured at ${sizeText(latBytes)}`);
  }
  if (bw !== undefined) {
    if (bw < bwT.fail) {
      const why = noise(bwRatio, bwRatio ? 1 - bwRatio.ratio : Infinity);
      const text = `bandwidth ${bw} MB/s at ${sizeText(bwBytes)} is below the fail threshold ${bwT.fail} MB/s`;
      if (why) warn.push(`${text}, but ${why}`);
      else fail.push(text);
    } else if (bw < bwT.warn) warn.push(`bandwidth ${bw} MB/s at ${sizeText(bwBytes)} is below the warn threshold ${bwT.warn} MB/s`);
  } else if (run?.complete) {
    fail.push(`no bandwidth measured at ${sizeText(bwBytes)}`);
  }
}

/** Every trial's points, container then host, one line per message size. */
function trialTables(trials: PingPongRun[], hostTrials: PingPongRun[]): string[] {
  const out: string[] = [];
  trials.forEach((t, i) => {
    const label = trials.length > 1 ? `trial ${i + 1}: ` : '';
    out.push(`${label}bytes iterations latency_us bandwidth_MBps`);
    for (const p of t.points) out.push(`${label}${p.bytes} ${p.iterations} ${p.latencyUs} ${p.bandwidthMBps}`);
  });
  hostTrials
    .filter((t) => t.points.length > 0)
    .forEach((t, i) => {
      const label = hostTrials.length > 1 ? `host ${i + 1}: ` : 'host: ';
      out.push(`${label}bytes iterations latency_us bandwidth_MBps`);
      for (const p of t.points) out.push(`${label}${p.bytes} ${p.iterations} ${p.latencyUs} ${p.bandwidthMBps}`);
    });
  return out;
}

/** `latency_8B_us` (the best), plus `_median_`, `_max_`/`_min_` and `_spread_pct` over several trials. */
function spreadFigures(key: string, unit: string, s: Sample, best: 'min' | 'max'): Record<string, number> {
  const out: Record<string, number> = { [`${key}_${unit}`]: best === 'min' ? s.min : s.max };
  if (s.n > 1) {
    out[`${key}_median_${unit}`] = round(s.median, 3);
    out[`${key}_${best === 'min' ? 'max' : 'min'}_${unit}`] = best === 'min' ? s.max : s.min;
    out[`${key}_spread_pct`] = pct(s.spread);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

export interface GpuContext {
  /** Test name; default 'gpu-check'. */
  name?: string;
  partitionHasGpu: boolean;
  /** false when the machine running the check has no GPU (a CPU-only CI runner). */
  hostHasGpu?: boolean;
  /** Why the check did not run; used as the SKIPPED summary. */
  reason?: string;
  expectDeviceCount?: number;
  expectArch?: string;
  exitCode?: number;
  parseError?: string;
}

const GPU_EXIT: Record<number, string> = { 1: 'a GPU runtime error', 2: 'no device visible', 124: 'timed out', 137: 'killed' };

/**
 * SKIPPED (never PASSED) when the partition has no GPU, when the host has none (`hostHasGpu:
 * false`), or when no query output exists and a `reason` says why the check did not run.
 * Otherwise FAILED unless the query listed every device, the count and the architecture match
 * and nothing reported an error.
 */
export function evaluateGpu(q: GpuQuery | undefined, ctx: GpuContext): TestResult {
  const name = ctx.name ?? 'gpu-check';
  const thresholds: Record<string, number | string> = {};
  if (ctx.expectDeviceCount !== undefined) thresholds.expect_device_count = ctx.expectDeviceCount;
  if (ctx.expectArch !== undefined) thresholds.expect_arch = ctx.expectArch;

  const skip = !ctx.partitionHasGpu
    ? (ctx.reason ?? 'the partition has no GPU')
    : ctx.hostHasGpu === false
      ? (ctx.reason ?? 'the host running the check has no GPU')
      : q === undefined && ctx.exitCode === undefined && ctx.reason !== undefined
        ? ctx.reason
        : undefined;
  if (skip !== undefined) return { name, kind: 'gpu-check', verdict: 'SKIPPED', summary: `skipped: ${skip}`, thresholds, details: [skip] };

  const fail: string[] = [];
  if (ctx.exitCode !== undefined && ctx.exitCode !== 0) {
    const meaning = GPU_EXIT[ctx.exitCode];
    fail.push(`the query exited with ${ctx.exitCode}${meaning ? ` (${meaning})` : ''}`);
  }
  for (const e of q?.errors ?? []) fail.push(`the query reported: ${e}`);
  const figures: Record<string, number | string> = {};
  if (ctx.exitCode !== undefined) figures.exit_code = ctx.exitCode;
  if (q === undefined) {
    fail.push(ctx.parseError ? `unreadable output: ${ctx.parseError}` : 'no query output to judge');
  } else {
    figures.runtime = q.runtime;
    figures.driver = q.driver;
    figures.device_count = q.devices.length;
    const archs = [...new Set(q.devices.map((d) => d.arch))];
    if (archs.length > 0) figures.arch = archs.join(',');
    if (q.devices[0]) figures.device_name = q.devices[0].name;
    if (q.declaredCount === undefined) {
      if (fail.length === 0) fail.push("incomplete output: no 'devices: N' line");
    } else if (q.declaredCount !== q.devices.length) {
      fail.push(`incomplete output: ${q.declaredCount} devices announced, ${q.devices.length} listed`);
    }
    if (q.devices.length === 0 && !fail.some((f) => f.includes('no device') || f.includes('no CUDA') || f.includes('no HIP'))) {
      fail.push('no GPU visible in the container');
    }
    if (ctx.expectDeviceCount !== undefined && q.devices.length > 0 && q.devices.length !== ctx.expectDeviceCount) {
      fail.push(`${q.devices.length} GPUs visible, expected ${ctx.expectDeviceCount}`);
    }
    if (ctx.expectArch !== undefined) {
      const want = normArch(ctx.expectArch);
      const wrong = q.devices.filter((d) => normArch(d.arch) !== want);
      if (wrong.length > 0) {
        fail.push(`GPU architecture ${[...new Set(wrong.map((d) => d.arch))].join(', ')} where ${ctx.expectArch} was expected`);
      }
    }
  }
  const verdict: Verdict = fail.length > 0 ? 'FAILED' : 'PASSED';
  const seen = q
    ? `${q.devices.length} GPU${q.devices.length === 1 ? '' : 's'}${q.devices[0] ? ` (${figures.arch}, ${q.devices[0].name})` : ''}, ${q.runtime || 'unknown runtime'}`
    : '';
  const summary = fail.length === 0 ? seen : seen ? `${fail.join('; ')}. Seen: ${seen}` : fail.join('; ');
  const details = [...fail, ...(q?.devices ?? []).map((d) => `device ${d.index}: ${d.name} ${d.arch} ${d.memoryMiB} MiB`)];
  return { name, kind: 'gpu-check', verdict, summary, figures, thresholds, details };
}

function normArch(a: string): string {
  return (a.split(':')[0] ?? '').trim().toLowerCase();
}

// ---------------------------------------------------------------------------------------------

export interface CommandRun {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface CommandExpect {
  /** Default 0. */
  exitCode?: number;
  /** A regular expression (flags `mu`: `^` and `$` match at line boundaries), searched in stdout. */
  stdoutMatches?: string;
  /** A plain substring of stdout. */
  stdoutContains?: string;
}

/** A `command` smoke test: FAILED on a timeout or on any unmet expectation, otherwise PASSED. */
export function evaluateCommand(name: string, r: CommandRun, expect: CommandExpect): TestResult {
  const fail: string[] = [];
  const wantExit = expect.exitCode ?? 0;
  const thresholds: Record<string, number | string> = { exit_code: wantExit };
  if (expect.stdoutMatches !== undefined) thresholds.stdout_matches = expect.stdoutMatches;
  if (expect.stdoutContains !== undefined) thresholds.stdout_contains = expect.stdoutContains;

  if (r.timedOut) {
    fail.push('timed out');
  } else {
    if (r.exitCode !== wantExit) fail.push(`exited with ${r.exitCode}, expected ${wantExit}`);
    if (expect.stdoutMatches !== undefined) {
      let re: RegExp | undefined;
      try {
        re = new RegExp(expect.stdoutMatches, 'mu');
      } catch (e) {
        fail.push(`stdoutMatches is not a valid regular expression: ${(e as Error).message}`);
      }
      if (re && !re.test(r.stdout)) fail.push(`stdout does not match /${expect.stdoutMatches}/`);
    }
    if (expect.stdoutContains !== undefined && !r.stdout.includes(expect.stdoutContains)) {
      fail.push(`stdout does not contain ${JSON.stringify(expect.stdoutContains)}`);
    }
  }
  const verdict: Verdict = fail.length > 0 ? 'FAILED' : 'PASSED';
  const met = [`exit ${r.exitCode}`];
  if (expect.stdoutMatches !== undefined) met.push(`stdout matches /${expect.stdoutMatches}/`);
  if (expect.stdoutContains !== undefined) met.push(`stdout contains ${JSON.stringify(expect.stdoutContains)}`);
  const details = verdict === 'FAILED' ? [...fail, ...tail('stdout', r.stdout), ...tail('stderr', r.stderr)] : [];
  return {
    name,
    kind: 'command',
    verdict,
    summary: fail.length > 0 ? fail.join('; ') : met.join(', '),
    figures: { exit_code: r.exitCode, timed_out: r.timedOut ? 'yes' : 'no' },
    thresholds,
    details,
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * The verdict of a whole run. FAILED if any test failed, else WARNED if any warned. PASSED needs
 * at least one test that PASSED: a run whose tests were all skipped (or that had none) proved
 * nothing about the image, so it is WARNED rather than looking like a full pass. Skips next to a
 * pass do not lower the verdict; they are listed separately in the attestation.
 */
export function overall(results: TestResult[]): 'PASSED' | 'WARNED' | 'FAILED' {
  if (results.some((r) => r.verdict === 'FAILED')) return 'FAILED';
  if (results.some((r) => r.verdict === 'WARNED')) return 'WARNED';
  return results.some((r) => r.verdict === 'PASSED') ? 'PASSED' : 'WARNED';
}

// ---------------------------------------------------------------------------------------------

function pointAt(points: PingPongPoint[], bytes: number): PingPongPoint | undefined {
  return points.find((p) => p.bytes === bytes);
}

function peakOf(points: PingPongPoint[]): PingPongPoint | undefined {
  let best: PingPongPoint | undefined;
  for (const p of points) {
    if (p.bytes < PEAK_RANGE_BYTES[0] || p.bytes > PEAK_RANGE_BYTES[1]) continue;
    if (!best || p.bandwidthMBps > best.bandwidthMBps) best = p;
  }
  return best;
}

/** 8 → "8 B", 65536 → "64 KiB", 4194304 → "4 MiB". */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

function sizeKey(bytes: number): string {
  return sizeText(bytes).replace(' ', '');
}

function shortLibrary(lib: string): string {
  return oneLine(lib.split(',')[0] ?? lib) || 'unknown MPI library';
}

function oneLine(s: string): string {
  return clip(s.replace(/\s+/g, ' ').trim());
}

function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 97)}...` : s;
}

function pct(x: number): number {
  return round(x * 100, 1);
}

function tail(label: string, text: string, n = 10): string[] {
  const ls = text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '');
  if (ls.length === 0) return [];
  return [`${label} (last ${Math.min(n, ls.length)} lines):`, ...ls.slice(-n).map((l) => `  ${clip(l)}`)];
}
