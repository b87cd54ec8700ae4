/**
 * `brickyard site`: a static catalogue site built from the catalogue and, where present, the
 * state folder (build records, smoke reports) and a bundle manifest with its signatures.
 * Plain HTML with one CSS file; the deployment diagrams are drawn in the page by a bundled copy
 * of Mermaid, so the site works with no network (no CDN). Every page links with relative paths,
 * so it works from a folder, a web server or GitHub Pages alike.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatBytes } from '../build/build.ts';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import type { Fit } from '../check/fit.ts';
import { systemPage } from '../docs/generate.ts';
import type { PartitionDoc, SystemDoc } from '../model/types.ts';
import { ComposeError } from '../render/compose.ts';
import { FILE_NAMES, FORMATS, type Rendered } from '../render/index.ts';
import { BrickyardError } from '../util/errors.ts';
import type { Workspace } from '../workspace.ts';
import { esc, extLink, page, rel, slug } from './html.ts';
import { pairKey, readState, type BuildInfo, type Signature, type SiteState, type SmokeInfo } from './state.ts';

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

interface Pair {
  recipe: ResolvedRecipe;
  system: SystemDoc;
  partition: PartitionDoc;
  fit: Fit;
  rendered: Rendered | undefined;
  renderError: string | undefined;
  builds: BuildInfo[];
  smokes: SmokeInfo[];
  signatures: Signature[];
}

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
      const fit = ws.checkAll([r], [p])[0]!;
      const key = pairKey(r.key, p.system.doc.id, p.partition.id);
      let rendered: Rendered | undefined;
      let renderError: string | undefined;
      if (fit.fits) {
        try {
          rendered = ws.render(r, p);
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
      const pair = pairs.get(pairKey(r.key, p.system.id, p.partition.id))!;
      if (!pair.rendered) continue;
      for (const f of FORMATS) write(`${base}/${pairSlug(p.system, p.partition)}/${FILE_NAMES[f]}`, pair.rendered.files[f]);
    }
  }
  for (const { doc } of ws.catalog.systems.values()) {
    write(`systems/${slug(doc.id)}.html`, systemSitePage(ctx, doc));
    write(`docs/systems/${slug(doc.id)}.md`, systemPage(doc));
  }
  return { pages, files: [...files].sort(), skipped: state.skipped };
}

interface Ctx {
  ws: Workspace;
  state: SiteState;
  recipes: ResolvedRecipe[];
  partitions: { system: SystemDoc; partition: PartitionDoc }[];
  pairs: Map<string, Pair>;
  footer: string;
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

function recipeDir(r: ResolvedRecipe): string {
  return `recipes/${slug(r.doc.name)}/${slug(r.doc.version)}`;
}

function pairSlug(s: SystemDoc, p: PartitionDoc): string {
  return `${slug(s.id)}-${slug(p.id)}`;
}

function footerOf(ws: Workspace, state: SiteState): string {
  const m = state.manifest;
  const parts = [
    `Built by <code>brickyard site</code> from ${ws.recipes.size} recipe versions and ${ws.catalog.systems.size} system templates`,
    m
      ? `bundle manifest${m.id ? ` ${esc(m.id)}` : ''}${m.serial !== undefined ? `, serial ${esc(m.serial)}` : ''}${m.commit ? `, commit <code>${esc(m.commit.slice(0, 12))}</code>` : ''}`
      : 'no bundle manifest',
    `${state.builds.length} build record(s), ${state.smokes.length} smoke report(s)`,
  ];
  return parts.join(' · ');
}

// ---------------------------------------------------------------------------------------------
// Small pieces

function verdictClass(v: string): string {
  return { PASSED: 'ok', WARNED: 'warn', FAILED: 'bad', SKIPPED: 'skip' }[v] ?? 'skip';
}

function badge(text: string, cls: string, title?: string): string {
  return `<span class="badge ${cls}"${title ? ` title="${esc(title)}"` : ''}>${esc(text)}</span>`;
}

function fmtNumber(n: number, digits = 2): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function shortDigest(d: string): string {
  return d.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]*$/, '$1…');
}

/** The smoke report that speaks for a pair: the one through the scheduler when there is one. */
function mainSmoke(smokes: SmokeInfo[]): SmokeInfo | undefined {
  return smokes.find((s) => s.launcher === 'slurm') ?? smokes[0];
}

