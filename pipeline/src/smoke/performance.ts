/**
 * The container's cost at a glance, for the smoke report and the site: the ping-pong's
 * container/host ratios (intra-node or inter-node, by where the ranks ran) and STREAM's per kernel,
 * each with its uncertainty (the larger spread of the two sides' trials). Read from the tests'
 * figures, so it says nothing the signed test results do not.
 */
import type { TestResult } from './evaluate.ts';
import { STREAM_KERNELS } from './stream.ts';

export interface RatioFigure {
  ratio: number;
  /** Relative: 0.12 means the trials spread 12 %. */
  uncertainty: number;
}

export interface PingPongPerformance {
  test: string;
  placement: 'intra-node' | 'inter-node' | 'unknown';
  transport: string;
  latencyUs?: number;
  bandwidthMBps?: number;
  latency?: RatioFigure;
  bandwidth?: RatioFigure;
}

export interface StreamPerformance {
  test: string;
  kernels: Partial<Record<(typeof STREAM_KERNELS)[number], RatioFigure & { containerMBps: number; hostMBps: number }>>;
}

export interface Performance {
  pingpong: PingPongPerformance[];
  stream: StreamPerformance[];
}

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

function ratio(f: Record<string, number | string>, key: string): RatioFigure | undefined {
  const r = num(f[`${key}_ratio`]);
  return r === undefined ? undefined : { ratio: r, uncertainty: num(f[`${key}_ratio_uncertainty`]) ?? 0 };
}

export function performanceOf(tests: TestResult[]): Performance {
  const out: Performance = { pingpong: [], stream: [] };
  for (const t of tests) {
    const f = t.figures ?? {};
    if (t.kind === 'mpi-pingpong') {
      const lat = ratio(f, 'latency');
      const bw = ratio(f, 'bandwidth');
      const latencyUs = num(f['latency_8B_us']);
      const bandwidthMBps = num(f['bandwidth_4MiB_MBps']);
      out.pingpong.push({
        test: t.name,
        placement: f['node_local'] === 'yes' ? 'intra-node' : f['node_local'] === 'no' ? 'inter-node' : 'unknown',
        transport: typeof f['transport'] === 'string' ? f['transport'] : 'unknown',
        ...(latencyUs === undefined ? {} : { latencyUs }),
        ...(bandwidthMBps === undefined ? {} : { bandwidthMBps }),
        ...(lat ? { latency: lat } : {}),
        ...(bw ? { bandwidth: bw } : {}),
      });
    } else if (t.kind === 'stream') {
      const kernels: StreamPerformance['kernels'] = {};
      for (const k of STREAM_KERNELS) {
        const key = k.toLowerCase();
        const r = ratio(f, key);
        const c = num(f[`${key}_MBps`]);
        const h = num(f[`host_${key}_MBps`]);
        if (r && c !== undefined && h !== undefined) kernels[k] = { ...r, containerMBps: c, hostMBps: h };
      }
      out.stream.push({ test: t.name, kernels });
    }
  }
  return out;
}
