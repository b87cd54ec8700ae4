/**
 * One home for Ajv's set-up: every schema Brickyard checks (catalogue, site policy and bundle
 * manifest, state records, the built index, SPDX SBOMs) is compiled by an Ajv made here, strict
 * (unknown keywords and ambiguous types are schema bugs), with the formats where asked.
 * The site's validators are also compiled ahead of time into standalone code (scripts/build-cli.ts)
 * from the same factories, so the bundled CLI and the executable load no Ajv at all.
 */
import { Ajv } from 'ajv';
import { Ajv2020, type Options, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as <A extends Ajv | Ajv2020>(ajv: A) => A;

/** Every error (a message names the first wrong field), strict, unions allowed where a schema says so. */
export const STRICT_OPTIONS: Options = { allErrors: true, strict: true, allowUnionTypes: true };

/** An Ajv for JSON Schema 2020-12 (Brickyard's own schemas); `formats` adds ajv-formats (date-time, uri…). */
export function ajv2020(options: Options = {}, { formats = false }: { formats?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020({ ...STRICT_OPTIONS, ...options });
  return formats ? addFormats(ajv) : ajv;
}

/** An Ajv for draft-07 schemas (SPDX 2.3 publishes one). */
export function ajvDraft07(options: Options = {}, { formats = false }: { formats?: boolean } = {}): Ajv {
  const ajv = new Ajv({ ...STRICT_OPTIONS, ...options });
  return formats ? addFormats(ajv) : ajv;
}

/**
 * A schema with the Ajv that compiles it (its options, formats and referenced schemas). A table of
 * these is what scripts/build-cli.ts precompiles into standalone code, `extra` being its code options.
 */
export interface SchemaSource {
  ajv: (extra: Options) => Ajv2020;
  schema: object;
}

/** The validator of each entry of `table`, compiled on first use and kept. */
export function validatorsOf<K extends string>(table: Record<K, SchemaSource>): (name: K) => ValidateFunction {
  const compiled = new Map<K, ValidateFunction>();
  return (name) => {
    let v = compiled.get(name);
    if (!v) {
      const { ajv, schema } = table[name];
      v = ajv({}).compile(schema);
      compiled.set(name, v);
    }
    return v;
  };
}
