/**
 * state/records.ts: every record kind the engine writes reads back as written; a forged or broken
 * one is refused with a StateRecordError naming the file and the field.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { annotateManifest, readIndex, readManifestBlob } from '../../pipeline/src/build/oci.ts';
import { spdxDocument } from '../../pipeline/src/build/sbom.ts';
import { pairLayout } from '../../pipeline/src/state/layout.ts';
import {
  fieldPath,
  readBuildRecord,
  readOciIndex,
  readOciManifest,
  readPairLock,
  readSbom,
  readSmokeReport,
  readStateRecord,
  StateRecordError,
  type StateRecordKind,
} from '../../pipeline/src/state/records.ts';
import { STATE_SCHEMAS, stateValidator } from '../../pipeline/src/state/validators.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { buildRecordOf, DIGEST, pairLockOf, smokeReportOf, tuneStatementOf } from '../helpers/state-records.ts';
import { recordedChoice, tuneDir } from '../../pipeline/src/smoke/tune.ts';
import { TUNE_RECORD } from '../../pipeline/src/state/layout.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';

const PAIR = { recipe: 'mpi-pingpong@1.0.0', system: 'local', partition: 'debug' };

/** A pair folder in a fresh state folder, its records written as the engine writes them. */
function statePair(): ReturnType<typeof pairLayout> {
  const pair = pairLayout(tempDir('brickyard-state-'), PAIR);
  mkdirSync(pair.dir, { recursive: true });
  writeFileSync(pair.buildRecord, JSON.stringify(buildRecordOf(), null, 2) + '\n');
  writeFileSync(pair.smokeReport('direct'), JSON.stringify(smokeReportOf(), null, 2) + '\n');
  writeFileSync(pair.lock, JSON.stringify(pairLockOf(), null, 2) + '\n');
  return pair;
}

function refusal(f: () => unknown): StateRecordError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(StateRecordError);
    return e as StateRecordError;
  }
  throw new Error('expected a refusal, the record was read');
}

/** Write `value` (JSON unless a string) at `file` and return the refusal of reading it as `kind`. */
function refused(kind: StateRecordKind, file: string, value: unknown): StateRecordError {
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return refusal(() => readStateRecord(kind, file));
}

/** A tiny OCI layout as buildah leaves one: a config, a layer, a manifest, an index naming it. */
function tinyLayout(): { layout: string; manifestDigest: string } {
  const layout = tempDir('brickyard-oci-');
  const put = (b: Buffer | string): { digest: string; size: number } => {
    const bytes = Buffer.from(b);
    const hex = createHash('sha256').update(bytes).digest('hex');
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(layout, 'blobs', 'sha256', hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  const config = put(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
  const layer = put(Buffer.alloc(100, 1));
  const manifest = put(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    }),
  );
  writeFileSync(
    join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'r' } }],
    }),
  );
  return { layout, manifestDigest: manifest.digest };
}

describe('every record kind reads back as written', () => {
  it('a build record, a smoke report and a lock', () => {
    const pair = statePair();
    expect(readBuildRecord(pair.buildRecord)).toEqual(buildRecordOf());
    expect(readSmokeReport(pair.smokeReport('direct'))).toEqual(smokeReportOf());
    expect(readPairLock(pair.lock)).toEqual(pairLockOf());
  });

  it('a build record without the optional parts (no SIF, no image policy, no wall-clock times) and a smoke report from before the ratios', () => {
    const pair = statePair();
    const { sif: _sif, imagePolicy: _ip, startedOn: _s, finishedOn: _f, ...plain } = buildRecordOf();
    writeFileSync(pair.buildRecord, JSON.stringify(plain));
    expect(readBuildRecord(pair.buildRecord)).toEqual(plain);
    const { performance: _p, reportPath: _r, ...old } = smokeReportOf();
    writeFileSync(pair.smokeReport('direct'), JSON.stringify(old));
    expect(readSmokeReport(pair.smokeReport('direct'))).toEqual(old);
  });

  it('an OCI index and manifest, also after annotateManifest rewrote them', () => {
    const { layout, manifestDigest } = tinyLayout();
    expect(readOciIndex(join(layout, 'index.json')).manifests[0]?.digest).toBe(manifestDigest);
    expect(readManifestBlob(layout, manifestDigest).layers).toHaveLength(1);
    const d = annotateManifest(layout, 'r', { 'dev.brickyard.recipe': 'x' });
    expect(readIndex(layout).manifests).toEqual([d]);
    expect(readOciManifest(join(layout, 'blobs', 'sha256', d.digest.slice(7))).annotations).toEqual({ 'dev.brickyard.recipe': 'x' });
  });

  it('a tuning record, as render reads it back (recordedChoice)', () => {
    const ws = Workspace.open(repoRoot);
    const stream = ws.recipe('stream@5.10');
    const [local] = ws.partitionsOf('local/debug');
    const state = tempDir('brickyard-state-');
    const dir = tuneDir(state, stream, local!);
    mkdirSync(dir, { recursive: true });
    const statement = tuneStatementOf({ recipe: stream.key });
    writeFileSync(join(dir, TUNE_RECORD), JSON.stringify(statement, null, 2) + '\n');
    expect(recordedChoice(state, stream, local!)).toEqual(statement.predicate);
    // Its chosen environment must be strings: a forged number is refused, naming the field.
    const forged = { ...statement, predicate: { ...statement.predicate, chosenEnv: { OMP_NUM_THREADS: 2 } } };
    writeFileSync(join(dir, TUNE_RECORD), JSON.stringify(forged));
    const e = refusal(() => recordedChoice(state, stream, local!));
    expect(e.field).toBe('predicate.chosenEnv.OMP_NUM_THREADS');
    expect(e.message).toMatch(/tune\.intoto\.json is not a valid tuning record: field predicate\.chosenEnv\.OMP_NUM_THREADS must be string$/);
  });

  it('an SPDX SBOM as the build writes it', () => {
    const pair = statePair();
    const doc = spdxDocument({
      imageName: 'mpi-pingpong',
      imageDigest: DIGEST('a'),
      imageReference: 'localhost/brickyard/mpi-pingpong:1.0.0',
      created: '2026-12-01T00:00:00Z',
      packages: [],
      sources: [],
      recipe: { name: 'mpi-pingpong', version: '1.0.0', revision: 1 },
    });
    writeFileSync(pair.sbom, JSON.stringify(doc, null, 2) + '\n');
    expect(readSbom(pair.sbom)).toEqual(doc);
    writeFileSync(pair.sbom, JSON.stringify({ ...doc, spdxVersion: 'SPDX-2.2' }));
    const e = refusal(() => readSbom(pair.sbom));
    expect(e.message).toContain(`${pair.sbom} is not valid SPDX 2.3`);
    expect(e.message).toMatch(/spdxVersion/);
  });
});

