import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePingPong } from '../../pipeline/src/smoke/pingpong.ts';
import { detectTransport, expectedTransport, judgeTransport, providerClass, splitDebugSummary } from '../../pipeline/src/smoke/transport.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('detectTransport', () => {
  it("reads vader between the ranks from Open MPI 4.1.4's BML report, self excluded", () => {
    const ev = detectTransport(fixture('openmpi-vader-verbose.stderr'));
    expect(ev.source).toBe('openmpi-verbose');
    expect(ev.pml).toBe('ob1');
    expect(ev.paths.map((p) => [p.component, p.kind, p.node])).toEqual([
      ['vader', 'shared-memory', 'vm'],
      ['vader', 'shared-memory', 'vm'],
    ]);
    expect(judgeTransport(ev, 'shared-memory')).toMatchObject({ used: 'shared-memory', fallback: false });
  });

  it('reads tcp from the --mca btl tcp,self run and calls it fallback only where something else was due', () => {
    const ev = detectTransport(fixture('openmpi-tcp-verbose.stderr'));
    expect(ev.paths.every((p) => p.component === 'tcp' && p.kind === 'tcp')).toBe(true);
    expect(judgeTransport(ev, 'shared-memory').fallback).toBe(true);
    expect(judgeTransport(ev, 'fabric').fallback).toBe(true);
    expect(judgeTransport(ev, 'tcp').fallback).toBe(false);
    expect(judgeTransport(ev, 'unknown').fallback).toBe(false);
  });

  it('reads tcp between the nodes from a two-node Slurm job, each rank in its own container on its own node', () => {
    const ev = detectTransport(fixture('openmpi-2node-slurm-verbose.stderr'));
    expect(ev.source).toBe('openmpi-verbose');
    expect(ev.pml).toBe('ob1');
    expect(ev.paths.map((p) => [p.reporter, p.peer, p.node, p.component])).toEqual([
      ['n2:25226', 0, 'n1', 'tcp'],
      ['n1:25217', 1, 'n2', 'tcp'],
    ]);
    // Between nodes on Ethernet (or the test cluster's veth) TCP is what was due: no fallback.
    const due = expectedTransport(false, 'loopback');
    expect(due).toBe('tcp');
    expect(judgeTransport(ev, due)).toMatchObject({ used: 'tcp', fallback: false, text: 'tcp (tcp) by openmpi-verbose, pml ob1' });
    // The same evidence where the partition's fabric was due is the fallback.
    expect(judgeTransport(ev, expectedTransport(false, 'slingshot-11'))).toMatchObject({ used: 'tcp', fallback: true });
    // Without the verbose lines (what the Slurm path gave before OMPI_MCA_* reached the containers): unknown, never fallback.
    const bare = detectTransport(
      fixture('openmpi-2node-slurm-verbose.stderr')
        .split('\n')
        .filter((l) => !/mca: bml|select:/.test(l))
        .join('\n'),
    );
    expect(judgeTransport(bare, expectedTransport(false, 'slingshot-11'))).toMatchObject({ used: 'unknown', fallback: false });
  });

  it('does not take loading the TCP component for using it (every Open MPI run loads it)', () => {
    // The vader run's stderr is full of "btl: tcp:" lines.
    const stderr = fixture('openmpi-vader-verbose.stderr');
    expect(stderr).toMatch(/btl:tcp: using ipv4 interface/);
    expect(judgeTransport(detectTransport(stderr), 'shared-memory').used).toBe('shared-memory');
  });

  it('says "unknown", never fallback, where the library reported nothing', () => {
    const ev = detectTransport('some unrelated stderr\n');
    expect(ev.source).toBe('none');
    expect(judgeTransport(ev, 'shared-memory')).toMatchObject({ used: 'unknown', fallback: false, text: 'the MPI library did not report its transport' });
  });

  it('reads a non-ob1 PML and a libfabric provider (UCX, cm over ofi/tcp)', () => {
    const ucx = detectTransport('[nid1:1] select: component ucx selected\n');
    expect(judgeTransport(ucx, 'fabric')).toMatchObject({ used: 'fabric', fallback: false });
    const ofiTcp = detectTransport('[nid1:1] select: component cm selected\n[nid1:1] mtl:ofi:provider: tcp;ofi_rxm\n');
    expect(judgeTransport(ofiTcp, 'fabric')).toMatchObject({ used: 'tcp', fallback: true });
    expect(providerClass('cxi')).toBe('fabric');
    expect(providerClass('sockets')).toBe('tcp');
    expect(providerClass('shm')).toBe('shared-memory');
  });

  it("splits MPICH's debug summary off the probe's stdout and reads its netmod", () => {
    const out = fixture('mpich-debug-summary.stdout');
    const { summary, probe } = splitDebugSummary(out);
    expect(summary).toMatch(/^==== Various sizes and limits ====/);
    const run = parsePingPong(probe);
    expect(run.complete).toBe(true);
    expect(run.library).toMatch(/MPICH/);
    const ev = detectTransport('', summary);
    expect(ev).toMatchObject({ source: 'mpich-debug-summary', netmod: 'ucx' });
    // ch4 uses its own shared memory on one node, which the summary does not name: unknown, not fallback.
    expect(judgeTransport(ev, 'shared-memory')).toMatchObject({ used: 'unknown', fallback: false });
    const ofi = detectTransport('', '==== OFI netmod Capability ====\nProvider name: tcp;ofi_rxm\n');
    expect(judgeTransport(ofi, 'fabric')).toMatchObject({ used: 'tcp', fallback: true });
    // Plain probe output passes through untouched.
    const plain = fixture('openmpi-shm-2ranks.stdout');
    expect(splitDebugSummary(plain)).toEqual({ summary: '', probe: plain });
  });

  it('expects shared memory on one node, TCP between nodes on Ethernet, a fabric otherwise', () => {
    expect(expectedTransport(true, 'slingshot-11')).toBe('shared-memory');
    expect(expectedTransport(false, 'ethernet')).toBe('tcp');
    expect(expectedTransport(false, 'slingshot-11')).toBe('fabric');
    expect(expectedTransport(false, undefined)).toBe('unknown');
    expect(expectedTransport(undefined, 'ethernet')).toBe('unknown');
  });
});
