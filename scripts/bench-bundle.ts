/**
 * `npm run bench:bundle`: the air-gap path at scale. A state folder with N images sharing one
 * large base layer (random bytes, so nothing compresses) is bundled, verified and imported;
 * each figure is set against the plain tool doing the same bytes in the same run:
 *   verify  vs `openssl dgst -sha256` over the bundle   (goal ≥ 0.8×)
 *   import  vs `tar -x` of the same tar                  (goal ≥ 0.9×)
 *   peak RSS of verify and import, each in a child process (goal < 256 MB)
 * plus: the base layer stored once in the bundle, and a delta bundle's size against the full one.
 * Size with BENCH_BASE_MIB (default 1024) and BENCH_IMAGES (default 4).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeState } from './lib/bench-state.ts';
import { SigstoreManifestSigner, SigstoreManifestVerifier } from '../pipeline/src/bundle/sigstore.ts';
import { loadOrCreateDevSigner } from '../pipeline/src/sign/dev-signer.ts';
import { verifyBundle } from '../pipeline/src/bundle/read.ts';
import { writeBundle, type Inventory } from '../pipeline/src/bundle/write.ts';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BASE_MIB = Number(process.env['BENCH_BASE_MIB'] ?? 1024);
const IMAGES = Number(process.env['BENCH_IMAGES'] ?? 4);
const IDENTITY = 'https://github.com/example/brickyard/.github/workflows/release.yml@refs/tags/v1.0.0';

function time<T>(f: () => T): [T, number] {
  const t = performance.now();
  const r = f();
  return [r, (performance.now() - t) / 1000];
}

async function timeAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await f();
  return [r, (performance.now() - t) / 1000];
}

/** Peak RSS (MB) of verifying or importing in a child process, as a site would run it. */
function childRss(mode: 'verify' | 'import', tar: string, keyPem: string, dest: string): { seconds: number; rssMB: number } {
  const node = join(repo, 'node_modules', '.bin', 'node');
  const r = spawnSync(node, [fileURLToPath(import.meta.url), `--child-${mode}`, tar, keyPem, dest], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${mode} child failed: ${r.stderr}`);
  const out = r.stdout.trim();
  return JSON.parse(out.slice(out.lastIndexOf('\n') + 1)) as { seconds: number; rssMB: number };
}

async function child(mode: string, tar: string, keyPem: string, _dest: string): Promise<void> {
  // keyPem: the development signer's trusted_root.json (the site's pinned root).
  const verifier = new SigstoreManifestVerifier({ trustedRoot: JSON.parse(readFileSync(keyPem, 'utf8')), ctlogThreshold: 0 });
  // import: verify and write every entry into a staging folder (what an import does before its rename).
  const [, seconds] = await timeAsync(() => verifyBundle({ bundlePath: tar, verifier, extract: mode === '--child-import' }));
  process.stdout.write(JSON.stringify({ seconds, rssMB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'brickyard-bench-bundle-'));
  const results: Record<string, string | number> = {};
  try {
    const state = join(work, 'state');
    const [, gen] = time(() => makeState(state, { baseMiB: BASE_MIB, images: IMAGES }));
    results['images × shared base (MiB)'] = `${IMAGES} × ${BASE_MIB}`;
    results['generate state (s)'] = round(gen);
    const dev = await loadOrCreateDevSigner(join(work, 'dev-signer'), { identity: IDENTITY });
    const signer = new SigstoreManifestSigner(dev);
    const keyPem = join(dev.dir, 'trusted_root.json');
    const tar = join(work, 'full.tar');
    const [full, write] = await timeAsync(() =>
      writeBundle({ stateDir: state, system: 'bench', out: tar, signer, serial: 1, source: { repository: 'example/brickyard', commit: '0'.repeat(40) }, now: new Date() }),
    );
    results['bundle size (MiB)'] = round(full.sizes.bundleBytes / 2 ** 20);
    results['base layer stored once'] =
      execFileSync('tar', ['-tf', tar], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.startsWith('oci/blobs/sha256/')).length ===
      IMAGES * 3 + 1
        ? 'yes'
        : 'NO';
    results['write bundle (s)'] = round(write);

    execFileSync('sync');
    const [, openssl] = time(() => execFileSync('openssl', ['dgst', '-sha256', tar]));
    const verify = childRss('verify', tar, keyPem, '');
    results['verify (s) / openssl dgst -sha256 (s)'] = `${round(verify.seconds)} / ${round(openssl)}`;
    results['verify speed vs openssl (goal ≥ 0.8)'] = round(openssl / verify.seconds);
    results['verify peak RSS (MB, goal < 256)'] = verify.rssMB;

    // Each from a clean page cache state: written data from one run must not throttle the next.
    const untar = join(work, 'untar');
    mkdirSync(untar);
    execFileSync('sync');
    const [, tarx] = time(() => execFileSync('tar', ['-xf', tar, '-C', untar]));
    rmSync(untar, { recursive: true, force: true });
    execFileSync('sync');
    const imp = childRss('import', tar, keyPem, join(work, 'store'));
    results['verify + extract to staging (s) / tar -x (s)'] = `${round(imp.seconds)} / ${round(tarx)}`;
    results['import speed vs tar -x (goal ≥ 0.9)'] = round(tarx / imp.seconds);
    results['import peak RSS (MB, goal < 256)'] = imp.rssMB;

    // A delta for a site that already holds the base and all but one image.
    const inventory: Inventory = { kind: 'brickyard-inventory', version: 1, blobs: [], images: [], bundles: [], lastSerial: { 'example/brickyard': 1 } };
    const index = JSON.parse(execFileSync('cat', [join(state, 'oci', 'index.json')], { encoding: 'utf8' })) as { manifests: { digest: string }[] };
    const keep = index.manifests.slice(0, -1).map((m) => m.digest);
    inventory.blobs = [...new Set([...keep, ...readBlobsOf(state, keep)])];
    const delta = await writeBundle({
      stateDir: state,
      system: 'bench',
      out: join(work, 'delta.tar'),
      signer,
      serial: 2,
      source: { repository: 'example/brickyard', commit: '0'.repeat(40) },
      now: new Date(),
      inventory,
    });
    results['delta bundle (MiB) / full (MiB)'] = `${round(delta.sizes.bundleBytes / 2 ** 20)} / ${round(full.sizes.bundleBytes / 2 ** 20)}`;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const width = Math.max(...Object.keys(results).map((k) => k.length));
  for (const [k, v] of Object.entries(results)) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}

function readBlobsOf(state: string, manifests: string[]): string[] {
  const out: string[] = [];
  for (const d of manifests) {
    const m = JSON.parse(execFileSync('cat', [join(state, 'oci', 'blobs', 'sha256', d.slice(7))], { encoding: 'utf8' })) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    out.push(m.config.digest, ...m.layers.map((l) => l.digest));
  }
  return out;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

const [, , mode, tar, keyPem, dest] = process.argv;
if (mode?.startsWith('--child-')) {
  if (tar === undefined || keyPem === undefined || dest === undefined) throw new Error(`usage: bench-bundle.ts ${mode} <bundle.tar> <trusted_root.json> <dest>`);
  await child(mode, tar, keyPem, dest);
} else if (import.meta.url === `file://${process.argv[1]}`) await main();
