import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devSignerDir, loadOrCreateDevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import { verifySigstoreBundle } from '../../pipeline/src/sign/verify.ts';
import { evaluateStream, parseStream } from '../../pipeline/src/smoke/stream.ts';
import { choose, outcomeOf, recordChoice, TUNE_PREDICATE_TYPE, tuneDocOf, tunedPartition, tuneTable, withFlags, type VariantOutcome } from '../../pipeline/src/smoke/tune.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const ws = Workspace.open(repoRoot);
const stream = ws.recipe('stream');
const [local] = ws.partitionsOf('local/debug');
const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** A smoke report's shape with the recorded STREAM runs scaled, as one variant would give. */
function reportFor(scale: number, image: string, result: 'PASSED' | 'FAILED' = 'PASSED') {
  const runs = [fixture('stream-loaded-1.stdout'), fixture('stream-loaded-2.stdout')].map(parseStream);
  const container = runs.map((r) => ({ ...r, rates: { Copy: r.rates.Copy * scale, Scale: r.rates.Scale * scale, Add: r.rates.Add * scale, Triad: r.rates.Triad * scale } }));
  const test = evaluateStream({ name: 'validates-overhead', container, host: runs });
  return { result, tests: [test], image: { reference: `localhost/brickyard/stream:${image}`, manifestDigest: sha(image) } };
}

describe('tune', () => {
  it('reads the stream recipe\'s declared variants and metric', () => {
    const doc = tuneDocOf(stream);
    expect(doc.metric).toEqual({ test: 'validates-overhead', figure: 'triad_MBps', goal: 'max' });
    expect(doc.variants.map((v) => [v.id, v.cflags])).toEqual([['default', undefined], ['o2', '-O2'], ['o3-v3', '-O3 -march=x86-64-v3']]);
    expect(() => tuneDocOf(ws.recipe('mpi-pingpong'))).toThrow(/declares no tune section/);
  });

  it('builds a variant for the partition with its flags in place of the target flags, and renders them', () => {
    const o3 = withFlags(local!, '-O3 -march=x86-64-v3');
    expect(o3.partition.cpu.targetFlags).toBe('-O3 -march=x86-64-v3');
    expect(local!.partition.cpu.targetFlags).toBe('-O2 -march=x86-64-v2');
    const text = ws.render(stream, o3).files.containerfile;
    expect(text).toMatch(/gcc -O3 -march=x86-64-v3 -fopenmp/);
  });

  it('chooses the best by the metric, never a FAILED variant or one without the figure; ties go to the earlier', () => {
    const m = tuneDocOf(stream).metric;
    const doc = tuneDocOf(stream);
    const outs = [outcomeOf(doc.variants[0]!, local!, m, reportFor(1, 'default')), outcomeOf(doc.variants[1]!, local!, m, reportFor(1.2, 'o2', 'FAILED')), outcomeOf(doc.variants[2]!, local!, m, reportFor(1.1, 'o3'))];
    expect(outs.map((o) => [o.id, o.cflags, o.value])).toEqual([
      ['default', '-O2 -march=x86-64-v2', 3511.1],
      ['o2', '-O2', 3511.1 * 1.2],
      ['o3-v3', '-O3 -march=x86-64-v3', 3511.1 * 1.1],
    ]);
    expect(outs[1]!.excluded).toMatch(/^its smoke run FAILED/);
    expect(choose(outs, 'max').id).toBe('o3-v3');
    expect(choose(outs, 'min').id).toBe('default');
    expect(choose([outs[0]!, { ...outs[2]!, value: outs[0]!.value }], 'max').id).toBe('default');
    const noFigure = outcomeOf(doc.variants[0]!, local!, { ...m, figure: 'nope_MBps' }, reportFor(1, 'x'));
    expect(noFigure.excluded).toBe("validates-overhead has no figure 'nope_MBps'");
    expect(() => choose([noFigure, outs[1]!], 'max')).toThrow(/no variant can be chosen: default: validates-overhead has no figure 'nope_MBps'; o2: its smoke run FAILED/);
  });

  it('records the choice with every variant\'s figures, signed and bound to the chosen image; render uses it', async () => {
    const state = tempDir('brickyard-tune-');
    const doc = tuneDocOf(stream);
    const outs: VariantOutcome[] = doc.variants.map((v, i) => outcomeOf(v, local!, doc.metric, reportFor([1, 0.9, 1.15][i]!, `image-${v.id}`)));
    const rec = await recordChoice(stream, local!, doc.metric, outs, { stateDir: state });
    const p = rec.statement.predicate;
    expect(rec.statement.predicateType).toBe(TUNE_PREDICATE_TYPE);
    expect(p).toMatchObject({ recipe: 'stream@5.10', system: 'local', partition: 'debug', chosen: 'o3-v3', chosenCflags: '-O3 -march=x86-64-v3', chosenImageDigest: sha('image-o3-v3') });
    expect(p.variants.map((v) => v.figures['triad_ratio'])).toEqual([1, 0.9, 1.15]);
    expect(rec.statement.subject[0]!.digest.sha256).toBe(sha('image-o3-v3').slice(7));
    expect(tuneTable(p)[2]![0]).toBe('o3-v3 *');

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
    await expect(verifySigstoreBundle({ bundle, artifact: { path: other }, trustedRoot, policy: { identity: signer.identity, issuer: signer.issuer }, ctlogThreshold: 0 })).rejects.toThrow(/digest|subject/);

    const tuned = tunedPartition(state, stream, local!);
    expect(tuned.choice?.chosen).toBe('o3-v3');
    expect(tuned.where.partition.cpu.targetFlags).toBe('-O3 -march=x86-64-v3');
    expect(tunedPartition(tempDir(), stream, local!).where).toBe(local);
  });
});
