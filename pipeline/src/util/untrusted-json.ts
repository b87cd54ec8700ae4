/**
 * Small typed guards for JSON that came from outside (an artifact, a bundle, a workflow input):
 * parsed as `unknown`, narrowed field by field, so a declared type never claims more than was
 * checked. Records with a schema of their own are read through state/records.ts instead.
 */

export type JsonObject = Record<string, unknown>;

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON.parse, typed as what it is: unknown. */
export function parseUnknownJson(text: string): unknown {
  return JSON.parse(text);
}

/** `o[key]` when it is an object, else undefined. */
export function objectAt(o: unknown, key: string): JsonObject | undefined {
  if (!isJsonObject(o)) return undefined;
  const v = o[key];
  return isJsonObject(v) ? v : undefined;
}

/** `o[key]` when it is a string, else undefined. */
export function stringAt(o: unknown, key: string): string | undefined {
  if (!isJsonObject(o)) return undefined;
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

/** `o[key]` when it is an array, else undefined. */
export function arrayAt(o: unknown, key: string): unknown[] | undefined {
  if (!isJsonObject(o)) return undefined;
  const v = o[key];
  return Array.isArray(v) ? (v as unknown[]) : undefined;
}