describe('a forged or broken record is refused, naming the file and the field', () => {
  it('a field of the wrong type', () => {
    const pair = statePair();
    const e = refused('buildRecord', pair.buildRecord, { ...buildRecordOf(), sizes: { ...buildRecordOf().sizes, compressedBytes: '500' } });
    expect(e.code).toBe('STATE_RECORD_INVALID');
    expect(e.file).toBe(pair.buildRecord);
    expect(e.field).toBe('sizes.compressedBytes');
    expect(e.message).toBe(`${pair.buildRecord} is not a valid build record: field sizes.compressedBytes must be number`);
    expect(e.hint).toMatch(/build the pair again/);
  });

  it('a missing field, deep inside', () => {
    const pair = statePair();
    const r = buildRecordOf() as unknown as { image: Record<string, unknown> };
    delete r.image['manifestDigest'];
    const e = refused('buildRecord', pair.buildRecord, r);
    expect(e.field).toBe('image.manifestDigest');
    expect(e.message).toMatch(/build\.json is not a valid build record: field image\.manifestDigest is missing$/);
  });

  it('a digest that is not sha256:<64 hex>, a verdict that is not one, a launcher that is not one', () => {
    const pair = statePair();
    expect(refused('buildRecord', pair.buildRecord, { ...buildRecordOf(), image: { ...buildRecordOf().image, configDigest: 'sha256:../../etc' } }).field).toBe(
      'image.configDigest',
    );
    const report = smokeReportOf();
    const bad = refused('smokeReport', pair.smokeReport('direct'), { ...report, tests: [{ ...report.tests[0], verdict: 'OK' }] });
    expect(bad.field).toBe('tests[0].verdict');
    expect(bad.message).toMatch(/field tests\[0\]\.verdict must be one of "PASSED", "WARNED", "FAILED", "SKIPPED"$/);
    expect(refused('smokeReport', pair.smokeReport('direct'), { ...report, launcher: 'ssh' }).field).toBe('launcher');
  });

  it('a record of another kind placed at the path', () => {
    const pair = statePair();
    const e = refused('buildRecord', pair.buildRecord, smokeReportOf());
    expect(e.problem).toBe('wrong-kind');
    expect(e.field).toBe('kind');
    expect(e.message).toBe(`${pair.buildRecord} is not a valid build record: it is a "brickyard-smoke" record, not a "brickyard-build" one`);
    // A record without a kind (the lock) where the build record belongs: the first field it lacks.
    expect(refused('buildRecord', pair.buildRecord, pairLockOf()).message).toMatch(/field kind is missing/);
    // An OCI manifest where the index belongs.
    const { layout, manifestDigest } = tinyLayout();
    const manifest = readOciManifest(join(layout, 'blobs', 'sha256', manifestDigest.slice(7)));
    expect(refused('ociIndex', join(layout, 'index.json'), manifest).message).toMatch(/index\.json is not a valid OCI image index: field manifests is missing/);
    // The build record of version 2 is not read as version 1.
    expect(refused('buildRecord', pair.buildRecord, { ...buildRecordOf(), version: 2 }).message).toMatch(/field version must be 1$/);
  });

  it('truncated JSON, an empty file, JSON that is not an object', () => {
    const pair = statePair();
    const text = JSON.stringify(buildRecordOf(), null, 2);
    const cut = refused('buildRecord', pair.buildRecord, text.slice(0, text.length / 2));
    expect(cut.problem).toBe('not-json');
    expect(cut.field).toBe('');
    expect(cut.message).toMatch(new RegExp(`^${pair.buildRecord.replace(/[.@]/g, '\\$&')} is not a valid build record: it is not JSON \\(`));
    expect(refused('buildRecord', pair.buildRecord, '').problem).toBe('not-json');
    expect(refused('lock', pair.lock, '[1, 2]').message).toMatch(/lock\.json is not a valid pair lock: it holds an array, not an object/);
    expect(refused('smokeReport', pair.smokeReport('direct'), 'null').message).toMatch(/it holds null, not an object/);
  });

  it('a symbolic link, a folder or nothing where the file belongs', () => {
    const pair = statePair();
    const elsewhere = join(tempDir(), 'build.json');
    writeFileSync(elsewhere, JSON.stringify(buildRecordOf()));
    const link = pair.smokeReport('slurm');
    symlinkSync(elsewhere, link);
    const viaLink = refusal(() => readBuildRecord(link));
    expect(viaLink.problem).toBe('not-a-file');
    expect(viaLink.message).toBe(`${link} is a symbolic link, where a build record (a plain file) belongs`);
    const folder = pair.smokeReport('sif');
    mkdirSync(folder);
    expect(refusal(() => readSmokeReport(folder)).message).toBe(`${folder} is a folder, where a smoke report (a plain file) belongs`);
    const missing = refusal(() => readPairLock(join(pair.dir, 'nothing.json')));
    expect(missing.problem).toBe('missing');
    expect(missing.message).toMatch(/nothing\.json is missing: no pair lock there$/);
  });

  it('a file larger than any record', () => {
    const pair = statePair();
    const e = refusal(() => readStateRecord('buildRecord', pair.buildRecord, 100));
    expect(e.problem).toBe('too-large');
    expect(e.message).toMatch(/build\.json is \d+ bytes, more than a build record may be \(100\)$/);
  });
});

