/** `{{ name }}` placeholders in block and recipe strings. Unknown names are errors, never left in place. */
export const TARGET_NAMES = ['target.arch', 'target.cflags', 'target.gpuArch'] as const;

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''); // the group always takes part in a match
}

export class UnknownPlaceholderError extends Error {
  readonly placeholder: string;
  constructor(placeholder: string) {
    super(`unknown placeholder {{ ${placeholder} }}`);
    this.placeholder = placeholder;
  }
}

export function expand(text: string, values: ReadonlyMap<string, string>): string {
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const v = values.get(name);
    if (v === undefined) throw new UnknownPlaceholderError(name);
    return v;
  });
}

/** Expand every string inside a JSON-like value. */
export function expandDeep<T>(value: T, values: ReadonlyMap<string, string>): T {
  if (typeof value === 'string') return expand(value, values) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => expandDeep(v, values)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandDeep(v, values);
    return out as T;
  }
  return value;
}

/** Every string inside a JSON-like value, with its path, for static checks. */
export function* stringsIn(value: unknown, path: (string | number)[] = []): Generator<[string, (string | number)[]]> {
  if (typeof value === 'string') yield [value, path];
  else if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* stringsIn(value[i], [...path, i]);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) yield* stringsIn(v, [...path, k]);
}
