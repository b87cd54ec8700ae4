/**
 * The index: recipes (searchable, filterable by system, GPU vendor, licence and status, sortable),
 * the recipe × partition matrix, and the systems. Filtering and sorting run in the page (site.js)
 * over data attributes written here; nothing is fetched.
 */
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import { html, page, rel, slug, type Html } from './html.ts';
import { badge, gpuVerdict, mainSmoke, mpiFigures, pairOf, pairSlug, pairStatus, recipeDir, shortDigest, verdictClass, type Ctx, type Pair } from './pieces.ts';

const STATUS_LABELS: [string, string][] = [
  ['fits', 'fits at least one partition'],
  ['built', 'built'],
  ['passed', 'smoke test passed'],
  ['warned', 'smoke test warned'],
  ['failed', 'smoke test failed'],
  ['not-built', 'fits, not built yet'],
];

/** What a recipe row carries for the filters: text to search, systems it fits, GPU vendor, licence, statuses. */
function rowData(ctx: Ctx, r: ResolvedRecipe): Html {
  const mine = ctx.partitions.map(({ system, partition }) => pairOf(ctx.pairs, r, system, partition));
  const fits = mine.filter((p) => p.fit.fits);
  const statuses = new Set<string>(fits.length ? ['fits'] : []);
  for (const p of fits) {
    const s = pairStatus(p);
    statuses.add(s);
    if (s !== 'not-built') statuses.add('built');
  }
  const gpu = r.doc.requires.gpu?.vendor ?? 'none';
  return html` data-recipe="${r.key}" data-search="${`${r.doc.name} ${r.doc.version} ${r.doc.summary} ${r.doc.license ?? ''}`.toLowerCase()}" data-systems="${[...new Set(fits.map((p) => p.system.id))].join(' ')}" data-gpu="${gpu}" data-licence="${r.doc.license ?? ''}" data-status="${[...statuses].join(' ')}"`;
}

export function indexPage(ctx: Ctx): string {
  const path = 'index.html';
  const { ws, recipes } = ctx;
  const fitting = [...ctx.pairs.values()].filter((p) => p.fit.fits).length;
  const systems = [...ws.catalog.systems.values()].map((s) => s.doc);
  const licences = [...new Set(recipes.map((r) => r.doc.license ?? '').filter(Boolean))].sort();
  const vendors = [...new Set(recipes.map((r) => r.doc.requires.gpu?.vendor ?? 'none'))].sort();
  const vendorLabel = (v: string): string => ({ none: 'no GPU', nvidia: 'NVIDIA', amd: 'AMD', any: 'any vendor' })[v] ?? v;

  // The last version of each name in the list is its newest.
  const newest = new Map(recipes.map((r) => [r.doc.name, r]));
  const recipeRows = recipes.map((r) => {
    return html`<tr${rowData(ctx, r)}><th scope="row"><a href="${rel(path, `${recipeDir(r)}/index.html`)}">${r.doc.name}</a></th><td>${r.doc.version}${r.doc.deprecated ? html` <span class="muted">(deprecated)</span>` : ''}${r === newest.get(r.doc.name) ? '' : html` <span class="muted">(older)</span>`}</td><td>${r.doc.summary}</td><td>${r.doc.license ?? '—'}</td><td>${vendorLabel(r.doc.requires.gpu?.vendor ?? 'none')}</td></tr>`;
  });

  const systemRows = systems.map((doc) => {
    const runtimes = [...new Set(doc.partitions.map((p) => p.runtime.type))].join(', ');
    return html`<tr><th scope="row"><a href="${rel(path, `systems/${slug(doc.id)}.html`)}">${doc.name}</a></th><td><code>${doc.id}</code></td><td>${doc.partitions.map((p) => p.id).join(', ')}</td><td>${doc.scheduler.type}</td><td>${runtimes}</td><td>${doc.policy.builder}, ${doc.policy.buildWhere}, ${doc.policy.imageFormat}</td></tr>`;
  });

  const select = (id: string, label: string, options: [string, string][]): Html =>
    html`<label for="${id}">${label}</label><select id="${id}" data-filter="${id.replace('f-', '')}"><option value="">all</option>${options.map(([v, t]) => html`<option value="${v}">${t}</option>`)}</select>`;

  const body = html`
<h1>Brickyard catalogue</h1>
<p class="lead">Verified HPC container recipes, rendered for each system partition they fit: ${recipes.length} recipe versions, ${ctx.partitions.length} partitions of ${ws.catalog.systems.size} systems, ${fitting} pairs that fit.</p>

<form class="filters" role="search" aria-label="Find recipes">
<div><label for="f-q">Search</label><input id="f-q" type="search" data-filter="q" placeholder="name, summary, licence" autocomplete="off"></div>
<div>${select(
    'f-system',
    'System',
    systems.map((s) => [s.id, s.name]),
  )}</div>
<div>${select(
    'f-gpu',
    'GPU vendor',
    vendors.map((v) => [v, vendorLabel(v)]),
  )}</div>
<div>${select(
    'f-licence',
    'Licence',
    licences.map((l) => [l, l]),
  )}</div>
<div>${select('f-status', 'Status', STATUS_LABELS)}</div>
</form>
<p id="f-count" class="muted" aria-live="polite">${recipes.length} of ${recipes.length} recipe versions shown.</p>

<section id="recipes" aria-labelledby="recipes-h">
<h2 id="recipes-h">Recipes</h2>
<div class="scroll">
<table class="list sortable filterable">
<caption>Recipe versions: name, version, summary, licence and GPU vendor. Choose a column heading to sort.</caption>
<thead><tr><th scope="col" aria-sort="ascending"><button type="button" data-sort="0">recipe</button></th><th scope="col"><button type="button" data-sort="1">version</button></th><th scope="col">summary</th><th scope="col"><button type="button" data-sort="3">licence</button></th><th scope="col"><button type="button" data-sort="4">GPU</button></th></tr></thead>
<tbody>
${recipeRows.map((r) => html`${r}\n`)}</tbody>
</table>
</div>
<p class="empty" hidden>No recipe matches these filters.</p>
</section>

<section id="matrix" aria-labelledby="matrix-h">
<h2 id="matrix-h">Recipe × system matrix</h2>
<p class="muted">Each cell: whether the recipe fits the partition (and the first reason when it does not), the build and its digest, the smoke test with 8 B latency and 4 MiB bandwidth, and the GPU check. The recipe name leads to every detail.</p>
${matrix(ctx, path)}
<p class="legend">${badge('PASSED', 'ok')} ${badge('WARNED', 'warn')} ${badge('FAILED', 'bad')} ${badge('not built', 'skip')} <span class="fit no">✗ does not fit</span></p>
</section>

<section id="systems" aria-labelledby="systems-h">
<h2 id="systems-h">Systems</h2>
<div class="scroll">
<table class="list">
<caption>HPC systems with a template: partitions, scheduler, container runtime and how images are built.</caption>
<thead><tr><th scope="col">system</th><th scope="col">id</th><th scope="col">partitions</th><th scope="col">scheduler</th><th scope="col">runtime</th><th scope="col">build</th></tr></thead>
<tbody>
${systemRows.map((r) => html`${r}\n`)}</tbody>
</table>
</div>
</section>`;
  return page({ path, title: 'Catalogue', body, footer: ctx.footer });
}

