/**
 * The catalogue site, without a browser: the pages it writes, the matrix, build and smoke state,
 * signatures, HTML escaping of hostile catalogue text, links that resolve to files, and the
 * `site` command. The browser test (site.browser.test.ts) loads the same pages in Chromium.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../pipeline/src/cli/main.ts';
import { readSignature } from '../../pipeline/src/web/state.ts';
import { buildSite } from '../../pipeline/src/web/site.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { copyOfShipped, repoRoot, tempDir } from '../helpers/fixture.ts';

const SHIPPED = ['mpi-pingpong', 'osu-micro-benchmarks', 'stream', 'pytorch-mpi', 'julia-mpi'];
const VECTOR = join(repoRoot, 'test', 'fixtures', 'gh-attestation', 'sigstore-js-2.1.0-bundle.json');
const ws = Workspace.open(repoRoot);

/** A state folder: a build record and two smoke reports for mpi-pingpong on local/debug, a GPU smoke for mpi-pingpong-gpu on lumi. */
function stateFixture(): string {
  const state = tempDir('brickyard-site-state-');
  const dir = join(state, 'builds', 'mpi-pingpong@1.0.0', 'local-debug');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'build.json'),
    JSON.stringify({
      kind: 'brickyard-build',
      version: 1,
      recipe: { name: 'mpi-pingpong', version: '1.0.0', revision: 2 },
      system: 'local',
      partition: 'debug',
      builder: 'buildah',
      image: { reference: 'localhost/brickyard/mpi-pingpong:1.0.0-2-local-debug', manifestDigest: `sha256:${'ab12'.repeat(16)}` },
      sizes: { uncompressedBytes: 870104826, compressedBytes: 395664476, budget: '1 GiB' },
      reproducible: { checked: true, identical: true },
      created: '2026-11-28T19:23:49.000Z',
    }),
  );
  const smoke = (launcher: string, result: string, lat: number, bw: number): object => ({
    kind: 'brickyard-smoke',
    version: 1,
    result,
    recipe: 'mpi-pingpong@1.0.0',
    system: 'local',
    partition: 'debug',
    launcher,
    tests: [{ name: 'pingpong', kind: 'mpi-pingpong', verdict: result, summary: `<b>${launcher}</b>`, figures: { latency_8B_us: lat, bandwidth_4MiB_MBps: bw } }],
  });
  writeFileSync(join(dir, 'smoke-direct.json'), JSON.stringify(smoke('direct', 'WARNED', 0.5, 9000)));
  writeFileSync(join(dir, 'smoke-slurm.json'), JSON.stringify(smoke('slurm', 'PASSED', 0.21, 12345.6)));
  writeFileSync(join(dir, 'smoke-broken.json'), '{ not json');
  if (existsSync(VECTOR)) copyFileSync(VECTOR, join(dir, 'provenance.sigstore.json'));

  const gpuDir = join(state, 'builds', 'mpi-pingpong-gpu@1.0.0', 'lumi-standard-g');
  mkdirSync(gpuDir, { recursive: true });
  writeFileSync(
    join(gpuDir, 'smoke-slurm.json'),
    JSON.stringify({
      kind: 'brickyard-smoke',
      result: 'FAILED',
      recipe: 'mpi-pingpong-gpu@1.0.0',
      system: 'lumi',
      partition: 'standard-g',
      launcher: 'slurm',
      tests: [{ name: 'gpu', kind: 'gpu-check', verdict: 'FAILED', summary: 'no device visible' }],
    }),
  );
  return state;
}

function walk(root: string, dir = root): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(root, p) : [relative(root, p).split('\\').join('/')];
  });
}

function html(out: string, path: string): string {
  return readFileSync(join(out, path), 'utf8');
}

