import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkWorkflowPolicy, type PolicyFinding } from '../../pipeline/src/ci/policy.ts';
import { repoRoot } from '../helpers/fixture.ts';

const SHA = '3d3c42e5aac5ba805825da76410c181273ba90b1';
const show = (f: PolicyFinding): string => `${f.file}:${f.line}:${f.col}: ${f.rule}`;
const check = (text: string): string[] => checkWorkflowPolicy(text, 'w.yml').map(show);
const rules = (text: string): string[] => checkWorkflowPolicy(text, 'w.yml').map((f) => f.rule);

/** A clean workflow with one job; parts are swapped in by the tests. */
function workflow(parts: { on?: string; permissions?: string; job?: string; steps?: string } = {}): string {
  return `name: Sample
on: ${parts.on ?? '{ pull_request: { branches: [main] } }'}
${parts.permissions ?? 'permissions:\n  contents: read'}
jobs:
  test:
    runs-on: ubuntu-24.04
${parts.job ?? ''}    steps:
${parts.steps ?? `      - uses: actions/checkout@${SHA} # v7.0.1\n      - run: npm test`}
`;
}

describe('workflow policy', () => {
  const dir = join(repoRoot, '.github', 'workflows');
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

  it('our workflows are there', () => {
    expect(files).toEqual(expect.arrayContaining(['check-dist.yml', 'ci.yml', 'main.yml', 'pr-comment.yml', 'pr.yml', 'release.yml', 'sign-test-results.yml']));
  });

  it.each(files)('.github/workflows/%s has no findings', (name) => {
    expect(checkWorkflowPolicy(readFileSync(join(dir, name), 'utf8'), name)).toEqual([]);
  });

  it('the bad sample breaks every rule, at the right place', () => {
    const file = 'test/ci/fixtures/bad-workflow.yml';
    const findings = checkWorkflowPolicy(readFileSync(join(repoRoot, file), 'utf8'), file);
    expect(findings.map(show)).toEqual([
      `${file}:6:3: no-pull-request-target`,
      `${file}:11:3: top-level-permissions`, // contents: write
      `${file}:12:3: no-id-token-on-pr`, // id-token: write at the top
      `${file}:12:3: top-level-permissions`,
      `${file}:17:18: job-write-permissions-scoped`, // write-all
      `${file}:17:18: no-id-token-on-pr`, // write-all includes id-token
      `${file}:19:15: pinned-actions`, // @v4
      `${file}:20:15: pinned-actions`, // SHA without "# vX.Y.Z"
      `${file}:25:20: no-event-in-run`,
      `${file}:27:25: no-event-in-run`, // head_ref in a block scalar
      `${file}:32:7: no-id-token-on-pr`, // in the sign job
    ]);
    expect(findings.find((f) => f.line === 25)?.message).toContain('${{ github.event.pull_request.title }}');
    expect(findings.find((f) => f.line === 20)?.message).toContain('# vX.Y.Z');
    // ./actions/validate, the pinned upload-artifact and ${{ github.sha }} in run are fine.
    expect(findings.filter((f) => [21, 24, 28].includes(f.line))).toEqual([]);
  });

  it('the inline sample is clean', () => {
    expect(check(workflow())).toEqual([]);
  });

  it('top-level-permissions', () => {
    const missing = workflow({ permissions: '' });
    expect(check(missing)).toEqual(['w.yml:1:1: top-level-permissions']);
    expect(check(workflow({ permissions: 'permissions: write-all' }))).toContain('w.yml:3:14: top-level-permissions');
    expect(rules(workflow({ on: 'push', permissions: 'permissions:\n  contents: read\n  packages: write' }))).toEqual(['top-level-permissions']);
    for (const ok of ['permissions: {}', 'permissions: read-all', 'permissions:\n  contents: read\n  actions: none']) {
      expect(check(workflow({ permissions: ok }))).toEqual([]);
    }
  });

  it('no-pull-request-target, whichever way the triggers are written', () => {
    expect(check(workflow({ on: 'pull_request_target' }))).toEqual(['w.yml:2:5: no-pull-request-target']);
    expect(rules(workflow({ on: '[push, pull_request_target]' }))).toEqual(['no-pull-request-target']);
    expect(rules(workflow({ on: '\n  pull_request_target:\n    types: [opened]' }))).toEqual(['no-pull-request-target']);
    expect(check(workflow({ on: '[push, pull_request]' }))).toEqual([]);
  });

  it('no-id-token-on-pr, at the top and in a job', () => {
    const inJob = workflow({ job: '    permissions:\n      contents: read\n      id-token: write\n' });
    expect(check(inJob)).toEqual(['w.yml:10:7: no-id-token-on-pr']);
    expect(check(workflow({ on: '[pull_request]', job: '    permissions: write-all\n' }))).toEqual(['w.yml:8:18: job-write-permissions-scoped', 'w.yml:8:18: no-id-token-on-pr']);
    // The same job on a push to main (the signing workflow) is fine.
    expect(check(workflow({ on: '{ push: { branches: [main] } }', job: '    permissions:\n      contents: read\n      id-token: write\n' }))).toEqual([]);
  });

  it('pinned-actions: steps and reusable workflows', () => {
    const steps = (uses: string): string => workflow({ steps: `      - uses: ${uses}` });
    expect(check(steps('actions/checkout@v7'))).toEqual(['w.yml:9:15: pinned-actions']);
    expect(check(steps('actions/checkout@main'))).toEqual(['w.yml:9:15: pinned-actions']);
    expect(check(steps(`actions/checkout@${SHA.slice(0, 12)} # v7.0.1`))).toEqual(['w.yml:9:15: pinned-actions']);
    expect(check(steps(`actions/checkout@${SHA}`))).toEqual(['w.yml:9:15: pinned-actions']); // no "# vX.Y.Z"
    expect(check(steps(`actions/checkout@${SHA} # v7.0.1`))).toEqual([]);
    expect(check(steps(`github/codeql-action/init@${SHA} # v4.31.2`))).toEqual([]);
    expect(check(steps('./actions/validate'))).toEqual([]);
    expect(check(steps('docker://alpine:3.22'))).toEqual([]);
    const reusable = (ref: string): string => `name: R\non: push\npermissions: {}\njobs:\n  call:\n    uses: ${ref}\n`;
    expect(check(reusable('octo/pipelines/.github/workflows/build.yml@v1'))).toEqual(['w.yml:6:11: pinned-actions']);
    expect(check(reusable(`octo/pipelines/.github/workflows/build.yml@${SHA} # v1.2.0`))).toEqual([]);
    expect(check(reusable('./.github/workflows/build.yml'))).toEqual([]);
  });

  it('no-event-in-run: inline, block and quoted scripts', () => {
    const run = (script: string): string => workflow({ steps: `      - run: ${script}` });
    expect(check(run('echo "${{ github.event.issue.title }}"'))).toEqual(['w.yml:9:20: no-event-in-run']);
    expect(check(run('echo ${{github.head_ref}}'))).toEqual(['w.yml:9:19: no-event-in-run']);
    expect(check(run('cat ${{ github.event_path }}'))).toEqual(['w.yml:9:18: no-event-in-run']);
    expect(check(run("echo ${{ github['head_ref'] }}"))).toEqual(['w.yml:9:19: no-event-in-run']);
    expect(check(run('|\n          set -e\n          git log "${{ github.event.pull_request.head.ref }}"\n          echo "${{ github.head_ref }}"'))).toEqual([
      'w.yml:11:20: no-event-in-run',
      'w.yml:12:17: no-event-in-run',
    ]);
    // Through env: and "$VAR" is the fix; other contexts are not attacker text.
    const fixed = workflow({ steps: '      - env:\n          TITLE: ${{ github.event.issue.title }}\n        run: echo "$TITLE" ${{ github.sha }} ${{ matrix.os }}' });
    expect(check(fixed)).toEqual([]);
  });

  it('job-write-permissions-scoped: a job lists the scopes it writes', () => {
    expect(check(workflow({ on: 'push', job: '    permissions: write-all\n' }))).toEqual(['w.yml:8:18: job-write-permissions-scoped']);
    expect(check(workflow({ on: 'push', job: '    permissions:\n      contents: read\n      pull-requests: write\n' }))).toEqual([]);
  });

  it('a file that is not YAML is reported, not thrown', () => {
    expect(rules('on: [push\njobs: {')).toContain('yaml-syntax');
    expect(rules('- just\n- a list\n')).toEqual(['yaml-syntax']);
  });

  it('the signer rules: a signing job runs no recipe code, on a hosted runner, and signs only what it re-hashed', () => {
    const file = 'test/ci/fixtures/bad-signing.yml';
    const findings = checkWorkflowPolicy(readFileSync(join(repoRoot, file), 'utf8'), file);
    expect(findings.map(show)).toEqual([
      `${file}:14:15: id-token-runs-recipe-code`, // ./actions/build
      `${file}:15:14: id-token-runs-recipe-code`, // brickyard smoke in run:
      `${file}:16:14: id-token-runs-recipe-code`, // podman run in a block script
      `${file}:20:14: id-token-hosted-runner`, // self-hosted, signs provenance
      `${file}:37:9: signer-reverifies`, // attests build.json's digest, nothing re-hashed
      `${file}:50:27: signer-reverifies`, // merge-multiple
      `${file}:56:9: signer-reverifies`, // subject-path: no subject from the re-hashing step
      `${file}:58:25: signer-reverifies`, // subject-path itself
      `${file}:59:9: signer-reverifies`, // subject-checksums from another step
      `${file}:62:9: signer-reverifies`, // publish packs another state folder
      `${file}:65:9: signer-reverifies`, // cosign in run:
      `${file}:77:14: id-token-hosted-runner`, // any other id-token job on a site runner
    ]);
    expect(findings.find((f) => f.line === 37)?.message).toContain('job trusts-build-json signs before re-verifying its inputs');
    expect(findings.find((f) => f.line === 62)?.message).toContain('packs .brickyard, not the state folder the re-hashing step wrote (signed)');
    // The job that signs only test results may run on the site's runner (lines 66-74).
    expect(findings.filter((f) => f.line >= 66 && f.line <= 74)).toEqual([]);
  });

  it('the signing oracle (main.yml and release.yml before issue 9) is refused', () => {
    const lines = (file: string): string[] => checkWorkflowPolicy(readFileSync(join(repoRoot, file), 'utf8'), file).map((f) => `${f.line} ${f.rule}`);
    // main.yml: the sign job signed build.json's digest; publish overlaid every artifact.
    expect(lines('test/ci/fixtures/oracle-main.yml')).toEqual(['120 signer-reverifies', '182 signer-reverifies', '204 signer-reverifies']);
    // release.yml: also signed and published on the self-hosted runner that built.
    expect(lines('test/ci/fixtures/oracle-release.yml')).toEqual([
      '119 id-token-hosted-runner',
      '141 signer-reverifies',
      '179 id-token-hosted-runner',
      '206 signer-reverifies',
      '229 signer-reverifies',
    ]);
  });

  it("signer-own-pairs: the pairs come from the plan job or from the signing job's own plan step, never from a build", () => {
    const wf = (signWith: string, extraSteps = ''): string =>
      `name: T\non: push\npermissions: {}\njobs:\n  plan:\n    runs-on: ubuntu-24.04\n    steps:\n      - id: plan\n        uses: ./actions/plan\n        with: {base: x}\n` +
      `  build:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: ./actions/build\n  batch:\n    uses: ./.github/workflows/build-batch.yml\n    with: {batch: 0}\n` +
      `  sign:\n    runs-on: ubuntu-24.04\n    needs: [plan, build, batch]\n    permissions:\n      id-token: write\n    steps:\n${extraSteps}      - id: sign\n        uses: ./actions/sign\n        with:\n          builds: b\n${signWith}`;
    expect(rules(wf('          pairs: ${{ needs.plan.outputs.matrix }}\n'))).toEqual([]);
    expect(check(wf('          pairs: ${{ needs.build.outputs.matrix }}\n'))).toEqual(['w.yml:28:18: signer-own-pairs']); // a job that built
    expect(rules(wf('          pairs: ${{ needs.batch.outputs.matrix }}\n'))).toEqual(['signer-own-pairs']); // a reusable workflow's output
    expect(rules(wf('          pairs: \'{"include": []}\'\n'))).toEqual(['signer-own-pairs']); // not a job output at all
    const replan = '      - id: replan\n        uses: ./actions/plan\n        with: {base: x}\n';
    expect(rules(wf('          batches-file: ${{ steps.replan.outputs.batches-file }}\n          batch: 0\n', replan))).toEqual([]);
    // A downloaded file, or a step that is not the plan, is refused.
    expect(rules(wf('          batches-file: ${{ runner.temp }}/brickyard-batches/batches.json\n          batch: 0\n', replan))).toEqual(['signer-own-pairs']);
    expect(
      rules(wf('          batches-file: ${{ steps.fake.outputs.batches-file }}\n          batch: 0\n', '      - id: fake\n        run: echo batches-file=x >> "$GITHUB_OUTPUT"\n')),
    ).toEqual(['signer-own-pairs']);
  });

  it('a job that builds the site executables itself may sign them; one that also receives an artifact may not', () => {
    const job = (extra: string): string =>
      `name: T\non: push\npermissions: {}\njobs:\n  t:\n    runs-on: ubuntu-24.04\n    permissions:\n      id-token: write\n    steps:\n${extra}      - run: npm run build:sea -- --arch x64\n      - run: npx brickyard sign s.intoto.json --keyless --out s.sigstore.json\n`;
    expect(checkWorkflowPolicy(job(''), 'w.yml').map((f) => f.rule)).toEqual([]);
    expect(
      checkWorkflowPolicy(job('      - uses: actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c # v8.0.1\n        with: {name: x}\n'), 'w.yml').map((f) => f.rule),
    ).toContain('signer-reverifies');
  });

  it('a test-result job is exempt from the hosted rule only while it signs nothing else', () => {
    const job = (steps: string): string =>
      `name: T\non: push\npermissions: {}\njobs:\n  t:\n    runs-on: [self-hosted, lumi]\n    permissions:\n      id-token: write\n    steps:\n      - id: sign\n        uses: ./actions/sign\n        with:\n          builds: b\n          roles: test-result\n${steps}`;
    expect(check(job(''))).toEqual([]);
    expect(check(job(`      - uses: actions/attest@${SHA} # v4.2.2\n        with:\n          subject-checksums: \${{ steps.sign.outputs.subject-checksums }}\n`))).toEqual([
      'w.yml:6:14: id-token-hosted-runner',
    ]);
    expect(rules(job('      - run: srun ./job.sh\n'))).toEqual(['id-token-runs-recipe-code']);
    // An expression may name any runner: not provably GitHub's.
    expect(rules(job('').replace('roles: test-result', 'roles: provenance').replace('[self-hosted, lumi]', '${{ matrix.runner }}'))).toEqual(['id-token-hosted-runner']);
  });
});
