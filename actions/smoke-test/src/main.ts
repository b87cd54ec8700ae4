/** Brickyard smoke-test action: run the smoke tests, report latency and bandwidth against the thresholds. */
import { join, resolve } from 'node:path';
import * as core from '@actions/core';
import { escapeHtml } from '../../../pipeline/src/pr/annotate.ts';
import { resolveImage, smoke, type Launcher } from '../../../pipeline/src/smoke/run.ts';
import { Workspace } from '../../../pipeline/src/workspace.ts';

export interface Inputs {
  image: string;
  system: string;
  launcher: string;
  root: string;
  stateDir: string;
  slurmConf: string;
  workspace: string;
}

export async function run(inputs: Inputs): Promise<void> {
  try {
    if (inputs.launcher !== 'direct' && inputs.launcher !== 'slurm') throw new Error(`launcher must be direct or slurm, got ${JSON.stringify(inputs.launcher)}`);
    const ws = Workspace.open(resolve(inputs.workspace, inputs.root));
    const [where] = ws.partitionsOf(inputs.system);
    if (!where) throw new Error(`system ${inputs.system} has no partition`);
    const stateDir = resolve(inputs.workspace, inputs.stateDir);
    const image = await resolveImage(ws, inputs.image, where, stateDir);
    const report = await core.group(`smoke ${image.recipe.key} on ${where.system.doc.id}/${where.partition.id} (${inputs.launcher})`, () =>
      smoke(ws, image, ws.pairAt(image.recipe, where), {
        stateDir,
        launcher: inputs.launcher as Launcher,
        ...(inputs.slurmConf ? { slurmEnv: { SLURM_CONF: inputs.slurmConf } } : {}),
        onStage: (s, d) => core.info(`${s}: ${d}`),
      }),
    );
    core.setOutput('result', report.result);
    core.setOutput('report', report.reportPath);
    core.setOutput('statement', join(report.reportPath, '..', `test-result-${report.launcher}.intoto.json`));
    const rows = report.tests.map((t) => [escapeHtml(t.name), t.kind, t.verdict, escapeHtml(t.summary)]);
    const mpi = report.tests.find((t) => t.kind === 'mpi-pingpong');
    const summary = core.summary.addHeading(
      `Smoke test: ${escapeHtml(report.recipe)} on ${escapeHtml(`${report.system}/${report.partition}`)} (${report.launcher}): ${report.result}`,
      3,
    );
    if (mpi?.figures) {
      summary.addTable([
        [
          { data: 'figure', header: true },
          { data: 'measured', header: true },
          { data: 'warn', header: true },
          { data: 'fail', header: true },
        ],
        [
          'latency at 8 B (µs)',
          String(mpi.figures['latency_8B_us'] ?? '?'),
          `&gt; ${mpi.thresholds?.['latency_warn_us'] ?? '?'}`,
          `&gt; ${mpi.thresholds?.['latency_fail_us'] ?? '?'}`,
        ],
        [
          'bandwidth at 4 MiB (MB/s)',
          String(mpi.figures['bandwidth_4MiB_MBps'] ?? '?'),
          `&lt; ${mpi.thresholds?.['bandwidth_warn_MBps'] ?? '?'}`,
          `&lt; ${mpi.thresholds?.['bandwidth_fail_MBps'] ?? '?'}`,
        ],
      ]);
    }
    summary.addTable([
      [
        { data: 'test', header: true },
        { data: 'kind', header: true },
        { data: 'verdict', header: true },
        { data: 'summary', header: true },
      ],
      ...rows,
    ]);
    await summary.write();
    if (report.result === 'FAILED')
      core.setFailed(
        `smoke tests FAILED: ${report.tests
          .filter((t) => t.verdict === 'FAILED')
          .map((t) => `${t.name}: ${t.summary}`)
          .join('; ')}`,
      );
  } catch (e) {
    core.setFailed(`brickyard smoke-test: ${(e as Error).message}`);
  }
}
