/**
 * CI at fleet scale: a synthetic plan of 2,000 pairs fanned out over every batch. The callers
 * (pr.yml, main.yml) are read with GitHub's workflow parser and their matrix and `if:`
 * expressions evaluated with GitHub's expression engine; the called workflow's batch selection
 * script runs for real (bash, jq) on the batches file the plan writes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Evaluator, Lexer, Parser, data } from '@actions/expressions';
import { batchesFile, batchIndices, buildCost, checkFanOut, pairsToBuild, type BuiltIndex, type LockedPair } from '../../pipeline/src/plan/built.ts';
import { hostedPairs, toMatrices, type Matrix } from '../../pipeline/src/plan/plan.ts';
import { pairsOfBatch } from '../../pipeline/src/sign/received.ts';
import { buildArtifactName } from '../../pipeline/src/sign/subjects.ts';
import { repoRoot } from '../helpers/fixture.ts';

// As in workflows.test.ts: the parser imports its JSON schemas without import attributes.
registerHooks({
  load(url, context, nextLoad) {
    if (url.startsWith('file:') && url.endsWith('.json') && url.includes('/@actions/workflow-parser/') && context.importAttributes.type === undefined) {
      return { format: 'module', source: `export default ${readFileSync(fileURLToPath(url), 'utf8')};`, shortCircuit: true };
    }
    return nextLoad(url, context);
  },
});
const parser = await import('@actions/workflow-parser');

const workflowDir = join(repoRoot, '.github', 'workflows');
const BUILD_BATCH = './.github/workflows/build-batch.yml';

// --- a synthetic fleet --------------------------------------------------------------------------

const hex = (n: number): string => n.toString(16).padStart(64, '0');

/** 400 recipes × 5 hosted partitions = 2,000 pairs, plus 60 on a self-hosted system. */
function syntheticPairs(): LockedPair[] {
  const out: LockedPair[] = [];
  for (let r = 0; r < 400; r++) {
    const name = `app${String(r).padStart(3, '0')}`;
    for (let p = 0; p < 5; p++) {
      out.push({
        recipe: `${name}@1.0`,
        name,
        version: '1.0',
        system: 'local',
        partition: `p${p}`,
        arch: 'x86_64',
        runner: ['ubuntu-24.04'],
        strategy: null,
        because: ['block base-tools changed'],
        lockDigest: `sha256:${hex(r * 10 + p)}`,
      });
    }
    if (r < 60)
      out.push({
        recipe: `${name}@1.0`,
        name,
        version: '1.0',
        system: 'cray',
        partition: 'cpu',
        arch: 'x86_64',
        runner: ['self-hosted', 'cray'],
        strategy: null,
        because: ['block base-tools changed'],
        lockDigest: `sha256:${hex(1e6 + r)}`,
      });
  }
  return out;
}

// --- GitHub's parser and expression engine --------------------------------------------------------

interface CallerJob {
  id: string;
  ref: string;
  matrixExpr: string;
  ifExpr: string;
  withKeys: string[];
  permissions: Record<string, string>;
}

/** The jobs of a workflow that call a reusable workflow, as GitHub's parser reads them. */
async function callerJobs(file: string): Promise<CallerJob[]> {
  const content = readFileSync(join(workflowDir, file), 'utf8');
  const parsed = parser.parseWorkflow({ name: file, content }, new parser.NoOperationTraceWriter());
  expect(parsed.context.errors.getErrors()).toEqual([]);
  const template = await parser.convertWorkflowTemplate(parsed.context, parsed.value!);
  const raw = parse(content) as { jobs: Record<string, { with?: Record<string, unknown>; permissions?: Record<string, string> }> };
  const out: CallerJob[] = [];
  for (const job of template.jobs) {
    if (job.type !== 'reusableWorkflowJob') continue;
    const strategy = JSON.parse(JSON.stringify(job.strategy)) as { map: { Key: string; Value: { map?: { Key: string; Value: { expr: string } }[] } }[] };
    // Only the fan-outs over batch indices (release.yml also calls sign-test-results.yml per pair).
    const matrix = strategy.map.find((e) => e.Key === 'matrix')?.Value.map?.find((e) => e.Key === 'batch')?.Value.expr;
    if (matrix === undefined) continue;
    const id = job.id.value;
    out.push({
      id,
      ref: job.ref.value,
      matrixExpr: matrix,
      ifExpr: (job.if as { expression: string }).expression,
      withKeys: Object.keys(raw.jobs[id]?.with ?? {}),
      permissions: raw.jobs[id]?.permissions ?? {},
    });
  }
  return out;
}

