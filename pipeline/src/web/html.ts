/**
 * HTML for the catalogue site, escaped by default. `html\`…\`` is a tagged template: every
 * interpolated value is escaped (text and attribute values alike) unless it is already `Html`,
 * made by `html` itself or by `trusted()` for the few strings that are known markup. Arrays are
 * joined, and `undefined`, `null` and `false` give nothing, so conditionals read naturally:
 * `${x ? html\`<b>${x}</b>\` : ''}`. No framework.
 */
import { posix } from 'node:path';
import { escapeHtml } from '../util/html.ts';

/** Markup that is safe to insert as it is. Only `html` and `trusted` make it. */
export class Html {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  toString(): string {
    return this.#value;
  }
}

export type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

function render(v: Interpolation): string {
  if (v === undefined || v === null || v === false) return '';
  if (v instanceof Html) return v.toString();
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  // String.raw interleaves the literal's parts with the values, so the (cooked) parts go in as `raw`.
  return new Html(String.raw({ raw: strings }, ...values.map(render)));
}

/** A string that is markup already (the bundled stylesheet, a constant). Never catalogue text. */
export function trusted(s: string): Html {
  return new Html(s);
}

/** Items joined by a separator (text separators are escaped like any value). */
export function join(items: readonly Interpolation[], sep: Interpolation = ''): Html {
  return new Html(items.map(render).join(render(sep)));
}

/** A link from one site page to another site path (both relative to the site root). */
export function rel(from: string, to: string): string {
  const [path, hash] = to.split('#') as [string, string | undefined];
  const r = posix.relative(posix.dirname(from), path) || posix.basename(path);
  return encodeURI(r) + (hash !== undefined ? `#${encodeURIComponent(hash)}` : '');
}

/** An external link (http/https only; anything else is shown as text). */
export function extLink(url: string, text = url): Html {
  return /^https?:\/\//i.test(url) ? html`<a href="${url}" rel="noopener noreferrer">${text}</a>` : html`${text}`;
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
  body: Html;
  /** The page has `pre.mermaid` diagrams: site.js loads the bundled Mermaid when one comes into view. */
  diagrams?: boolean;
  /** One line under the page, e.g. the source commit. */
  footer?: Html;
}

export function page(o: PageOptions): string {
  const to = (p: string): string => rel(o.path, p);
  const links: readonly (readonly [string, string])[] = [
    ['index.html#recipes', 'Recipes'],
    ['index.html#matrix', 'Matrix'],
    ['index.html#systems', 'Systems'],
  ];
  const nav = links.map(([href, text]) => html`<a href="${to(href)}">${text}</a>`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${o.title} · Brickyard catalogue</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${to('assets/site.css')}">
</head>
<body${o.diagrams ? html` data-mermaid="${to('assets/mermaid.min.js')}"` : ''}>
<a class="skip" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="${to('index.html')}">Brickyard <span>catalogue</span></a><nav aria-label="Site">${nav}</nav></header>
<main id="main" tabindex="-1">
${o.body}
</main>
<footer>${o.footer ?? ''}</footer>
<script src="${to('assets/site.js')}"></script>
</body>
</html>
`.toString();
}
