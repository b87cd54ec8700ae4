/**
 * The catalogue site in a real browser: Debian's Chromium, headless, driven by playwright-core,
 * serving the built site from a tiny static server on 127.0.0.1. Pages load without console
 * errors or requests leaving the machine, the matrix shows the shipped recipes, search, filters
 * and sorting work, the deployment diagrams render with the bundled Mermaid (loaded once, when a
 * diagram comes into view), no page scrolls sideways at 375 px, axe-core finds no serious or
 * critical violation, and every internal link answers 200. Screenshots (index, a recipe page, the
 * phone view, a system page, a diagram) go to test-artifacts/. Without /usr/bin/chromium the test is skipped, except under CI (CI set),
 * where it fails.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSite } from '../../pipeline/src/web/site.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
const inCi = Boolean(process.env['CI']);
const SHIPPED = ['mpi-pingpong', 'osu-micro-benchmarks', 'stream', 'pytorch-mpi', 'julia-mpi'];
const ARTIFACTS = join(repoRoot, 'test-artifacts');
const AXE = join(repoRoot, 'node_modules', 'axe-core', 'axe.min.js');
const mermaidLoads = new WeakMap<Page, number>();
const mermaidRequests = (page: Page): number => mermaidLoads.get(page) ?? 0;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

/** Files under `root`, nothing outside it; folders answer with their index.html. */
function serve(root: string): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let path = normalize(join(root, decodeURIComponent(url.pathname)));
    if (path !== root && !path.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(path) && statSync(path).isDirectory()) path = join(path, 'index.html');
    if (!existsSync(path) || !statSync(path).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    // As a static host does: unknown types (Containerfile, job.sh, .mmd) are binary and download.
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream' });
    res.end(readFileSync(path));
  });
  return new Promise((ok) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      ok({ server, base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/` });
    });
  });
}

/** A state folder with a build record and a Slurm smoke report for mpi-pingpong on local/debug. */
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
  writeFileSync(
    join(dir, 'smoke-slurm.json'),
    JSON.stringify({
      kind: 'brickyard-smoke',
      version: 1,
      result: 'PASSED',
      recipe: 'mpi-pingpong@1.0.0',
      system: 'local',
      partition: 'debug',
      launcher: 'slurm',
      tests: [
        { name: 'pingpong', kind: 'mpi-pingpong', verdict: 'PASSED', summary: 'fine', figures: { latency_8B_us: 0.21, bandwidth_4MiB_MBps: 12345.6 } },
        { name: 'gpu', kind: 'gpu-check', verdict: 'SKIPPED', summary: 'the partition has no GPU' },
      ],
    }),
  );
  return state;
}

const title = missing
  ? `catalogue site in Chromium (skipped: ${CHROMIUM} is missing; install Debian's chromium, scripts/setup-host.sh does)`
  : 'catalogue site in headless Chromium';

describe.skipIf(missing && !inCi)(title, () => {
  let out: string;
  let server: Server | undefined;
  let base: string;
  let context: BrowserContext | undefined;
  let userData: string;
  const problems: string[] = [];

  beforeAll(async () => {
    if (missing) throw new Error(`${CHROMIUM} is missing and CI is set: install Debian's chromium (scripts/setup-host.sh)`);
    out = join(tempDir('brickyard-site-'), 'site');
    buildSite(Workspace.open(repoRoot), out, { stateDir: stateFixture() });
    ({ server, base } = await serve(out));
    userData = mkdtempSync(join(tmpdir(), 'brickyard-chromium-'));
    context = await chromium.launchPersistentContext(userData, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1440, height: 900 },
    });
    context.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('about:')) problems.push(`request left the machine: ${u}`);
    });
  });

  afterAll(async () => {
    await context?.close();
    await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
    if (userData) rmSync(userData, { recursive: true, force: true });
  });

  async function open(path: string): Promise<{ page: Page; errors: string[] }> {
    const page = await context!.newPage();
    const errors: string[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/mermaid.min.js')) mermaidLoads.set(page, mermaidRequests(page) + 1);
    });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    page.on('response', (r) => {
      if (r.status() >= 400) errors.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    const res = await page.goto(base + path, { waitUntil: 'load' });
    expect(res?.status(), path).toBe(200);
    return { page, errors };
  }

  /** Scroll every diagram into view (they are drawn lazily) and wait until all are drawn. */
  async function drawAll(page: Page): Promise<number> {
    const figures = await page.locator('figure.diagram').count();
    for (let i = 0; i < figures; i++) await page.locator('figure.diagram').nth(i).scrollIntoViewIfNeeded();
    await page.waitForFunction(`document.documentElement.dataset.diagrams === 'failed' || Number(document.documentElement.dataset.diagrams) >= ${figures}`, undefined, {
      timeout: 90_000,
    });
    expect(await page.evaluate('document.documentElement.dataset.diagrams')).toBe(String(figures));
    return figures;
  }

  /** axe-core's serious and critical violations on the page, one line each. */
  async function axeViolations(page: Page): Promise<string[]> {
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate<{ violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] }>(
      'axe.run(document, { resultTypes: ["violations"] })',
    );
    return result.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.length}× e.g. ${v.nodes[0]?.target.join(' ')})`);
  }

  it('index: the matrix shows the shipped recipes, with fit, build and smoke status; no Mermaid on it', async () => {
    const { page, errors } = await open('index.html');
    const rows = await page.locator('table.matrix tbody tr th a').allTextContents();
    for (const name of SHIPPED) expect(rows, `matrix row for ${name}`).toContain(name);
    const cols = await page.locator('table.matrix thead th').count();
    expect(cols).toBe(2 + Workspace.open(repoRoot).partitions().length);
    // A pair that does not fit explains itself, visibly (not only on hover); the built pair shows its smoke figures.
    const noFit = page.locator('tr[data-recipe="pytorch-mpi@2.5.1"] td.no').first();
    expect(await noFit.getAttribute('title')).toMatch(/^does not fit \S+: needs /);
    expect(await noFit.locator('.why').isVisible()).toBe(true);
    expect(await noFit.locator('.why').textContent()).toMatch(/^needs /);
    const built = await page.locator('table.matrix tr[data-recipe="mpi-pingpong@1.0.0"] td.yes').allTextContents();
    expect(built.join('\n')).toContain('0.21 µs · 12,346 MB/s');
    // Recipe names on the index are links.
    expect(await page.locator('#recipes tbody th a').count()).toBe(Workspace.open(repoRoot).recipes.size);
    // The matrix takes one tab stop per recipe (its name) plus the sort buttons, not one per cell.
    const stops = await page.evaluate(`[...document.querySelectorAll('table.matrix a, table.matrix button')].filter((e) => e.tabIndex >= 0).length`);
    expect(stops).toBe(Workspace.open(repoRoot).recipes.size + 2);
    expect(mermaidRequests(page)).toBe(0);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'site-index.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('search, filters and sorting work in the page', async () => {
    const { page, errors } = await open('index.html');
    const visible = async (sel: string): Promise<string[]> =>
      page.locator(`${sel} tbody tr:visible`).evaluateAll((trs: { getAttribute(name: string): string | null }[]) => trs.map((tr) => tr.getAttribute('data-recipe') ?? ''));
    const all = await visible('#recipes table');
    expect(all.length).toBe(Workspace.open(repoRoot).recipes.size);

    await page.fill('#f-q', 'Ping-Pong');
    const shown = await visible('#recipes table');
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(all.length);
    expect(shown).toContain('mpi-pingpong@1.0.0');
    expect(shown).not.toContain('stream@5.10');
    expect(await page.locator('#f-count').textContent()).toBe(`${(await visible('#recipes table')).length} of ${all.length} recipe versions shown.`);
    await page.fill('#f-q', 'no such recipe anywhere');
    expect(await visible('#recipes table')).toEqual([]);
    expect(await page.locator('#recipes .empty').isVisible()).toBe(true);
    await page.fill('#f-q', '');

    // Status: only the pair with a passing smoke report (mpi-pingpong on local) is "passed".
    await page.selectOption('#f-status', 'passed');
    expect(await visible('#recipes table')).toEqual(['mpi-pingpong@1.0.0']);
    await page.selectOption('#f-status', '');

    // GPU vendor: recipes that need an AMD or NVIDIA GPU, or none.
    await page.selectOption('#f-gpu', 'none');
    const cpu = await visible('#recipes table');
    expect(cpu).toContain('stream@5.10');
    expect(cpu).not.toContain('mpi-pingpong-gpu@1.0.0');
    await page.selectOption('#f-gpu', '');

    // System: the matrix keeps only that system's columns, and recipes that fit it.
    await page.selectOption('#f-system', 'fugaku');
    const heads = await page.locator('table.matrix thead th:visible').allTextContents();
    expect(heads.length).toBe(2 + Workspace.open(repoRoot).partitionsOf('fugaku').length);
    expect(heads.slice(2).every((h) => h.startsWith('fugaku'))).toBe(true);
    expect(await visible('table.matrix')).not.toContain('pytorch-mpi@2.5.1');
    await page.selectOption('#f-system', '');

    // Licence.
    await page.selectOption('#f-licence', 'LicenseRef-STREAM');
    expect(await visible('#recipes table')).toEqual(['stream@5.10']);
    await page.selectOption('#f-licence', '');

    // Sorting the matrix by the number of partitions a recipe fits, then back by name.
    await page.click('table.matrix button[data-sort="1"]');
    await page.click('table.matrix button[data-sort="1"]');
    expect(await page.locator('table.matrix thead th').nth(1).getAttribute('aria-sort')).toBe('descending');
    const fits = await page.locator('table.matrix tbody tr td:nth-child(2)').allTextContents();
    expect(fits.map(Number)).toEqual([...fits.map(Number)].sort((a, b) => b - a));
    await page.click('#recipes button[data-sort="0"]'); // sorted by name already: now the other way
    expect(await page.locator('#recipes thead th').nth(0).getAttribute('aria-sort')).toBe('descending');
    const names = await page.locator('#recipes tbody th').allTextContents();
    expect(names).toEqual([...names].sort((a, b) => b.localeCompare(a, 'en', { numeric: true })));
    expect(errors).toEqual([]);
    await page.close();
  });

  it('recipe page: Mermaid loads once, when a diagram comes into view, and every diagram renders as a labelled SVG', async () => {
    const { page, errors } = await open('recipes/mpi-pingpong/1.0.0/index.html');
    const figures = await drawAll(page);
    expect(figures).toBeGreaterThan(5);
    expect(mermaidRequests(page)).toBe(1);
    expect(await page.locator('figure.diagram svg[role="img"][aria-labelledby]').count()).toBe(figures);
    const lumi = page.locator('figure.diagram[data-pair="lumi/standard-g"] svg');
    expect(await lumi.count()).toBe(1);
    const text = await lumi.textContent();
    expect(text).toContain('host-injection');
    expect(text).toContain('signed manifest.json');
    // The commands to get and run the image at the site, and to verify it, are there to copy.
    const lumiSection = page.locator('section.pair', { has: page.locator('#lumi-standard-g') });
    expect(await lumiSection.locator('.copy pre').first().textContent()).toContain('singularity build mpi-pingpong_1.0.0-2_lumi-standard-g.sif oci:$SITE/store/oci:');
    expect(await lumiSection.locator('.copy-btn').first().isVisible()).toBe(true);
    // Rendered files open as text.
    const href = await lumiSection.locator('a', { hasText: 'Containerfile' }).first().getAttribute('href');
    expect(href).toMatch(/Containerfile\.txt$/);
    const res = await context!.request.get(new URL(href!, page.url()).href);
    expect(res.headers()['content-type']).toMatch(/^text\/plain/);
    await page.evaluate('window.scrollTo(0, 0)');
    await page.screenshot({ path: join(ARTIFACTS, 'site-recipe.png'), fullPage: false });
    await page.locator('figure.diagram[data-pair="lumi/standard-g"]').screenshot({ path: join(ARTIFACTS, 'site-diagram.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('axe-core finds no serious or critical violation on the index, a recipe page and a system page', async () => {
    for (const path of ['index.html', 'recipes/mpi-pingpong/1.0.0/index.html', 'recipes/pytorch-mpi/2.5.1/index.html', 'systems/lumi.html']) {
      const { page, errors } = await open(path);
      if (path.startsWith('recipes/')) await drawAll(page);
      expect(await axeViolations(page), path).toEqual([]);
      if (path.startsWith('systems/')) {
        expect(await page.locator('#unverified').count()).toBe(1);
        await page.screenshot({ path: join(ARTIFACTS, 'site-system.png'), fullPage: true });
      }
      // The skip link is the first tab stop and leads to the content.
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.className')).toBe('skip');
      expect(errors, path).toEqual([]);
      await page.close();
    }
  });

  it('375 px wide (a phone): no page scrolls sideways', async () => {
    const phone = await context!.newPage();
    await phone.setViewportSize({ width: 375, height: 812 });
    const errors: string[] = [];
    phone.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    for (const path of ['index.html', 'recipes/mpi-pingpong/1.0.0/index.html', 'recipes/pytorch-mpi/2.5.1/index.html', 'systems/lumi.html', 'systems/perlmutter.html']) {
      await phone.goto(base + path, { waitUntil: 'load' });
      if (path.startsWith('recipes/')) await drawAll(phone);
      const width = await phone.evaluate<number>('Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)');
      expect(width, `${path} is ${width} px wide at 375 px`).toBeLessThanOrEqual(375);
      if (path === 'index.html') {
        await phone.evaluate('window.scrollTo(0, 0)');
        await phone.screenshot({ path: join(ARTIFACTS, 'site-phone.png'), fullPage: false });
      }
    }
    expect(errors).toEqual([]);
    await phone.close();
  });

  it('every internal link answers 200 and every fragment names an element', async () => {
    const seen = new Set<string>();
    const queue = [new URL('index.html', base).href];
    const fragments: [string, string][] = [];
    const ids = new Map<string, Set<string>>();
    const bad: string[] = [];
    while (queue.length > 0) {
      const url = queue.shift()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const res = await context!.request.get(url);
      if (res.status() !== 200) {
        bad.push(`${res.status()} ${url}`);
        continue;
      }
      if (!url.endsWith('.html')) continue;
      const html = await res.text();
      ids.set(url, new Set([...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!)));
      for (const m of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
        const raw = m[1]!.replace(/&amp;/g, '&');
        if (raw.startsWith('data:')) continue;
        const target = new URL(raw, url);
        if (target.origin !== new URL(base).origin) {
          expect(target.protocol, `link ${raw} on ${url}`).toMatch(/^https?:$/);
          continue;
        }
        const bare = target.href.replace(/#.*$/, '');
        if (target.hash) fragments.push([bare, decodeURIComponent(target.hash.slice(1))]);
        if (!seen.has(bare)) queue.push(bare);
      }
    }
    expect(bad).toEqual([]);
    for (const [page, id] of fragments) expect(ids.get(page)?.has(id), `#${id} on ${page}`).toBe(true);
    expect(seen.size).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });
});
