/**
 * `brickyard site`: a static catalogue site built from the catalogue and, where present, the
 * state folder (build records, smoke reports) and a bundle manifest with its signatures.
 * Plain HTML, escaped by default (html.ts), with one CSS file and one small script (search,
 * filters, sorting, copy buttons). The deployment diagrams are drawn in the page by a bundled copy
 * of Mermaid, loaded only when a diagram comes into view, so the site works with no network (no
 * CDN). Every page links with relative paths, so it works from a folder, a web server or GitHub
 * Pages alike. Rendered files are also written as `<name>.txt`, which browsers show as text.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemPage } from '../docs/generate.ts';
import { ComposeError } from '../render/compose.ts';
import { FILE_NAMES, FORMATS, type Rendered } from '../render/index.ts';
import { BrickyardError } from '../util/errors.ts';
import type { Workspace } from '../workspace.ts';
import { html, slug, type Html } from './html.ts';
import { indexPage } from './index-page.ts';
import { pairOf, pairSlug, recipeDir, type Ctx, type Pair } from './pieces.ts';
import { recipePage, textName } from './recipe-page.ts';
import { pairKey, readState, type Signature, type SiteState } from './state.ts';
import { systemSitePage } from './system-page.ts';

export interface SiteOptions {
  /** State folder with builds/<recipe>/<system>-<partition>/{build.json,smoke-*.json} and a bundle manifest. */
  stateDir?: string;
  /** A bundle manifest.json to show (default: the newest one found in the state folder). */
  manifest?: string;
}

export interface SiteResult {
  /** The HTML pages written, relative to the site root, in a stable order. */
  pages: string[];
  /** Every file written, relative to the site root. */
  files: string[];
  /** State files that could not be read. */
  skipped: string[];
}

/** Marks a folder as one this command wrote, so that it may be emptied and written again. */
const MARKER = '.brickyard-site';
const here = dirname(fileURLToPath(import.meta.url));

export function buildSite(ws: Workspace, out: string, opts: SiteOptions = {}): SiteResult {
  const root = resolve(out);
  prepareOut(root);
  const state = readState(opts.stateDir, opts.manifest);
  const files: string[] = [];
  const pages: string[] = [];
  const write = (path: string, text: string): void => {
    const abs = join(root, path);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, text);
    files.push(path);
    if (path.endsWith('.html')) pages.push(path);
  };

  // Assets: the style, the diagram starter and the bundled Mermaid.
  mkdirSync(join(root, 'assets'), { recursive: true });
  for (const name of ['site.css', 'site.js']) {
    copyFileSync(join(here, 'assets', name), join(root, 'assets', name));
    files.push(`assets/${name}`);
  }
  copyFileSync(mermaidBundle(ws.root), join(root, 'assets', 'mermaid.min.js'));
  files.push('assets/mermaid.min.js');
  writeFileSync(join(root, MARKER), 'written by `brickyard site`; the folder is emptied on the next run\n');

  const recipes = [...ws.recipes.values()].sort((a, b) => (a.doc.name === b.doc.name ? 0 : a.doc.name < b.doc.name ? -1 : 1));
  const partitions = ws.partitions();
  const pairs = new Map<string, Pair>();
  for (const r of recipes) {
    for (const p of partitions) {
      const pair = ws.pairAt(r, p);
      const fit = pair.fit;
      const key = pairKey(r.key, p.system.doc.id, p.partition.id);
      let rendered: Rendered | undefined;
      let renderError: string | undefined;
      if (fit.fits) {
        try {
          rendered = ws.render(pair);
        } catch (e) {
          if (!(e instanceof ComposeError) && !(e instanceof BrickyardError)) throw e;
          renderError = e instanceof ComposeError ? e.problems.join('; ') : e.message;
        }
      }
      pairs.set(key, {
        recipe: r,
        system: p.system.doc,
        partition: p.partition,
        fit,
        rendered,
        renderError,
        builds: state.builds.filter((b) => pairKey(b.recipe, b.system, b.partition) === key),
        smokes: state.smokes.filter((s) => pairKey(s.recipe, s.system, s.partition) === key),
        signatures: signaturesOf(state, r.key, p.system.doc.id, p.partition.id),
      });
    }
  }

  const footer = footerOf(ws, state);
  const ctx: Ctx = { ws, state, recipes, partitions: partitions.map((p) => ({ system: p.system.doc, partition: p.partition })), pairs, footer };

  write('index.html', indexPage(ctx));
  for (const r of recipes) {
    const base = recipeDir(r);
    write(`${base}/index.html`, recipePage(ctx, r));
    for (const p of ctx.partitions) {
      const pair = pairOf(pairs, r, p.system, p.partition);
      if (!pair.rendered) continue;
      for (const f of FORMATS) {
        write(`${base}/${pairSlug(p.system, p.partition)}/${FILE_NAMES[f]}`, pair.rendered.files[f]);
        write(`${base}/${pairSlug(p.system, p.partition)}/${textName(FILE_NAMES[f])}`, pair.rendered.files[f]);
      }
    }
  }
  for (const { doc } of ws.catalog.systems.values()) {
    write(`systems/${slug(doc.id)}.html`, systemSitePage(ctx, doc));
    write(`docs/systems/${slug(doc.id)}.md`, systemPage(doc));
  }
  return { pages, files: [...files].sort(), skipped: state.skipped };
}

