/**
 * JSON Schema 2020-12 validation of the catalogue's files, with ajv's errors turned into
 * findings at file:line:col that say what to change.
 */
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
// Imported, not read from disk, so the bundled GitHub Actions carry them.
import basesSchema from '../../schemas/bases.schema.json' with { type: 'json' };
import blockSchema from '../../schemas/block.schema.json' with { type: 'json' };
import primitiveSchema from '../../schemas/primitive.schema.json' with { type: 'json' };
import recipeSchema from '../../schemas/recipe.schema.json' with { type: 'json' };
import systemSchema from '../../schemas/system.schema.json' with { type: 'json' };
import toolchainsSchema from '../../schemas/toolchains.schema.json' with { type: 'json' };
import { ajv2020 } from '../util/ajv.ts';
import type { SourceFile } from './source.ts';
import { pointerToPath } from './source.ts';
import type { Diagnostic } from '../util/diagnostics.ts';
import { InternalError } from '../util/errors.ts';

export type SchemaKind = 'recipe' | 'block' | 'bases' | 'system' | 'toolchains';

let validators: Record<SchemaKind, ValidateFunction> | undefined;

function load(): Record<SchemaKind, ValidateFunction> {
  if (validators) return validators;
  const ajv = ajv2020({ verbose: true, strictRequired: false }, { formats: true });
  for (const s of [primitiveSchema, blockSchema, recipeSchema, basesSchema, systemSchema, toolchainsSchema]) ajv.addSchema(s);
  const compiled = (kind: SchemaKind): ValidateFunction => {
    const id = `https://brickyard.dev/schemas/${kind}.schema.json`;
    const validate = ajv.getSchema(id);
    if (!validate) throw new InternalError(`no bundled schema has the $id ${id}`);
    return validate;
  };
  validators = { recipe: compiled('recipe'), block: compiled('block'), bases: compiled('bases'), system: compiled('system'), toolchains: compiled('toolchains') };
  return validators;
}

/** Validate a parsed file; returns the findings (empty when the file is valid). */
export function validateAgainstSchema(kind: SchemaKind, file: SourceFile): Diagnostic[] {
  const validate = load()[kind];
  if (validate(file.data)) return [];
  return explain(validate.errors ?? [], file);
}

/** Ajv reports every failed branch of oneOf/if; keep the errors a person can act on. */
function explain(errors: readonly ErrorObject[], file: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  const paths = new Set(errors.filter((e) => !isCombinator(e)).map((e) => e.instancePath));
  for (const e of errors) {
    const path = pointerToPath(e.instancePath);
    const where = e.instancePath === '' ? 'the document' : `"${e.instancePath.slice(1).replace(/\//g, '.')}"`;
    switch (e.keyword) {
      case 'if':
        continue; // the failing `then` branch is reported by its own error
      case 'oneOf':
      case 'anyOf': {
        // A step with two operations (or none) fails every branch; say it once, plainly.
        if (/\/steps\/\d+$/.test(e.instancePath)) {
          out.push(file.diagnostic(path, 'error', 'schema', `${where}: a step needs exactly one of run, packages, fetch, copy, env, label, user, workdir, entrypoint`));
        } else if (![...paths].some((p) => p.startsWith(e.instancePath + '/') || p === e.instancePath)) {
          out.push(file.diagnostic(path, 'error', 'schema', `${where} does not match any allowed form`));
        }
        continue;
      }
      case 'required': {
        if (isInsideStep(e) && e.schemaPath.includes('oneOf')) continue;
        const missing = (e.params as { missingProperty: string }).missingProperty;
        if (e.schemaPath.includes('/then/')) {
          out.push(file.diagnostic(path, 'error', 'schema', `${where}: "${missing}" is required here`));
        } else {
          out.push(file.diagnostic(path, 'error', 'schema', `${where} is missing required key "${missing}"`));
        }
        continue;
      }
      case 'additionalProperties': {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        const allowed = allowedKeys(e);
        out.push(file.diagnostic(path, 'error', 'schema', `unknown key "${extra}" in ${where}` + (allowed ? ` (allowed: ${allowed})` : ''), extra));
        continue;
      }
      case 'enum': {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v));
        out.push(file.diagnostic(path, 'error', 'schema', `${where} must be one of ${allowed.join(', ')}`));
        continue;
      }
      case 'const':
        out.push(file.diagnostic(path, 'error', 'schema', `${where} must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`));
        continue;
      case 'type':
        out.push(file.diagnostic(path, 'error', 'schema', `${where} must be ${(e.params as { type: string }).type}`));
        continue;
      case 'pattern':
        out.push(file.diagnostic(path, 'error', 'schema', `${where} has the value ${JSON.stringify(e.data)}, which does not match ${(e.params as { pattern: string }).pattern}`));
        continue;
      default:
        out.push(file.diagnostic(path, 'error', 'schema', `${where} ${e.message ?? 'is invalid'}`));
    }
  }
  return out;
}

function isCombinator(e: ErrorObject): boolean {
  return e.keyword === 'oneOf' || e.keyword === 'anyOf' || e.keyword === 'if';
}

function isInsideStep(e: ErrorObject): boolean {
  return /\/steps\/\d+$/.test(e.instancePath);
}

function allowedKeys(e: ErrorObject): string | undefined {
  const schema = e.parentSchema as { properties?: Record<string, unknown> } | undefined;
  const keys = schema?.properties ? Object.keys(schema.properties) : [];
  return keys.length > 0 && keys.length <= 24 ? keys.join(', ') : undefined;
}
