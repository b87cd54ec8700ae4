/** Apptainer / SingularityCE definition file, from the same steps as the Containerfile. */
import type { Composition } from './compose.ts';
import { dq, header, marker, shellOf, shQuote } from './common.ts';

export function renderApptainer(c: Composition): string {
  const out = [...header(c, 'Apptainer definition')];
  if (c.base.hostBuilt) {
    out.push(`# The build host makes this base itself: ${c.base.hostBuilt.how}`);
    out.push('Bootstrap: oci-archive', `From: bases/${c.base.name}.oci.tar`);
  } else {
    out.push('Bootstrap: docker', `From: ${c.base.reference}`);
  }

  const files: string[] = [];
  const post: string[] = ['set -eu'];
  const environment: string[] = [];
  const labels: string[] = [];
  let runscript: string[] | undefined;
  const total = c.steps.length;
  c.steps.forEach((step, i) => {
    const op = step.op;
    post.push(marker(step, i, total));
    switch (op.kind) {
      case 'run':
      case 'packages':
        post.push(shellOf(op)!);
        break;
      case 'fetch':
        // %files are copied before %post runs; the checksum is checked at the step's place.
        files.push(`${op.source.contextPath} ${op.dest}`);
        post.push(shellOf(op)!);
        break;
      case 'copy': {
        files.push(`${op.src} ${op.dest}`);
        const chmod = shellOf(op);
        if (chmod) post.push(chmod);
        break;
      }
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
  const section = (name: string, body: string[], indent = ''): void => {
    if (body.length === 0) return;
    out.push('', `%${name}`, ...body.map((l) => indent + l));
  };
  section('labels', labels, '    ');
  section('files', files, '    ');
  section('post', post);
  section('environment', environment);
  section('runscript', runscript ?? []);
  return out.join('\n') + '\n';
}
