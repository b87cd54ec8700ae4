import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TestResult, Verdict } from '../../pipeline/src/smoke/evaluate.ts';
import { SMOKE_TARGET_MEDIA_TYPE, testResultPredicate, type SmokeConfiguration } from '../../pipeline/src/smoke/predicate.ts';

const SHA = 'a3f1c0de'.repeat(8);
const CONFIG: SmokeConfiguration = {
  system: 'lumi',
  partition: 'standard-g',
  runtime: 'singularityce',
  launcher: 'slurm',
  mpiStrategy: 'host-injection',
  imageDigest: `sha256:${SHA}`,
  imageReference: 'ghcr.io/brickyard/mpi-pingpong:1.0.0',
};
const t = (name: string, verdict: Verdict, extra: Partial<TestResult> = {}): TestResult => ({
  name,
  kind: 'command',
  verdict,
  summary: `${name} ${verdict}`,
  ...extra,
});
const TIMES = { startedOn: '2026-12-01T10:00:00Z', finishedOn: '2026-12-01T10:03:12Z' };

describe('testResultPredicate', () => {
  const results = [
    t('pingpong', 'WARNED', { kind: 'mpi-pingpong', figures: { latency_8B_us: 3.5 }, thresholds: { latency_warn_us: 3 } }),
    t('probe-version', 'PASSED'),
    t('gpu-check', 'SKIPPED', { kind: 'gpu-check' }),
    t('stream', 'FAILED'),
  ];

  it('has the spec fields and our extension, nothing else', () => {
    const p = testResultPredicate({ results, configuration: CONFIG, ...TIMES });
    expect(Object.keys(p).sort()).toEqual(['brickyardSmoke', 'configuration', 'failedTests', 'passedTests', 'result', 'warnedTests']);
    expect(p.result).toBe('FAILED');
    expect(p.passedTests).toEqual(['probe-version']);
    expect(p.warnedTests).toEqual(['pingpong']);
    expect(p.failedTests).toEqual(['stream']);
    expect(p.brickyardSmoke.skippedTests).toEqual(['gpu-check']);
    expect(p.brickyardSmoke).toMatchObject({ version: 1, ...TIMES });
    // The signed content names the target plainly (verdict.ts reads it).
    expect(p.brickyardSmoke.target).toEqual({
      system: 'lumi',
      partition: 'standard-g',
      launcher: 'slurm',
      runtime: 'singularityce',
      mpiStrategy: 'host-injection',
      imageDigest: `sha256:${SHA}`,
    });
    expect(p.brickyardSmoke.tests.find((x) => x.name === 'pingpong')).toMatchObject({
      verdict: 'WARNED',
      figures: { latency_8B_us: 3.5 },
      thresholds: { latency_warn_us: 3 },
    });
    // Extension and annotation names avoid '.' and '$' (in-toto parsing rules).
    const names = [...Object.keys(p.brickyardSmoke), ...p.configuration.flatMap((d) => Object.keys(d.annotations ?? {}))];
    expect(names.filter((n) => /[.$]/.test(n))).toEqual([]);
  });

  it('lists the image and the target as ResourceDescriptors', () => {
    const p = testResultPredicate({ results, configuration: CONFIG, ...TIMES, url: 'https://github.com/o/r/actions/runs/1' });
    expect(p.url).toBe('https://github.com/o/r/actions/runs/1');
    for (const d of p.configuration) expect(d.uri ?? d.digest ?? d.content).toBeDefined();
    const [image, target] = p.configuration;
    expect(image).toEqual({ name: CONFIG.imageReference, digest: { sha256: SHA }, annotations: { brickyardRole: 'image' } });
    expect(target!.name).toBe('lumi/standard-g');
    expect(target!.mediaType).toBe(SMOKE_TARGET_MEDIA_TYPE);
    const json = Buffer.from(target!.content!, 'base64').toString('utf8');
    expect(target!.digest).toEqual({ sha256: createHash('sha256').update(json).digest('hex') });
    expect(JSON.parse(json)).toEqual({
      system: 'lumi',
      partition: 'standard-g',
      runtime: 'singularityce',
      launcher: 'slurm',
      mpiStrategy: 'host-injection',
      image: { reference: CONFIG.imageReference, digest: `sha256:${SHA}` },
    });
    expect(target!.annotations).toMatchObject({ system: 'lumi', partition: 'standard-g', launcher: 'slurm', mpiStrategy: 'host-injection' });
    // The same configuration gives the same digest; another one does not.
    const again = testResultPredicate({ results: [], configuration: { ...CONFIG, imageDigest: SHA.toUpperCase() }, ...TIMES });
    expect(again.configuration).toEqual(testResultPredicate({ results: [], configuration: CONFIG, ...TIMES }).configuration);
    const direct = testResultPredicate({ results: [], configuration: { ...CONFIG, launcher: 'direct', mpiStrategy: null }, ...TIMES });
    expect(direct.configuration[1]!.digest).not.toEqual(target!.digest);
  });

  it('never counts a skip as a pass', () => {
    const onlySkipped = testResultPredicate({ results: [t('gpu-check', 'SKIPPED')], configuration: CONFIG, ...TIMES });
    expect(onlySkipped.result).toBe('WARNED');
    expect(onlySkipped.passedTests).toEqual([]);
    expect(onlySkipped.brickyardSmoke.skippedTests).toEqual(['gpu-check']);
    const passed = testResultPredicate({ results: [t('a', 'PASSED'), t('gpu-check', 'SKIPPED')], configuration: CONFIG, ...TIMES });
    expect(passed.result).toBe('PASSED');
    expect(passed.passedTests).toEqual(['a']);
  });

  it('refuses what would make an ambiguous or false attestation', () => {
    expect(() => testResultPredicate({ results: [t('a', 'PASSED'), t('a', 'FAILED')], configuration: CONFIG, ...TIMES })).toThrow(/two smoke tests are named 'a'/);
    expect(() => testResultPredicate({ results: [], configuration: { ...CONFIG, imageDigest: 'sha256:abc' }, ...TIMES })).toThrow(/image digest/);
    expect(() => testResultPredicate({ results: [], configuration: CONFIG, ...TIMES, startedOn: 'yesterday' })).toThrow(/startedOn/);
  });
});
