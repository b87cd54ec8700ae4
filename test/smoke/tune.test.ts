import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devSignerDir, loadOrCreateDevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import { verifySigstoreBundle } from '../../pipeline/src/sign/verify.ts';
import { evaluateStream, parseStream } from '../../pipeline/src/smoke/stream.ts';
import { renderJobScript } from '../../pipeline/src/render/jobscript.ts';
import {
  buildKey,
  choose,
  expandVariants,
  fittingStrategies,
  outcomeOf,
  recordChoice,
  TUNE_PREDICATE_TYPE,
  tuneDocOf,
  tunedPair,
  variantPair,
  tuneTable,
  tuneTableHeader,
  withFlags,
  type TuneDoc,
  type VariantOutcome,
} from '../../pipeline/src/smoke/tune.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const ws = Workspace.open(repoRoot);
const stream = ws.recipe('stream');
const [local] = ws.partitionsOf('local/debug');
const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** A smoke report's shape with the recorded STREAM runs scaled, as one variant would give. */
function reportFor(scale: number, image: string, result: 'PASSED' | 'FAILED' = 'PASSED', threads?: number) {
  const runs = [fixture('stream-loaded-1.stdout'), fixture('stream-loaded-2.stdout')].map(parseStream).map((r) => (threads === undefined ? r : { ...r, threads }));
  const container = runs.map((r) => ({ ...r, rates: { Copy: r.rates.Copy * scale, Scale: r.rates.Scale * scale, Add: r.rates.Add * scale, Triad: r.rates.Triad * scale } }));
  const test = evaluateStream({ name: 'validates-overhead', container, host: runs });
  return { result, tests: [test], image: { reference: `localhost/brickyard/stream:${image}`, manifestDigest: sha(image) } };
}

