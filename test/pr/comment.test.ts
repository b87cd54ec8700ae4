/**
 * The pull-request comment renders strings from pull-request code. Rendered as GitHub would
 * (GFM with autolinks, by `marked`), no such string may become a link, an image, HTML, or, in
 * the text GitHub's own filters read afterwards, a mention, a reference or a URL.
 */
import fc from 'fast-check';
import { marked } from 'marked';
import { describe, expect, it } from 'vitest';
import { renderComment } from '../../pipeline/src/pr/comment.ts';
import type { PlanReport, ValidateReport } from '../../pipeline/src/pr/report.ts';
import { codeText, htmlText, markdownText } from '../../pipeline/src/util/markdown.ts';

const html = (md: string): string => marked.parse(md, { gfm: true, async: false });

/** Tags the comment itself is made of, with the only attributes it uses. */
const OUR_TAGS = new Set(['h2', 'h3', 'p', 'strong', 'em', 'details', 'summary', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'code', 'pre', 'ul', 'li']);
const OUR_ATTRIBUTES = /^(?:open|class="language-diff")$/;

/** The text nodes of rendered HTML, entities decoded: what GitHub's mention and reference filters read. */
function textOf(h: string): string {
  return h
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d+|#x[0-9a-f]+|lt|gt|amp|quot|#39);/gi, (_m, e: string) =>
      e === 'lt'
        ? '<'
        : e === 'gt'
          ? '>'
          : e === 'amp'
            ? '&'
            : e === 'quot'
              ? '"'
              : e.startsWith('#x')
                ? String.fromCodePoint(parseInt(e.slice(2), 16))
                : String.fromCodePoint(Number(e.slice(1))),
    );
}

