/** Tolerant JSON reading for the site's state: anything missing, unreadable or of another shape gives undefined. */
import { readFileSync, statSync } from 'node:fs';

export function parseJson(bytes: Buffer | undefined): Record<string, unknown> | undefined {
  try {
    return bytes ? obj(JSON.parse(bytes.toString('utf8'))) : undefined;
  } catch {
    return undefined;
  }
}

export function readJson(file: string): Record<string, unknown> | undefined {
  try {
    if (statSync(file).size > 64 * 1024 * 1024) return undefined;
    return obj(JSON.parse(readFileSync(file, 'utf8')));
  } catch {
    return undefined;
  }
}

export function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '';
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
