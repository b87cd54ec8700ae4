/**
 * Typed, validated readers of the state folder's records: a build record, a smoke report, a
 * pair's lock, an OCI image index or manifest. Each is held to its JSON Schema
 * (pipeline/schemas/state/) before its type is believed; a record that does not match is refused
 * with a StateRecordError naming the file and the field, never read on as a cast.
 */
import { lstatSync, readFileSync } from 'node:fs';
import type { ErrorObject } from 'ajv/dist/2020.js';
import type { ImageFacts } from '../check/image-policy.ts';
import { validateSpdx } from '../build/spdx-validate.ts';
import type { TestResult } from '../smoke/evaluate.ts';
import { type InTotoStatement } from '../model/statement.ts';
import type { Performance } from '../smoke/performance.ts';
import { BrickyardError } from '../util/errors.ts';
import { stateValidator, type StateSchema } from './validators.ts';

export interface BuildRecord {
  kind: 'brickyard-build';
  version: 1;
  recipe: { name: string; version: string; revision: number };
  system: string;
  partition: string;
  builder: string;
  image: { reference: string; ociLayout: string; refName: string; manifestDigest: string; configDigest: string };
  lockDigest: string;
  inputs: { base: string; baseDigest: string | null; sources: { name: string; url: string; sha256: string }[]; context: number };
  sizes: { uncompressedBytes: number; compressedBytes: number; budgetBytes: number; budget: string };
  /** Whether a second build without the layer cache gave the same config and layers. */
  reproducible: {
    checked: boolean;
    identical: boolean | null;
    second: string | null;
    differingLayers?: number[];
    /** The files that differ in those layers and why (at most 20 per layer). */
    differingFiles?: { layer: number; path: string; why: string }[];
    /** Top-level keys of the image config that differ (history, created, …). */
    differingConfig?: string[];
    /** The SIF made again from the second image: the same bytes or not. */
    sif?: { identical: boolean; second: string };
  };
  sbom: { path: string; packages: number };
  /** What the centre's image policies say of the built image (user, setuid files, size): build/inspect.ts. */
  imagePolicy?: { facts: ImageFacts; current: { rule: string; message: string }[]; next: { rule: string; message: string }[] };
  /** The SIF file made from the image (Apptainer/Singularity systems, or --sif). */
  sif?: { path: string; sha256: string; size: number; rootfsBytes: number };
  created: string;
  /** Wall-clock start and end of this build (the image's own timestamps come from SOURCE_DATE_EPOCH). */
  startedOn?: string;
  finishedOn?: string;
  durations: Record<string, number>;
  log: string;
}

export type Launcher = 'direct' | 'slurm' | 'sif';

export interface SmokeReport {
  kind: 'brickyard-smoke';
  version: 1;
  result: 'PASSED' | 'WARNED' | 'FAILED';
  recipe: string;
  system: string;
  partition: string;
  launcher: Launcher;
  image: { reference: string; manifestDigest: string };
  tests: TestResult[];
  /** Container/host ratios with their uncertainty (ping-pong intra/inter-node, STREAM per kernel). */
  performance: Performance;
  statement: object;
  startedOn: string;
  finishedOn: string;
  reportPath: string;
}

/**
 * A smoke report as read back: where it was written is not needed to use it (a received one may
 * lack it), and reports written before the container/host ratios were kept have no performance.
 */
export type SmokeRecord = Omit<SmokeReport, 'reportPath' | 'performance'> & { reportPath?: string; performance?: Performance };

/** The parts of a pair's lock.json the signer reads (the catalogue files it pins). */
export interface PairLock {
  lockDigest: string;
  recipe: { files: { path: string }[] };
  system: { file: string };
  blocks: { file: string }[];
}

export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface OciIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: OciDescriptor[];
  annotations?: Record<string, string>;
}

export interface OciImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: OciDescriptor;
  layers: OciDescriptor[];
  annotations?: Record<string, string>;
}

export interface TuneMetric {
  test: string;
  figure: string;
  goal: 'max' | 'min';
}

export interface VariantOutcome {
  id: string;
  cflags: string;
  /** The runtime environment the smoke runs had (empty: none beyond the recipe's). */
  env: Record<string, string>;
  /** The MPI strategy the image was built with; null for a recipe without MPI. */
  mpiStrategy: string | null;
  /** A runtime variant: the variant whose build made its image (and whose folder holds it). */
  sharesImageOf?: string;
  imageDigest?: string;
  imageReference?: string;
  result: 'PASSED' | 'WARNED' | 'FAILED';
  /** The metric's value, when the smoke run produced it. */
  value?: number;
  /** Every figure of the metric's test (for the table). */
  figures: Record<string, number | string>;
  /** Why the variant cannot be chosen, if it cannot. */
  excluded?: string;
}