function mpiFigures(s: SmokeInfo): string | undefined {
  const t = s.tests.find((x) => x.latencyUs !== undefined || x.bandwidthMBps !== undefined);
  if (!t) return undefined;
  const parts = [];
  if (t.latencyUs !== undefined) parts.push(`${fmtNumber(t.latencyUs)} µs`);
  if (t.bandwidthMBps !== undefined) parts.push(`${fmtNumber(t.bandwidthMBps, 0)} MB/s`);
  return parts.join(' · ');
}

function gpuVerdict(s: SmokeInfo): string | undefined {
  return s.tests.find((t) => t.kind === 'gpu-check')?.verdict;
}

function launchLine(r: Rendered): { submit: string; launch: string } {
  const lines = r.files.jobscript.trimEnd().split('\n');
  const note = lines.find((l) => l.startsWith('# Give your account or project when you submit:'));
  const sched = r.composition.system.scheduler.type;
  const submit = note ? note.replace(/^[^:]*: /, '').replace('<this script>', 'job.sh') : sched === 'pjm' ? 'pjsub job.sh' : sched === 'slurm' ? 'sbatch job.sh' : 'bash job.sh';
  return { submit, launch: lines.at(-1) ?? '' };
}

/**
 * A description as paragraphs: blank lines separate them, indented blocks stay preformatted,
 * `code` becomes <code>. Everything else is plain, escaped text (no Markdown beyond this).
 */
function prose(text: string): string {
  const inline = (t: string): string =>
    t
      .split('`')
      .map((part, i) => (i % 2 === 1 ? `<code>${esc(part)}</code>` : esc(part)))
      .join('');
  return text
    .trim()
    .split(/\n\s*\n/)
    .map((block) => {
      const lines = block.split('\n');
      if (lines.every((l) => /^ {2,}/.test(l))) {
        const indent = Math.min(...lines.map((l) => /^ */.exec(l)![0].length));
        return `<pre class="block">${esc(lines.map((l) => l.slice(indent)).join('\n'))}</pre>`;
      }
      return `<p>${inline(lines.map((l) => l.trim()).join(' '))}</p>`;
    })
    .join('\n');
}

function gpuText(p: PartitionDoc): string {
  return p.gpu ? `${p.gpu.count}× ${p.gpu.model} (${p.gpu.arch})` : 'no GPU';
}

// ---------------------------------------------------------------------------------------------
// Index

function indexPage(ctx: Ctx): string {
  const path = 'index.html';
  const { ws, recipes } = ctx;
  const fitting = [...ctx.pairs.values()].filter((p) => p.fit.fits).length;
  const byName = new Map<string, ResolvedRecipe[]>();
  for (const r of recipes) byName.set(r.doc.name, [...(byName.get(r.doc.name) ?? []), r]);

  const recipeRows = [...byName.entries()].map(([name, versions]) => {
    const newest = versions[versions.length - 1]!;
    const links = versions.map((v) => `<a href="${rel(path, `${recipeDir(v)}/index.html`)}">${esc(v.doc.version)}</a>${v.doc.deprecated ? ' <span class="muted">(deprecated)</span>' : ''}`).join(', ');
    return `<tr><th scope="row">${esc(name)}</th><td>${links}</td><td>${esc(newest.doc.summary)}</td><td>${esc(newest.doc.license ?? '—')}</td></tr>`;
  });

  const systemRows = [...ws.catalog.systems.values()].map(({ doc }) => {
    const runtimes = [...new Set(doc.partitions.map((p) => p.runtime.type))].join(', ');
    return `<tr><th scope="row"><a href="${rel(path, `systems/${slug(doc.id)}.html`)}">${esc(doc.name)}</a></th><td><code>${esc(doc.id)}</code></td><td>${doc.partitions.map((p) => esc(p.id)).join(', ')}</td><td>${esc(doc.scheduler.type)}</td><td>${esc(runtimes)}</td><td>${esc(doc.policy.builder)}, ${esc(doc.policy.buildWhere)}, ${esc(doc.policy.imageFormat)}</td></tr>`;
  });

  const body = `
<h1>Brickyard catalogue</h1>
<p class="lead">Verified HPC container recipes, rendered for each system partition they fit: ${recipes.length} recipe versions, ${ctx.partitions.length} partitions of ${ws.catalog.systems.size} systems, ${fitting} pairs that fit.</p>

<section id="recipes">
<h2>Recipes</h2>
<table class="list">
<thead><tr><th>recipe</th><th>versions</th><th>summary</th><th>licence</th></tr></thead>
<tbody>
${recipeRows.join('\n')}
</tbody>
</table>
</section>

<section id="matrix">
<h2>Recipe × system matrix</h2>
<p class="muted">Each cell: whether the recipe fits the partition (hover for the reason when it does not), the build and its digest, the smoke test with 8 B latency and 4 MiB bandwidth, and the GPU check.</p>
${matrix(ctx, path)}
<p class="legend">${badge('PASSED', 'ok')} ${badge('WARNED', 'warn')} ${badge('FAILED', 'bad')} ${badge('not built', 'skip')} <span class="no-sample">✗ does not fit</span></p>
</section>

<section id="systems">
<h2>Systems</h2>
<table class="list">
<thead><tr><th>system</th><th>id</th><th>partitions</th><th>scheduler</th><th>runtime</th><th>build</th></tr></thead>
<tbody>
${systemRows.join('\n')}
</tbody>
</table>
</section>`;
  return page({ path, title: 'Catalogue', body, footer: ctx.footer });
}

