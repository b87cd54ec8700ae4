/**
 * Which transport the MPI library chose, from its own words rather than from a slow number.
 *
 * - Open MPI (ob1 PML): with `OMPI_MCA_btl_base_verbose=100` the r2 BML prints, per process and
 *   peer, `mca: bml: Using <btl> btl for send to [[job,1],<rank>] on node <host>` (measured with
 *   Open MPI 4.1.4: vader between ranks on one node, tcp when `--mca btl tcp,self`; fixtures
 *   test/smoke/fixtures/openmpi-*-verbose.stderr). With `OMPI_MCA_pml_base_verbose=100` it
 *   prints `select: component <pml> selected` (ob1, ucx, cm); `mtl:ofi:provider: <name>` names a
 *   libfabric provider under cm.
 * - MPICH (ch4): with `MPIR_CVAR_DEBUG_SUMMARY=1` it prints, on stdout before the program's own
 *   output, a summary with `==== <UCX|OFI> netmod Capability ====` and, for OFI, the provider
 *   (`Provider name: tcp;ofi_rxm`). Between ranks on one node ch4 uses its POSIX shared memory
 *   unless told otherwise, which the summary does not report.
 *
 * The fallback is reported only when the evidence shows it: TCP (or libfabric's tcp/sockets
 * providers) between ranks where shared memory (node-local) or the partition's fabric
 * (inter-node) was due. Absent evidence says "unknown", never "fallback".
 */
import { group } from '../util/match.ts';

export type TransportClass = 'shared-memory' | 'tcp' | 'fabric' | 'self' | 'unknown';

export interface TransportPath {
  /** The process that reported it, as Open MPI prints it ("vm:09630"), or '' for MPICH. */
  reporter: string;
  /** Peer rank, when known. */
  peer?: number;
  /** Node the peer runs on, as the library named it. */
  node?: string;
  /** Component name: vader, sm, tcp, openib, uct, ucx, ofi:<provider>, ... */
  component: string;
  kind: TransportClass;
}

export interface TransportEvidence {
  /** Where the evidence came from; 'none' when the output carried none. */
  source: 'openmpi-verbose' | 'mpich-debug-summary' | 'none';
  /** Point-to-point PML (Open MPI) or netmod (MPICH), when reported. */
  pml?: string;
  netmod?: string;
  /** libfabric provider, when reported. */
  provider?: string;
  /** Rank-to-rank paths, self excluded. */
  paths: TransportPath[];
  /** The lines the evidence was read from (trimmed, at most 12). */
  lines: string[];
}

/** Environment that makes Open MPI and MPICH report their choice (stderr and stdout). */
export const TRANSPORT_VERBOSE_ENV: Readonly<Record<string, string>> = {
  OMPI_MCA_btl_base_verbose: '100',
  OMPI_MCA_pml_base_verbose: '100',
  OMPI_MCA_mtl_base_verbose: '100',
  MPIR_CVAR_DEBUG_SUMMARY: '1',
};

const BTL_CLASS: Record<string, TransportClass> = {
  vader: 'shared-memory',
  sm: 'shared-memory',
  smcuda: 'shared-memory',
  self: 'self',
  tcp: 'tcp',
  openib: 'fabric',
  uct: 'fabric',
  ofi: 'fabric',
  usnic: 'fabric',
  ugni: 'fabric',
  portals4: 'fabric',
};

const BML_RE = /^\[([^\]]+)\] mca: bml: Using (\S+) btl for send to \[\[\d+,\d+\],(\d+)\] on node (\S+)/;
const PML_RE = /^\[([^\]]+)\] select: component (\S+) selected/;
const OFI_PROVIDER_RE = /mtl:ofi:provider:\s*(\S+)|\bProvider name:\s*(\S+)/i;
const MPICH_NETMOD_RE = /^==== (UCX|OFI) netmod Capability ====/i;

export function providerClass(provider: string): TransportClass {
  return /^(tcp|sockets|udp)(;|$)/i.test(provider) ? 'tcp' : /^shm(;|$)/i.test(provider) ? 'shared-memory' : 'fabric';
}

