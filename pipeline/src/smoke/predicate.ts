/**
 * The smoke run as an in-toto attestation: a Statement v1 whose predicate is the in-toto Test
 * Result predicate v0.1 (https://github.com/in-toto/attestation/blob/main/spec/predicates/test-result.md).
 *
 * Spec fields, as the spec defines them:
 * - `result`: PASSED | WARNED | FAILED, from overall() (a run with nothing but skips is WARNED).
 * - `configuration`: ResourceDescriptors (each sets `digest` or `content`, as the ResourceDescriptor
 *   spec requires): the image under test (name = reference, digest = its sha256), and the test
 *   target (system, partition, runtime, launcher, MPI strategy) as canonical JSON `content` with
 *   its sha256, so a policy can pin an expected configuration by digest; the same fields are also
 *   in `annotations` for reading.
 * - `url`: optional link to the run (CI job).
 * - `passedTests` / `warnedTests` / `failedTests`: test names. A SKIPPED test is in none of them:
 *   the spec has no skipped list, and it must never count as passed.
 *
 * Extension field (parsing rules: producers MAY add extension fields with names unlikely to
 * collide, without `.` or `$`, and they must not change the meaning of the spec fields):
 * `brickyardSmoke` holds the format version, the target (system, partition, launcher, runtime, MPI
 * strategy, image digest) named plainly, start/finish times, `skippedTests`, and every test's
 * verdict, summary, figures, thresholds and details.
 *
 * `verdictFromPredicate` (verdict.ts) derives the verdict an importer may trust from this content.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { BrickyardError } from '../util/errors.ts';
import { arrayAt, isJsonObject, objectAt, parseUnknownJson, stringAt } from '../util/untrusted-json.ts';
import { overall, type TestResult } from './evaluate.ts';
import type { ResourceDescriptor } from '../model/statement.ts';

/** A test-result statement that cannot be made, or a signed one that Brickyard did not write. */
export class TestResultError extends BrickyardError {
  constructor(message: string) {
    super('TEST_RESULT_INVALID', message);
    this.name = 'TestResultError';
  }
}

export const TEST_RESULT_PREDICATE_TYPE = 'https://in-toto.io/attestation/test-result/v0.1';
/** Media type of the target descriptor's `content` (RFC 6838 vendor tree). */
export const SMOKE_TARGET_MEDIA_TYPE = 'application/vnd.brickyard.smoke-target+json';
/** Version of the `brickyardSmoke` extension's layout. */
export const SMOKE_EXTENSION_VERSION = 1;

export interface SmokeConfiguration {
  system: string;
  partition: string;
  runtime: string;
  launcher: 'direct' | 'slurm' | 'sif';
  mpiStrategy: string | null;
  /** The SIF whose root file system ran (launcher sif). */
  sif?: { path: string; sha256: string };
  /** "sha256:<64 hex>" (or the bare hex). */
  imageDigest: string;
  imageReference: string;
}

/** in-toto ResourceDescriptor (spec/v1/resource_descriptor.md). */
/** What the run tested, named plainly inside the signed predicate (also in `configuration`). */
export interface SmokeTarget {
  system: string;
  partition: string;
  launcher: 'direct' | 'slurm' | 'sif';
  runtime: string;
  mpiStrategy: string | null;
  /** "sha256:<64 hex>". */
  imageDigest: string;
}

export interface SmokeExtension {
  version: number;
  target: SmokeTarget;
  startedOn: string;
  finishedOn: string;
  skippedTests: string[];
  tests: TestResult[];
}

export interface TestResultPredicate {
  result: 'PASSED' | 'WARNED' | 'FAILED';
  configuration: ResourceDescriptor[];
  url?: string;
  passedTests: string[];
  warnedTests: string[];
  failedTests: string[];
  brickyardSmoke: SmokeExtension;
}

export function testResultPredicate(args: { results: TestResult[]; configuration: SmokeConfiguration; startedOn: string; finishedOn: string; url?: string }): TestResultPredicate {
  const { results, configuration: c } = args;
  const names = new Set<string>();
  for (const r of results) {
    if (names.has(r.name)) throw new TestResultError(`two smoke tests are named '${r.name}'; test names must be unique in an attestation`);
    names.add(r.name);
  }
  for (const [field, value] of [
    ['startedOn', args.startedOn],
    ['finishedOn', args.finishedOn],
  ] as const) {
    if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(Date.parse(value))) {
      throw new TestResultError(`${field} must be an RFC 3339 timestamp, got '${value}'`);
    }
  }
  const sha256 = imageSha256(c.imageDigest);
  const target = {
    system: c.system,
    partition: c.partition,
    runtime: c.runtime,
    launcher: c.launcher,
    mpiStrategy: c.mpiStrategy,
    image: { reference: c.imageReference, digest: `sha256:${sha256}` },
  };
  const json = JSON.stringify(target);
  const named = (v: TestResult['verdict']): string[] => results.filter((r) => r.verdict === v).map((r) => r.name);

  return {
    result: overall(results),
    configuration: [
      { name: c.imageReference, digest: { sha256 }, annotations: { brickyardRole: 'image' } },
      ...(c.sif ? [{ name: basename(c.sif.path), digest: { sha256: c.sif.sha256 }, annotations: { brickyardRole: 'sif' } }] : []),
      {
        name: `${c.system}/${c.partition}`,
        digest: { sha256: createHash('sha256').update(json).digest('hex') },
        content: Buffer.from(json, 'utf8').toString('base64'),
        mediaType: SMOKE_TARGET_MEDIA_TYPE,
        annotations: {
          brickyardRole: 'target',
          system: c.system,
          partition: c.partition,
          runtime: c.runtime,
          launcher: c.launcher,
          mpiStrategy: c.mpiStrategy,
        },
      },
    ],
    ...(args.url === undefined ? {} : { url: args.url }),
    passedTests: named('PASSED'),
    warnedTests: named('WARNED'),
    failedTests: named('FAILED'),
    brickyardSmoke: {
      version: SMOKE_EXTENSION_VERSION,
      target: { system: c.system, partition: c.partition, launcher: c.launcher, runtime: c.runtime, mpiStrategy: c.mpiStrategy, imageDigest: `sha256:${sha256}` },
      startedOn: args.startedOn,
      finishedOn: args.finishedOn,
      skippedTests: named('SKIPPED'),
      tests: results.map((r) => ({ ...r })),
    },
  };
}