function toData(v: unknown): data.ExpressionData {
  if (v === null || v === undefined) return new data.Null();
  if (typeof v === 'string') return new data.StringData(v);
  if (typeof v === 'number') return new data.NumberData(v);
  if (typeof v === 'boolean') return new data.BooleanData(v);
  if (Array.isArray(v)) return new data.Array(...v.map(toData));
  return new data.Dictionary(...Object.entries(v as Record<string, unknown>).map(([key, value]) => ({ key, value: toData(value) })));
}

/** Evaluate a GitHub expression against the given contexts; the result as plain JSON. */
function evaluate(expr: string, contexts: Record<string, unknown>): unknown {
  const lexed = new Lexer(expr).lex();
  const ast = new Parser(lexed.tokens, Object.keys(contexts), []).parse();
  const result = new Evaluator(ast, toData(contexts) as data.Dictionary).evaluate();
  return JSON.parse(JSON.stringify(result, data.replacer)) as unknown;
}

/**
 * A job's `if:` as a boolean. The parser wraps it as `success() && (…)`; the status functions
 * are the runner's, not the expression engine's: here the needed jobs succeeded.
 */
function truthy(expr: string, contexts: Record<string, unknown>): boolean {
  expect(expr).toMatch(/^success\(\) && \(/);
  const lexed = new Lexer(expr.replace(/^success\(\) && /, 'true && ')).lex();
  const ast = new Parser(lexed.tokens, Object.keys(contexts), []).parse();
  const v = JSON.parse(JSON.stringify(new Evaluator(ast, toData(contexts) as data.Dictionary).evaluate(), data.replacer)) as unknown;
  // GitHub's falsy values: false, 0, -0, '', null (NaN cannot come out of JSON).
  return !(v === false || v === 0 || v === '' || v === null);
}

// --- the called workflow's batch selection, run for real ----------------------------------------

const called = parse(readFileSync(join(workflowDir, 'build-batch.yml'), 'utf8')) as {
  on: { workflow_call: { inputs: Record<string, { type: string; required?: boolean }> } };
  permissions: Record<string, string>;
  jobs: Record<string, { permissions?: Record<string, string>; steps: { id?: string; run?: string; uses?: string }[]; strategy?: { matrix: string } }>;
};
const selectScript = called.jobs['select']!.steps.find((s) => s.id === 'select')!.run!;

/**
 * As the runner starts a `run:` step: no profile, no rc file. Plain `bash -c` with a pipe for stdin
 * and no SHLVL reads ~/.bashrc (bash takes a socket on stdin for rshd), a quarter of a second of a
 * developer's shell set-up per step on some hosts.
 */
const RUNNER_BASH = ['--noprofile', '--norc', '-c'];

interface Selection {
  code: number;
  matrix?: Matrix;
  stderr: string;
  stdout: string;
}
/** The selection is a function of the file's bytes and the index: each pair of them is run once per file. */
const selections = new Map<string, Selection>();

function selectBatch(file: string, batch: string): Selection {
  const id = `${createHash('sha256').update(readFileSync(file)).digest('hex')} ${batch}`;
  let r = selections.get(id);
  if (r === undefined) selections.set(id, (r = runSelection(file, batch)));
  return r;
}

function runSelection(file: string, batch: string): Selection {
  const out = join(mkdtempSync(join(tmpdir(), 'brickyard-fanout-')), 'output');
  writeFileSync(out, '');
  const r = spawnSync('bash', [...RUNNER_BASH, selectScript], { env: { PATH: process.env['PATH'], BATCH: batch, FILE: file, GITHUB_OUTPUT: out }, encoding: 'utf8' });
  const line = readFileSync(out, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('matrix='));
  return { code: r.status ?? -1, stderr: r.stderr, stdout: r.stdout, ...(line ? { matrix: JSON.parse(line.slice('matrix='.length)) as Matrix } : {}) };
}

function writeBatches(matrices: Matrix[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'brickyard-batches-')), 'batches.json');
  writeFileSync(file, JSON.stringify(batchesFile(matrices)) + '\n');
  return file;
}

