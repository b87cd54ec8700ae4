import { describe, expect, it } from 'vitest';
import { DocMarkError, parseDoc, resultsOf, scriptFor } from './doc-commands.ts';

const md = (s: string): string => s.replace(/^\n/, '');

describe('the doc-command parser', () => {
  it('takes sh, bash and console blocks; in console only $ lines; joins continuation lines', () => {
    const blocks = parseDoc(
      md(`
text
\`\`\`sh
a --x \\
  --y   # comment
# only a comment
b | 
  c
\`\`\`
\`\`\`console
$ d
output line
\`\`\`
\`\`\`yaml
e: 1
\`\`\`
  \`\`\`bash
  f
  \`\`\`
`),
      'x.md',
    );
    expect(blocks.map((b) => b.commands.map((c) => [c.line, c.text]))).toEqual([
      [
        [3, 'a --x \\\n  --y   # comment'],
        [6, 'b | \n  c'],
      ],
      [[10, 'd']],
      [[17, 'f']],
    ]);
  });

  it('applies skip, skip-commands and setup marks, and counts a skipped block once', () => {
    const blocks = parseDoc(
      md(`
<!-- doc-test: skip reason="needs LUMI" -->
\`\`\`sh
one
two
\`\`\`
<!-- doc-test: setup
S=$(mktemp -d)
-->
<!-- doc-test: skip-commands="^npm ci$" reason="shared node_modules" -->

\`\`\`sh
npm ci   # install
npm start
\`\`\`
`),
      'x.md',
    );
    expect(blocks[0]!.commands).toEqual([{ line: 3, text: 'one', skip: 'needs LUMI' }]);
    expect(blocks[1]!.setup).toEqual(['S=$(mktemp -d)']);
    expect(blocks[1]!.commands.map((c) => c.skip)).toEqual(['shared node_modules', undefined]);
  });

  it('refuses marks it cannot apply, naming the line', () => {
    expect(() => parseDoc('<!-- doc-test: skip -->\n```sh\na\n```\n', 'x.md')).toThrow(/x\.md:1: doc-test skip needs reason/);
    expect(() => parseDoc('<!-- doc-test: skp reason="r" -->\n```sh\na\n```\n', 'x.md')).toThrow(DocMarkError);
    expect(() => parseDoc('<!-- doc-test: skip reason="r" -->\nprose\n```sh\na\n```\n', 'x.md')).toThrow(/x\.md:1: .*right before/);
    expect(() => parseDoc('<!-- doc-test: skip reason="r" -->\n```yaml\na: 1\n```\n', 'x.md')).toThrow(/not "yaml"/);
    expect(() => parseDoc('text\n<!-- doc-test: skip reason="r" -->\n', 'x.md')).toThrow(/x\.md:2: .*no block after it/);
  });

  it('runs the commands in one shell, carrying variables, and reports each exit code and duration', async () => {
    const { spawnSync } = await import('node:child_process');
    const { mkdtempSync, openSync, readFileSync, writeFileSync, closeSync } = await import('node:fs');
    const { join } = await import('node:path'); // eslint-disable-line @typescript-eslint/unbound-method -- path.join uses no `this`
    const { tmpdir } = await import('node:os');
    const blocks = parseDoc('```sh\nX=5\ntest "$X" = 5\nfalse\n```\n<!-- doc-test: skip reason="r" -->\n```sh\nexit 3\n```\n```sh\necho ok\nexit 7\necho never\n```\n', 'x.md');
    const { script, commands } = scriptFor(blocks);
    const dir = mkdtempSync(join(tmpdir(), 'doc-commands-'));
    writeFileSync(join(dir, 's.sh'), script);
    const fd = openSync(join(dir, 'codes'), 'w');
    spawnSync('bash', [join(dir, 's.sh')], { stdio: ['ignore', 'ignore', 'ignore', fd] });
    closeSync(fd);
    const results = resultsOf(commands, readFileSync(join(dir, 'codes'), 'utf8'));
    expect(results.map((r) => [r.text, r.outcome, r.exitCode])).toEqual([
      ['X=5', 'works', 0],
      ['test "$X" = 5', 'works', 0],
      ['false', 'fails', 1],
      ['exit 3', 'skipped', undefined],
      ['echo ok', 'works', 0],
      ['exit 7', 'fails', undefined],
      ['echo never', 'fails', undefined],
    ]);
    // Each finished command has its wall-clock time; one that never finished has none.
    const timed = parseDoc('```sh\nsleep 0.3\ntrue\n```\n', 'x.md');
    const t = scriptFor(timed);
    writeFileSync(join(dir, 't.sh'), t.script);
    const fd2 = openSync(join(dir, 'codes2'), 'w');
    spawnSync('bash', [join(dir, 't.sh')], { stdio: ['ignore', 'ignore', 'ignore', fd2] });
    closeSync(fd2);
    const [slow, quick] = resultsOf(t.commands, readFileSync(join(dir, 'codes2'), 'utf8'));
    expect(slow?.seconds).toBeGreaterThanOrEqual(0.3);
    expect(quick?.seconds).toBeLessThan(0.3);
    expect(results.map((r) => r.seconds === undefined)).toEqual([false, false, false, true, false, true, true]);
    // A report written under a locale whose decimal mark is a comma reads the same.
    expect(resultsOf(t.commands, '0 0 10,5 12,0\n1 1\n').map((r) => [r.outcome, r.seconds])).toEqual([
      ['works', 1.5],
      ['fails', undefined],
    ]);
  });
});