/** What must not be live in the rendered comment; each returns what it found. */
function liveThings(h: string): string[] {
  const found: string[] = [];
  for (const m of h.matchAll(/<\/?([A-Za-z][A-Za-z0-9-]*)([^>]*)>/g)) {
    const tag = m[1]!.toLowerCase();
    if (!OUR_TAGS.has(tag)) found.push(`tag <${tag}>`);
    for (const a of m[2]!.trim().split(/\s+/).filter(Boolean)) if (!OUR_ATTRIBUTES.test(a)) found.push(`attribute ${a} on <${tag}>`);
  }
  const text = textOf(h.replace(/<code[^>]*>[\s\S]*?<\/code>/g, ' ')); // GitHub links nothing inside code
  for (const [what, re] of [
    ['mention', /(?:^|[^\w`])@[A-Za-z0-9]/],
    ['issue reference', /#\d/],
    ['URL', /[A-Za-z][A-Za-z0-9+.-]*:\/\//],
    ['www', /www\./i],
    ['email', /[\w.+-]@[\w-]+\.[\w.-]/],
    ['scheme', /\b(?:javascript|mailto|data|vbscript):(?!\u200b)/i],
  ] as const) {
    const m = re.exec(text);
    if (m) found.push(`${what} ${JSON.stringify(text.slice(Math.max(0, m.index - 10), m.index + 20))}`);
  }
  return found;
}

const HOSTILE = [
  '@octocat',
  '@github/security-team',
  '[click](https://evil.example/x)',
  '![pixel](https://evil.example/p.gif)',
  '<https://evil.example>',
  'https://evil.example/a?b=c',
  'www.evil.example',
  'mail me: a@b.example',
  '<img src=x onerror=alert(1)>',
  '<a href="javascript:alert(1)">x</a>',
  'owner/repo#123 and #42',
  '```\nfence\n```',
  '| a | b |',
  '[ref]: https://evil.example',
  '[ref]',
  '<script>alert(1)</script>',
  '&lt;img src=x&gt;',
  '\\[x](https://evil.example)',
  'javascript:alert(1)',
  '**bold** _em_ ~~del~~',
  '@octocat\\| a | b |', // found by the property below: a backslash before a pipe ended the code span
];

function validateWith(message: string, extra: Partial<ValidateReport['diagnostics'][number]> = {}): ValidateReport {
  return {
    kind: 'brickyard-validate',
    version: 1,
    base: null,
    ok: false,
    errors: 1,
    warnings: 0,
    diagnostics: [{ file: 'catalog/recipes/x/1.0.0/recipe.yaml', line: 3, col: 5, severity: 'error', message, rule: 'schema', ...extra }],
  };
}

function planWith(s: string): PlanReport {
  return {
    kind: 'brickyard-plan',
    version: 1,
    batches: 1,
    plan: {
      pairs: [{ recipe: s, name: s, version: s, system: s, partition: s, runner: [s], because: [s], arch: 'x86_64', strategy: null }],
      skipped: [{ recipe: s, system: s, partition: s, reasons: [s] }],
      changed: [s],
      ignored: [],
      removed: [s],
    },
    diffs: [{ recipe: s, system: s, partition: s, status: s, files: [{ name: s, patch: s }] }],
  } as unknown as PlanReport;
}

describe('the escapers', () => {
  it('markdownText: Markdown, HTML and GitHub filters', () => {
    expect(markdownText('[x](https://e.example) www.a')).toBe('\\[x\\]\\(https\\:\u200b//e\\.example\\) www\u200b\\.a');
    expect(markdownText('@octocat #1')).toBe('@\u200boctocat \\#\u200b1');
    expect(markdownText('<b>&\'"')).toBe('&lt;b&gt;&amp;&#39;&quot;');
    expect(markdownText('a|b\nc')).toBe('a\\|b c');
  });
  it('htmlText: no backslashes (an HTML block shows them), filters broken', () => {
    expect(htmlText('x.y@z <b> #3 www.a')).toBe('x.y@\u200bz &lt;b&gt; #\u200b3 www\u200b.a');
  });
  it('codeText: nothing leaves the code span or the table row', () => {
    expect(codeText('a`b|c\nd')).toBe('a b\\|c d');
    expect(codeText('x\\|y')).toBe('x\\\u200b\\|y'); // the text's backslash cannot unescape our pipe
  });
});

describe('renderComment', () => {
  it('the frame itself is what the checker allows (the checker can fail: raw input trips it)', () => {
    expect(liveThings(html(renderComment(validateWith('plain'), planWith('plain'))))).toEqual([]);
    // The checker finds each kind of live thing when it is not escaped.
    expect(liveThings(html(HOSTILE.join('\n\n'))).join('\n')).toMatch(/tag <a>[\s\S]*tag <img>[\s\S]*mention[\s\S]*issue reference/);
  });

  it.each(HOSTILE)('nothing from %j is live', (s) => {
    const h = html(renderComment(validateWith(s, { file: s, rule: s }), planWith(s)));
    expect(liveThings(h)).toEqual([]);
  });

  it('property: no string from the reports becomes a live mention, link, image or HTML', () => {
    const token = fc.constantFrom(
      ...HOSTILE,
      '@',
      '#',
      '1',
      'a',
      ' ',
      '\n',
      '[',
      ']',
      '(',
      ')',
      '!',
      '<',
      '>',
      '`',
      '|',
      '\\',
      ':',
      '//',
      'http',
      'www',
      '.',
      '&',
      ';',
      '*',
      '_',
      '~',
      '"',
      "'",
      'example',
      '=',
    );
    const userString = fc.oneof(
      fc.array(token, { maxLength: 12 }).map((t) => t.join('')),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(userString, userString, (a, b) => {
        const h = html(renderComment(validateWith(a, { file: b, rule: a }), planWith(b)));
        const live = liveThings(h);
        if (live.length > 0) throw new Error(`${live.join('; ')} from ${JSON.stringify([a, b])}`);
      }),
      { numRuns: Number(process.env['FC_RUNS'] ?? 300) },
    );
  });

  it('still reads as the text that came in', () => {
    const h = html(renderComment(validateWith('needs [a-z] @home'), undefined));
    expect(textOf(h).replace(/\u200b/g, '')).toContain('needs [a-z] @home');
  });
});