function matrix(ctx: Ctx, path: string): string {
  const head = ctx.partitions
    .map(({ system, partition }) => `<th scope="col"><a href="${rel(path, `systems/${slug(system.id)}.html`)}">${esc(system.id)}</a><br><span class="part">${esc(partition.id)}</span></th>`)
    .join('');
  const rows = ctx.recipes.map((r) => {
    const cells = ctx.partitions.map(({ system, partition }) => matrixCell(ctx.pairs.get(pairKey(r.key, system.id, partition.id))!, path)).join('');
    return `<tr data-recipe="${esc(r.key)}"><th scope="row"><a href="${rel(path, `${recipeDir(r)}/index.html`)}">${esc(r.doc.name)}</a><br><span class="part">${esc(r.doc.version)}</span></th>${cells}</tr>`;
  });
  return `<div class="scroll"><table class="matrix">
<thead><tr><th scope="col">recipe</th>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></div>`;
}

function matrixCell(p: Pair, path: string): string {
  const where = `${p.system.id}/${p.partition.id}`;
  if (!p.fit.fits) {
    const why = p.fit.reasons.join('; ');
    return `<td class="no" title="${esc(`does not fit ${where}: ${why}`)}"><span class="fit no">✗</span><span class="sr"> does not fit: ${esc(why)}</span></td>`;
  }
  const anchor = `${recipeDir(p.recipe)}/index.html#${pairSlug(p.system, p.partition)}`;
  if (!p.rendered) {
    return `<td class="broken" title="${esc(p.renderError ?? '')}"><a href="${rel(path, anchor)}">fits</a><br>${badge('render failed', 'bad')}</td>`;
  }
  const lines = [`<a class="fit yes" href="${rel(path, anchor)}" title="${esc(`fits ${where}${p.fit.strategy ? `; MPI: ${p.fit.strategy.id}` : ''}`)}">✓ fits</a>`];
  const b = p.builds[0];
  lines.push(b ? `<span class="digest" title="${esc(`${b.reference}\n${b.manifestDigest}`)}">${esc(shortDigest(b.manifestDigest).slice(7, 19))}</span>` : badge('not built', 'skip'));
  const s = mainSmoke(p.smokes);
  if (s) {
    const all = p.smokes.map((x) => `${x.launcher}: ${x.result}`).join(', ');
    lines.push(`${badge(s.result, verdictClass(s.result), `smoke (${all})`)}`);
    const figs = mpiFigures(s);
    if (figs) lines.push(`<span class="figs">${esc(figs)}</span>`);
    const g = gpuVerdict(s);
    if (g) lines.push(`${badge(`GPU ${g}`, verdictClass(g))}`);
  }
  return `<td class="yes">${lines.join('<br>')}</td>`;
}

// ---------------------------------------------------------------------------------------------
// Recipe page

