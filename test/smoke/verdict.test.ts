import { describe, expect, it } from 'vitest';
import type { TestResult, Verdict } from '../../pipeline/src/smoke/evaluate.ts';
import { testResultPredicate, type SmokeConfiguration, type TestResultPredicate } from '../../pipeline/src/smoke/predicate.ts';
import { verdictFromPredicate } from '../../pipeline/src/smoke/verdict.ts';

const SHA = 'a3f1c0de'.repeat(8);
const OTHER = 'b'.repeat(64);
const CONFIG: SmokeConfiguration = {
  system: 'local',
  partition: 'debug',
  runtime: 'podman 4.3.1',
  launcher: 'slurm',
  mpiStrategy: 'hybrid-pmix',
  imageDigest: `sha256:${SHA}`,
  imageReference: 'localhost/brickyard/mpi-pingpong:1.0.0-1-local-debug',
};
const TIMES = { startedOn: '2026-12-03T08:00:00Z', finishedOn: '2026-12-03T08:03:00Z' };
const t = (name: string, verdict: Verdict): TestResult => ({ name, kind: 'command', verdict, summary: `${name} ${verdict}` });
const make = (tests: TestResult[]): TestResultPredicate => testResultPredicate({ results: tests, configuration: CONFIG, ...TIMES });
/** A deep copy to forge from, as an attacker would edit the JSON before signing it. */
const copy = (p: TestResultPredicate): TestResultPredicate => JSON.parse(JSON.stringify(p)) as TestResultPredicate;

describe('verdictFromPredicate', () => {
  it("names the system, partition, launcher, image digest and each test's verdict from the signed content", () => {
    const v = verdictFromPredicate(make([t('pingpong', 'PASSED'), t('gpu', 'SKIPPED')]), { imageDigest: SHA, system: 'local', partition: 'debug', launcher: 'slurm' });
    expect(v).toEqual({
      verdict: 'PASSED',
      claimed: 'PASSED',
      system: 'local',
      partition: 'debug',
      launcher: 'slurm',
      imageDigest: `sha256:${SHA}`,
      tests: [
        { name: 'pingpong', verdict: 'PASSED' },
        { name: 'gpu', verdict: 'SKIPPED' },
      ],
      problems: [],
    });
    expect(verdictFromPredicate(make([t('a', 'PASSED'), t('b', 'WARNED')])).verdict).toBe('WARNED');
    expect(verdictFromPredicate(make([t('a', 'PASSED'), t('b', 'FAILED')])).verdict).toBe('FAILED');
    expect(verdictFromPredicate(make([t('gpu', 'SKIPPED')])).verdict).toBe('WARNED');
  });

  it('FAILS a predicate that claims PASSED with a FAILED test inside', () => {
    const forged = copy(make([t('pingpong', 'PASSED'), t('stream', 'FAILED')]));
    forged.result = 'PASSED';
    forged.failedTests = [];
    forged.passedTests = ['pingpong', 'stream'];
    const v = verdictFromPredicate(forged);
    expect(v.verdict).toBe('FAILED');
    expect(v.claimed).toBe('PASSED');
    expect(v.problems).toContain('result claims PASSED but the tests give FAILED (stream FAILED)');
    expect(v.problems.some((p) => p.startsWith('passedTests lists [pingpong, stream] but the tests give [pingpong]'))).toBe(true);
  });

  it('FAILS every nearest forgery of a consistent PASSED predicate', () => {
    const good = make([t('pingpong', 'PASSED')]);
    expect(verdictFromPredicate(good).verdict).toBe('PASSED');
    const forgeries: [string, (p: TestResultPredicate) => void, RegExp][] = [
      ['a test flipped to FAILED, result left PASSED', (p) => (p.brickyardSmoke.tests[0]!.verdict = 'FAILED'), /result claims PASSED but the tests give FAILED/],
      ['result WARNED over passing tests', (p) => (p.result = 'WARNED'), /result claims WARNED but the tests give PASSED/],
      ['an unknown result', (p) => ((p as { result: string }).result = 'OK'), /result "OK" is not/],
      ['a list naming a test that is not there', (p) => p.passedTests.push('ghost'), /passedTests lists/],
      ['the tests removed', (p) => delete (p.brickyardSmoke as Partial<TestResultPredicate['brickyardSmoke']>).tests, /brickyardSmoke.tests is missing/],
      ['a test with an invented verdict', (p) => ((p.brickyardSmoke.tests[0] as { verdict: string }).verdict = 'GREAT'), /tests\[0\] has no name or no verdict/],
      ['a duplicated test name', (p) => p.brickyardSmoke.tests.push({ ...p.brickyardSmoke.tests[0]! }), /two tests are named 'pingpong'/],
      ['another system in the extension only', (p) => (p.brickyardSmoke.target.system = 'lumi'), /system differs between/],
      ['another partition in the annotations only', (p) => (p.configuration[1]!.annotations!['partition'] = 'standard-g'), /partition differs between/],
      ['another launcher in the extension only', (p) => (p.brickyardSmoke.target.launcher = 'direct'), /launcher differs between/],
      ['another image digest in the image descriptor', (p) => (p.configuration[0]!.digest = { sha256: OTHER }), /image digest differs/],
      [
        'target content edited without its digest',
        (p) => (p.configuration[1]!.content = Buffer.from(JSON.stringify({ system: 'local' })).toString('base64')),
        /digest does not match its content/,
      ],
      ['the target named nowhere in the extension', (p) => delete (p.brickyardSmoke as Partial<TestResultPredicate['brickyardSmoke']>).target, /brickyardSmoke.target is missing/],
      ['no target descriptor', (p) => p.configuration.pop(), /configuration has no target descriptor/],
    ];
    for (const [label, edit, why] of forgeries) {
      const f = copy(good);
      edit(f);
      const v = verdictFromPredicate(f);
      expect(v.verdict, label).toBe('FAILED');
      expect(v.problems.join('\n'), label).toMatch(why);
    }
    for (const junk of [null, 'PASSED', [], 42, {}]) expect(verdictFromPredicate(junk).verdict).toBe('FAILED');
  });

  it('FAILS a consistent predicate about another image, system, partition or launcher than expected', () => {
    const good = make([t('pingpong', 'PASSED')]);
    expect(verdictFromPredicate(good, { imageDigest: `sha256:${SHA.toUpperCase()}` }).verdict).toBe('PASSED');
    expect(verdictFromPredicate(good, { imageDigest: OTHER }).problems).toEqual([`the predicate is about imageDigest sha256:${SHA}, expected sha256:${OTHER}`]);
    expect(verdictFromPredicate(good, { system: 'lumi' }).verdict).toBe('FAILED');
    expect(verdictFromPredicate(good, { partition: 'gpu' }).verdict).toBe('FAILED');
    expect(verdictFromPredicate(good, { launcher: 'direct' }).verdict).toBe('FAILED');
  });
});
