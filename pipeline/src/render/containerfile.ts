/** Containerfile for buildah, podman and docker: one stage, or a build and a runtime stage. */
import type { Composition, Step } from './compose.ts';
import { BUILD_STAGE, dq, header, marker, RUNTIME_STAGE, shellOf, stagesLine } from './common.ts';

export function renderContainerfile(c: Composition): string {
  const lines = [...header(c, 'Containerfile'), ...stagesLine(c)];
  const total = c.steps.length + (c.runtime?.length ?? 0);
  if (!c.runtime) {
    lines.push(`FROM ${c.base.reference}`);
    renderSteps(lines, c.steps, 0, total);
  } else {
    lines.push(`FROM ${c.base.reference} AS ${BUILD_STAGE}`);
    renderSteps(lines, c.steps, 0, total);
    lines.push('', `# The image: the same base with the runtime parts only (the ${BUILD_STAGE} stage's toolchain stays behind)`, `FROM ${c.base.reference} AS ${RUNTIME_STAGE}`);
    renderSteps(lines, c.runtime, c.steps.length, total);
  }
  return lines.join('\n') + '\n';
}

function renderSteps(lines: string[], steps: Step[], offset: number, total: number): void {
  steps.forEach((step, i) => {
    const op = step.op;
    lines.push('', marker(step, offset + i, total));
    switch (op.kind) {
      case 'run':
      case 'packages':
        lines.push(runInstruction(shellOf(op)));
        break;
      case 'fetch':
        lines.push(`COPY ${op.source.contextPath} ${op.dest}`, runInstruction(shellOf(op)));
        break;
      case 'copy': {
        lines.push(`COPY ${op.src} ${op.dest}`);
        const chmod = shellOf(op);
        if (chmod) lines.push(runInstruction(chmod));
        break;
      }
      case 'keep':
        for (const p of op.paths) lines.push(`COPY --from=${BUILD_STAGE} ${p} ${p}`);
        break;
      case 'env':
        lines.push(
          `ENV ${Object.entries(op.vars)
            .map(([k, v]) => `${k}=${dq(v)}`)
            .join(' ')}`,
        );
        break;
      case 'label':
        lines.push(
          `LABEL ${Object.entries(op.labels)
            .map(([k, v]) => `${dq(k)}=${dq(v)}`)
            .join(' \\\n      ')}`,
        );
        break;
      case 'user':
        lines.push(`USER ${op.name}`);
        break;
      case 'workdir':
        lines.push(`WORKDIR ${op.path}`);
        break;
      case 'entrypoint':
        lines.push(`ENTRYPOINT ${JSON.stringify(op.argv)}`);
        break;
    }
  });
}

/**
 * One line stays a shell-form RUN. A multi-line script goes through the exec form with the
 * script as one argument: Dockerfile line continuations would join its lines and change its meaning.
 */
function runInstruction(script: string): string {
  if (!script.includes('\n')) return `RUN set -eu; ${script}`;
  return `RUN ["/bin/sh", "-euc", ${JSON.stringify(script + '\n')}]`;
}