/** What `brickyard tune` chose for a pair (smoke/tune.ts), signed as tune/<recipe>/<system>-<partition>/tune.intoto.json. */
export interface TunePredicate {
  recipe: string;
  system: string;
  partition: string;
  metric: TuneMetric;
  chosen: string;
  chosenCflags: string;
  chosenEnv: Record<string, string>;
  chosenMpiStrategy: string | null;
  chosenImageDigest: string;
  variants: VariantOutcome[];
  tunedOn: string;
}

interface RecordTypes {
  buildRecord: BuildRecord;
  smokeReport: SmokeRecord;
  lock: PairLock;
  ociIndex: OciIndex;
  ociManifest: OciImageManifest;
  tuneStatement: InTotoStatement<TunePredicate>;
  /** The last serial taken per repository. */
  bundleSerials: Record<string, number>;
}

export type StateRecordKind = StateSchema;

/** What each record is called in messages, its `kind` field when it has one, and what to do about a bad one. */
const KINDS: Record<StateRecordKind, { what: string; kind?: string; hint: string }> = {
  buildRecord: {
    what: 'build record',
    kind: 'brickyard-build',
    hint: 'build the pair again (npx brickyard build <recipe> --system <system>/<partition>); the file was changed by hand or written by another tool',
  },
  smokeReport: {
    what: 'smoke report',
    kind: 'brickyard-smoke',
    hint: 'run the smoke test again (npx brickyard smoke <recipe> --system <system>/<partition>); the file was changed by hand or written by another tool',
  },
  lock: { what: 'pair lock', hint: 'build the pair again so its lock.json is written anew; the file was changed by hand or written by another tool' },
  ociIndex: { what: 'OCI image index', hint: 'export the image again (build the pair again); the layout was changed by hand, is incomplete, or was written by another tool' },
  bundleSerials: {
    what: 'bundle serials file',
    hint: 'give the bundle serial (--serial N, one more than the last one the sites imported), or delete the file',
  },
  tuneStatement: { what: 'tuning record', hint: 'run brickyard tune again; the file was changed by hand or written by another tool' },
  ociManifest: { what: 'OCI image manifest', hint: 'export the image again (build the pair again); the layout was changed by hand, is incomplete, or was written by another tool' },
};

/** Records larger than this are refused unread: no record of ours comes near it. */
export const MAX_RECORD_BYTES = 64 << 20;

export type StateRecordProblem = 'missing' | 'not-a-file' | 'too-large' | 'not-json' | 'wrong-kind' | 'schema';

/** A state record that cannot be used: names the file, the field (a dotted path; '' for the whole document) and what to do. */
export class StateRecordError extends BrickyardError {
  readonly file: string;
  readonly field: string;
  readonly problem: StateRecordProblem;

  constructor(file: string, field: string, problem: StateRecordProblem, message: string, hint: string, cause?: unknown) {
    super('STATE_RECORD_INVALID', message, { hint, cause });
    this.name = 'StateRecordError';
    this.file = file;
    this.field = field;
    this.problem = problem;
  }
}

