/**
 * The shell commands of the Markdown docs, as a reader would type them: every fenced ```sh,
 * ```bash and ```console block, split into commands. In a `console` block only the lines after
 * `$ ` are commands (the rest is output). A block is taken as it is unless an HTML comment right
 * before it (blank lines allowed) marks it:
 *
 *   <!-- doc-test: skip reason="needs GitHub" -->                   the whole block is skipped
 *   <!-- doc-test: skip-commands="^npm ci$" reason="…" -->            commands matching the regex are
 *   <!-- doc-test: setup                                              shell run before the block, not
 *   SITE=$(mktemp -d)                                                 counted: what the reader already
 *   -->                                                               has (a site folder, a bundle)
 *
 * A mark without a reason, a mark of another kind, or a mark with no block after it is an error
 * naming the file and line, so a typo cannot turn into a silent skip.
 */
import { readFileSync } from 'node:fs';

export interface DocCommand {
  /** 1-based line of the command's first line in the document. */
  line: number;
  /** The command as bash reads it (continuation lines joined with newlines). */
  text: string;
  /** Why it is not run, when it is not. */
  skip?: string;
}

export interface DocBlock {
  line: number;
  lang: 'sh' | 'bash' | 'console';
  commands: DocCommand[];
  /** Shell to run before the block's commands (from a setup mark). */
  setup: string[];
}

export class DocMarkError extends Error {}

const FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*$/;
const MARK = /^\s*<!--\s*doc-test:\s*([\w-]+)([\s\S]*?)-->\s*$/;