function recipePage(ctx: Ctx, r: ResolvedRecipe): string {
  const path = `${recipeDir(r)}/index.html`;
  const d = r.doc;
  const req = d.requires;
  const mine = ctx.partitions.map(({ system, partition }) => ctx.pairs.get(pairKey(r.key, system.id, partition.id))!);
  const fitting = mine.filter((p) => p.fit.fits);

  const facts: [string, string][] = [
    ['version', `${esc(d.version)} (revision ${esc(d.revision)})`],
    ['licence', esc(d.license ?? 'not stated')],
    ...(d.homepage ? [['homepage', extLink(d.homepage)] as [string, string]] : []),
    ['maintainers', d.maintainers.map((m) => esc(m.name) + (m.github ? ` (<code>@${esc(m.github)}</code>)` : '')).join(', ')],
    ...(r.chain.length > 1 ? [['extends', r.chain.slice(1).map((e) => esc(`${e.doc.name}@${e.doc.version}`)).join(' → ')] as [string, string]] : []),
    ['base', `<code>${esc(d.base ?? '')}</code>`],
    ['blocks', r.blocks.length ? r.blocks.map((b) => `<code>${esc(b.item.use)}</code>${b.item.with && Object.keys(b.item.with).length ? ` <span class="muted">${esc(Object.entries(b.item.with).map(([k, v]) => `${k}=${v}`).join(' '))}</span>` : ''}`).join(', ') : 'none'],
    [
      'requires',
      esc(
        [
          req.architectures ? `architecture ${req.architectures.join(' or ')}` : 'any architecture',
          req.gpu && req.gpu.vendor !== 'none' ? `GPU ${req.gpu.vendor}${req.gpu.minCuda ? `, CUDA ≥ ${req.gpu.minCuda}` : ''}${req.gpu.minRocm ? `, ROCm ≥ ${req.gpu.minRocm}` : ''}` : 'no GPU',
          `MPI ${req.mpi ?? 'none'}`,
        ].join('; '),
      ),
    ],
    ['smoke tests', (d.smoke ?? []).length ? (d.smoke ?? []).map((t) => `<code>${esc(t.name)}</code> <span class="muted">(${esc(t.type)})</span>`).join(', ') : 'none'],
    ['size budget', esc(d.sizeBudget ?? 'none')],
    ['file', `<code>${esc(r.entry.file.rel)}</code>`],
  ];

  const fitRows = mine.map((p) => {
    const where = `${p.system.id}/${p.partition.id}`;
    const cell = p.fit.fits
      ? `<a href="#${pairSlug(p.system, p.partition)}">fits</a>${p.fit.strategy ? ` <span class="muted">MPI ${esc(p.fit.strategy.id)}</span>` : ''}${doubtNote(p.fit.doubts)}`
      : `<span class="fit no">✗</span> ${esc(p.fit.reasons.join('; '))}`;
    return `<tr><th scope="row"><a href="${rel(path, `systems/${slug(p.system.id)}.html`)}">${esc(where)}</a></th><td>${cell}</td></tr>`;
  });

  const body = `
<p class="crumbs"><a href="${rel(path, 'index.html#recipes')}">Recipes</a> / ${esc(d.name)}</p>
<h1>${esc(d.name)} <span class="ver">${esc(d.version)}</span></h1>
<p class="lead">${esc(d.summary)}</p>
${d.deprecated ? `<p class="notice">Deprecated: ${esc(d.deprecated.reason)}${d.deprecated.replacement ? ` Use ${esc(d.deprecated.replacement)} instead.` : ''}</p>` : ''}
${d.description ? `<div class="desc">${prose(d.description)}</div>` : ''}
<dl class="facts">
${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('\n')}
</dl>

<h2>Where it fits</h2>
<table class="list fits">
<tbody>
${fitRows.join('\n')}
</tbody>
</table>

${fitting.map((p) => pairSection(p, path)).join('\n')}`;
  return page({ path, title: `${d.name} ${d.version}`, body, diagrams: fitting.some((p) => p.rendered), footer: ctx.footer });
}

