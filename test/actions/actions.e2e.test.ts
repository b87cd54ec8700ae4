/**
 * The bundled actions (dist/index.js), run as child processes with the environment GitHub gives
 * them, against a real git repository and a fake GitHub API on 127.0.0.1.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMENT_MARKER } from '../../pipeline/src/pr/comment.ts';
import { runAction } from '../helpers/action.ts';
import { actionNames, bundleActions } from '../../scripts/bundle.ts';
import { MINI, miniCatalog, repoRoot, tempDir } from '../helpers/fixture.ts';
import { commit, initRepo } from '../helpers/git.ts';
import { startFakeGitHub, type FakeGitHub } from '../helpers/github-api.ts';
import { missingTools } from '../helpers/services.ts';

const RECIPE = MINI['catalog/recipes/demo/1.0/recipe.yaml']!;

function repo(): string {
  const root = miniCatalog({ 'README.md': '# r\n' });
  initRepo(root);
  return root;
}

let api: FakeGitHub | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

describe('validate action', () => {
  it('passes on a clean catalogue and writes its outputs, summary and report', async () => {
    const ws = repo();
    const r = await runAction('validate', { root: '.', base: '', report: 'out/validate.json' }, { workspace: ws });
    expect(r.code).toBe(0);
    expect(r.outputs).toMatchObject({ errors: '0', warnings: '0', report: join(ws, 'out/validate.json') });
    expect(r.summary).toContain('<h2>Brickyard validation</h2>');
    expect(JSON.parse(readFileSync(join(ws, 'out/validate.json'), 'utf8'))).toMatchObject({ kind: 'brickyard-validate', ok: true, errors: 0 });
  });

  it('annotates errors at file:line, lists every finding in the summary, and fails the step', async () => {
    const ws = repo();
    commit(ws, {
      'catalog/recipes/demo/1.0/recipe.yaml': RECIPE.replace('use: cc', 'use: gcc').replace('license: Apache-2.0', 'license: Apache 2'),
      'catalog/blocks/cc/block.yaml': 'name: cc\nsummary: [broken\n',
    });
    const r = await runAction('validate', { root: '.', base: 'HEAD~1', report: 'out/validate.json' }, { workspace: ws });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error title=license-spdx,file=catalog\/recipes\/demo\/1\.0\/recipe\.yaml,line=6,col=10::licence "Apache 2" is not a valid SPDX expression/m);
    expect(r.stdout).toMatch(/^::error title=yaml-syntax,file=catalog\/blocks\/cc\/block\.yaml,line=\d+,col=\d+::YAML syntax: /m);
    expect(r.stdout).toMatch(/^::error::\d+ error\(s\) in the catalogue: see the annotations and the job summary$/m);
    expect(r.summary).toContain('catalog/recipes/demo/1.0/recipe.yaml:6:10');
    const report = JSON.parse(readFileSync(join(ws, 'out/validate.json'), 'utf8'));
    expect(report.ok).toBe(false);
    expect(report.diagnostics.map((d: { rule: string }) => d.rule)).toContain('license-spdx');
  });

  it("warns, at the recipe's line, of the pairs a centre's announced (next) image policy will break", async () => {
    const ws = repo();
    commit(ws, {
      'systems/box.yaml': MINI['systems/box.yaml']!.replace(
        '\npartitions:',
        '\nimagePolicyNext:\n  effective: "2027-01-01"\n  source: test\n  rules:\n    licenses: [MIT]\npartitions:',
      ),
    });
    const r = await runAction('validate', { root: '.', base: '', report: 'out/validate.json' }, { workspace: ws });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^::warning title=policy-licenses,file=catalog\/recipes\/demo\/1\.0\/recipe\.yaml,line=\d+,col=\d+::box's next image policy \(from 2027-01-01\) would refuse demo@1\.0 on box\//m,
    );
    const report = JSON.parse(readFileSync(join(ws, 'out/validate.json'), 'utf8'));
    expect(report).toMatchObject({ ok: true, warnings: 1 });
  });

  it('fails a changed released recipe without a bump, with the reason', async () => {
    const ws = repo();
    commit(ws, { 'catalog/blocks/probe/block.yaml': MINI['catalog/blocks/probe/block.yaml']!.replace('-o /usr/local/bin/probe', '-O3 -o /usr/local/bin/probe') });
    const r = await runAction('validate', { root: '.', base: 'HEAD~1' }, { workspace: ws });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /^::error title=revision-not-bumped,file=catalog\/recipes\/demo\/1\.0\/recipe\.yaml,line=3,col=11::demo@1\.0 is released and what it renders changed on box\/cpu \(because of block probe\): bump revision to 2/m,
    );
  });
});

describe('plan action', () => {
  it('outputs the matrix of affected pairs and the rendered diffs', async () => {
    const ws = repo();
    commit(ws, { 'catalog/blocks/ompi/block.yaml': MINI['catalog/blocks/ompi/block.yaml']!.replace('libopenmpi-dev]', 'libopenmpi-dev, openmpi-bin]') });
    const r = await runAction('plan', { root: '.', base: 'HEAD~1', head: 'HEAD', 'max-jobs': '256' }, { workspace: ws });
    expect(r.stderr + r.stdout).not.toMatch(/::error/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.outputs['matrix']!)).toEqual({
      include: [{ recipe: 'demo', version: '1.0', system: 'box', partition: 'cpu', arch: 'x86_64', runner: ['ubuntu-24.04'], strategy: 'hybrid-pmix' }],
    });
    expect(r.outputs['has-pairs']).toBe('true');
    expect(r.outputs['batch-count']).toBe('1');
    expect(JSON.parse(r.outputs['local-matrix']!).include).toHaveLength(1);
    expect(r.summary).toContain('block ompi changed');
    const report = JSON.parse(readFileSync(join(ws, 'brickyard-report/plan.json'), 'utf8'));
    expect(report.diffs[0].files[0].patch).toContain(
      '+RUN set -eu; apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libopenmpi-dev openmpi-bin',
    );
  });

  it('outputs the build cost, the budget verdict and the batches file the fan-out reads', async () => {
    const ws = repo();
    commit(ws, { 'catalog/blocks/ompi/block.yaml': MINI['catalog/blocks/ompi/block.yaml']!.replace('libopenmpi-dev]', 'libopenmpi-dev, openmpi-bin]') });
    const over = await runAction('plan', { base: 'HEAD~1', 'build-budget': '0', labels: '["bug"]' }, { workspace: ws });
    expect(over.code).toBe(0);
    expect(over.outputs).toMatchObject({ 'build-count': '1', 'reused-count': '0', 'budget-verdict': 'over-budget', 'budget-label': 'large-build-ok', 'build-batches': '[0]' });
    const batches = JSON.parse(readFileSync(over.outputs['batches-file']!, 'utf8'));
    expect(batches).toMatchObject({ kind: 'brickyard-batches', version: 1, batches: [{ include: [{ recipe: 'demo', version: '1.0', system: 'box', partition: 'cpu' }] }] });
    expect(JSON.parse(readFileSync(join(ws, 'brickyard-report/plan.json'), 'utf8')).cost).toMatchObject({ builds: 1, verdict: 'over-budget' });
    const approved = await runAction('plan', { base: 'HEAD~1', 'build-budget': '0', labels: '["large-build-ok"]' }, { workspace: ws });
    expect(approved.outputs['budget-verdict']).toBe('approved');
    const bad = await runAction('plan', { base: 'HEAD~1', 'build-budget': '1; rm -rf /' }, { workspace: ws });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^::error::brickyard plan: build-budget must be a whole number/m);
  });

  it('a README-only change plans nothing', async () => {
    const ws = repo();
    commit(ws, { 'README.md': '# changed\n' });
    const r = await runAction('plan', { base: 'HEAD~1' }, { workspace: ws });
    expect(r.code).toBe(0);
    expect(r.outputs['has-pairs']).toBe('false');
    expect(JSON.parse(r.outputs['matrix']!)).toEqual({ include: [] });
  });

  it('fails clearly on a base that does not exist', async () => {
    const ws = repo();
    const r = await runAction('plan', { base: 'deadbeef' }, { workspace: ws });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error::brickyard plan: git .* failed/m);
  });
});

describe('pr-comment action', () => {
  async function reports(): Promise<string> {
    const ws = repo();
    commit(ws, { 'catalog/blocks/probe/block.yaml': MINI['catalog/blocks/probe/block.yaml']!.replace('-o /usr/local/bin/probe', '-O3 -o /usr/local/bin/probe') });
    await runAction('validate', { base: 'HEAD~1' }, { workspace: ws });
    await runAction('plan', { base: 'HEAD~1' }, { workspace: ws });
    return join(ws, 'brickyard-report');
  }

  it('creates the comment on the first run and updates the same one on the second', async () => {
    const dir = await reports();
    api = await startFakeGitHub('o', 'r', [{ body: 'an unrelated comment' }]);
    const event = { pull_request: { number: 7 } };
    const first = await runAction('pr-comment', { 'github-token': 'ghs_fake', 'report-dir': dir }, { workspace: tempDir(), event, apiUrl: api.url });
    expect(first.stdout).not.toContain('::error');
    expect(first.code).toBe(0);
    expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /repos/o/r/issues/7/comments', 'POST /repos/o/r/issues/7/comments']);
    expect(api.calls[1]!.authorization).toBe('token ghs_fake');
    const body = api.comments[1]!.body;
    expect(body.startsWith(COMMENT_MARKER)).toBe(true);
    expect(body).toContain('**Validation:** failed with 1 error(s).');
    expect(body).toContain('bump revision to 2');
    expect(body).toContain('run `npx brickyard bump --base origin/main`');
    expect(body).toContain('| `demo@1.0` | `box/cpu` | ubuntu\\-24\\.04 | block probe changed |'); // Markdown-escaped cells
    expect(body).toContain('<details><summary>demo@\u200b1.0 on box/cpu (changed)</summary>'); // no mention in the HTML block
    expect(first.outputs['comment-id']).toBe(String(api.comments[1]!.id));

    const second = await runAction(
      'pr-comment',
      { 'github-token': 'ghs_fake', 'report-dir': dir, 'pr-number': '7' },
      { workspace: tempDir(), apiUrl: api.url, eventName: 'workflow_run', event: { workflow_run: { id: 99 } } },
    );
    expect(second.code).toBe(0);
    expect(api.calls.slice(2).map((c) => `${c.method} ${c.path}`)).toEqual(['GET /repos/o/r/issues/7/comments', `PATCH /repos/o/r/issues/comments/${api.comments[1]!.id}`]);
    expect(api.comments).toHaveLength(2); // never duplicated
    expect(api.comments[1]!.body).toContain('(https://github.example/o/r/actions/runs/99)');
  });

  it('refuses a malformed report or pull request number without calling the API', async () => {
    api = await startFakeGitHub();
    const dir = tempDir();
    writeFileSync(join(dir, 'validate.json'), JSON.stringify({ kind: 'brickyard-validate', version: 1, ok: true, errors: 0, warnings: 0, diagnostics: [{ file: 1 }] }));
    const bad = await runAction('pr-comment', { 'github-token': 't', 'report-dir': dir, 'pr-number': '7' }, { workspace: tempDir(), apiUrl: api.url });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/::error::brickyard pr-comment: report field diagnostics\[\] has the wrong shape/);
    const num = await runAction('pr-comment', { 'github-token': 't', 'report-dir': tempDir(), 'pr-number': '7; rm -rf /' }, { workspace: tempDir(), apiUrl: api.url });
    expect(num.code).toBe(1);
    expect(num.stdout).toContain('is not a number');
    expect(api.calls).toEqual([]);
  });

  it('escapes what pull-request code wrote into the report', async () => {
    api = await startFakeGitHub();
    const dir = tempDir();
    mkdirSync(dir, { recursive: true });
    const evil = '<img src=x onerror=alert(1)> | `oops` ``` @octocat [x](https://evil.example) ![p](https://evil.example/p.gif) #12';
    writeFileSync(
      join(dir, 'validate.json'),
      JSON.stringify({
        kind: 'brickyard-validate',
        version: 1,
        base: null,
        ok: false,
        errors: 1,
        warnings: 0,
        diagnostics: [{ file: 'a`b.yaml', line: 1, col: 1, severity: 'error', message: evil, rule: 'schema' }],
      }),
    );
    const r = await runAction('pr-comment', { 'github-token': 't', 'report-dir': dir, 'pr-number': '3' }, { workspace: tempDir(), apiUrl: api.url });
    expect(r.code).toBe(0);
    const body = api.comments[0]!.body;
    expect(body).not.toContain('<img');
    for (const live of ['<img', '@octocat', '](https://evil', '![', 'https://evil', '#12']) expect(body).not.toContain(live);
    expect(body).toContain(
      '&lt;img src\\=x onerror\\=alert\\(1\\)&gt; \\| \\`oops\\` \\`\\`\\` @\u200boctocat \\[x\\]\\(https\\:\u200b//evil\\.example\\) \\!\\[p\\]\\(https\\:\u200b//evil\\.example/p\\.gif\\) \\#\u200b12',
    );
    expect(body).toContain('`a b.yaml:1:1`');
  });
});

describe('bundles', () => {
  it('the committed dist/index.js of every action is what npm run bundle builds (what check-dist checks)', async () => {
    const out = tempDir('brickyard-bundle-');
    const files = await bundleActions(out);
    expect(files.length).toBe(7);
    for (const name of actionNames()) {
      const fresh = readFileSync(join(out, name, 'dist', 'index.js'), 'utf8');
      const committed = readFileSync(join(repoRoot, 'actions', name, 'dist', 'index.js'), 'utf8');
      expect(committed === fresh, `actions/${name}/dist/index.js is stale: run npm run bundle`).toBe(true);
    }
  });
});

describe.skipIf(process.getuid?.() !== 0 || missingTools(['buildah', 'podman', 'mmdebstrap']).length > 0)('build and smoke-test actions (need root and the host tools)', () => {
  it('build outputs the digest and a summary; smoke-test reports latency and bandwidth against the thresholds', async () => {
    const state = tempDir('brickyard-action-state-');
    const b = await runAction('build', { recipe: 'mpi-pingpong', system: 'local', 'state-dir': state, 'check-reproducible': 'false' }, { workspace: repoRoot });
    expect(b.stdout).not.toContain('::error');
    expect(b.code).toBe(0);
    expect(b.outputs['digest']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(JSON.parse(readFileSync(b.outputs['record']!, 'utf8')).image.manifestDigest).toBe(b.outputs['digest']);
    expect(b.summary).toContain('<h3>Build: mpi-pingpong@1.0.0 for local/debug</h3>');

    const s = await runAction('smoke-test', { image: 'mpi-pingpong@1.0.0', system: 'local/debug', launcher: 'direct', 'state-dir': state }, { workspace: repoRoot });
    expect(s.stdout).not.toContain('::error');
    expect(s.code).toBe(0);
    expect(['PASSED', 'WARNED']).toContain(s.outputs['result']);
    expect(s.summary).toMatch(/<td>latency at 8 B \(µs\)<\/td><td>[0-9.]+<\/td><td>&gt; 1<\/td><td>&gt; 5<\/td>/);
    const statement = JSON.parse(readFileSync(s.outputs['statement']!, 'utf8'));
    expect(statement.subject[0].digest.sha256).toBe(b.outputs['digest']!.slice(7));
  }, 600_000);

  it('smoke-test fails the step on an unknown launcher', async () => {
    const r = await runAction('smoke-test', { image: 'mpi-pingpong@1.0.0', system: 'local', launcher: 'mpirun' }, { workspace: repoRoot });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error::brickyard smoke-test: launcher must be direct or slurm, got "mpirun"');
  });
});
