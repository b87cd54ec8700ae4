/**
 * A recipe version's page: its facts, where it fits, and per pair how to get and run the image at
 * the site, what the job script needs loaded, the last build and test, the SBOM's packages, the
 * signatures and how to verify them, the rendered files and the deployment diagram.
 */
import { formatBytes } from '../build/build.ts';
import type { ResolvedRecipe } from '../catalog/resolve.ts';
import { FILE_NAMES, FORMATS, type Rendered } from '../render/index.ts';
import { imageFileName, imageReference } from '../render/jobscript.ts';
import type { Signature } from './state.ts';
import { extLink, html, join, page, rel, slug, type Html } from './html.ts';
import { badge, copyable, fmtNumber, fmtWhen, gpuText, pairOf, pairSlug, prose, recipeDir, verdictClass, type Ctx, type Pair } from './pieces.ts';

/** The text view of each rendered file: the same bytes with .txt, so browsers show it instead of downloading. */
export function textName(file: string): string {
  return `${file}.txt`;
}

export function recipePage(ctx: Ctx, r: ResolvedRecipe): string {
  const path = `${recipeDir(r)}/index.html`;
  const d = r.doc;
  const mine = ctx.partitions.map(({ system, partition }) => pairOf(ctx.pairs, r, system, partition));
  const fitting = mine.filter((p) => p.fit.fits);

  const facts = recipeFacts(r);
  const fitRows = mine.map((p) => fitRow(p, path));

  const body = html`
<p class="crumbs"><a href="${rel(path, 'index.html#recipes')}">Recipes</a> / ${d.name}</p>
<h1>${d.name} <span class="ver">${d.version}</span></h1>
<p class="lead">${d.summary}</p>
${d.deprecated ? html`<p class="notice">Deprecated: ${d.deprecated.reason}${d.deprecated.replacement ? ` Use ${d.deprecated.replacement} instead.` : ''}</p>` : ''}
${d.description ? html`<div class="desc">${prose(d.description)}</div>` : ''}
<dl class="facts">
${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>\n`)}</dl>

<h2>Where it fits</h2>
<div class="scroll">
<table class="list fits">
<caption>Every system partition, and why the recipe does not fit where it does not.</caption>
<thead><tr><th scope="col">partition</th><th scope="col">fit</th></tr></thead>
<tbody>
${fitRows.map((x) => html`${x}\n`)}</tbody>
</table>
</div>

