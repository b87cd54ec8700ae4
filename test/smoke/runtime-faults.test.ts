import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { podmanLostExitCode, trialExit } from '../../pipeline/src/smoke/runtime-faults.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

describe('podman lost exit code', () => {
  it("finds podman's 'Waiting for container' line that goes with its 127, in a two-node job's stderr", () => {
    const lost = podmanLostExitCode(127, fixture('podman-lost-exit-code.stderr'));
    expect(lost).toEqual({
      container: '0938e1cd45768a55f5119d2404d68ffad8c8788aa3bd1647ee03acf576533a1a',
      reason: 'container has already been removed',
      line: expect.stringMatching(/^time=".*" level=error msg="Waiting for container 0938e1cd4576/),
    });
  });

  it('reads the terminal form too', () => {
    expect(podmanLostExitCode(127, 'ERRO[0012] Waiting for container 0938e1cd4576: container has already been removed')?.reason).toBe('container has already been removed');
  });

  it('is nothing without the 127, and a 127 without the line is a real "command not found"', () => {
    const stderr = fixture('podman-lost-exit-code.stderr');
    expect(podmanLostExitCode(0, stderr)).toBeUndefined();
    expect(podmanLostExitCode(125, stderr)).toBeUndefined();
    expect(podmanLostExitCode(127, 'slurmstepd: error: execve(): podman: No such file or directory\nsrun: error: n2: task 1: Exited with exit code 127')).toBeUndefined();
    expect(podmanLostExitCode(127, 'Error: executable file `/usr/local/bin/brickyard-pingpong` not found in $PATH: No such file or directory')).toBeUndefined();
    // The nearest forgery: the words without a container id.
    expect(podmanLostExitCode(127, 'level=error msg="Waiting for container : gone"')).toBeUndefined();
  });

  it('counts a trial whose exit code podman lost as 0, with a warning, only when the report is complete and clean', () => {
    const stderr = fixture('podman-lost-exit-code.stderr');
    const ok = trialExit(127, stderr, { complete: true, errors: [] }, 2);
    expect(ok.code).toBe(0);
    expect(ok.warning).toMatch(/^trial 2: podman lost the exit code of container 0938e1cd4576 \('container has already been removed'/);
    expect(trialExit(127, stderr, { complete: false, errors: [] }, 1)).toEqual({ code: 127 });
    expect(trialExit(127, stderr, { complete: true, errors: ['payload mismatch at 8 bytes'] }, 1)).toEqual({ code: 127 });
    expect(trialExit(127, stderr, undefined, 1)).toEqual({ code: 127 });
    expect(trialExit(127, 'srun: error: n2: task 1: Exited with exit code 127', { complete: true, errors: [] }, 1)).toEqual({ code: 127 });
    expect(trialExit(0, '', { complete: true, errors: [] }, 1)).toEqual({ code: 0 });
  });
});
