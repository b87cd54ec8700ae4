/**
 * The ping-pong across two Slurm nodes on this one machine (scripts/services/slurm-2node.sh: two
 * network namespaces joined by a veth pair, a slurmd in each, munge shared): the rendered job
 * script asks for --nodes=2 --ntasks-per-node=1, srun --mpi=pmix starts one podman container per
 * node, and the ranks talk TCP across the namespaces. The same image smoke-tested directly gives
 * the intra-node figures; the reports tell the two apart. The Open MPI ranks name the transport
 * they chose (OMPI_MCA_btl_base_verbose, forwarded into the containers): TCP between the nodes.
 * The cluster is torn down at the end. Needs root and the tools scripts/setup-host.sh installs.
 * About 100 s on an idle 2-core host (the build is cached by the e2e tests before it).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { buildPair, type BuildRecord } from '../../pipeline/src/build/build.ts';
import type { SystemDoc } from '../../pipeline/src/model/types.ts';
import { renderJobScript } from '../../pipeline/src/render/jobscript.ts';
import { smoke, type SmokeReport } from '../../pipeline/src/smoke/run.ts';
import { startService, stopService } from '../../pipeline/src/smoke/services.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { copyOfShipped } from '../helpers/fixture.ts';
import { missingTools } from '../helpers/services.ts';

const TOOLS = ['buildah', 'podman', 'mmdebstrap', 'sbatch', 'srun', 'slurmd', 'munged', 'mpicc', 'ip', 'nsenter', 'unshare'];
const missing = missingTools(TOOLS);
const root = process.getuid?.() === 0;
const why = !root ? 'needs root (network namespaces, podman)' : missing.length ? `missing ${missing.join(', ')}: run scripts/setup-host.sh` : '';
if (why && process.env['CI']) throw new Error(`the two-node test cannot run in CI: ${why}`);
/** A `pair` partition of the local system: the two-node cluster's partition, TCP over the veth pair. */
function withPairPartition(): string {
  const dir = copyOfShipped();
  const file = join(dir, 'systems', 'local.yaml');
  const doc = parse(readFileSync(file, 'utf8')) as SystemDoc;
  const debug = doc.partitions[0]!;
  doc.partitions.push({
    ...debug,
    id: 'pair',
    description: 'Two nodes in network namespaces (scripts/services/slurm-2node.sh), TCP over a veth pair.',
    nodes: 2,
    directives: ['--partition=pair'],
    smoke: {
      mpi: {
        nodes: 2,
        ranksPerNode: 1,
        // host-infra.md §6: 10.8 µs and 1.5 GB/s between the namespaces on an idle host; loaded, TCP over loopback took up to 524 µs.
        latency: { expected: 10.8, warn: 2000, fail: 10000, source: 'host-infra.md §6 (two Slurm nodes in network namespaces)' },
        bandwidth: { expected: 1500, warn: 20, fail: 2, source: 'host-infra.md §6 (two Slurm nodes in network namespaces)' },
      },
    },
  });
  writeFileSync(file, stringify(doc));
  return dir;
}

/**
 * Warnings other than the ones load causes. On a loaded 2-core host the container/host ratio can
 * land outside 10 % (measured 2026-12-03: latency x1.44 ±39 %), which WARNS and never FAILS;
 * anything else (a placement or transport warning) would be a real problem.
 */
const noiseOnly = (r: SmokeReport): string[] =>
  r.tests
    .filter((t) => t.verdict === 'WARNED')
    .flatMap((t) => t.summary.split('. Measured:')[0]!.split('; '))
    .filter((w) => !/uncertain|loaded|not a fallback|above the warn threshold|below the warn threshold|above the host's|below the host's|podman lost the exit code/.test(w));

