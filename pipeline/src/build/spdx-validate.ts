/**
 * Checks an SPDX 2.3 JSON document: first against the official JSON schema
 * (pipeline/schemas/spdx-2.3.schema.json, stored verbatim from https://github.com/spdx/spdx-spec,
 * schemas/spdx-schema.json at tag v2.3), then the rules of the specification text that a JSON
 * Schema cannot say (the schema checks shapes only, with no patterns): SPDXID syntax and
 * uniqueness, relationships that point at elements of the document, the timestamp and namespace
 * forms, checksum lengths. Apart from sbom.ts, which writes documents, so that reading a state
 * record does not load the writers (packageurl-js among them).
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import spdxSchema from '../../schemas/spdx-2.3.schema.json' with { type: 'json' };
import { ajvDraft07 } from '../util/ajv.ts';

/** The syntax of an SPDXID (SPDX 2.3 §3.2, §7.2). */
export const SPDXID = /^SPDXRef-[A-Za-z0-9.-]+$/;

let validator: ValidateFunction | undefined;

function schemaValidator(): ValidateFunction {
  if (validator) return validator;
  // The SPDX 2.3 schema is draft-07, ajv's default dialect.
  const ajv = ajvDraft07({}, { formats: true });
  validator = ajv.compile(spdxSchema as object);
  return validator;
}

function schemaMessage(e: ErrorObject): string {
  const where = e.instancePath === '' ? '(document)' : e.instancePath;
  const extra =
    e.keyword === 'enum'
      ? `: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`
      : e.keyword === 'additionalProperties'
        ? `: "${(e.params as { additionalProperty: string }).additionalProperty}"`
        : '';
  return `schema: ${where} ${e.message ?? e.keyword}${extra}`;
}

const CHECKSUM_HEX: Record<string, number> = { SHA1: 40, SHA224: 56, SHA256: 64, SHA384: 96, SHA512: 128, MD5: 32 };

/**
 * Errors in an SPDX 2.3 JSON document (empty when it is valid): first against the official
 * JSON schema, then the rules of the specification the schema cannot express.
 */
export function validateSpdx(doc: unknown): string[] {
  const validate = schemaValidator();
  const errors = validate(doc) ? [] : (validate.errors ?? []).map(schemaMessage);
  return [...errors, ...specErrors(doc)];
}

type Json = Record<string, unknown>;

function isObj(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function specErrors(doc: unknown): string[] {
  if (!isObj(doc)) return [];
  const out: string[] = [];
  if (doc.spdxVersion !== undefined && doc.spdxVersion !== 'SPDX-2.3') out.push(`spec: spdxVersion is ${JSON.stringify(doc.spdxVersion)}, not "SPDX-2.3"`);
  if (doc.dataLicense !== undefined && doc.dataLicense !== 'CC0-1.0') out.push('spec: dataLicense must be "CC0-1.0"');
  if (doc.SPDXID !== undefined && doc.SPDXID !== 'SPDXRef-DOCUMENT') out.push('spec: the document\'s SPDXID must be "SPDXRef-DOCUMENT"');
  if (typeof doc.documentNamespace !== 'string') {
    out.push('spec: documentNamespace is required');
  } else if (!/^[a-z][a-z0-9+.-]*:\/\/[^\s#]+$/i.test(doc.documentNamespace)) {
    out.push(`spec: documentNamespace ${JSON.stringify(doc.documentNamespace)} must be an absolute URI without "#"`);
  }
  const created = isObj(doc.creationInfo) ? doc.creationInfo.created : undefined;
  if (typeof created === 'string' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(created)) {
    out.push(`spec: creationInfo.created ${JSON.stringify(created)} must be YYYY-MM-DDThh:mm:ssZ`);
  }

  const ids = new Set<string>(['SPDXRef-DOCUMENT']);
  for (const key of ['packages', 'files', 'snippets'] as const) {
    const list = doc[key];
    if (!Array.isArray(list)) continue;
    list.forEach((el: unknown, i) => {
      if (!isObj(el) || typeof el.SPDXID !== 'string') return;
      const where = `/${key}/${i}`;
      if (!SPDXID.test(el.SPDXID)) out.push(`spec: ${where}/SPDXID ${JSON.stringify(el.SPDXID)} must match ${SPDXID.source}`);
      if (ids.has(el.SPDXID)) out.push(`spec: ${where}/SPDXID ${el.SPDXID} is used twice`);
      ids.add(el.SPDXID);
      if (key === 'packages' && el.filesAnalyzed !== false && el.packageVerificationCode === undefined) {
        out.push(`spec: ${where} has filesAnalyzed true (the default) but no packageVerificationCode`);
      }
      if (Array.isArray(el.checksums)) {
        el.checksums.forEach((c: unknown, j) => {
          if (!isObj(c) || typeof c.algorithm !== 'string' || typeof c.checksumValue !== 'string') return;
          const len = CHECKSUM_HEX[c.algorithm];
          if (len !== undefined && !new RegExp(`^[0-9a-f]{${len}}$`).test(c.checksumValue)) {
            out.push(`spec: ${where}/checksums/${j} ${c.algorithm} must be ${len} lower-case hex digits`);
          }
        });
      }
    });
  }

  let describes = Array.isArray(doc.documentDescribes) && doc.documentDescribes.length > 0;
  if (Array.isArray(doc.relationships)) {
    doc.relationships.forEach((r: unknown, i) => {
      if (!isObj(r)) return;
      const known = (v: unknown, related: boolean): boolean =>
        typeof v === 'string' && (ids.has(v) || /^DocumentRef-[A-Za-z0-9.-]+:SPDXRef-[A-Za-z0-9.-]+$/.test(v) || (related && (v === 'NONE' || v === 'NOASSERTION')));
      if (r.spdxElementId !== undefined && !known(r.spdxElementId, false)) {
        out.push(`spec: /relationships/${i}/spdxElementId ${JSON.stringify(r.spdxElementId)} is not an element of this document`);
      }
      if (r.relatedSpdxElement !== undefined && !known(r.relatedSpdxElement, true)) {
        out.push(`spec: /relationships/${i}/relatedSpdxElement ${JSON.stringify(r.relatedSpdxElement)} is not an element of this document`);
      }
      if (r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES') describes = true;
    });
  }
  if (!describes) out.push('spec: the document must DESCRIBE at least one element (a DESCRIBES relationship from SPDXRef-DOCUMENT)');
  return out;
}