describe('the validators', () => {
  it('are valid JSON Schema 2020-12 (the run time skips this check)', () => {
    for (const [name, { ajv, schema }] of Object.entries(STATE_SCHEMAS)) {
      expect(() => ajv({ validateSchema: true }).compile(schema), name).not.toThrow();
    }
    // The check can fail: a schema with a mistyped keyword value is refused.
    expect(() => STATE_SCHEMAS.lock.ajv({ validateSchema: true }).compile({ type: 'objekt' })).toThrow();
  });

  it('compile to standalone code (what the bundled CLI carries) that judges as they do', async () => {
    // A CommonJS module: its function is the default export (Node) or that export's default (types), as in scripts/build-cli.ts.
    const mod = (await import('ajv/dist/standalone/index.js')).default as unknown as { default?: unknown };
    const code = (typeof mod === 'function' ? mod : mod.default) as (a: unknown, v: unknown) => string;
    const good: Record<StateRecordKind, unknown> = {
      buildRecord: buildRecordOf(),
      smokeReport: smokeReportOf(),
      lock: pairLockOf(),
      ociIndex: { schemaVersion: 2, manifests: [{ mediaType: 'm', digest: DIGEST('a'), size: 1 }] },
      ociManifest: { schemaVersion: 2, config: { mediaType: 'c', digest: DIGEST('b'), size: 1 }, layers: [] },
      tuneStatement: tuneStatementOf(),
      bundleSerials: { 'example/a': 3 },
    };
    // Inside the repository, so that the code's require() of Ajv's runtime finds node_modules.
    mkdirSync(join(repoRoot, 'test-artifacts'), { recursive: true });
    const dir = mkdtempSync(join(repoRoot, 'test-artifacts', 'state-validators-'));
    const load = createRequire(join(dir, 'x.cjs'));
    for (const [name, { ajv: make, schema }] of Object.entries(STATE_SCHEMAS)) {
      const kind = name as StateRecordKind;
      const ajv = make({ code: { source: true } });
      const file = join(dir, `${name}.cjs`);
      writeFileSync(file, code(ajv, ajv.compile(schema)));
      const precompiled = load(file) as (d: unknown) => boolean;
      // Each broken in a field of its own kind: a version, a missing file name, a schema version.
      const broken = {
        ...(good[kind] as object),
        ...(kind === 'lock'
          ? { blocks: [{}] }
          : kind === 'tuneStatement'
            ? { predicateType: 'https://example.org/other' }
            : kind === 'bundleSerials'
              ? { 'example/b': -1 }
              : { schemaVersion: 3, version: 9 }),
      };
      expect([precompiled(good[kind]), precompiled(broken)], name).toEqual([true, false]);
      expect([stateValidator(kind)(good[kind]), stateValidator(kind)(broken)], name).toEqual([true, false]);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('name a field by its path', () => {
    expect(fieldPath('')).toBe('');
    expect(fieldPath('/image/manifestDigest')).toBe('image.manifestDigest');
    expect(fieldPath('/tests/0/figures/a~1b~0c')).toBe('tests[0].figures.a/b~c');
    expect(fieldPath('/manifests/12')).toBe('manifests[12]');
  });
});