describe.skipIf(why !== '')(`two Slurm nodes in network namespaces${why ? ` (skipped: ${why})` : ''}`, () => {
  // Made in beforeAll (a skipped suite's body still runs), not under /tmp: each node has its own /tmp.
  let clusterState = '';
  let state = '';
  let ws: Workspace;
  let record: BuildRecord;
  let env: Record<string, string> = {};

  beforeAll(async () => {
    clusterState = mkdtempSync('/var/tmp/by2n-');
    state = mkdtempSync('/var/tmp/by2n-smoke-');
    ws = Workspace.open(withPairPartition());
    record = await buildPair(ws, ws.pair('mpi-pingpong', 'local', 'debug'), { stateDir: state });
    env = startService('slurm-2node', clusterState);
  }, 1_200_000);

  afterAll(() => {
    if (clusterState) stopService('slurm-2node', clusterState);
    for (const d of [clusterState, state]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('renders the job script for two nodes, one rank each', () => {
    const script = renderJobScript(ws.render(ws.pair('mpi-pingpong', 'local', 'pair')).composition);
    expect(script).toMatch(/^#SBATCH --nodes=2$/m);
    expect(script).toMatch(/^#SBATCH --ntasks-per-node=1$/m);
    expect(script).toMatch(/^srun --nodes=2 --ntasks-per-node=1 --mpi=pmix podman run /m);
  });

  it('runs the ping-pong across the namespaces through Slurm: inter-node figures, TCP, and the intra-node figures apart', async () => {
    expect(env['BRICKYARD_SLURM_NETNS']).toMatch(/^\/run\/netns\//);
    const pair = ws.pair('mpi-pingpong', 'local', 'pair');
    const recipe = pair.recipe;
    const image = { recipe, reference: record.image.reference, manifestDigest: record.image.manifestDigest };
    const inter = await smoke(ws, image, pair, { stateDir: state, launcher: 'slurm', slurmEnv: env, trials: 2 });
    const mpi = inter.tests.find((t) => t.kind === 'mpi-pingpong')!;
    console.log(`inter-node: ${mpi.verdict}: ${mpi.summary}`);
    expect(mpi.verdict, `${mpi.summary}\n${(mpi.details ?? []).join('\n')}`).not.toBe('FAILED');
    expect(noiseOnly(inter), mpi.summary).toEqual([]);
    // The transport from the library's own words (the verbose MCA settings reached the containers), not guessed.
    expect(mpi.figures).toMatchObject({ ranks: 2, node_local: 'no', transport: 'tcp', transport_expected: 'tcp', transport_evidence: 'openmpi-verbose' });
    expect(inter.performance.pingpong[0]).toMatchObject({ transport: 'tcp' });
    // The evidence came from both nodes: each rank's Open MPI, in its container, named its path to the other.
    const jobErr = readFileSync(join(state, 'builds', recipe.key, 'local-pair', 'slurm', 'job.err'), 'utf8');
    const bml = jobErr.split('\n').filter((l) => l.includes(' mca: bml: Using '));
    console.log(
      `the last trial's job.err, Open MPI's choice:\n${jobErr
        .split('\n')
        .filter((l) => / (mca: bml: Using|select: component)/.test(l))
        .join('\n')}`,
    );
    expect(new Set(bml.map((l) => /^\[([^:\]]+):/.exec(l)?.[1]))).toEqual(new Set(['n1', 'n2']));
    expect(
      bml.filter((l) => !l.includes(' Using self btl ')).every((l) => / Using tcp btl for send to \[\[\d+,\d+\],[01]\] on node n[12]$/.test(l)),
      bml.join('\n'),
    ).toBe(true);
    // Two different hosts (podman names the container after the node's hostname with --network=host, or after its id).
    const hosts = String(mpi.figures?.['hosts']).split(',');
    expect(hosts).toHaveLength(2);
    expect(hosts[0]).not.toBe(hosts[1]);
    expect(Number(mpi.figures?.['latency_8B_us'])).toBeGreaterThan(0);
    expect(inter.performance.pingpong[0]).toMatchObject({ placement: 'inter-node' });
    expect(inter.performance.pingpong[0]!.latency?.ratio).toBeGreaterThan(0);

    const intra = await smoke(ws, image, ws.pair(recipe, 'local', 'debug'), { stateDir: state, launcher: 'direct', trials: 2 });
    const local = intra.tests.find((t) => t.kind === 'mpi-pingpong')!;
    console.log(`intra-node: ${local.verdict}: ${local.summary}`);
    expect(local.verdict, local.summary).not.toBe('FAILED');
    expect(intra.performance.pingpong[0]).toMatchObject({ placement: 'intra-node', transport: 'shared-memory' });
    writeFileSync(join(state, 'figures.json'), JSON.stringify({ inter: inter.performance, intra: intra.performance }, null, 2));
    console.log(JSON.stringify({ inter: inter.performance, intra: intra.performance }));
  }, 1_200_000);

  it('tears the cluster down: daemons stopped, namespaces gone', () => {
    stopService('slurm-2node', clusterState);
    const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    expect(netns).not.toMatch(/brickyard-2n-n[12]/);
    for (const d of ['slurmctld', 'slurmd-n1', 'slurmd-n2']) expect(existsSync(join(clusterState, 'run', `${d}.pid`)), d).toBe(false);
    expect(existsSync(join(clusterState, 'munge', 'munged.pid'))).toBe(false);
  });
});
