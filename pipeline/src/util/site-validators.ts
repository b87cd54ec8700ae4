/**
 * The JSON-Schema validators every site command runs (the bundle manifest, the site policy, the
 * build records inside a bundle). From the sources they are compiled by Ajv on first use; the
 * bundled CLI and the site executable carry them precompiled (scripts/build-cli.ts replaces this
 * module with Ajv's standalone code for the same schemas and options), because compiling them
 * costs a site ~200 ms on every command.
 */
import type { Options } from 'ajv/dist/2020.js';
import { ajv2020, validatorsOf, type SchemaSource } from './ajv.ts';
import buildRecordSchema from '../../schemas/build-record.schema.json' with { type: 'json' };
import manifestSchema from '../../schemas/manifest.schema.json' with { type: 'json' };
import policySchema from '../../schemas/site-policy.schema.json' with { type: 'json' };

export type SiteSchema = 'manifest' | 'policy' | 'buildRecord';

// No meta-schema check at run time (validateSchema: false): test/model/schemas.test.ts makes it once.
const NO_META: Options = { validateSchema: false };

/** Each validator: its Ajv (options, formats, referenced schemas) and the schema it compiles. */
export const SITE_SCHEMAS: Record<SiteSchema, SchemaSource> = {
  manifest: {
    ajv: (extra) => ajv2020({ ...NO_META, ...extra }, { formats: true }),
    schema: manifestSchema,
  },
  policy: { ajv: (extra) => ajv2020({ ...NO_META, ...extra }), schema: policySchema },
  // Only the names a store uses matter here: formats are not checked.
  buildRecord: {
    ajv: (extra) => {
      const ajv = ajv2020({ strict: false, validateFormats: false, ...extra });
      ajv.addSchema(manifestSchema);
      return ajv;
    },
    schema: buildRecordSchema,
  },
};

/** siteValidator's validator, compiled on first use. */
export const siteValidator = validatorsOf(SITE_SCHEMAS);