/** A JSON pointer (/tests/0/verdict) as a field path (tests[0].verdict). */
export function fieldPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** The first error a person can act on: a missing key is named as the field it should be. */
function firstProblem(errors: readonly ErrorObject[]): { field: string; says: string } {
  const plain = errors.filter((e) => !['anyOf', 'oneOf', 'if'].includes(e.keyword));
  const e = plain[0] ?? errors[0];
  if (!e) return { field: '', says: 'does not match its schema' };
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return { field: fieldPath(`${e.instancePath}/${missing}`), says: 'is missing' };
  }
  if (e.keyword === 'const') return { field: fieldPath(e.instancePath), says: `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}` };
  if (e.keyword === 'enum')
    return { field: fieldPath(e.instancePath), says: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}` };
  return { field: fieldPath(e.instancePath), says: e.message ?? 'is not valid' };
}

/** Validate parsed JSON as a record of `kind`; `file` names it in errors. */
export function checkStateRecord<K extends StateRecordKind>(kind: K, data: unknown, file: string): RecordTypes[K] {
  const k = KINDS[kind];
  const fail = (field: string, problem: StateRecordProblem, why: string): never => {
    throw new StateRecordError(file, field, problem, `${file} is not a valid ${k.what}: ${why}`, k.hint);
  };
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    return fail('', 'schema', `it holds ${data === null ? 'null' : Array.isArray(data) ? 'an array' : typeof data}, not an object`);
  // Another kind of record at this path (a smoke report where the build record belongs) is said so.
  const claimed = (data as Record<string, unknown>)['kind'];
  if (k.kind !== undefined && typeof claimed === 'string' && claimed !== k.kind)
    return fail('kind', 'wrong-kind', `it is a ${JSON.stringify(claimed)} record, not a ${JSON.stringify(k.kind)} one`);
  const validate = stateValidator(kind);
  if (validate(data)) return data as RecordTypes[K];
  const { field, says } = firstProblem(validate.errors ?? []);
  return fail(field, 'schema', field === '' ? `the document ${says}` : `field ${field} ${says}`);
}

/** Parse and validate bytes already read (a received artifact's file); `file` names them in errors. */
export function parseStateRecord<K extends StateRecordKind>(kind: K, bytes: Buffer | string, file: string): RecordTypes[K] {
  let data: unknown;
  try {
    data = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (e) {
    throw new StateRecordError(file, '', 'not-json', `${file} is not a valid ${KINDS[kind].what}: it is not JSON (${(e as Error).message})`, KINDS[kind].hint, e);
  }
  return checkStateRecord(kind, data, file);
}

/**
 * Read a record file: a plain file (not a link, not a folder), at most MAX_RECORD_BYTES, JSON
 * that matches the record's schema.
 */
export function readStateRecord<K extends StateRecordKind>(kind: K, file: string, maxBytes = MAX_RECORD_BYTES): RecordTypes[K] {
  const k = KINDS[kind];
  let st;
  try {
    st = lstatSync(file);
  } catch (e) {
    throw new StateRecordError(file, '', 'missing', `${file} is missing: no ${k.what} there`, k.hint, e);
  }
  if (!st.isFile()) {
    const is = st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a folder' : 'not a plain file';
    throw new StateRecordError(file, '', 'not-a-file', `${file} is ${is}, where a ${k.what} (a plain file) belongs`, `remove it; ${k.hint}`);
  }
  if (st.size > maxBytes) throw new StateRecordError(file, '', 'too-large', `${file} is ${st.size} bytes, more than a ${k.what} may be (${maxBytes})`, k.hint);
  return parseStateRecord(kind, readFileSync(file), file);
}

export const readBuildRecord = (file: string): BuildRecord => readStateRecord('buildRecord', file);
export const readSmokeReport = (file: string): SmokeRecord => readStateRecord('smokeReport', file);
export const readPairLock = (file: string): PairLock => readStateRecord('lock', file);
export const readOciIndex = (file: string): OciIndex => readStateRecord('ociIndex', file);
export const readOciManifest = (file: string): OciImageManifest => readStateRecord('ociManifest', file);

/** A pair's SPDX 2.3 SBOM (sbom.spdx.json), held to the SPDX schema and rules the build wrote it by. */
export function readSbom(file: string): Record<string, unknown> {
  const hint = 'build the pair again so its SBOM is written anew; the file was changed by hand or written by another tool';
  let st;
  try {
    st = lstatSync(file);
  } catch (e) {
    throw new StateRecordError(file, '', 'missing', `${file} is missing: no SBOM there`, hint, e);
  }
  if (!st.isFile()) throw new StateRecordError(file, '', 'not-a-file', `${file} is not a plain file, where the SBOM belongs`, `remove it; ${hint}`);
  if (st.size > MAX_RECORD_BYTES) throw new StateRecordError(file, '', 'too-large', `${file} is ${st.size} bytes, more than an SBOM may be (${MAX_RECORD_BYTES})`, hint);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new StateRecordError(file, '', 'not-json', `${file} is not a valid SBOM: it is not JSON (${(e as Error).message})`, hint, e);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new StateRecordError(file, '', 'schema', `${file} is not a valid SBOM: it is not a JSON object`, hint);
  const errors = validateSpdx(data);
  const first = errors[0];
  if (first !== undefined) {
    const field = /^schema: (\/\S*)/.exec(first)?.[1];
    throw new StateRecordError(file, field ? fieldPath(field) : '', 'schema', `${file} is not valid SPDX 2.3: ${errors.slice(0, 5).join('; ')}`, hint);
  }
  return data as Record<string, unknown>;
}
