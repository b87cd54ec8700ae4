/** Containerfile for buildah, podman and docker. */
import type { Composition } from './compose.ts';
import { dq, header, marker, shellOf } from './common.ts';

export function renderContainerfile(c: Composition): string {
  const lines = [...header(c, 'Containerfile'), `FROM ${c.base.reference}`];
  const total = c.steps.length;
  c.steps.forEach((step, i) => {
    const op = step.op;
    lines.push('', marker(step, i, total));
    switch (op.kind) {
      case 'run':
      case 'packages':
        lines.push(runInstruction(shellOf(op)!));
        break;
      case 'fetch':
        lines.push(`COPY ${op.source.contextPath} ${op.dest}`, runInstruction(shellOf(op)!));
        break;
      case 'copy': {
        lines.push(`COPY ${op.src} ${op.dest}`);
        const chmod = shellOf(op);
        if (chmod) lines.push(runInstruction(chmod));
        break;
      }
      case 'env':
        lines.push(`ENV ${Object.entries(op.vars).map(([k, v]) => `${k}=${dq(v)}`).join(' ')}`);
        break;
      case 'label':
        lines.push(`LABEL ${Object.entries(op.labels).map(([k, v]) => `${dq(k)}=${dq(v)}`).join(' \\\n      ')}`);
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
  return lines.join('\n') + '\n';
}

/**
 * One line stays a shell-form RUN. A multi-line script goes through the exec form with the
 * script as one argument: Dockerfile line continuations would join its lines and change its meaning.
 */
function runInstruction(script: string): string {
  if (!script.includes('\n')) return `RUN set -eu; ${script}`;
  return `RUN ["/bin/sh", "-euc", ${JSON.stringify(script + '\n')}]`;
}
