/**
 * Apptainer / SingularityCE definition file, from the same steps as the Containerfile. A
 * multi-stage recipe gives two stages (`Stage: build`, `Stage: runtime`); the runtime stage takes
 * its kept paths with `%files from build` and alone carries labels, environment and runscript.
 */
import type { Composition, Step } from './compose.ts';
import { BUILD_STAGE, dq, header, marker, RUNTIME_STAGE, shellOf, shQuote, stagesLine } from './common.ts';

export function renderApptainer(c: Composition): string {
  const out = [...header(c, 'Apptainer definition'), ...stagesLine(c)];
  if (c.base.hostBuilt) out.push(`# The build host makes this base itself: ${c.base.hostBuilt.how}`);
  const total = c.steps.length + (c.runtime?.length ?? 0);
  if (!c.runtime) {
    out.push(...bootstrap(c));
    out.push(...stageSections(c.steps, 0, total, true));
  } else {
    out.push(...bootstrap(c), `Stage: ${BUILD_STAGE}`);
    out.push(...stageSections(c.steps, 0, total, false));
    out.push('', ...bootstrap(c), `Stage: ${RUNTIME_STAGE}`);
    out.push(...stageSections(c.runtime, c.steps.length, total, true));
  }
  return out.join('\n') + '\n';
}

function bootstrap(c: Composition): string[] {
  return c.base.hostBuilt ? ['Bootstrap: oci-archive', `From: bases/${c.base.name}.oci.tar`] : ['Bootstrap: docker', `From: ${c.base.reference}`];
}

/** The sections of one stage; only the final stage's labels, environment and runscript reach the image. */
function stageSections(steps: Step[], offset: number, total: number, final: boolean): string[] {
  const files: string[] = [];
  const kept: string[] = [];
  const post: string[] = ['set -eu'];
  const environment: string[] = [];
  const labels: string[] = [];
  let runscript: string[] | undefined;
  steps.forEach((step, i) => {
    const op = step.op;
    post.push(marker(step, offset + i, total));
    switch (op.kind) {
      case 'run':
      case 'packages':
        post.push(shellOf(op));
        break;
      case 'fetch':
        // %files are copied before %post runs; the checksum is checked at the step's place.
        files.push(`${op.source.contextPath} ${op.dest}`);
        post.push(shellOf(op));
        break;
      case 'copy': {
        files.push(`${op.src} ${op.dest}`);
        const chmod = shellOf(op);
        if (chmod) post.push(chmod);
        break;
      }
      case 'keep':
        // Copied from the build stage before %post runs, like %files.
        for (const p of op.paths) kept.push(`${p} ${p}`);
        break;
      case 'env': {
        // %environment applies at run time only; export here too so later build steps see it.
        const exports = Object.entries(op.vars).map(([k, v]) => `export ${k}=${dq(v)}`);
        post.push(...exports);
        environment.push(...exports);
        break;
      }
      case 'label':
        for (const [k, v] of Object.entries(op.labels)) labels.push(`${k} ${v}`);
        break;
      case 'user':
        post.push(`# USER ${op.name}: Apptainer runs the container as the calling user`);
        break;
      case 'workdir':
        post.push(`mkdir -p ${shQuote(op.path)} && cd ${shQuote(op.path)}`);
        break;
      case 'entrypoint':
        runscript = [`exec ${op.argv.map(shQuote).join(' ')} "$@"`];
        break;
    }
  });

  // Scripts are written unindented: indenting them would change heredocs inside run steps.
  const out: string[] = [];
  const section = (name: string, body: string[], indent = ''): void => {
    if (body.length === 0) return;
    out.push('', `%${name}`, ...body.map((l) => indent + l));
  };
  if (final) section('labels', labels, '    ');
  section('files', files, '    ');
  section(`files from ${BUILD_STAGE}`, kept, '    ');
  section('post', post);
  if (final) {
    section('environment', environment);
    section('runscript', runscript ?? []);
  }
  return out;
}