${fitting.map((p) => html`${pairSection(p, path)}\n`)}`;
  return page({ path, title: `${d.name} ${d.version}`, body, diagrams: fitting.some((p) => p.rendered), footer: ctx.footer });
}

/** The recipe's facts list: version, licence, people, what it extends and uses, what it requires and tests. */
function recipeFacts(r: ResolvedRecipe): [string, Html | string][] {
  const d = r.doc;
  const req = d.requires;
  return [
    ['version', `${d.version} (revision ${d.revision})`],
    ['licence', d.license ?? 'not stated'],
    ...(d.homepage ? [['homepage', extLink(d.homepage)] as [string, Html]] : []),
    [
      'maintainers',
      join(
        d.maintainers.map((m) => html`${m.name}${m.github ? html` (<code>@${m.github}</code>)` : ''}`),
        ', ',
      ),
    ],
    ...(r.chain.length > 1
      ? [
          [
            'extends',
            r.chain
              .slice(1)
              .map((e) => `${e.doc.name}@${e.doc.version}`)
              .join(' → '),
          ] as [string, string],
        ]
      : []),
    ['base', html`<code>${d.base}</code>`],
    [
      'blocks',
      r.blocks.length
        ? join(
            r.blocks.map(
              (b) =>
                html`<code>${b.item.use}</code>${
                  b.item.with && Object.keys(b.item.with).length
                    ? html` <span class="muted">${Object.entries(b.item.with)
                        .map(([k, v]) => `${k}=${v}`)
                        .join(' ')}</span>`
                    : ''
                }`,
            ),
            ', ',
          )
        : 'none',
    ],
    [
      'requires',
      [
        req.architectures ? `architecture ${req.architectures.join(' or ')}` : 'any architecture',
        req.gpu && req.gpu.vendor !== 'none'
          ? `GPU ${req.gpu.vendor}${req.gpu.minCuda ? `, CUDA ≥ ${req.gpu.minCuda}` : ''}${req.gpu.minRocm ? `, ROCm ≥ ${req.gpu.minRocm}` : ''}`
          : 'no GPU',
        `MPI ${req.mpi ?? 'none'}`,
      ].join('; '),
    ],
    [
      'smoke tests',
      (d.smoke ?? []).length
        ? join(
            (d.smoke ?? []).map((t) => html`<code>${t.name}</code> <span class="muted">(${t.type})</span>`),
            ', ',
          )
        : 'none',
    ],
    ['size budget', d.sizeBudget ?? 'none'],
    ['file', html`<code>${r.entry.file.rel}</code>`],
  ];
}

/** One partition's row in the "where it fits" table: a link to the pair's section, or why not. */
function fitRow(p: Pair, path: string): Html {
  const where = `${p.system.id}/${p.partition.id}`;
  const cell = p.fit.fits
    ? html`<a href="#${pairSlug(p.system, p.partition)}">fits</a>${p.fit.strategy ? html` <span class="muted">MPI ${p.fit.strategy.id}</span>` : ''}${p.fit.doubts.length ? html` <span class="doubt">in doubt: ${p.fit.doubts.join('; ')}</span>` : ''}`
    : html`<span class="fit no">✗</span> ${p.fit.reasons.join('; ')}`;
  return html`<tr><th scope="row"><a href="${rel(path, `systems/${slug(p.system.id)}.html`)}">${where}</a></th><td>${cell}</td></tr>`;
}

function launchLine(r: Rendered): { submit: string; launch: string } {
  const lines = r.files.jobscript.trimEnd().split('\n');
  const note = lines.find((l) => l.startsWith('# Give your account or project when you submit:'));
  const sched = r.composition.system.scheduler.type;
  const submit = note ? note.replace(/^[^:]*: /, '').replace('<this script>', 'job.sh') : sched === 'pjm' ? 'pjsub job.sh' : sched === 'slurm' ? 'sbatch job.sh' : 'bash job.sh';
  return { submit, launch: lines.at(-1) ?? '' };
}

/** The modules the job script loads, in order (the runtime's, the partition's, the MPI strategy's). */
export function modulesOf(r: Rendered): string[] {
  const c = r.composition;
  return [...(c.partition.runtime.module ? [c.partition.runtime.module] : []), ...(c.partition.modules ?? []), ...(c.strategy?.modules ?? [])];
}

/** Shell lines that put the image where the partition's runtime finds it, from the site store or the site registry. */
export function getImageCommands(p: Pair, rendered: Rendered): string {
  const c = rendered.composition;
  const refName = p.builds[0]?.refName || `${p.recipe.doc.name}_${p.recipe.doc.version}-${p.recipe.doc.revision}_${p.system.id}-${p.partition.id}`;
  const reference = imageReference(c);
  const repoTag = reference.replace(/^localhost\//, '');
  const store = `oci:$SITE/store/oci:${refName}`;
  const rt = c.partition.runtime;
  const file = imageFileName(c);
  let fromStore: string;
  let fromRegistry: string;
  if (rt.type === 'podman' || rt.type === 'podman-hpc') {
    fromStore = `skopeo copy ${store} containers-storage:${reference}${rt.type === 'podman-hpc' ? `\npodman-hpc migrate ${reference}` : ''}`;
    fromRegistry = `${rt.command} pull $REGISTRY/${repoTag}`;
  } else if (file.endsWith('.sif')) {
    fromStore = `${rt.command} build ${file} ${store}`;
    fromRegistry = `${rt.command} pull ${file} docker://$REGISTRY/${repoTag}`;
  } else if (file.endsWith('.sqsh')) {
    fromStore = `skopeo copy ${store} containers-storage:${reference}\nenroot import -o ${file} podman://${reference}`;
    fromRegistry = `enroot import -o ${file} docker://$REGISTRY#${repoTag}`;
  } else {
    fromStore = `skopeo copy ${store} oci-archive:${file}`;
    fromRegistry = `skopeo copy docker://$REGISTRY/${repoTag} oci-archive:${file}`;
  }
  const pairDir = `builds/${p.recipe.key}/${pairSlug(p.system, p.partition)}`;
  return [
    `# after \`brickyard import\` into $SITE/store: the image, from the store`,
    fromStore,
    `# (or from your site registry, REGISTRY=host:port: ${fromRegistry.split('\n')[0]})`,
    `# the job script of the imported bundle`,
    `cp "$(ls -d $SITE/store/bundles/*/${pairDir} | tail -1)/job.sh" job.sh`,
    launchLine(rendered).submit,
  ].join('\n');
}

