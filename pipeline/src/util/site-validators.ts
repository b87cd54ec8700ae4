/**
 * The JSON-Schema validators every site command runs (the bundle manifest, the site policy, the
 * build records inside a bundle). From the sources they are compiled by Ajv on first use; the
 * bundled CLI and the site executable carry them precompiled (scripts/build-cli.ts replaces this
 * module with Ajv's standalone code for the same schemas and options), because compiling them
 * costs a site ~200 ms on every command.
 */
import { Ajv2020, type Options, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import buildRecordSchema from '../../schemas/build-record.schema.json' with { type: 'json' };
import manifestSchema from '../../schemas/manifest.schema.json' with { type: 'json' };
import policySchema from '../../schemas/site-policy.schema.json' with { type: 'json' };

export type SiteSchema = 'manifest' | 'policy' | 'buildRecord';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

// No meta-schema check at run time (validateSchema: false): test/model/schemas.test.ts makes it once.
const STRICT: Options = { allErrors: true, strict: true, allowUnionTypes: true, validateSchema: false };

/** Each validator: its Ajv (options, formats, referenced schemas) and the schema it compiles. */
export const SITE_SCHEMAS: Record<SiteSchema, { ajv: (extra: Options) => Ajv2020; schema: object }> = {
  manifest: {
    ajv: (extra) => {
      const ajv = new Ajv2020({ ...STRICT, ...extra });
      addFormats(ajv);
      return ajv;
    },
    schema: manifestSchema,
  },
  policy: { ajv: (extra) => new Ajv2020({ ...STRICT, ...extra }), schema: policySchema },
  // Only the names a store uses matter here: formats are not checked.
  buildRecord: {
    ajv: (extra) => {
      const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false, ...extra });
      ajv.addSchema(manifestSchema);
      return ajv;
    },
    schema: buildRecordSchema,
  },
};

const compiled = new Map<SiteSchema, ValidateFunction>();

export function siteValidator(name: SiteSchema): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    const { ajv, schema } = SITE_SCHEMAS[name];
    v = ajv({}).compile(schema);
    compiled.set(name, v);
  }
  return v;
}