function pairSection(p: Pair, path: string): string {
  const id = pairSlug(p.system, p.partition);
  const where = `${p.system.id}/${p.partition.id}`;
  const head = `<h2 id="${id}">On <a href="${rel(path, `systems/${slug(p.system.id)}.html`)}">${esc(where)}</a> <span class="muted">${esc(p.partition.cpu.arch)}, ${esc(gpuText(p.partition))}</span></h2>`;
  if (!p.rendered) return `<section class="pair">${head}<p class="notice">Cannot be rendered: ${esc(p.renderError ?? 'unknown error')}</p></section>`;
  const r = p.rendered;
  const { submit, launch } = launchLine(r);
  const dir = `${recipeDir(p.recipe)}/${id}`;

  const b = p.builds[0];
  const budget = p.recipe.doc.sizeBudget;
  const size = b
    ? `${b.uncompressedBytes !== undefined ? formatBytes(b.uncompressedBytes) : '?'} uncompressed${b.compressedBytes !== undefined ? `, ${formatBytes(b.compressedBytes)} compressed` : ''}${b.budget ? ` (budget ${esc(b.budget)})` : ''}`
    : `not built yet${budget ? ` (budget ${esc(budget)})` : ''}`;
  const build = b
    ? `${esc(b.builder)}: <code>${esc(b.reference)}</code><br><code class="digest">${esc(b.manifestDigest)}</code>${b.created ? ` <span class="muted">created ${esc(b.created)}</span>` : ''}${b.reproducible === null ? '' : b.reproducible ? ' ' + badge('reproducible', 'ok') : ' ' + badge('not reproducible', 'warn')}`
    : '<span class="muted">no build record</span>';

  const smoke = p.smokes.length
    ? `<table class="list smoke"><thead><tr><th>launcher</th><th>result</th><th>test</th><th>verdict</th><th>latency 8 B</th><th>bandwidth 4 MiB</th></tr></thead><tbody>${p.smokes
        .flatMap((s) =>
          s.tests.map(
            (t, i) =>
              `<tr>${i === 0 ? `<td rowspan="${s.tests.length}">${esc(s.launcher)}</td><td rowspan="${s.tests.length}">${badge(s.result, verdictClass(s.result))}</td>` : ''}<td title="${esc(t.summary)}">${esc(t.name)} <span class="muted">(${esc(t.kind)})</span></td><td>${badge(t.verdict, verdictClass(t.verdict))}</td><td>${t.latencyUs !== undefined ? `${esc(fmtNumber(t.latencyUs))} µs` : '—'}</td><td>${t.bandwidthMBps !== undefined ? `${esc(fmtNumber(t.bandwidthMBps, 0))} MB/s` : '—'}</td></tr>`,
          ),
        )
        .join('')}</tbody></table>`
    : '<span class="muted">no smoke report</span>';

  const sigs = p.signatures.length
    ? `<ul class="sigs">${p.signatures
        .map((s) => `<li><code>${esc(s.file)}</code>${s.predicateType ? ` <span class="muted">${esc(s.predicateType)}</span>` : ''}<br>signed by <code>${esc(s.identity)}</code>${s.issuer ? ` (issuer <code>${esc(s.issuer)}</code>)` : ''}${s.signedAt ? ` <span class="muted">at ${esc(s.signedAt)}</span>` : ''}</li>`)
        .join('')}</ul><p class="muted">Identities are read from the certificates, not verified here: run <code>brickyard verify</code> with your pinned trusted root.</p>`
    : '<span class="muted">not signed yet</span>';

  const fileLinks = FORMATS.map((f) => `<a href="${rel(path, `${dir}/${FILE_NAMES[f]}`)}">${FILE_NAMES[f]}</a>`).join(' · ');
  return `<section class="pair">
${head}
<dl class="facts">
<dt>run</dt><dd><pre class="cmd"><code>${esc(`${submit}\n# job.sh launches:\n${launch}`)}</code></pre></dd>
<dt>MPI</dt><dd>${p.fit.strategy ? `${esc(p.fit.strategy.id)} <span class="muted">(${esc(p.fit.strategy.abi)} ABI)</span>` : 'not used'}</dd>
<dt>size</dt><dd>${size}</dd>
<dt>build</dt><dd>${build}</dd>
<dt>smoke</dt><dd>${smoke}</dd>
<dt>signatures</dt><dd>${sigs}</dd>
<dt>files</dt><dd>${fileLinks}</dd>
</dl>
<figure class="diagram" data-pair="${esc(where)}"><pre class="mermaid">${esc(r.files.diagram)}</pre><figcaption>Deployment of ${esc(p.recipe.key)} on ${esc(where)}</figcaption></figure>
</section>`;
}

// ---------------------------------------------------------------------------------------------
// System page

function systemSitePage(ctx: Ctx, s: SystemDoc): string {
  const path = `systems/${slug(s.id)}.html`;
  const parts = s.partitions.map(
    (p) => `<tr><th scope="row">${esc(p.id)}</th><td>${esc(p.cpu.arch)}${p.cpu.microarch ? ` (${esc(p.cpu.microarch)})` : ''}, ${esc(p.cpu.model)}</td><td>${esc(gpuText(p))}</td><td>${esc(p.runtime.type)}${p.runtime.version ? ` ${esc(p.runtime.version)}` : ''}</td><td>${esc(p.launcher.type)}</td><td>${p.mpi.strategies.map((m) => esc(m.id)).join(', ')}</td><td>${esc(p.memoryGiB)} GiB</td></tr>`,
  );
  const recipeRows = ctx.recipes.map((r) => {
    const cells = s.partitions.map((p) => {
      const pair = ctx.pairs.get(pairKey(r.key, s.id, p.id))!;
      return pair.fit.fits
        ? `<td${pair.fit.doubts.length ? ` title="${esc(pair.fit.doubts.join('; '))}"` : ''}><a href="${rel(path, `${recipeDir(r)}/index.html#${pairSlug(s, p)}`)}">fits</a>${pair.fit.doubts.length ? ' <span class="doubt">(in doubt)</span>' : ''}</td>`
        : `<td class="no" title="${esc(pair.fit.reasons.join('; '))}"><span class="fit no">✗</span> <span class="muted">${esc(pair.fit.reasons[0] ?? '')}</span></td>`;
    });
    return `<tr><th scope="row"><a href="${rel(path, `${recipeDir(r)}/index.html`)}">${esc(r.key)}</a></th>${cells.join('')}</tr>`;
  });
  const sources = Object.entries(s.sources).map(([id, src]) => `<li><code>${esc(id)}</code>: ${extLink(src.url, src.title ?? src.url)} <span class="muted">(${esc(src.kind)}, as of ${esc(src.asOf)})</span></li>`);
  const body = `
<p class="crumbs"><a href="${rel(path, 'index.html#systems')}">Systems</a> / ${esc(s.id)}</p>
<h1>${esc(s.name)} <span class="ver">${esc(s.id)}</span></h1>
${s.description ? `<div class="desc">${prose(s.description)}</div>` : ''}
<dl class="facts">
<dt>operator</dt><dd>${esc(s.operator ?? 'n/a')}</dd>
<dt>production</dt><dd>${s.production ? 'yes' : 'no'}</dd>
<dt>scheduler</dt><dd>${esc(s.scheduler.type)}${s.scheduler.version ? ` ${esc(s.scheduler.version)}` : ''}</dd>
<dt>interconnect</dt><dd>${esc(s.interconnect.type)}${s.interconnect.provider ? ` (${esc(s.interconnect.provider)})` : ''}</dd>
<dt>build</dt><dd>${esc(s.policy.builder)}, ${esc(s.policy.buildWhere)}, runner labels <code>${esc(s.policy.runnerLabels.join(', '))}</code>, image format ${esc(s.policy.imageFormat)}</dd>
${s.policy.notes ? `<dt>notes</dt><dd>${prose(s.policy.notes)}</dd>` : ''}
<dt>template</dt><dd><code>systems/${esc(s.id)}.yaml</code> · <a href="${rel(path, `docs/systems/${slug(s.id)}.md`)}">generated docs page</a></dd>
</dl>
<h2>Partitions</h2>
<table class="list">
<thead><tr><th>partition</th><th>CPU</th><th>GPU</th><th>runtime</th><th>launcher</th><th>MPI strategies</th><th>memory</th></tr></thead>
<tbody>
${parts.join('\n')}
</tbody>
</table>
<h2>Recipes</h2>
<table class="list">
<thead><tr><th>recipe</th>${s.partitions.map((p) => `<th>${esc(p.id)}</th>`).join('')}</tr></thead>
<tbody>
${recipeRows.join('\n')}
</tbody>
</table>
<h2>Sources</h2>
<ul>
${sources.join('\n')}
</ul>`;
  return page({ path, title: s.name, body, footer: ctx.footer });
}

/** For tests: the site-relative path of a file written by buildSite, read back. */
export function readSiteFile(out: string, path: string): string {
  return readFileSync(join(out, path), 'utf8');
}

/** Deciding template facts that are unverified or over a year old, beside a "fits". */
function doubtNote(doubts: readonly string[]): string {
  return doubts.length ? ` <span class="doubt">in doubt: ${esc(doubts.join('; '))}</span>` : '';
}