/** An empty folder, a missing one, or one this command wrote before (emptied). Anything else is refused. */
function prepareOut(root: string): void {
  if (existsSync(root)) {
    const entries = readdirSync(root);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new BrickyardError('USAGE', `${root} is not empty and was not written by \`brickyard site\`; refusing to replace it`, {
        hint: 'give an empty or new folder with --out',
      });
    }
    for (const e of entries) rmSync(join(root, e), { recursive: true, force: true });
  }
  mkdirSync(root, { recursive: true });
}

/** node_modules/mermaid/dist/mermaid.min.js of the engine (or of the checkout). */
function mermaidBundle(wsRoot: string): string {
  const engine = resolve(here, '..', '..', '..');
  const candidates = [engine, wsRoot].map((r) => join(r, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js'));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new BrickyardError('TOOL_MISSING', `the bundled Mermaid is missing (looked for ${candidates.join(', ')})`, {
      hint: 'run `npm ci` in the Brickyard checkout: mermaid is one of its dev dependencies',
    });
  }
  return found;
}

function signaturesOf(state: SiteState, recipe: string, system: string, partition: string): Signature[] {
  const out = [...(state.pairSignatures.get(pairKey(recipe, system, partition)) ?? [])];
  const m = state.manifest;
  if (m) {
    for (const e of m.entries) {
      if (e.recipe !== recipe || (e.system !== `${system}/${partition}` && e.system !== system)) continue;
      const sig = m.entrySignatures.get(e.path);
      if (sig && !out.some((s) => s.file === sig.file && s.identity === sig.identity)) out.push(sig);
    }
  }
  return out;
}

function footerOf(ws: Workspace, state: SiteState): Html {
  const m = state.manifest;
  return html`Built by <code>brickyard site</code> from ${ws.recipes.size} recipe versions and ${ws.catalog.systems.size} system templates · ${
    m
      ? html`bundle manifest${m.id ? ` ${m.id}` : ''}${m.serial !== undefined ? `, serial ${m.serial}` : ''}${m.commit ? html`, commit <code>${m.commit.slice(0, 12)}</code>` : ''}`
      : 'no bundle manifest'
  } · ${state.builds.length} build record(s), ${state.smokes.length} smoke report(s)`;
}

/** For tests: the site-relative path of a file written by buildSite, read back. */
export function readSiteFile(out: string, path: string): string {
  return readFileSync(join(out, path), 'utf8');
}
