/** A system's page: its facts, partitions, which recipes fit, its sources, and the values nobody has verified yet. */
import type { SystemDoc } from '../model/types.ts';
import { extLink, html, join, page, rel, slug } from './html.ts';
import { gpuText, pairOf, pairSlug, prose, recipeDir, type Ctx } from './pieces.ts';

export function systemSitePage(ctx: Ctx, s: SystemDoc): string {
  const path = `systems/${slug(s.id)}.html`;
  const parts = s.partitions.map(
    (p) =>
      html`<tr><th scope="row">${p.id}</th><td>${p.cpu.arch}${p.cpu.microarch ? ` (${p.cpu.microarch})` : ''}, ${p.cpu.model}</td><td>${gpuText(p)}</td><td>${p.runtime.type}${p.runtime.version ? ` ${p.runtime.version}` : ''}${p.runtime.module ? html`<br><span class="muted">module <code>${p.runtime.module}</code></span>` : ''}</td><td>${p.launcher.type}</td><td>${p.mpi.strategies.map((m) => m.id).join(', ')}</td><td>${p.memoryGiB} GiB</td></tr>`,
  );
  const recipeRows = ctx.recipes.map((r) => {
    const cells = s.partitions.map((p) => {
      const pair = pairOf(ctx.pairs, r, s, p);
      return pair.fit.fits
        ? html`<td${pair.fit.doubts.length ? html` title="${pair.fit.doubts.join('; ')}"` : ''}><a href="${rel(path, `${recipeDir(r)}/index.html#${pairSlug(s, p)}`)}">fits</a>${pair.fit.doubts.length ? html` <span class="doubt">(in doubt)</span>` : ''}</td>`
        : html`<td class="no" title="${pair.fit.reasons.join('; ')}"><span class="fit no">✗</span> <span class="why">${pair.fit.reasons[0] ?? ''}</span></td>`;
    });
    return html`<tr><th scope="row"><a href="${rel(path, `${recipeDir(r)}/index.html`)}">${r.key}</a></th>${cells}</tr>`;
  });
  const sources = Object.entries(s.sources).map(
    ([id, src]) => html`<li><code>${id}</code>: ${extLink(src.url, src.title ?? src.url)} <span class="muted">(${src.kind}, as of ${src.asOf})</span></li>`,
  );
  const unverified = (s.provenance ?? []).filter((p) => p.unverified);
  const body = html`
<p class="crumbs"><a href="${rel(path, 'index.html#systems')}">Systems</a> / ${s.id}</p>
<h1>${s.name} <span class="ver">${s.id}</span></h1>
${s.description ? html`<div class="desc">${prose(s.description)}</div>` : ''}
${unverified.length ? html`<p class="notice">${unverified.length} value(s) of this template are not verified against the centre's documentation yet: see <a href="#unverified">unverified values</a>.</p>` : ''}
<dl class="facts">
<dt>operator</dt><dd>${s.operator ?? 'n/a'}</dd>
<dt>production</dt><dd>${s.production ? 'yes' : 'no'}</dd>
<dt>scheduler</dt><dd>${s.scheduler.type}${s.scheduler.version ? ` ${s.scheduler.version}` : ''}</dd>
<dt>interconnect</dt><dd>${s.interconnect.type}${s.interconnect.provider ? ` (${s.interconnect.provider})` : ''}</dd>
<dt>build</dt><dd>${s.policy.builder}, ${s.policy.buildWhere}, runner labels <code>${s.policy.runnerLabels.join(', ')}</code>, image format ${s.policy.imageFormat}</dd>
${s.policy.notes ? html`<dt>notes</dt><dd>${prose(s.policy.notes)}</dd>` : ''}
<dt>template</dt><dd><code>systems/${s.id}.yaml</code> · <a href="${rel(path, `docs/systems/${slug(s.id)}.md`)}">generated docs page</a></dd>
</dl>
<h2>Partitions</h2>
<div class="scroll">
<table class="list">
<caption>Partitions of ${s.name}: CPU, GPU, container runtime, launcher, MPI strategies and memory per node.</caption>
<thead><tr><th scope="col">partition</th><th scope="col">CPU</th><th scope="col">GPU</th><th scope="col">runtime</th><th scope="col">launcher</th><th scope="col">MPI strategies</th><th scope="col">memory</th></tr></thead>
<tbody>
${parts.map((x) => html`${x}\n`)}</tbody>
</table>
</div>
<h2>Recipes</h2>
<div class="scroll">
<table class="list">
<caption>Which recipe versions fit each partition of ${s.name}, and the first reason where one does not.</caption>
<thead><tr><th scope="col">recipe</th>${s.partitions.map((p) => html`<th scope="col">${p.id}</th>`)}</tr></thead>
<tbody>
${recipeRows.map((x) => html`${x}\n`)}</tbody>
</table>
</div>
<h2>Sources</h2>
<ul>
${join(sources, '\n')}
</ul>
<h2 id="unverified">Unverified values</h2>
${
  unverified.length
    ? html`<p>These values come from the template's authors but have not been checked against a source yet. Treat them as guesses until they are.</p><ul class="unverified">${unverified.map((u) => html`<li><code>${u.path}</code>${u.note ? html`: ${u.note.trim().replace(/\s+/g, ' ')}` : ''}</li>`)}</ul>`
    : html`<p>None: every value has a source.</p>`
}`;
  return page({ path, title: s.name, body, footer: ctx.footer });
}
