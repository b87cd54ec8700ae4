import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { SourceFile } from '../../pipeline/src/catalog/source.ts';
import { validateAgainstSchema } from '../../pipeline/src/catalog/schemas.ts';
import { formatDiagnostic } from '../../pipeline/src/util/diagnostics.ts';
import { MINI, repoRoot } from '../helpers/fixture.ts';

const check = (kind: 'recipe' | 'block' | 'system' | 'bases', text: string): string[] => validateAgainstSchema(kind, new SourceFile('/r/f.yaml', '/r', text)).map(formatDiagnostic);

describe('schemas', () => {
  it('accepts the fixture files', () => {
    expect(check('recipe', MINI['catalog/recipes/demo/1.0/recipe.yaml']!)).toEqual([]);
    expect(check('block', MINI['catalog/blocks/ompi/block.yaml']!)).toEqual([]);
    expect(check('system', MINI['systems/box.yaml']!)).toEqual([]);
    expect(check('bases', MINI['catalog/bases.yaml']!)).toEqual([]);
  });

  it('points an unknown key at the key itself and lists the allowed ones', () => {
    const text = MINI['catalog/recipes/demo/1.0/recipe.yaml']!.replace('summary: Demo', 'summary: Demo\nsumary: typo');
    const [d, ...rest] = check('recipe', text);
    expect(rest).toEqual([]);
    expect(d).toMatch(/^f\.yaml:5:1: error: unknown key "sumary" in the document \(allowed: name, version, .*\) \[schema\]$/);
  });

  it('reports wrong types and values at their line', () => {
    const text = MINI['catalog/recipes/demo/1.0/recipe.yaml']!.replace('revision: 1', 'revision: "one"').replace('mpi: any', 'mpi: openmp');
    expect(check('recipe', text)).toEqual([
      'f.yaml:3:11: error: "revision" must be integer [schema]',
      'f.yaml:15:8: error: "requires.mpi" must be one of "none", "any", "mpich", "openmpi" [schema]',
    ]);
  });

  it('says plainly when a step has two operations', () => {
    const text = MINI['catalog/blocks/cc/block.yaml']!.replace('  - packages:', '  - run: make\n    packages:');
    expect(check('block', text)).toEqual(['f.yaml:6:5: error: "steps.0": a step needs exactly one of run, packages, fetch, copy, env, label, user, workdir, entrypoint [schema]']);
  });

  it('requires a sha256 on every source', () => {
    const text = MINI['catalog/blocks/ompi/block.yaml']!.replace(`sha256: "${'1'.repeat(64)}"`, 'sha256: "abc"');
    expect(check('block', text).join('\n')).toMatch(/sources\.0\.sha256" has the value "abc", which does not match/);
  });

  it('needs base and requires unless the recipe extends another', () => {
    const text = 'name: x\nversion: "1"\nrevision: 1\nsummary: s\nmaintainers: [{name: a}]\n';
    expect(check('recipe', text)).toEqual([
      'f.yaml:1:1: error: the document: "base" is required here [schema]',
      'f.yaml:1:1: error: the document: "requires" is required here [schema]',
    ]);
    expect(check('recipe', text + 'extends: demo@1.0\n')).toEqual([]);
  });
});

// The site's validators (policy, bundle manifest) skip the meta-schema check at run time: it is made here.
it('every 2020-12 schema under pipeline/schemas is a valid JSON Schema', () => {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
  const dir = join(repoRoot, 'pipeline', 'schemas');
  const checked = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as { $schema?: string }] as const)
    .filter(([, s]) => s.$schema === 'https://json-schema.org/draft/2020-12/schema');
  expect(checked.map(([f]) => f)).toEqual(expect.arrayContaining(['manifest.schema.json', 'site-policy.schema.json', 'state/build-record.schema.json']));
  for (const [f, schema] of checked) expect(ajv.validateSchema(schema), `${f}: ${ajv.errorsText()}`).toBe(true);
  expect(ajv.validateSchema({ type: 'strin' })).toBe(false); // the check can fail
});
