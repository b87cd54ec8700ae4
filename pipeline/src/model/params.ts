/** Block parameters: defaults, the values a recipe or system passes with `with`, types and allowed values. */
import type { BlockDoc, ParamValue, ParameterDoc } from './types.ts';

export interface ParamProblem {
  /** The parameter concerned (a key of `with`, or a declared parameter without a value). */
  param: string;
  /** True when the problem is in the value passed with `with`, false when it is in the block. */
  inWith: boolean;
  message: string;
}

export function typeMatches(p: ParameterDoc, v: ParamValue): boolean {
  switch (p.type) {
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
  }
}

export function resolveParams(block: BlockDoc, given: Readonly<Record<string, ParamValue>> = {}): { values: Record<string, ParamValue>; problems: ParamProblem[] } {
  const declared = block.parameters ?? {};
  const values: Record<string, ParamValue> = {};
  const problems: ParamProblem[] = [];
  for (const [name, v] of Object.entries(given)) {
    const p = declared[name];
    if (!p) {
      const known = Object.keys(declared);
      problems.push({
        param: name,
        inWith: true,
        message: `block ${block.name} has no parameter "${name}"` + (known.length ? ` (it has: ${known.join(', ')})` : ''),
      });
      continue;
    }
    if (!typeMatches(p, v)) {
      problems.push({ param: name, inWith: true, message: `parameter "${name}" of block ${block.name} must be a ${p.type}, got ${JSON.stringify(v)}` });
      continue;
    }
    if (p.enum && !p.enum.includes(v)) {
      problems.push({
        param: name,
        inWith: true,
        message: `parameter "${name}" of block ${block.name} must be one of ${p.enum.map((e) => JSON.stringify(e)).join(', ')}, got ${JSON.stringify(v)}`,
      });
      continue;
    }
    values[name] = v;
  }
  for (const [name, p] of Object.entries(declared)) {
    if (name in values || problems.some((x) => x.param === name)) continue;
    if (p.default === undefined) {
      problems.push({ param: name, inWith: true, message: `block ${block.name} needs a value for parameter "${name}" (it has no default)` });
    } else {
      values[name] = p.default;
    }
  }
  return { values, problems };
}