function verifyCommand(p: Pair): string {
  const b = p.builds[0];
  const sig: Signature | undefined = p.signatures.find((s) => s.file.startsWith('provenance')) ?? p.signatures[0];
  const dev = sig?.identity.startsWith('brickyard-dev://') ?? false;
  const pairDir = `builds/${p.recipe.key}/${pairSlug(p.system, p.partition)}`;
  return [
    `B=$(ls -d $SITE/store/bundles/*/${pairDir} | tail -1)`,
    `npx brickyard verify --sigstore-bundle $B/provenance.sigstore.json \\`,
    `  --artifact $SITE/store/oci/blobs/sha256/${b ? b.manifestDigest.replace(/^sha256:/, '') : '<manifest digest of the image>'} \\`,
    `  --trusted-root $SITE/trusted_root.json \\`,
    `  --identity '${sig?.identity ?? '<the signer identity your policy lists>'}' \\`,
    `  --issuer '${sig?.issuer ?? '<its OIDC issuer>'}'${dev ? ' --ctlog-threshold 0' : ''}`,
  ].join('\n');
}

function pairSection(p: Pair, path: string): Html {
  const id = pairSlug(p.system, p.partition);
  const where = `${p.system.id}/${p.partition.id}`;
  const head = html`<h2 id="${id}">On <a href="${rel(path, `systems/${slug(p.system.id)}.html`)}">${where}</a> <span class="muted">${p.partition.cpu.arch}, ${gpuText(p.partition)}</span></h2>`;
  if (!p.rendered) return html`<section class="pair">${head}<p class="notice">Cannot be rendered: ${p.renderError ?? 'unknown error'}</p></section>`;
  const r = p.rendered;
  const { submit, launch } = launchLine(r);
  const dir = `${recipeDir(p.recipe)}/${id}`;
  const modules = modulesOf(r);

  const b = p.builds[0];
  const budget = p.recipe.doc.sizeBudget;
  const size = b
    ? `${b.uncompressedBytes !== undefined ? formatBytes(b.uncompressedBytes) : '?'} uncompressed${b.compressedBytes !== undefined ? `, ${formatBytes(b.compressedBytes)} compressed` : ''}${b.budget ? ` (budget ${b.budget})` : ''}`
    : `not built yet${budget ? ` (budget ${budget})` : ''}`;
  const built = b?.finishedOn ?? b?.startedOn;
  const build = b
    ? html`${b.builder}: <code>${b.reference}</code><br><code class="digest">${b.manifestDigest}</code>${built ? html`<br>last built ${fmtWhen(built)}` : ''}${b.created ? html` <span class="muted">(inputs committed ${fmtWhen(b.created)})</span>` : ''}${b.reproducible === null ? '' : b.reproducible ? html` ${badge('reproducible', 'ok')}` : html` ${badge('not reproducible', 'warn')}`}`
    : html`<span class="muted">no build record</span>`;

  const tested = p.smokes
    .map((s) => s.finishedOn)
    .filter((x): x is string => !!x)
    .sort()
    .at(-1);
  const smoke = p.smokes.length
    ? html`${tested ? html`<p class="when">last tested ${fmtWhen(tested)}</p>` : ''}<div class="scroll"><table class="list smoke"><caption>Smoke tests of ${p.recipe.key} on ${where}</caption><thead><tr><th scope="col">launcher</th><th scope="col">result</th><th scope="col">test</th><th scope="col">verdict</th><th scope="col">latency 8 B</th><th scope="col">bandwidth 4 MiB</th></tr></thead><tbody>${p.smokes.flatMap(
        (s) =>
          s.tests.map(
            (t, i) =>
              html`<tr>${i === 0 ? html`<td rowspan="${s.tests.length}">${s.launcher}</td><td rowspan="${s.tests.length}">${badge(s.result, verdictClass(s.result))}</td>` : ''}<td title="${t.summary}">${t.name} <span class="muted">(${t.kind})</span>${t.summary ? html`<br><span class="muted small">${t.summary}</span>` : ''}</td><td>${badge(t.verdict, verdictClass(t.verdict))}</td><td>${t.latencyUs !== undefined ? `${fmtNumber(t.latencyUs)} µs` : '—'}</td><td>${t.bandwidthMBps !== undefined ? `${fmtNumber(t.bandwidthMBps, 0)} MB/s` : '—'}</td></tr>`,
          ),
      )}</tbody></table></div>`
    : html`<span class="muted">no smoke report</span>`;

  const pkgs = b?.sbomPackages;
  const sbom = pkgs
    ? html`<details><summary>${pkgs.length} packages (SPDX 2.3 SBOM)</summary><div class="scroll"><table class="list pkgs"><caption>Packages of the image</caption><thead><tr><th scope="col">package</th><th scope="col">version</th><th scope="col">licence</th></tr></thead><tbody>${pkgs.map((x) => html`<tr><td>${x.name}</td><td>${x.version}</td><td>${x.license || '—'}</td></tr>`)}</tbody></table></div></details>`
    : html`<span class="muted">${b ? 'no SBOM next to the build record' : 'not built yet'}</span>`;

  const sigs = p.signatures.length
    ? html`<ul class="sigs">${p.signatures.map((s) => html`<li><code>${s.file}</code>${s.predicateType ? html` <span class="muted">${s.predicateType}</span>` : ''}<br>signed by <code>${s.identity}</code>${s.issuer ? html` (issuer <code>${s.issuer}</code>)` : ''}${s.signedAt ? html` <span class="muted">at ${s.signedAt}</span>` : ''}</li>`)}</ul><p class="muted">Identities are read from the certificates, not verified here. Verify offline with your pinned trusted root:</p>`
    : html`<span class="muted">not signed yet</span><p class="muted">Once signed and imported, verify offline with your pinned trusted root:</p>`;

  const fileLinks = FORMATS.map(
    (f) =>
      html`<a href="${rel(path, `${dir}/${textName(FILE_NAMES[f])}`)}">${FILE_NAMES[f]}</a> <a class="muted small" href="${rel(path, `${dir}/${FILE_NAMES[f]}`)}" download aria-label="${`download ${FILE_NAMES[f]}`}">(download)</a>`,
  );
  const capId = `${id}-diagram`;
  return html`<section class="pair" aria-labelledby="${id}">
${head}
<dl class="facts">
<dt>get and run at the site</dt><dd>${copyable(`commands to get and run ${p.recipe.key} on ${where}`, getImageCommands(p, r))}</dd>
<dt>job script</dt><dd><pre class="cmd"><code>${`${submit}\n# job.sh launches:\n${launch}`}</code></pre></dd>
<dt>modules</dt><dd>${
    modules.length
      ? html`the job script loads ${join(
          modules.map((m) => html`<code>${m}</code>`),
          ', ',
        )}; they must exist on the partition`
      : 'none'
  }</dd>
<dt>MPI</dt><dd>${p.fit.strategy ? html`${p.fit.strategy.id} <span class="muted">(${p.fit.strategy.abi} ABI)</span>` : 'not used'}</dd>
<dt>size</dt><dd>${size}</dd>
<dt>build</dt><dd>${build}</dd>
<dt>smoke</dt><dd>${smoke}</dd>
<dt>SBOM</dt><dd>${sbom}</dd>
<dt>signatures</dt><dd>${sigs}${copyable(`command to verify the provenance of ${p.recipe.key} on ${where}`, verifyCommand(p))}</dd>
<dt>files</dt><dd>${join(fileLinks, ' · ')}</dd>
</dl>
<figure class="diagram" data-pair="${where}" aria-labelledby="${capId}"><pre class="mermaid" aria-label="${`Mermaid source of the deployment diagram of ${p.recipe.key} on ${where}`}">${r.files.diagram}</pre><figcaption id="${capId}">Deployment of ${p.recipe.key} on ${where}</figcaption></figure>
</section>`;
}