describe('tune', () => {
  it("reads the stream recipe's declared variants and metric", () => {
    const doc = tuneDocOf(stream);
    expect(doc.metric).toEqual({ test: 'validates-overhead', figure: 'triad_MBps', goal: 'max' });
    expect(doc.variants.map((v) => [v.id, v.cflags, v.env])).toEqual([
      ['default', undefined, undefined],
      ['default-1t', undefined, { OMP_NUM_THREADS: '1' }],
      ['o2', '-O2', undefined],
      ['o3-v3', '-O3 -march=x86-64-v3', undefined],
      ['o3-v3-1t', '-O3 -march=x86-64-v3', { OMP_NUM_THREADS: '1' }],
    ]);
    // The thread variants are runtime variants: each shares the image of the variant before it.
    const keys = doc.variants.map((v) => buildKey(v, local!));
    expect(keys[1]).toBe(keys[0]);
    expect(keys[4]).toBe(keys[3]);
    expect(new Set(keys).size).toBe(3);
    expect(() => tuneDocOf(ws.recipe('mpi-pingpong'))).toThrow(/declares no tune section/);
  });

  it('builds a variant for the partition with its flags in place of the target flags, and renders them', () => {
    const o3 = withFlags(local!, '-O3 -march=x86-64-v3');
    expect(o3.partition.cpu.targetFlags).toBe('-O3 -march=x86-64-v3');
    expect(local!.partition.cpu.targetFlags).toBe('-O2 -march=x86-64-v2');
    const text = ws.render(variantPair(ws, ws.pairAt(stream, local!), { cflags: '-O3 -march=x86-64-v3' })).files.containerfile;
    expect(text).toMatch(/gcc -O3 -march=x86-64-v3 -fopenmp/);
  });

  it('chooses the best by the metric, never a FAILED variant or one without the figure; ties go to the earlier', () => {
    const m = tuneDocOf(stream).metric;
    const doc = tuneDocOf(stream);
    const v = (id: string) => doc.variants.find((x) => x.id === id)!;
    const outs = [
      outcomeOf(v('default'), local!, m, reportFor(1, 'default')),
      outcomeOf(v('o2'), local!, m, reportFor(1.2, 'o2', 'FAILED')),
      outcomeOf(v('o3-v3'), local!, m, reportFor(1.1, 'o3')),
    ];
    expect(outs.map((o) => [o.id, o.cflags, o.value])).toEqual([
      ['default', '-O2 -march=x86-64-v2', 3511.1],
      ['o2', '-O2', 3511.1 * 1.2],
      ['o3-v3', '-O3 -march=x86-64-v3', 3511.1 * 1.1],
    ]);
    expect(outs[1]!.excluded).toMatch(/^its smoke run FAILED/);
    expect(choose(outs, 'max').id).toBe('o3-v3');
    expect(choose(outs, 'min').id).toBe('default');
    expect(choose([outs[0]!, { ...outs[2]!, value: outs[0]!.value }], 'max').id).toBe('default');
    const noFigure = outcomeOf(v('default'), local!, { ...m, figure: 'nope_MBps' }, reportFor(1, 'x'));
    expect(noFigure.excluded).toBe("validates-overhead has no figure 'nope_MBps'");
    expect(() => choose([noFigure, outs[1]!], 'max')).toThrow(/no variant can be chosen: default: validates-overhead has no figure 'nope_MBps'; o2: its smoke run FAILED/);
  });

  it("records the choice with every variant's figures, signed and bound to the chosen image; render uses it", async () => {
    const state = tempDir('brickyard-tune-');
    const doc = tuneDocOf(stream);
    // Runtime variants share their build's image (the same digest); o3-v3-1t is the best here.
    const image = (id: string): string => `image-${id.replace(/-1t$/, '')}`;
    const outs: VariantOutcome[] = doc.variants.map((v, i) =>
      outcomeOf(v, local!, doc.metric, reportFor([1, 0.8, 0.9, 1.1, 1.15][i]!, image(v.id), 'PASSED', Number(v.env?.['OMP_NUM_THREADS'] ?? 2))),
    );
    expect(outs.map((o) => o.excluded)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    const rec = await recordChoice(stream, local!, doc.metric, outs, { stateDir: state });
    const p = rec.statement.predicate;
    expect(rec.statement.predicateType).toBe(TUNE_PREDICATE_TYPE);
    expect(p).toMatchObject({
      recipe: 'stream@5.10',
      system: 'local',
      partition: 'debug',
      chosen: 'o3-v3-1t',
      chosenCflags: '-O3 -march=x86-64-v3',
      chosenEnv: { OMP_NUM_THREADS: '1' },
      chosenMpiStrategy: null,
      chosenImageDigest: sha('image-o3-v3'),
    });
    expect(p.variants.map((v) => v.figures['triad_ratio'])).toEqual([1, 0.8, 0.9, 1.1, 1.15]);
    expect(p.variants.map((v) => v.env)).toEqual([{}, { OMP_NUM_THREADS: '1' }, {}, {}, { OMP_NUM_THREADS: '1' }]);
    expect(rec.statement.subject[0]!.digest.sha256).toBe(sha('image-o3-v3').slice(7));
    expect(tuneTableHeader(p)).toEqual(['variant', 'flags', 'runtime', 'smoke', 'triad_MBps', 'image', 'excluded']);
    expect(tuneTable(p)[4]!.slice(0, 3)).toEqual(['o3-v3-1t *', '-O3 -march=x86-64-v3', 'OMP_NUM_THREADS=1']);

    // The signature verifies offline against the chosen image, and not against another variant's.
    const signer = await loadOrCreateDevSigner(devSignerDir(state));
    const trustedRoot = signer.trustedRoot();
    const bundle = JSON.parse(readFileSync(rec.bundlePath, 'utf8'));
    const chosen = join(state, 'chosen');
    writeFileSync(chosen, 'image-o3-v3');
    const v = await verifySigstoreBundle({ bundle, artifact: { path: chosen }, trustedRoot, policy: { identity: signer.identity, issuer: signer.issuer }, ctlogThreshold: 0 });
    expect(v.identity).toBe(signer.identity);
    const other = join(state, 'other');
    writeFileSync(other, 'image-default');
    await expect(
      verifySigstoreBundle({ bundle, artifact: { path: other }, trustedRoot, policy: { identity: signer.identity, issuer: signer.issuer }, ctlogThreshold: 0 }),
    ).rejects.toThrow(/digest|subject/);

    // Render uses the recorded choice: its flags in the build, its environment exported by the job
    // script and forwarded into the podman container.
    const streamPair = ws.pairAt(stream, local!);
    const tuned = tunedPair(ws, state, streamPair);
    expect(tuned.choice?.chosen).toBe('o3-v3-1t');
    expect(tuned.pair.partition.cpu.targetFlags).toBe('-O3 -march=x86-64-v3');
    expect(tuned.pair.variant).toMatch(/^tuned=/);
    // Asked again, the same variant pair: its fit was computed once.
    expect(tunedPair(ws, state, streamPair).pair).toBe(tuned.pair);
    const rendered = ws.render(tuned.pair);
    expect(rendered.files.containerfile).toMatch(/gcc -O3 -march=x86-64-v3 -fopenmp/);
    const job = renderJobScript(rendered.composition);
    expect(job).toMatch(/^export OMP_NUM_THREADS="1"$/m);
    expect(job).toMatch(/podman run .*--env=OMP_NUM_THREADS .*"\$IMAGE"/);
    expect(tunedPair(ws, tempDir(), streamPair).pair).toBe(streamPair);
    expect(local!.partition.env ?? {}).not.toHaveProperty('OMP_NUM_THREADS');
  });

  it('a runtime variant whose thread count did not take effect cannot be chosen', () => {
    const doc = tuneDocOf(stream);
    const oneThread = doc.variants.find((v) => v.id === 'default-1t')!;
    const report = reportFor(1.5, 'x');
    // The recorded runs counted 2 threads (stream-loaded-*.stdout): OMP_NUM_THREADS=1 did not reach the program.
    expect(report.tests[0]!.figures?.['threads']).toBe(2);
    expect(outcomeOf(oneThread, local!, doc.metric, report).excluded).toBe('it asked for OMP_NUM_THREADS=1 but the program counted 2 threads');
    expect(outcomeOf(doc.variants[0]!, local!, doc.metric, report).excluded).toBeUndefined();
  });

  it('enumerates the MPI strategies that fit: mpi-pingpong on local/debug has two (Open MPI and MPICH)', () => {
    const pingpong = ws.recipe('mpi-pingpong');
    const pingpongPair = ws.pairAt(pingpong, local!);
    expect(fittingStrategies(ws, pingpongPair)).toEqual(['hybrid-pmix', 'container-only']);
    expect(fittingStrategies(ws, ws.pairAt(stream, local!))).toEqual([]);
    const doc: TuneDoc = {
      metric: { test: 'pingpong', figure: 'latency_8B_us', goal: 'min' },
      mpiStrategies: 'fitting',
      variants: [{ id: 'default' }, { id: 'o3', cflags: '-O3' }],
    };
    const vs = expandVariants(doc, ws, pingpongPair);
    expect(vs.map((v) => [v.id, v.cflags, v.mpiStrategy])).toEqual([
      ['default+hybrid-pmix', undefined, 'hybrid-pmix'],
      ['default+container-only', undefined, 'container-only'],
      ['o3+hybrid-pmix', '-O3', 'hybrid-pmix'],
      ['o3+container-only', '-O3', 'container-only'],
    ]);
    expect(new Set(vs.map((v) => buildKey(v, local!))).size).toBe(4);
    // Each builds with its strategy: the rendered job script names its PMI and its MPI.
    const mpich = variantPair(ws, pingpongPair, { mpiStrategy: 'container-only' });
    expect(mpich.fit.strategy?.id).toBe('container-only');
    expect(renderJobScript(ws.render(mpich).composition)).toMatch(/--mpi=pmi2 /);
    expect(renderJobScript(ws.render(variantPair(ws, pingpongPair, { mpiStrategy: 'hybrid-pmix' })).composition)).toMatch(/--mpi=pmix /);
    // The variant pair is the one fittingStrategies made: one fit per variant.
    expect(variantPair(ws, pingpongPair, { mpiStrategy: 'container-only' })).toBe(mpich);
    // Without `fitting` only the declared variants, with the strategy the fit check picks.
    expect(expandVariants({ ...doc, mpiStrategies: 'default' }, ws, pingpongPair).map((v) => v.id)).toEqual(['default', 'o3']);
    // A variant that names a strategy keeps it; a name the partition lacks is refused.
    expect(expandVariants({ ...doc, variants: [{ id: 'a', mpiStrategy: 'container-only' }, { id: 'b' }] }, ws, pingpongPair).map((v) => v.id)).toEqual([
      'a',
      'b+hybrid-pmix',
      'b+container-only',
    ]);
    expect(() => expandVariants({ ...doc, variants: [{ id: 'a', mpiStrategy: 'cray-mpich' }] }, ws, pingpongPair)).toThrow(
      /local\/debug has no MPI strategy 'cray-mpich' \(it has hybrid-pmix, container-only\)/,
    );
  });

  it('a synthetic partition with one fitting strategy gives no strategy variants, and one variant alone is refused', () => {
    const pingpongPair = ws.pair('mpi-pingpong', 'local', 'debug');
    const single = variantPair(ws, pingpongPair, { mpiStrategy: 'hybrid-pmix' });
    expect(fittingStrategies(ws, single)).toEqual(['hybrid-pmix']);
    const doc: TuneDoc = { metric: { test: 'pingpong', figure: 'latency_8B_us', goal: 'min' }, mpiStrategies: 'fitting', variants: [{ id: 'default' }] };
    expect(() => expandVariants(doc, ws, single)).toThrow(/1 tune variant on local\/debug: nothing to choose between/);
    expect(expandVariants(doc, ws, pingpongPair).map((v) => v.id)).toEqual(['default+hybrid-pmix', 'default+container-only']);
  });
});