function matrix(ctx: Ctx, path: string): Html {
  // Only the recipe links take a tab stop: a cell's link leads to the same recipe page (one stop per row, not per cell).
  const head = ctx.partitions.map(
    ({ system, partition }) =>
      html`<th scope="col" data-system="${system.id}"><a tabindex="-1" href="${rel(path, `systems/${slug(system.id)}.html`)}">${system.id}</a><br><span class="part">${partition.id}</span></th>`,
  );
  const rows = ctx.recipes.map((r) => {
    const pairs = ctx.partitions.map(({ system, partition }) => pairOf(ctx.pairs, r, system, partition));
    const fits = pairs.filter((p) => p.fit.fits).length;
    return html`<tr${rowData(ctx, r)}><th scope="row"><a href="${rel(path, `${recipeDir(r)}/index.html`)}">${r.doc.name}</a><br><span class="part">${r.doc.version}</span></th><td data-value="${fits}">${fits}</td>${pairs.map((p) => matrixCell(p, path))}</tr>`;
  });
  return html`<div class="scroll" tabindex="0" role="region" aria-labelledby="matrix-h"><table class="matrix sortable filterable">
<caption>Where each recipe version fits, with build and smoke status per system partition.</caption>
<thead><tr><th scope="col" aria-sort="ascending"><button type="button" data-sort="0">recipe</button></th><th scope="col"><button type="button" data-sort="1">fits</button></th>${head}</tr></thead>
<tbody>
${rows.map((r) => html`${r}\n`)}</tbody>
</table></div>`;
}

function matrixCell(p: Pair, path: string): Html {
  const where = `${p.system.id}/${p.partition.id}`;
  if (!p.fit.fits) {
    const why = p.fit.reasons.join('; ');
    return html`<td class="no" data-system="${p.system.id}" title="${`does not fit ${where}: ${why}`}"><span class="fit no">✗</span> <span class="why">${p.fit.reasons[0] ?? ''}</span></td>`;
  }
  const anchor = `${recipeDir(p.recipe)}/index.html#${pairSlug(p.system, p.partition)}`;
  if (!p.rendered) {
    return html`<td class="broken" data-system="${p.system.id}" title="${p.renderError ?? ''}"><a tabindex="-1" href="${rel(path, anchor)}">fits</a><br>${badge('render failed', 'bad')}</td>`;
  }
  const lines: Html[] = [
    html`<a class="fit yes" tabindex="-1" href="${rel(path, anchor)}" title="${`fits ${where}${p.fit.strategy ? `; MPI: ${p.fit.strategy.id}` : ''}`}">✓ fits</a>`,
  ];
  const b = p.builds[0];
  lines.push(b ? html`<span class="digest" title="${`${b.reference}\n${b.manifestDigest}`}">${shortDigest(b.manifestDigest).slice(7, 19)}</span>` : badge('not built', 'skip'));
  const s = mainSmoke(p.smokes);
  if (s) {
    const all = p.smokes.map((x) => `${x.launcher}: ${x.result}`).join(', ');
    lines.push(badge(s.result, verdictClass(s.result), `smoke (${all})`));
    const figs = mpiFigures(s);
    if (figs) lines.push(html`<span class="figs">${figs}</span>`);
    const g = gpuVerdict(s);
    if (g) lines.push(badge(`GPU ${g}`, verdictClass(g)));
  }
  return html`<td class="yes" data-system="${p.system.id}">${lines.map((l, i) => (i === 0 ? l : html`<br>${l}`))}</td>`;
}
