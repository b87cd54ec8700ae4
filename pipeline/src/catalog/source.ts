/**
 * A YAML file parsed with its positions kept, so every finding can point at file:line:col.
 */
import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Diagnostic } from '../util/diagnostics.ts';
import { BrickyardError } from '../util/errors.ts';

export type PathSegment = string | number;

/** Alias expansions allowed in one document (the yaml library's limit; a bomb is refused, not expanded). */
export const MAX_ALIAS_COUNT = 100;

export interface Position {
  line: number;
  col: number;
}

export class SourceFile {
  readonly abs: string;
  readonly rel: string;
  readonly text: string;
  readonly data: unknown;
  /** YAML syntax errors; `data` is undefined when there is any. */
  readonly syntaxErrors: Diagnostic[];
  private readonly doc: Document.Parsed;
  private readonly lines: LineCounter;

  constructor(abs: string, root: string, text: string) {
    this.abs = abs;
    this.rel = relative(root, abs).split(sep).join('/');
    this.text = text;
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    this.syntaxErrors = this.doc.errors.map((e) => {
      const pos = this.at(e.pos[0]);
      return {
        file: this.rel,
        ...pos,
        severity: 'error' as const,
        message: `YAML syntax: ${firstLine(e.message)}`,
        rule: 'yaml-syntax',
      };
    });
    let data: unknown;
    if (this.syntaxErrors.length === 0) {
      try {
        data = this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      } catch (e) {
        // An alias bomb ("billion laughs"): the yaml library stops expanding past the limit.
        if (!(e instanceof ReferenceError)) throw e;
        this.syntaxErrors.push({
          file: this.rel,
          line: 1,
          col: 1,
          severity: 'error',
          message: `YAML aliases expand too far (${firstLine(e.message)}); at most ${MAX_ALIAS_COUNT} alias expansions are allowed`,
          rule: 'yaml-syntax',
        });
      }
    }
    this.data = data;
  }

  static read(abs: string, root: string): SourceFile {
    let text: string;
    try {
      text = readFileSync(abs, 'utf8');
    } catch (cause) {
      throw new BrickyardError('FILE_UNREADABLE', `cannot read ${abs}: ${(cause as Error).message}`, {
        hint: 'check that the file exists and is readable',
        cause,
      });
    }
    return new SourceFile(abs, root, text);
  }

  /** Line and column (1-based) of a character offset. */
  at(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, col };
  }

  /**
   * Where the value at `path` starts; with `key`, where that key of the map at `path` is written.
   * Falls back to the nearest ancestor that exists, so a missing property points at its parent.
   */
  locate(path: readonly PathSegment[], key?: string): Position {
    let node: unknown = this.doc.contents;
    let best: Position = { line: 1, col: 1 };
    const mark = (n: unknown): void => {
      const range = (n as Node | null)?.range;
      if (range) best = this.at(range[0]);
    };
    mark(node);
    for (const seg of path) {
      const next = child(node, seg);
      if (next === undefined) return best;
      node = next.value;
      mark(next.value ?? next.key);
    }
    if (key !== undefined && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (pair) mark(pair.key);
    }
    return best;
  }

  /** Character offsets [start, end) of the scalar at `path`, for edits that keep the file's formatting. */
  scalarRange(path: readonly PathSegment[]): [number, number] | undefined {
    const node = this.doc.getIn(path, true);
    return isScalar(node) && node.range ? [node.range[0], node.range[1]] : undefined;
  }

  diagnostic(path: readonly PathSegment[], severity: Diagnostic['severity'], rule: string, message: string, key?: string): Diagnostic {
    return { file: this.rel, ...this.locate(path, key), severity, message, rule };
  }
}

function child(node: unknown, seg: PathSegment): { key: unknown; value: unknown } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
    return pair ? { key: pair.key, value: pair.value } : undefined;
  }
  if (isSeq(node) && typeof seg === 'number') {
    const item = node.items[seg];
    return item === undefined ? undefined : { key: undefined, value: item };
  }
  return undefined;
}

function firstLine(s: string): string {
  return (s.split('\n', 1)[0] ?? '').trim(); // split always gives one element
}

/** JSON Pointer (RFC 6901) to path segments; numeric segments become indices. */
export function pointerToPath(pointer: string): PathSegment[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}