/** Read the library's report of its transport from the run's stdout and stderr. */
export function detectTransport(stderr: string, stdout = ''): TransportEvidence {
  const ev: TransportEvidence = { source: 'none', paths: [], lines: [] };
  const keep = (l: string): void => {
    if (ev.lines.length < 12 && !ev.lines.includes(l)) ev.lines.push(l);
  };
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = BML_RE.exec(line))) {
      const component = group(m, 2);
      const kind = BTL_CLASS[component] ?? 'unknown';
      ev.source = 'openmpi-verbose';
      if (kind === 'self') continue;
      ev.paths.push({ reporter: group(m, 1), peer: Number(m[3]), node: group(m, 4), component, kind });
      keep(line);
    } else if ((m = PML_RE.exec(line))) {
      ev.source = 'openmpi-verbose';
      ev.pml = group(m, 2);
      keep(line);
    } else if ((m = OFI_PROVIDER_RE.exec(line))) {
      ev.provider = m[1] ?? group(m, 2); // one of the two alternatives captured
      keep(line);
    }
  }
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = MPICH_NETMOD_RE.exec(line))) {
      ev.source = ev.source === 'none' ? 'mpich-debug-summary' : ev.source;
      ev.netmod = group(m, 1).toLowerCase();
      keep(line);
    } else if (ev.netmod && (m = /^Provider name:\s*(\S+)/i.exec(line))) {
      ev.provider = group(m, 1);
      keep(line);
    }
  }
  // A PML that is not ob1 carries the traffic itself (UCX, or cm over an MTL).
  if (ev.pml && ev.pml !== 'ob1' && ev.paths.length === 0) {
    const kind = ev.provider ? providerClass(ev.provider) : 'fabric';
    ev.paths.push({ reporter: '', component: ev.provider ? `${ev.pml}:${ev.provider}` : ev.pml, kind });
  }
  if (ev.netmod && ev.provider) {
    ev.paths.push({ reporter: '', component: `${ev.netmod}:${ev.provider}`, kind: providerClass(ev.provider) });
  }
  return ev;
}

/**
 * The transport due between the two ping-pong ranks: shared memory on one node; between nodes,
 * TCP where the partition's interconnect is plain Ethernet (or a test cluster's veth), otherwise
 * its fabric; 'unknown' where placement or interconnect is not known.
 */
export function expectedTransport(nodeLocal: boolean | undefined, interconnect: string | undefined): TransportClass {
  if (nodeLocal === true) return 'shared-memory';
  if (nodeLocal === undefined || interconnect === undefined) return 'unknown';
  return interconnect === 'ethernet' || interconnect === 'loopback' ? 'tcp' : 'fabric';
}

export interface TransportJudgement {
  /** The class the evidence shows between the ranks ('unknown' without evidence). */
  used: TransportClass;
  expected: TransportClass;
  /** True only when the evidence shows TCP where something faster was due. */
  fallback: boolean;
  /** One line for the report: what was used and how we know. */
  text: string;
}

export function judgeTransport(ev: TransportEvidence, expected: TransportClass): TransportJudgement {
  const kinds = [...new Set(ev.paths.map((p) => p.kind))];
  const used: TransportClass = kinds[0] === undefined ? 'unknown' : kinds.includes('tcp') ? 'tcp' : kinds.length === 1 ? kinds[0] : kinds.includes('fabric') ? 'fabric' : kinds[0];
  const fallback = used === 'tcp' && (expected === 'shared-memory' || expected === 'fabric');
  const components = [...new Set(ev.paths.map((p) => p.component))].join(', ');
  const text =
    ev.source === 'none'
      ? 'the MPI library did not report its transport'
      : used === 'unknown'
        ? `${ev.source} names no rank-to-rank transport${ev.netmod ? ` (netmod ${ev.netmod})` : ''}`
        : `${components} (${used}) by ${ev.source}${ev.pml ? `, pml ${ev.pml}` : ''}`;
  return { used, expected, fallback, text };
}

/**
 * MPICH's debug summary goes to stdout ahead of the probe's report. Split it off so the strict
 * probe parser sees only the probe: the lines before the first `#` line, when the first of them
 * is a `====` banner.
 */
export function splitDebugSummary(stdout: string): { summary: string; probe: string } {
  const lines = stdout.split('\n');
  if (!(lines[0]?.trim() ?? '').startsWith('====')) return { summary: '', probe: stdout };
  const firstHash = lines.findIndex((l) => l.trimStart().startsWith('#'));
  if (firstHash < 0) return { summary: stdout, probe: '' };
  return { summary: lines.slice(0, firstHash).join('\n'), probe: lines.slice(firstHash).join('\n') };
}