const key = (e: { recipe: string; version: string; system: string; partition: string }): string => `${e.recipe}@${e.version} ${e.system}/${e.partition}`;

describe('fan-out of a 2,000-pair plan over every batch', () => {
  const pairs = syntheticPairs();
  const hosted = hostedPairs(pairs);
  const batches = toMatrices(hosted);
  const file = writeBatches(batches);

  it('the plan cuts 2,000 hosted pairs into 8 batches of at most 256', () => {
    expect(hosted).toHaveLength(2000);
    expect(batches.map((b) => b.include.length)).toEqual([256, 256, 256, 256, 256, 256, 256, 208]);
  });

  it.each(['pr.yml', 'main.yml', 'release.yml'])('%s: the caller matrix holds every batch index, once, and calls build-batch.yml with its declared inputs', async (name) => {
    const jobs = await callerJobs(name);
    const build = jobs.find((j) => j.ref === BUILD_BATCH);
    expect(build, `${name} calls ${BUILD_BATCH}`).toBeDefined();
    expect(jobs.filter((j) => j.ref === BUILD_BATCH)).toHaveLength(1);
    const plannerJob = name === 'pr.yml' ? 'check' : 'plan';
    const outputs = { 'build-batches': JSON.stringify(batchIndices(batches.length)), 'budget-verdict': 'within-budget' };
    const indices = evaluate(build!.matrixExpr, { needs: { [plannerJob]: { outputs } } });
    expect(indices).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect((indices as number[]).length).toBeLessThanOrEqual(256);
    expect(truthy(build!.ifExpr, { needs: { [plannerJob]: { outputs } } })).toBe(true);
    // Nothing to build: the fan-out does not start.
    expect(truthy(build!.ifExpr, { needs: { [plannerJob]: { outputs: { ...outputs, 'build-batches': '[]' } } } })).toBe(false);
    // Every input the caller passes is declared by the called workflow; the required ones are passed.
    const declared = called.on.workflow_call.inputs;
    for (const k of build!.withKeys) expect(Object.keys(declared)).toContain(k);
    for (const [k, v] of Object.entries(declared)) if (v.required) expect(build!.withKeys).toContain(k);
    expect(declared['batch']?.type).toBe('number');
  });

  it('each batch index selects its batch (≤ 256 pairs) and together they are every pair, once', async () => {
    const jobs = await callerJobs('pr.yml');
    const indices = evaluate(jobs.find((j) => j.ref === BUILD_BATCH)!.matrixExpr, {
      needs: { check: { outputs: { 'build-batches': JSON.stringify(batchIndices(batches.length)) } } },
    }) as number[];
    const seen: string[] = [];
    for (const i of indices) {
      const r = selectBatch(file, String(i));
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expect(r.matrix!.include.length).toBeGreaterThan(0);
      expect(r.matrix!.include.length).toBeLessThanOrEqual(256);
      // The build job's matrix expression over the select job's output gives the same jobs.
      const jobsOfBatch = evaluate(called.jobs['build']!.strategy!.matrix.replace(/^\$\{\{|\}\}$/g, '').trim(), {
        needs: { select: { outputs: { matrix: JSON.stringify(r.matrix) } } },
      }) as Matrix;
      expect(jobsOfBatch.include).toHaveLength(r.matrix!.include.length);
      seen.push(...r.matrix!.include.map(key));
    }
    expect(seen).toHaveLength(2000);
    expect(new Set(seen).size).toBe(2000);
    expect(seen.sort()).toEqual(hosted.map((p) => key({ ...p, recipe: p.name })).sort());
  });

  it('the selection refuses an index past the end, a non-number, and a file that is not a batches file', () => {
    expect(selectBatch(file, '8').code).not.toBe(0);
    expect(selectBatch(file, '1; touch /tmp/x').code).not.toBe(0);
    expect(selectBatch(file, '-1').code).not.toBe(0);
    const forged = join(mkdtempSync(join(tmpdir(), 'brickyard-forged-')), 'batches.json');
    writeFileSync(forged, JSON.stringify({ kind: 'something-else', batches: batches }));
    expect(selectBatch(forged, '0').code).not.toBe(0);
    writeFileSync(forged, JSON.stringify({ kind: 'brickyard-batches', version: 1, batches: [{ include: Array.from({ length: 257 }, () => batches[0]!.include[0]) }] }));
    expect(selectBatch(forged, '0').stdout).toMatch(/257 pairs/);
  });

  it('skip-if-already-built: pairs built and smoke-tested at the same lock digest leave the batches', () => {
    const builds: BuiltIndex['builds'] = {};
    // 300 built and passed, 40 built but their smoke test failed.
    for (const p of hosted.slice(0, 340)) {
      builds[p.lockDigest!] = {
        lockDigest: p.lockDigest!,
        recipe: p.recipe,
        system: p.system,
        partition: p.partition,
        image: `sha256:${'e'.repeat(64)}`,
        smoke: hosted.indexOf(p) < 300 ? 'passed' : 'failed',
        where: 'ghcr.io/o/r@sha256:' + 'e'.repeat(64),
      };
    }
    const sel = pairsToBuild(pairs, { kind: 'brickyard-built-index', version: 1, builds });
    expect(sel.reused).toHaveLength(300);
    expect(sel.build).toHaveLength(2060 - 300);
    const left = toMatrices(hostedPairs(sel.build));
    expect(left.map((b) => b.include.length)).toEqual([256, 256, 256, 256, 256, 256, 164]);
    const selected = batchIndices(left.length).flatMap((i) => selectBatch(writeBatches(left), String(i)).matrix!.include.map(key));
    expect(selected).toHaveLength(1700);
    expect(selected).not.toContain(key({ ...hosted[0]!, recipe: hosted[0]!.name }));
    expect(selected).toContain(key({ ...hosted[320]!, recipe: hosted[320]!.name })); // smoke failed: rebuilt
  });

  it('the budget: 2,060 builds over a budget of 1,000 need the label; pr.yml builds nothing without it', async () => {
    const sel = pairsToBuild(pairs, undefined);
    const config = { buildBudget: 1000, budgetLabel: 'large-build-ok' };
    const over = buildCost(sel, toMatrices(sel.build).length, config, ['documentation']);
    expect(over).toMatchObject({ affected: 2060, builds: 2060, reused: 0, batches: 9, budget: 1000, verdict: 'over-budget' });
    expect(buildCost(sel, 9, config, ['large-build-ok']).verdict).toBe('approved');
    const build = (await callerJobs('pr.yml')).find((j) => j.ref === BUILD_BATCH)!;
    const outputs = (verdict: string): unknown => ({ needs: { check: { outputs: { 'build-batches': '[0,1,2,3,4,5,6,7]', 'budget-verdict': verdict } } } });
    expect(truthy(build.ifExpr, outputs('over-budget') as Record<string, unknown>)).toBe(false);
    expect(truthy(build.ifExpr, outputs('') as Record<string, unknown>)).toBe(false); // the plan failed: no verdict, no builds
    expect(truthy(build.ifExpr, outputs('approved') as Record<string, unknown>)).toBe(true);
    expect(truthy(build.ifExpr, outputs('within-budget') as Record<string, unknown>)).toBe(true);
  });

  it('more than 256 batches is refused before anything runs', () => {
    expect(() => checkFanOut(256)).not.toThrow();
    expect(() => checkFanOut(257)).toThrow(/at most 256/);
  });
});

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  uses?: string;
  with?: Record<string, unknown>;
  needs?: string | string[];
  permissions?: Record<string, string>;
  strategy?: { matrix?: unknown };
  'runs-on'?: unknown;
  steps?: Step[];
  environment?: unknown;
}
/** A workflow's jobs, parsed once per file (the tests only read them). */
const parsedJobs = new Map<string, Record<string, Job>>();
function jobsOf(file: string): Record<string, Job> {
  let jobs = parsedJobs.get(file);
  if (jobs === undefined) parsedJobs.set(file, (jobs = (parse(readFileSync(join(workflowDir, file), 'utf8')) as { jobs: Record<string, Job> }).jobs));
  return jobs;
}

