/** HTML for the catalogue site: escaping, relative links, the page frame. No framework. */
import { posix } from 'node:path';
import { escapeHtml } from '../util/html.ts';

/** Text or attribute value: everything from the catalogue goes through this. */
export const esc = escapeHtml;

/** A link from one site page to another site path (both relative to the site root). */
export function rel(from: string, to: string): string {
  const [path, hash] = to.split('#') as [string, string | undefined];
  const r = posix.relative(posix.dirname(from), path) || posix.basename(path);
  return encodeURI(r) + (hash !== undefined ? `#${encodeURIComponent(hash)}` : '');
}

/** An external link (http/https only; anything else is shown as text). */
export function extLink(url: string, text = url): string {
  return /^https?:\/\//i.test(url) ? `<a href="${esc(url)}" rel="noopener noreferrer">${esc(text)}</a>` : esc(text);
}

/** A safe file or folder name for catalogue names and versions (they are validated, but still). */
export function slug(s: string): string {
  const x = s.replace(/[^A-Za-z0-9._-]/g, '_');
  return x === '' || /^\.+$/.test(x) ? `_${x}` : x;
}

export interface PageOptions {
  /** Path of the page inside the site, e.g. `recipes/stream/5.10/index.html`. */
  path: string;
  title: string;
  body: string;
  /** Load the bundled Mermaid and render `pre.mermaid` blocks. */
  diagrams?: boolean;
  /** One line under the page, e.g. the source commit. */
  footer?: string;
}

export function page(o: PageOptions): string {
  const to = (p: string): string => rel(o.path, p);
  const nav = [
    ['index.html#recipes', 'Recipes'],
    ['index.html#matrix', 'Matrix'],
    ['index.html#systems', 'Systems'],
  ]
    .map(([href, text]) => `<a href="${to(href!)}">${text}</a>`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} · Brickyard catalogue</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${to('assets/site.css')}">
</head>
<body>
<header class="top"><a class="brand" href="${to('index.html')}">Brickyard <span>catalogue</span></a><nav>${nav}</nav></header>
<main>
${o.body}
</main>
<footer>${o.footer ?? ''}</footer>
${o.diagrams ? `<script src="${to('assets/mermaid.min.js')}"></script>\n<script src="${to('assets/site.js')}"></script>\n` : ''}</body>
</html>
`;
}
