/**
 * The JSON-Schema validators of the state folder's records (pipeline/schemas/state/). From the
 * sources Ajv compiles them on first use; the bundled CLI and the site executable carry them
 * precompiled (scripts/build-cli.ts replaces this module with Ajv's standalone code for the same
 * schemas and options, as it does for util/site-validators.ts).
 */
import type { Options } from 'ajv/dist/2020.js';
import { ajv2020, validatorsOf, type SchemaSource } from '../util/ajv.ts';
import bundleSerialsSchema from '../../schemas/state/bundle-serials.schema.json' with { type: 'json' };
import buildRecordSchema from '../../schemas/state/build-record.schema.json' with { type: 'json' };
import lockSchema from '../../schemas/state/lock.schema.json' with { type: 'json' };
import ociSchema from '../../schemas/state/oci.schema.json' with { type: 'json' };
import smokeReportSchema from '../../schemas/state/smoke-report.schema.json' with { type: 'json' };
import tuneStatementSchema from '../../schemas/state/tune-statement.schema.json' with { type: 'json' };

export type StateSchema = 'buildRecord' | 'smokeReport' | 'lock' | 'ociIndex' | 'ociManifest' | 'tuneStatement' | 'bundleSerials';

// Every error, so a message can name the first field that is wrong; no meta-schema check at run
// time (test/state/records.test.ts compiles them against it).
const NO_META: Options = { validateSchema: false };

const plain = (schema: object): SchemaSource => ({ ajv: (extra) => ajv2020({ ...NO_META, ...extra }), schema });
const oci = (def: 'index' | 'manifest'): SchemaSource => ({
  ajv: (extra) => {
    const ajv = ajv2020({ ...NO_META, ...extra });
    ajv.addSchema(ociSchema);
    return ajv;
  },
  schema: { $ref: `${ociSchema.$id}#/$defs/${def}` },
});

/** Each validator: its Ajv (options, referenced schemas) and the schema it compiles. */
export const STATE_SCHEMAS: Record<StateSchema, SchemaSource> = {
  buildRecord: plain(buildRecordSchema),
  smokeReport: plain(smokeReportSchema),
  lock: plain(lockSchema),
  ociIndex: oci('index'),
  ociManifest: oci('manifest'),
  tuneStatement: plain(tuneStatementSchema),
  bundleSerials: plain(bundleSerialsSchema),
};

/** stateValidator's validator, compiled on first use. */
export const stateValidator = validatorsOf(STATE_SCHEMAS);