/** A `with:` value or name with `${{ … }}` in it, evaluated with GitHub's expression engine. */
function expand(template: string, contexts: Record<string, unknown>): string {
  return template.replace(/\$\{\{(.*?)\}\}/g, (_, expr: string) => String(evaluate(expr.trim(), contexts)));
}

describe('main.yml and release.yml sign every batch, each in a job that plans again and re-hashes', () => {
  const pairs = syntheticPairs();
  const batches = toMatrices(hostedPairs(pairs));
  const file = writeBatches(batches);
  const indices = JSON.stringify(batchIndices(batches.length));
  const signers = { 'main.yml': 'sign-and-bundle', 'release.yml': 'sign-and-publish-local' } as const;
  const builders = { 'main.yml': 'build', 'release.yml': 'build-local' } as const;
  const uploadName = called.jobs['build']!.steps.find(
    (st) => st.uses?.startsWith('actions/upload-artifact@') && (st as Step).with?.['name']?.toString().includes('inputs.batch'),
  )! as Step;

  it.each(Object.keys(signers) as (keyof typeof signers)[])('%s: one signing job per batch, the same indices as the builds, after them', (name) => {
    const jobs = jobsOf(name);
    const signer = jobs[signers[name]]!;
    const builder = jobs[builders[name]]!;
    expect(builder.uses).toBe(BUILD_BATCH);
    expect(builder.with?.['keep-images']).toBe(true);
    expect([signer.needs].flat()).toContain(builders[name]);
    const contexts = { needs: { plan: { outputs: { 'build-batches': indices } } } };
    const signed = evaluate((signer.strategy!.matrix as { batch: string }).batch.replace(/^\$\{\{|\}\}$/g, '').trim(), contexts);
    const built = evaluate((builder.strategy!.matrix as { batch: string }).batch.replace(/^\$\{\{|\}\}$/g, '').trim(), contexts);
    expect(signed).toEqual(built);
    expect(signed).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // The signer is a job of this workflow (its identity is the caller's), on GitHub's runners, in a protected environment.
    expect(signer.uses).toBeUndefined();
    expect(signer['runs-on']).toBe('ubuntu-24.04');
    expect(signer.environment).toMatch(/^(signing|release)$/);
    expect(signer.permissions?.['id-token']).toBe('write');
    expect(builder.permissions).toEqual({ contents: 'read' });
  });

  it.each(Object.keys(signers) as (keyof typeof signers)[])('%s: the signer takes its pairs from its own plan of the same base and head, never from another job', (name) => {
    const jobs = jobsOf(name);
    const steps = jobs[signers[name]]!.steps!;
    const sign = steps.find((st) => st.uses === './actions/sign')!;
    expect(sign.with?.['pairs']).toBeUndefined();
    expect(sign.with?.['recipe']).toBeUndefined();
    expect(sign.with?.['batch']).toBe('${{ matrix.batch }}');
    const m = /^\$\{\{ steps\.([a-z-]+)\.outputs\.batches-file \}\}$/.exec(String(sign.with?.['batches-file']));
    expect(m, 'batches-file comes from a step of the signing job').not.toBeNull();
    const own = steps.find((st) => st.id === m![1])!;
    expect(own.uses).toBe('./actions/plan');
    expect(steps.indexOf(own)).toBeLessThan(steps.indexOf(sign));
    // The same base and head as the plan job's plan (release: the base the plan job found, an output of a job that runs no recipe code).
    const planned = jobs['plan']!.steps!.find((st) => st.uses === './actions/plan')!;
    expect(own.with?.['head']).toBe(planned.with?.['head']);
    if (name === 'main.yml') expect(own.with?.['base']).toBe(planned.with?.['base']);
    else expect([own.with?.['base'], planned.with?.['base']]).toEqual(['${{ needs.plan.outputs.base }}', '${{ steps.base.outputs.sha }}']);
    // No built index: the signer's plan is a function of git alone, so it is the plan job's.
    expect(own.with?.['built-index']).toBeUndefined();
    expect(planned.with?.['built-index']).toBeUndefined();
    // It downloads nothing it would trust: the batches artifact is not read by the signer.
    expect(steps.filter((st) => st.uses?.startsWith('actions/download-artifact@')).map((st) => st.with?.['name'] ?? st.with?.['pattern'])).not.toContain('brickyard-batches');
  });

  it.each(Object.keys(signers) as (keyof typeof signers)[])(
    "%s: the signer of batch i downloads exactly batch i's artifacts, and reads the same pairs the builders built",
    (name) => {
      const steps = jobsOf(name)[signers[name]]!.steps!;
      const download = steps.find(
        (st) => st.uses?.startsWith('actions/download-artifact@') && (({ pattern } = st.with ?? {}) => typeof pattern === 'string' && pattern.startsWith('brickyard-build'))(),
      )!;
      expect(download.with?.['merge-multiple']).toBeUndefined();
      // Every artifact name the fan-out uploads, as build-batch.yml's upload step names it.
      const uploaded = batches.flatMap((b, i) => b.include.map((e) => ({ batch: i, name: expand(String(uploadName.with!['name']), { inputs: { batch: i }, matrix: e }) })));
      expect(uploaded).toHaveLength(2000);
      for (const u of uploaded.slice(0, 300)) {
        const e = batches[u.batch]!.include.find((x) => u.name.endsWith(`@${x.system}@${x.recipe}@${x.version}@${x.partition}`))!;
        expect(u.name).toBe(buildArtifactName({ recipe: e.recipe, version: e.version, system: e.system, partition: e.partition }, u.batch));
      }
      for (const i of batchIndices(batches.length)) {
        const pattern = expand(String(download.with!['pattern']), { matrix: { batch: i } });
        // A prefix and one trailing `*`, no other glob character: minimatch matches it as a prefix.
        expect(pattern).toMatch(/^[A-Za-z0-9@._-]+\*$/);
        const matched = uploaded.filter((u) => u.name.startsWith(pattern.slice(0, -1)));
        expect(matched.every((u) => u.batch === i)).toBe(true);
        expect(matched).toHaveLength(batches[i]!.include.length);
        // What the signer signs: its own plan's batch i, the pairs build-batch.yml built for batch i.
        const selected = selectBatch(file, String(i)).matrix!.include.map(key);
        expect(pairsOfBatch(file, i, 'local').map((p) => key(p))).toEqual(selected);
      }
    },
  );

  it('bundle serials rise through the batches of a run and from run to run (release slot 0: the site systems)', () => {
    const script = (file: string, job: string): string => jobsOf(file)[job]!.steps!.find((st) => st.id === 'serial')!.run!;
    const serial = (run: string, env: Record<string, string>): number => {
      const out = join(mkdtempSync(join(tmpdir(), 'brickyard-serial-')), 'output');
      writeFileSync(out, '');
      const r = spawnSync('bash', [...RUNNER_BASH, run], { env: { PATH: process.env['PATH'], GITHUB_OUTPUT: out, ...env }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return Number(/^serial=(\d+)$/m.exec(readFileSync(out, 'utf8'))![1]);
    };
    const seq: number[] = [];
    for (const runNumber of ['41', '42']) {
      seq.push(serial(script('release.yml', 'sign-and-publish'), { RUN_NUMBER: runNumber }));
      for (const b of [0, 1, 2, 255]) seq.push(serial(script('release.yml', 'sign-and-publish-local'), { RUN_NUMBER: runNumber, BATCH: String(b) }));
    }
    for (let k = 1; k < seq.length; k++) expect(seq[k]!).toBeGreaterThan(seq[k - 1]!);
    expect(serial(script('main.yml', 'sign-and-bundle'), { RUN_NUMBER: '7', BATCH: '3' })).toBe(
      serial(script('release.yml', 'sign-and-publish-local'), { RUN_NUMBER: '7', BATCH: '3' }),
    );
  });

  it('release.yml refuses more than 256 site pairs before anything is built', () => {
    const step = jobsOf('release.yml')['plan']!.steps!.find((st) => st.id === 'systems')!;
    const site = {
      include: [
        { recipe: 'a', version: '1', system: 'lumi', partition: 'g', runner: ['self-hosted', 'lumi'] },
        { recipe: 'b', version: '1', system: 'cray', partition: 'c', runner: ['self-hosted', 'cray'] },
      ],
    };
    const run = (count: string): { code: number; out: string } => {
      const out = join(mkdtempSync(join(tmpdir(), 'brickyard-systems-')), 'output');
      writeFileSync(out, '');
      const r = spawnSync('bash', [...RUNNER_BASH, step.run!], {
        env: { PATH: process.env['PATH'], GITHUB_OUTPUT: out, MATRIX: JSON.stringify(site), COUNT: count },
        encoding: 'utf8',
      });
      return { code: r.status ?? -1, out: readFileSync(out, 'utf8') + r.stdout };
    };
    const ok = run('2');
    expect(ok.code).toBe(0);
    expect(ok.out).toContain('matrix={"include":[{"system":"cray"},{"system":"lumi"}]}');
    expect(ok.out).toContain('has-site-pairs=true');
    const over = run('257');
    expect(over.code).not.toBe(0);
    expect(over.out).toMatch(/257 pairs of site systems; one release builds at most 256/);
  });

  it("a run over GitHub's 50,000 check runs is refused by the plan", () => {
    expect(() => checkFanOut(132, 33_600)).not.toThrow(); // the synthetic 1,000 × 30 catalogue
    expect(() => checkFanOut(196, 50_000)).toThrow(/at most 50000 .*check runs/);
  });
});

describe('reusable workflows: limits and the trust chain', () => {
  /** Every reusable workflow a file calls, transitively, with the depth (the caller is level 1). */
  function callTree(file: string, depth = 1, seen = new Map<string, number>()): Map<string, number> {
    const doc = parse(readFileSync(join(workflowDir, file), 'utf8')) as { jobs: Record<string, { uses?: string }> };
    for (const job of Object.values(doc.jobs)) {
      if (!job.uses?.startsWith('./.github/workflows/')) continue;
      const callee = job.uses.slice('./.github/workflows/'.length);
      seen.set(callee, Math.max(seen.get(callee) ?? 0, depth + 1));
      callTree(callee, depth + 1, seen);
    }
    return seen;
  }
  const text = (f: string): string => readFileSync(join(workflowDir, f), 'utf8');

  it.each(['pr.yml', 'main.yml', 'release.yml'])('%s: within ten levels (four on GHES) and 20 unique reusable workflows', (name) => {
    const tree = callTree(name);
    expect(tree.size).toBeGreaterThan(0);
    expect(tree.size).toBeLessThanOrEqual(20);
    expect(Math.max(...tree.values())).toBeLessThanOrEqual(4);
  });

  it('nothing pr.yml calls can mint an OIDC token or sign', () => {
    const tree = callTree('pr.yml');
    expect([...tree.keys()]).toEqual(['build-batch.yml']);
    for (const f of ['pr.yml', ...tree.keys()]) {
      expect(text(f)).not.toMatch(/id-token:\s*write|write-all|secrets:/);
      expect(text(f)).not.toMatch(/actions\/sign|sign-batch/);
    }
  });

  it('build-batch.yml, which main.yml and release.yml also call, can mint no OIDC token and signs nothing', () => {
    for (const f of ['main.yml', 'release.yml']) expect([...callTree(f).keys()]).toContain('build-batch.yml');
    expect(text('build-batch.yml')).not.toMatch(/id-token:\s*write|write-all|secrets:|uses:\s*\.\/actions\/(?:sign|publish)|actions\/attest/);
  });

  it('jq and bash are the tools the selection runs on (present here)', () => {
    expect(execFileSync('jq', ['--version'], { encoding: 'utf8' })).toMatch(/^jq-/);
  });
});
