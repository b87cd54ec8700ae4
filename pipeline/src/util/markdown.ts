/**
 * Text from pull-request code, made inert for a GitHub comment. HTML escaping alone is not
 * enough: GitHub Flavored Markdown turns `[x](url)` into a link, `![](url)` into an image that
 * GitHub's camo proxy fetches (a tracking pixel), bare `https://…` / `www.…` / `a@b.org` into
 * autolinks; and GitHub's own filters, which run on the rendered HTML's text, turn `@user` into
 * a mention (a notification), `@org/team` into a team mention and `#123` / `owner/repo#123`
 * into issue references (a cross-reference event in that repository). Backslash escapes stop
 * the Markdown constructs but not GitHub's text filters, which see the unescaped text: those
 * are broken with a zero-width space (U+200B) after the `@`, `#`, `:` of a scheme, and `www`,
 * which reads the same and matches nothing. This is what Dependabot and Renovate do for
 * mentions in their pull-request bodies.
 *
 * No library fits: markdown-escape and friends handle CommonMark punctuation only, and know
 * nothing of GitHub's mention and reference filters.
 */
import { escapeHtml } from './html.ts';

const ZWSP = '\u200b';

/** GitHub's text filters: mentions, references, autolinked schemes and www. */
function breakGitHubFilters(s: string): string {
  return s
    .replace(/@/g, `@${ZWSP}`)
    .replace(/#/g, `#${ZWSP}`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/([Ww]{3})\./g, `$1${ZWSP}.`)
    .replace(/:(?=[A-Za-z0-9])/g, `:${ZWSP}`); // mailto:, javascript: and other scheme autolinks
}

/**
 * Text in Markdown context (a paragraph, a list item, a table cell): every ASCII punctuation
 * mark that Markdown gives a meaning to is backslash-escaped, `<`, `>`, `&` and quotes become
 * HTML entities, newlines become spaces (a table row, a list item stays one line), and
 * GitHub's text filters are broken.
 */
export function markdownText(s: string | number): string {
  // Filters first (their patterns see the plain text), entities last (`&#39;` keeps its `#`).
  const broken = breakGitHubFilters(String(s).replace(/\r\n?|\n/g, ' '));
  return escapeHtml(broken.replace(/[\\`*_{}[\]()#+\-.!|~^=:$]/g, (ch) => `\\${ch}`));
}

/**
 * Text in an HTML block (`<summary>…</summary>`), where Markdown is not parsed and a backslash
 * would show: HTML-escaped, one line, GitHub's text filters broken.
 */
export function htmlText(s: string | number): string {
  return escapeHtml(breakGitHubFilters(String(s).replace(/\r\n?|\n/g, ' ')));
}

/**
 * Text inside an inline code span in a table: nothing is parsed there (no links, mentions or
 * HTML), so only what could end the span or the row goes: backticks and newlines become spaces,
 * pipes are escaped (GitHub splits table cells on `|` even inside code spans). GitHub links no
 * mention or URL inside code, so those are left as they are.
 */
export function codeText(s: string | number): string {
  // A backslash of the text right before a pipe would turn our `\|` into `\\|`, which ends the
  // cell (and the code span) there: a zero-width space keeps the two apart.
  return String(s)
    .replace(/[`\r\n]/g, ' ')
    .replace(/\\(?=\|)/g, `\\${ZWSP}`)
    .replace(/\|/g, '\\|');
}
