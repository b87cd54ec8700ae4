/**
 * The catalogue site in a real browser: Debian's Chromium, headless, driven by playwright-core,
 * serving the built site from a tiny static server on 127.0.0.1. Pages load without console
 * errors or requests leaving the machine, the matrix shows the shipped recipes, the deployment
 * diagrams render with the bundled Mermaid, and every internal link answers 200. Screenshots go
 * to test-artifacts/. Without /usr/bin/chromium the test is skipped, except under CI (CI set),
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

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
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
    res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'text/plain; charset=utf-8' });
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
      recipe: { name: 'mpi-pingpong', version: '1.0.0', revision: 1 },
      system: 'local',
      partition: 'debug',
      builder: 'buildah',
      image: { reference: 'localhost/brickyard/mpi-pingpong:1.0.0-1-local-debug', manifestDigest: `sha256:${'ab12'.repeat(16)}` },
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

  it('index: the matrix shows the shipped recipes, with fit, build and smoke status', async () => {
    const { page, errors } = await open('index.html');
    const rows = await page.locator('table.matrix tbody tr th a').allTextContents();
    for (const name of SHIPPED) expect(rows, `matrix row for ${name}`).toContain(name);
    const cols = await page.locator('table.matrix thead th').count();
    expect(cols).toBe(1 + Workspace.open(repoRoot).partitions().length);
    // A pair that does not fit explains itself in a tooltip; the built pair shows its smoke figures.
    const noFit = page.locator('tr[data-recipe="pytorch-mpi@2.5.1"] td.no').first();
    expect(await noFit.getAttribute('title')).toMatch(/^does not fit \S+: needs /);
    const built = await page.locator('tr[data-recipe="mpi-pingpong@1.0.0"] td.yes').allTextContents();
    expect(built.join('\n')).toContain('0.21 µs · 12,346 MB/s');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'site.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('recipe page: every deployment diagram renders as SVG with the bundled Mermaid', async () => {
    const { page, errors } = await open('recipes/mpi-pingpong/1.0.0/index.html');
    await page.waitForFunction('document.documentElement.dataset.diagrams !== undefined', undefined, { timeout: 60_000 });
    expect(await page.evaluate('document.documentElement.dataset.diagrams')).toBe('done');
    const figures = await page.locator('figure.diagram').count();
    expect(figures).toBeGreaterThan(5);
    expect(await page.locator('figure.diagram svg').count()).toBe(figures);
    const lumi = page.locator('figure.diagram[data-pair="lumi/standard-g"] svg');
    expect(await lumi.count()).toBe(1);
    const text = await lumi.textContent();
    expect(text).toContain('host-injection');
    expect(text).toContain('signed manifest.json');
    expect(await page.locator('#local-debug').count()).toBe(1);
    expect(await page.locator('#lumi-standard-g').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'site-recipe.png'), fullPage: false });
    await page.locator('figure.diagram[data-pair="lumi/standard-g"]').screenshot({ path: join(ARTIFACTS, 'site-diagram.png') });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a GPU recipe page and a system page load cleanly', async () => {
    for (const path of ['recipes/mpi-pingpong-gpu/1.0.0/index.html', 'systems/lumi.html']) {
      const { page, errors } = await open(path);
      if (path.startsWith('recipes/')) {
        await page.waitForFunction('document.documentElement.dataset.diagrams !== undefined', undefined, { timeout: 60_000 });
        expect(await page.evaluate('document.documentElement.dataset.diagrams')).toBe('done');
      }
      else await page.screenshot({ path: join(ARTIFACTS, 'site-system.png'), fullPage: true });
      expect(errors, path).toEqual([]);
      await page.close();
    }
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