describe('catalogue site', () => {
  const state = stateFixture();
  const out = join(tempDir('brickyard-site-'), 'site');
  const result = buildSite(ws, out, { stateDir: state });

  it('writes an index, a page per recipe version and per system, the rendered files and the assets', () => {
    expect(result.pages[0]).toBe('index.html');
    for (const r of ws.recipes.values()) expect(result.pages).toContain(`recipes/${r.doc.name}/${r.doc.version}/index.html`);
    for (const id of ws.catalog.systems.keys()) {
      expect(result.pages).toContain(`systems/${id}.html`);
      expect(existsSync(join(out, 'docs', 'systems', `${id}.md`))).toBe(true);
    }
    expect(result.pages).toHaveLength(1 + ws.recipes.size + ws.catalog.systems.size);
    for (const f of ['job.sh', 'Containerfile', 'apptainer.def', 'lock.json', 'deployment.mmd']) {
      expect(existsSync(join(out, 'recipes/mpi-pingpong/1.0.0/lumi-standard-g', f))).toBe(true);
    }
    expect(readFileSync(join(out, 'recipes/mpi-pingpong/1.0.0/lumi-standard-g/deployment.mmd'), 'utf8')).toBe(
      ws.render(ws.pairOn('mpi-pingpong@1.0.0', 'lumi/standard-g')).files.diagram,
    );
    // Mermaid comes with the site: no CDN.
    const mermaid = join(repoRoot, 'node_modules', 'mermaid', 'dist', 'mermaid.min.js');
    expect(statSync(join(out, 'assets', 'mermaid.min.js')).size).toBe(statSync(mermaid).size);
    for (const page of result.pages) expect(html(out, page)).not.toMatch(/(src|href)="(https?:)?\/\/[^"]*\.(js|css)"/);
    expect(
      walk(out)
        .filter((f) => f !== '.brickyard-site')
        .sort(),
    ).toEqual(result.files);
    expect(result.skipped.map((s) => s.replace(/\\/g, '/'))).toEqual([expect.stringMatching(/smoke-broken\.json$/)]);
  });

  it('the matrix lists the shipped recipes against every partition, with fit reasons as tooltips', () => {
    const index = html(out, 'index.html');
    const matrix = index.slice(index.indexOf('<table class="matrix'), index.indexOf('</table>', index.indexOf('<table class="matrix')));
    const rows = [...matrix.matchAll(/<tr data-recipe="([^"]+)"/g)].map((m) => m[1]!.split('@')[0]);
    for (const name of SHIPPED) expect(rows).toContain(name);
    const cols = (matrix.match(/<th scope="col"/g) ?? []).length;
    expect(cols).toBe(2 + ws.partitions().length); // recipe, fits, one per partition
    const pytorch = matrix.slice(matrix.indexOf('data-recipe="pytorch-mpi@2.5.1"'));
    expect(pytorch).toMatch(/<td class="no" data-system="local" title="does not fit local\/debug: needs (a|an NVIDIA|an AMD) GPU; local\/debug has none/);
  });

  it('marks a fit whose deciding template fact is unverified or over a year old', () => {
    const page = html(out, 'recipes/mpi-pingpong-gpu/1.0.0/index.html');
    const row = (where: string): string => {
      const at = page.indexOf(`>${where}</a></th>`);
      return page.slice(at, page.indexOf('</tr>', at));
    };
    expect(row('frontier/batch')).toContain('<span class="doubt">in doubt: the driver level (ROCm 6.4.2) is unverified (systems/frontier.yaml /partitions/0/gpu/driver)</span>');
    // Alps' driver level is sourced (CSCS, 2026): no mark.
    expect(row('alps/normal')).not.toContain('doubt');
    const system = html(out, 'systems/frontier.html');
    expect(system).toContain('<span class="doubt">(in doubt)</span>');
  });

  it('shows build, smoke and GPU status where the state folder has them', () => {
    const full = html(out, 'index.html');
    const index = full.slice(full.indexOf('<table class="matrix'));
    const row = index.slice(index.indexOf('data-recipe="mpi-pingpong@1.0.0"'), index.indexOf('</tr>', index.indexOf('data-recipe="mpi-pingpong@1.0.0"')));
    expect(row).toContain('ab12ab12ab12');
    expect(row).toContain('title="smoke (direct: WARNED, slurm: PASSED)">PASSED</span>'); // the Slurm run speaks for the pair
    expect(row).toContain('0.21 µs · 12,346 MB/s');
    expect(row).toContain('not built');
    const gpuRow = index.slice(index.indexOf('data-recipe="mpi-pingpong-gpu@1.0.0"'));
    expect(gpuRow).toContain('GPU FAILED');

    const page = html(out, 'recipes/mpi-pingpong/1.0.0/index.html');
    const local = page.slice(page.indexOf('<h2 id="local-debug">'), page.indexOf('</section>', page.indexOf('<h2 id="local-debug">')));
    expect(local).toContain('829.8 MiB uncompressed, 377.3 MiB compressed (budget 1 GiB)');
    expect(local).toContain(`<code class="digest">sha256:${'ab12'.repeat(16)}</code>`);
    expect(local).toContain('reproducible');
    expect(local).toContain('title="&lt;b&gt;slurm&lt;/b&gt;"');
    expect(local).toContain('12,346 MB/s');
    expect(local).toContain('podman run');
    if (existsSync(VECTOR)) {
      expect(local).toContain('signed by <code>https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main</code>');
      expect(local).toContain('issuer <code>https://token.actions.githubusercontent.com</code>');
      expect(local).toContain('https://slsa.dev/provenance/v');
    }
    const lumi = page.slice(page.indexOf('<h2 id="lumi-standard-g">'), page.indexOf('</section>', page.indexOf('<h2 id="lumi-standard-g">')));
    expect(lumi).toContain('not signed yet');
    expect(lumi).toContain('not built yet (budget 1 GiB)');
    expect(lumi).toContain('sbatch --account=&lt;account&gt; job.sh');
    expect(lumi).toContain('srun --nodes=2 --ntasks-per-node=1 singularity exec --bind');
    expect(lumi).toMatch(/<pre class="mermaid" aria-label="[^"]*">%% Deployment of mpi-pingpong@1.0.0 on lumi\/standard-g/);
    // At the site: the image from the store into the runtime's format, the job script of the imported bundle, the modules, and how to verify.
    expect(lumi).toContain('singularity build mpi-pingpong_1.0.0-2_lumi-standard-g.sif oci:$SITE/store/oci:mpi-pingpong_1.0.0-2_lumi-standard-g');
    expect(lumi).toContain('the job script loads <code>LUMI/25.03</code>, <code>partition/G</code>, <code>singularity-bindings</code>');
    expect(lumi).toContain('--trusted-root $SITE/trusted_root.json');
    expect(local).toContain(`--artifact $SITE/store/oci/blobs/sha256/${'ab12'.repeat(16)}`);
    expect(local).toContain('skopeo copy oci:$SITE/store/oci:mpi-pingpong_1.0.0-2_local-debug containers-storage:localhost/brickyard/mpi-pingpong:1.0.0-2-local-debug');
  });

  it('reads signer identity and issuer from a Sigstore bundle without the network', () => {
    if (!existsSync(VECTOR)) return;
    const sig = readSignature(VECTOR)!;
    expect(sig.identity).toBe('https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main');
    expect(sig.issuer).toBe('https://token.actions.githubusercontent.com');
    expect(sig.predicateType).toMatch(/^https:\/\/slsa\.dev\/provenance\//);
  });

  it('shows a bundle manifest, its signature and the attestations it lists', () => {
    const st = tempDir('brickyard-site-manifest-');
    const bundle = join(st, 'bundles', '0007');
    mkdirSync(join(bundle, 'attestations'), { recursive: true });
    writeFileSync(
      join(bundle, 'manifest.json'),
      JSON.stringify({
        bundleId: 'by-<lumi>-7',
        serial: 7,
        source: { repository: 'https://github.com/hpc-org/brickyard', commit: 'c0ffee'.repeat(6) + 'ab12' },
        systems: ['lumi'],
        entries: [
          { path: 'attestations/stream.sigstore.json', size: 1, sha256: 'x', role: 'attestation', recipe: 'stream', version: '5.10', system: 'lumi', partition: 'small-g' },
        ],
      }),
    );
    if (existsSync(VECTOR)) {
      copyFileSync(VECTOR, join(bundle, 'manifest.json.sigstore.json'));
      copyFileSync(VECTOR, join(bundle, 'attestations', 'stream.sigstore.json'));
    }
    const o = join(tempDir(), 'site');
    buildSite(ws, o, { stateDir: st });
    const index = html(o, 'index.html');
    expect(index).toContain('bundle manifest by-&lt;lumi&gt;-7, serial 7, commit <code>c0ffeec0ffee</code>');
    if (existsSync(VECTOR)) {
      const page = html(o, 'recipes/stream/5.10/index.html');
      const small = page.slice(page.indexOf('<h2 id="lumi-small-g">'), page.indexOf('</section>', page.indexOf('<h2 id="lumi-small-g">')));
      expect(small).toContain('<code>stream.sigstore.json</code>');
      const standard = page.slice(page.indexOf('<h2 id="lumi-standard-g">'), page.indexOf('</section>', page.indexOf('<h2 id="lumi-standard-g">')));
      expect(standard).toContain('not signed yet');
    }
  });

  it('reads the manifest of a .tar bundle, dates from the records, the SBOM packages; rendered files as .txt; unverified values', () => {
    const st = tempDir('brickyard-site-tar-');
    const dir = join(st, 'builds', 'stream@5.10', 'local-debug');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'build.json'),
      JSON.stringify({
        kind: 'brickyard-build',
        recipe: { name: 'stream', version: '5.10', revision: 1 },
        system: 'local',
        partition: 'debug',
        builder: 'buildah',
        image: { reference: 'localhost/brickyard/stream:5.10-1-local-debug', refName: 'stream_5.10-1_local-debug', manifestDigest: `sha256:${'cd34'.repeat(16)}` },
        sizes: {},
        created: '2025-01-02T03:04:05.000Z', // SOURCE_DATE_EPOCH: the inputs' commit, not the build
        startedOn: '2026-12-01T10:00:00.000Z',
        finishedOn: '2026-12-01T10:02:00.000Z',
      }),
    );
    writeFileSync(
      join(dir, 'sbom.spdx.json'),
      JSON.stringify({
        spdxVersion: 'SPDX-2.3',
        packages: [
          { name: 'zlib1g', versionInfo: '1:1.2.13', licenseConcluded: 'Zlib' },
          { name: 'libc6', versionInfo: '2.36-9', licenseDeclared: 'NOASSERTION' },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'smoke-direct.json'),
      JSON.stringify({
        kind: 'brickyard-smoke',
        recipe: 'stream@5.10',
        system: 'local',
        partition: 'debug',
        launcher: 'direct',
        result: 'PASSED',
        finishedOn: '2026-12-02T08:00:00.000Z',
        tests: [],
      }),
    );
    // A tar bundle as `brickyard bundle` writes it: the manifest first.
    const src = tempDir();
    writeFileSync(
      join(src, 'manifest.json'),
      JSON.stringify({ bundleId: 'local-12-x', serial: 12, source: { repository: 'local/brickyard', commit: 'feed'.repeat(10) }, system: 'local', entries: [] }),
    );
    writeFileSync(join(src, 'checksums.txt'), '');
    mkdirSync(join(st, 'bundles'));
    execFileSync('tar', ['-cf', join(st, 'bundles', 'local-12.tar'), '-C', src, 'manifest.json', 'checksums.txt']);
    const o = join(tempDir(), 'site');
    buildSite(ws, o, { stateDir: st });
    const index = html(o, 'index.html');
    expect(index).toContain('bundle manifest local-12-x, serial 12, commit <code>feedfeedfeed</code>');
    const page = html(o, 'recipes/stream/5.10/index.html');
    const local = page.slice(page.indexOf('<h2 id="local-debug">'), page.indexOf('</section>', page.indexOf('<h2 id="local-debug">')));
    expect(local).toContain('last built 2026-12-01 10:02 UTC');
    expect(local).toContain('(inputs committed 2025-01-02 03:04 UTC)');
    expect(local).toContain('last tested 2026-12-02 08:00 UTC');
    expect(local).toContain('2 packages (SPDX 2.3 SBOM)');
    expect(local).toMatch(/<td>zlib1g<\/td><td>1:1.2.13<\/td><td>Zlib<\/td>/);
    expect(local).toMatch(/<td>libc6<\/td><td>2.36-9<\/td><td>—<\/td>/);
    // Rendered files: a .txt copy (shown as text by any static server) next to each download.
    expect(local).toContain('href="local-debug/Containerfile.txt"');
    expect(readFileSync(join(o, 'recipes/stream/5.10/local-debug/Containerfile.txt'), 'utf8')).toBe(readFileSync(join(o, 'recipes/stream/5.10/local-debug/Containerfile'), 'utf8'));
    // Unverified values of a template, as on its generated Markdown page.
    const sys = ws.catalog.systems.get('frontier')!.doc;
    const unverified = (sys.provenance ?? []).filter((x) => x.unverified);
    expect(unverified.length).toBeGreaterThan(0);
    const frontier = html(o, 'systems/frontier.html');
    for (const u of unverified) expect(frontier).toContain(`<li><code>${u.path}</code>`);
    expect(frontier).toContain(`${unverified.length} value(s) of this template are not verified`);
  });

  it('every link and asset resolves to a file of the site, and every fragment to an element', () => {
    let checked = 0;
    for (const page of result.pages) {
      const text = html(out, page);
      const ids = new Set([...text.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!));
      for (const m of text.matchAll(/\s(href|src)="([^"]*)"/g)) {
        const raw = m[2]!.replace(/&amp;/g, '&');
        if (/^(https?:|data:)/.test(raw)) continue;
        expect(raw, `${page}: absolute or odd link`).not.toMatch(/^(\/|[a-z]+:)/i);
        const [path, frag] = raw.split('#') as [string, string | undefined];
        const target = path === '' ? page : posix.normalize(posix.join(posix.dirname(page), decodeURI(path)));
        expect(existsSync(join(out, target)), `${page} links to ${raw}, which does not exist`).toBe(true);
        if (frag !== undefined) {
          const targetIds = target === page ? ids : new Set([...html(out, target).matchAll(/\sid="([^"]+)"/g)].map((x) => x[1]!));
          expect(targetIds.has(decodeURIComponent(frag)), `${page} links to #${frag} in ${target}`).toBe(true);
        }
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('escapes hostile catalogue text everywhere', () => {
    const root = copyOfShipped();
    const recipe = join(root, 'catalog/recipes/stream/5.10/recipe.yaml');
    const evil = `Evil <script>alert("x")</script> & 'q' <img src=x onerror=alert(1)>`;
    writeFileSync(recipe, readFileSync(recipe, 'utf8').replace(/^summary: .*$/m, `summary: ${JSON.stringify(evil)}`));
    const sys = join(root, 'systems/lumi.yaml');
    writeFileSync(sys, readFileSync(sys, 'utf8').replace('name: LUMI\n', `name: ${JSON.stringify('LU<b>MI</b>" onmouseover="x')}\n`));
    const w = Workspace.open(root);
    expect(w.recipe('stream@5.10').doc.summary).toBe(evil);
    const o = join(tempDir(), 'site');
    const r = buildSite(w, o, {});
    for (const page of r.pages) {
      const text = html(o, page);
      expect(text, page).not.toContain('<script>alert');
      expect(text, page).not.toContain('<img src=x');
      expect(text, page).not.toContain('<b>MI</b>');
      expect(text, page).not.toContain('" onmouseover="x');
    }
    expect(html(o, 'index.html')).toContain('Evil &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39; &lt;img src=x onerror=alert(1)&gt;');
    expect(html(o, 'systems/lumi.html')).toContain('<h1>LU&lt;b&gt;MI&lt;/b&gt;&quot; onmouseover=&quot;x');
    // In the diagram source the text is escaped twice: for Mermaid, then for HTML.
    expect(html(o, 'recipes/mpi-pingpong/1.0.0/index.html')).toContain('Crossing to LU#60;b#62;MI#60;/b#62;#quot; onmouseover=#quot;x');
  });

  it('is the same site twice; refuses a folder it did not write, and replaces one it did', () => {
    const again = join(tempDir(), 'site');
    buildSite(ws, again, { stateDir: state });
    for (const f of result.files) expect(readFileSync(join(again, f)).equals(readFileSync(join(out, f))), f).toBe(true);

    const foreign = tempDir();
    writeFileSync(join(foreign, 'thesis.tex'), 'precious');
    expect(() => buildSite(ws, foreign, {})).toThrow(/is not empty and was not written by `brickyard site`/);
    expect(readFileSync(join(foreign, 'thesis.tex'), 'utf8')).toBe('precious');

    writeFileSync(join(again, 'stale.html'), 'old');
    buildSite(ws, again, {});
    expect(existsSync(join(again, 'stale.html'))).toBe(false);
    expect(html(again, 'index.html')).toContain('no bundle manifest · 0 build record(s), 0 smoke report(s)');
  });

  it('`brickyard site --out DIR --state DIR` builds it', async () => {
    let stdout = '';
    let stderr = '';
    const dir = join(tempDir(), 'site');
    const code = await main(['--root', repoRoot, 'site', '--out', dir, '--state', state], { out: (s) => void (stdout += s), err: (s) => void (stderr += s) });
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^wrote ${result.pages.length} pages \\(\\d+ files\\) to .*site; open .*index\\.html\\n$`));
    expect(stderr).toContain('skipped unreadable state file');
    expect(html(dir, 'index.html')).toContain('0.21 µs · 12,346 MB/s');
    const refused = await main(['--root', repoRoot, 'site', '--out', repoRoot], { out: () => undefined, err: (s) => void (stderr += s) });
    expect(refused).toBe(2);
    expect(stderr).toContain('[USAGE]');
  });
});