/** The shell blocks of one Markdown text, in order. `file` names it in errors. */
export function parseDoc(text: string, file: string): DocBlock[] {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  let pending: { line: number; skip?: string; skipCommands?: { re: RegExp; reason: string }; setup: string[] } | undefined;
  const where = (n: number): string => `${file}:${n}`;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    // A mark may span several lines (setup): gather up to the closing -->.
    if (/^\s*<!--\s*doc-test:/.test(raw)) {
      let j = i;
      let chunk = raw;
      while (!chunk.includes('-->') && j + 1 < lines.length) chunk += '\n' + lines[++j]!;
      const m = MARK.exec(chunk);
      if (!m) throw new DocMarkError(`${where(i + 1)}: a doc-test mark that does not end with --> on its own`);
      const [, kind, rest = ''] = m;
      pending ??= { line: i + 1, setup: [] };
      const reason = /reason="([^"]+)"/.exec(rest)?.[1];
      if (kind === 'skip') {
        if (!reason) throw new DocMarkError(`${where(i + 1)}: doc-test skip needs reason="…"`);
        pending.skip = reason;
      } else if (kind === 'skip-commands') {
        const re = /skip-commands="([^"]+)"/.exec(m[0])?.[1];
        if (!re || !reason) throw new DocMarkError(`${where(i + 1)}: doc-test skip-commands needs skip-commands="REGEX" and reason="…"`);
        pending.skipCommands = { re: new RegExp(re), reason };
      } else if (kind === 'setup') {
        pending.setup.push(rest.replace(/^[^\n]*\n?/, '').trimEnd());
      } else {
        throw new DocMarkError(`${where(i + 1)}: unknown doc-test mark "${kind}" (skip, skip-commands or setup)`);
      }
      i = j;
      continue;
    }
    const fence = FENCE.exec(raw);
    if (!fence) {
      if (pending && raw.trim() !== '') throw new DocMarkError(`${where(pending.line)}: a doc-test mark must come right before a fenced shell block`);
      continue;
    }
    const [, indent = '', marker = '```', lang = ''] = fence;
    const body: { n: number; s: string }[] = [];
    let k = i + 1;
    for (; k < lines.length; k++) {
      const l = lines[k]!;
      if (l.trim().startsWith(marker) && l.trim().replace(/[`~]/g, '') === '') break;
      body.push({ n: k + 1, s: l.startsWith(indent) ? l.slice(indent.length) : l.trimStart() });
    }
    if (lang === 'sh' || lang === 'bash' || lang === 'console') {
      let commands = splitCommands(body, lang === 'console');
      // A block skipped as a whole counts once (a job-script excerpt is one thing, not twenty commands).
      if (pending?.skip && commands.length > 0) commands = [{ line: commands[0]!.line, text: commands[0]!.text, skip: pending.skip }];
      for (const c of commands) {
        if (pending?.skipCommands?.re.test(withoutComment(c.text))) c.skip = pending.skipCommands.reason;
      }
      blocks.push({ line: i + 1, lang, commands, setup: pending?.setup ?? [] });
    } else if (pending) {
      throw new DocMarkError(`${where(pending.line)}: a doc-test mark must come right before a sh, bash or console block, not "${lang || 'plain'}"`);
    }
    pending = undefined;
    i = k;
  }
  if (pending) throw new DocMarkError(`${where(pending.line)}: a doc-test mark with no block after it`);
  return blocks;
}

export function readDoc(file: string, name = file): DocBlock[] {
  return parseDoc(readFileSync(file, 'utf8'), name);
}

/**
 * Commands of a block: a line ending in `\`, `|`, `&&` or `||` continues on the next. Blank and
 * comment-only lines are not commands. In a console block, only `$ ` lines start commands.
 */
function splitCommands(body: { n: number; s: string }[], console: boolean): DocCommand[] {
  const out: DocCommand[] = [];
  let current: DocCommand | undefined;
  for (const { n, s } of body) {
    if (current) {
      current.text += '\n' + s;
      if (!continues(s)) current = undefined;
      continue;
    }
    let cmd: string;
    if (console) {
      if (!s.startsWith('$ ')) continue;
      cmd = s.slice(2);
    } else {
      cmd = s;
    }
    if (cmd.trim() === '' || cmd.trim().startsWith('#')) continue;
    const c: DocCommand = { line: n, text: cmd };
    out.push(c);
    if (continues(cmd)) current = c;
  }
  return out;
}

/** A trailing `# comment` off a line (not inside quotes, as the docs write them). */
function withoutComment(line: string): string {
  return line.replace(/\s+#[^'"]*$/, '').trimEnd();
}

function continues(line: string): boolean {
  const code = withoutComment(line);
  return /(\\|\||&&)$/.test(code);
}

export interface CommandResult extends DocCommand {
  /** works: exit 0; fails: another exit code, or never reached (the shell died or timed out). */
  outcome: 'works' | 'fails' | 'skipped';
  exitCode?: number;
  /** Wall-clock seconds the command took, when it finished. */
  seconds?: number;
}

/**
 * One bash script that runs a document's commands in order in one shell, as a reader does in one
 * terminal (variables, `cd` and `eval` carry over), and reports each exit code and duration on
 * fd 3 as `INDEX CODE SECONDS`. A failing command does not stop the rest. Output goes to stdout
 * with a `$ command` line before each.
 */
export function scriptFor(blocks: DocBlock[]): { script: string; commands: DocCommand[] } {
  const commands: DocCommand[] = [];
  const parts: string[] = [
    '#!/usr/bin/env bash',
    // The docs write `sudo` for ordinary users and tell root to leave it out: a root shell without sudo does that.
    'if [ "$(id -u)" = 0 ] && ! command -v sudo >/dev/null; then sudo() { if [ "$1" = -E ]; then shift; fi; "$@"; }; fi',
  ];
  for (const b of blocks) {
    for (const s of b.setup) parts.push(`# setup before line ${b.line}`, s);
    for (const c of b.commands) {
      const index = commands.push(c) - 1;
      if (c.skip) continue;
      // The timer variable's name is one no document uses; $EPOCHREALTIME is bash 5's clock.
      parts.push(`printf '\\n$ %s\\n' ${shellQuote(c.text)}`, '__doc_t0=$EPOCHREALTIME', c.text, `printf '%d %d %s %s\\n' ${index} $? "$__doc_t0" "$EPOCHREALTIME" >&3`);
    }
  }
  return { script: parts.join('\n') + '\n', commands };
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Results from the fd-3 report: commands without a line there never ran to the end. */
export function resultsOf(commands: DocCommand[], report: string): CommandResult[] {
  const codes = new Map<number, { code: number; seconds?: number }>();
  for (const l of report.split('\n')) {
    // The clock's decimal mark follows the locale (LC_NUMERIC): a comma reads as a point.
    const m = /^(\d+) (\d+)(?: ([\d.,]+) ([\d.,]+))?$/.exec(l.trim());
    const at = (s: string | undefined): number => Number(s?.replace(',', '.'));
    const seconds = Math.round((at(m?.[4]) - at(m?.[3])) * 10) / 10;
    if (m) codes.set(Number(m[1]), { code: Number(m[2]), ...(Number.isFinite(seconds) ? { seconds } : {}) });
  }
  return commands.map((c, i) => {
    if (c.skip) return { ...c, outcome: 'skipped' as const };
    const done = codes.get(i);
    return done === undefined
      ? { ...c, outcome: 'fails' as const }
      : { ...c, outcome: done.code === 0 ? ('works' as const) : ('fails' as const), exitCode: done.code, ...(done.seconds === undefined ? {} : { seconds: done.seconds }) };
  });
}