function imageSha256(digest: string): string {
  const hex = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(digest.trim())?.[1];
  if (hex === undefined) throw new TestResultError(`image digest must be sha256:<64 hex digits>, got '${digest}'`);
  return hex.toLowerCase();
}

/** What a signed test-result predicate says, read from its signed fields only. */
export interface SignedTestResult {
  /** FAILED when any test failed (whatever `result` claims); WARNED when any warned; else PASSED. */
  verdict: 'PASSED' | 'WARNED' | 'FAILED';
  system: string;
  partition: string;
  launcher: string;
  runtime: string;
  /** "sha256:<hex>" of the image tested. */
  imageDigest: string;
  failedTests: string[];
}

/**
 * Read a test-result predicate as a site must: the target (system, partition, launcher, image)
 * from the target descriptor's content, which must hash to its own digest; the verdict from
 * every list in it, so that a `result: PASSED` over a FAILED test reads FAILED. Throws a plain
 * reason when the predicate is not one Brickyard wrote.
 */
export function readSignedTestResult(predicate: unknown): SignedTestResult {
  if (!isJsonObject(predicate)) throw new TestResultError('the predicate is not an object');
  const target = (arrayAt(predicate, 'configuration') ?? []).find((c) => stringAt(objectAt(c, 'annotations'), 'brickyardRole') === 'target');
  const content64 = stringAt(target, 'content');
  const digest = stringAt(objectAt(target, 'digest'), 'sha256');
  if (content64 === undefined || digest === undefined) throw new TestResultError('the predicate names no test target (system, partition, launcher)');
  const content = Buffer.from(content64, 'base64');
  if (createHash('sha256').update(content).digest('hex') !== digest) throw new TestResultError("the test target's content does not match its digest");
  let t: unknown;
  try {
    t = parseUnknownJson(content.toString('utf8'));
  } catch {
    throw new TestResultError("the test target's content is not JSON");
  }
  const str = (v: string | undefined, what: string): string => {
    if (v === undefined || v === '') throw new TestResultError(`the test target has no ${what}`);
    return v;
  };
  const names = (key: string): string[] | undefined => {
    const l = arrayAt(predicate, key);
    return l?.every((x) => typeof x === 'string') ? l : undefined;
  };
  const [passedTests, warnedTests, failedTests] = [names('passedTests'), names('warnedTests'), names('failedTests')];
  if (!passedTests || !warnedTests || !failedTests) throw new TestResultError('the predicate lacks passedTests, warnedTests or failedTests');
  const result = predicate['result'];
  if (result !== 'PASSED' && result !== 'WARNED' && result !== 'FAILED') throw new TestResultError(`the predicate's result is ${JSON.stringify(result)}`);
  // The extension's own test list counts too: a FAILED test there fails the whole, whatever the lists say.
  const tests = (arrayAt(objectAt(predicate, 'brickyardSmoke'), 'tests') ?? []).map((x) => ({ verdict: stringAt(x, 'verdict'), name: stringAt(x, 'name') }));
  const failed = [...failedTests, ...tests.filter((x) => x.verdict === 'FAILED').map((x) => x.name ?? '(unnamed)')];
  const warned = warnedTests.length > 0 || tests.some((x) => x.verdict === 'WARNED');
  const verdict = result === 'FAILED' || failed.length > 0 ? 'FAILED' : result === 'WARNED' || warned ? 'WARNED' : 'PASSED';
  return {
    verdict,
    system: str(stringAt(t, 'system'), 'system'),
    partition: str(stringAt(t, 'partition'), 'partition'),
    launcher: str(stringAt(t, 'launcher'), 'launcher'),
    runtime: str(stringAt(t, 'runtime'), 'runtime'),
    imageDigest: str(stringAt(objectAt(t, 'image'), 'digest'), 'image digest'),
    failedTests: [...new Set(failed)],
  };
}
