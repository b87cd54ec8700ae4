/**
 * `brickyard tune stream --system local/debug`, for real: buildah builds the three images the
 * recipe's variants need (-O2, -O3 -march=x86-64-v3, the default), each variant is smoke-tested
 * with STREAM in the image against the same binary on the host (trials alternating); the two
 * one-thread variants run the default and the -O3 image again with OMP_NUM_THREADS=1. The best
 * Triad is chosen and the choice is signed with the development signer, bound to the chosen
 * image's digest. Needs root and scripts/setup-host.sh.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { devSignerDir, loadOrCreateDevSigner } from '../../pipeline/src/sign/dev-signer.ts';
import { verifySigstoreBundle } from '../../pipeline/src/sign/verify.ts';
import { tune, tuneTable, tuneTableHeader } from '../../pipeline/src/smoke/tune.ts';
import { table } from '../../pipeline/src/cli/table.ts';
import { Workspace } from '../../pipeline/src/workspace.ts';
import { repoRoot, tempDir } from '../helpers/fixture.ts';
import { missingTools } from '../helpers/services.ts';

const missing = missingTools(['buildah', 'podman', 'mmdebstrap', 'gcc']);
const root = process.getuid?.() === 0;
const why = !root ? 'needs root (buildah chroot builds, podman)' : missing.length ? `missing ${missing.join(', ')}: run scripts/setup-host.sh` : '';
if (why && process.env['CI']) throw new Error(`the tune test cannot run in CI: ${why}`);

describe.skipIf(why !== '')(`tune stream on local${why ? ` (skipped: ${why})` : ''}`, () => {
  it('builds -O2, -O3 -march=x86-64-v3 and the default, runs two of them with one thread too, measures STREAM against the host, chooses one and signs it', async () => {
    const ws = Workspace.open(repoRoot);
    const recipe = ws.recipe('stream');
    const [where] = ws.partitionsOf('local/debug');
    const state = tempDir('brickyard-tune-e2e-');
    // Test hosts and CI are offline: the pinned stream.c comes from test/fixtures/sources (each
    // variant has its own state folder, so each cache gets it); the build checks its sha256.
    const local = process.env['BRICKYARD_TEST_STREAM_C'] ?? join(repoRoot, 'test', 'fixtures', 'sources', 'stream.c');
    {
      const src = recipe.doc.sources!.find((s) => s.name === 'stream-c')!;
      for (const v of ['default', 'o2', 'o3-v3']) {
        const dir = join(state, 'tune', recipe.key, 'local-debug', v, 'cache', 'sources');
        mkdirSync(dir, { recursive: true });
        copyFileSync(local, join(dir, src.sha256));
      }
    }
    const rec = await tune(ws, ws.pairAt(recipe, where!), { stateDir: state, trials: 3 });
    const p = rec.statement.predicate;
    console.log(table(tuneTableHeader(p), tuneTable(p)));
    for (const v of p.variants) {
      console.log(
        `${v.id}: ${['copy', 'scale', 'add', 'triad'].map((k) => `${k} x${v.figures[`${k}_ratio`]} ±${Math.round(Number(v.figures[`${k}_ratio_uncertainty`]) * 1000) / 10} %`).join(', ')}`,
      );
    }
    expect(p.variants.map((v) => v.id)).toEqual(['default', 'default-1t', 'o2', 'o3-v3', 'o3-v3-1t']);
    for (const v of p.variants) {
      expect(v.excluded, `${v.id}: ${v.excluded}`).toBeUndefined();
      expect(v.value).toBeGreaterThan(0);
      for (const k of ['copy', 'scale', 'add', 'triad']) expect(Number(v.figures[`${k}_ratio`])).toBeGreaterThan(0);
      // The thread count reached the program, in the image and on the host.
      const threads = Number(v.env['OMP_NUM_THREADS'] ?? 2);
      expect([v.figures['threads'], v.figures['host_threads']], v.id).toEqual([threads, threads]);
    }
    // Runtime variants ran the image of the variant before them: no build of their own.
    const byId = new Map(p.variants.map((v) => [v.id, v]));
    expect(byId.get('default-1t')).toMatchObject({ sharesImageOf: 'default', imageDigest: byId.get('default')!.imageDigest });
    expect(byId.get('o3-v3-1t')).toMatchObject({ sharesImageOf: 'o3-v3', imageDigest: byId.get('o3-v3')!.imageDigest });
    expect(new Set(p.variants.map((v) => v.imageDigest)).size).toBe(3);
    const best = Math.max(...p.variants.map((v) => v.value!));
    expect(p.variants.find((v) => v.id === p.chosen)!.value).toBe(best);
    // Bound to the chosen image: verifies against its OCI manifest, signed by the development signer.
    const chosenState = join(state, 'tune', recipe.key, 'local-debug', byId.get(p.chosen)!.sharesImageOf ?? p.chosen);
    const build = JSON.parse(readFileSync(join(chosenState, 'builds', recipe.key, 'local-debug', 'build.json'), 'utf8')) as {
      image: { manifestDigest: string; ociLayout: string };
    };
    expect(build.image.manifestDigest).toBe(p.chosenImageDigest);
    const manifest = join(build.image.ociLayout, 'blobs', 'sha256', p.chosenImageDigest.slice(7));
    const signer = await loadOrCreateDevSigner(devSignerDir(state));
    const bundle = JSON.parse(readFileSync(rec.bundlePath, 'utf8'));
    const v = await verifySigstoreBundle({
      bundle,
      artifact: { path: manifest },
      trustedRoot: signer.trustedRoot(),
      policy: { identity: signer.identity, issuer: signer.issuer },
      ctlogThreshold: 0,
    });
    expect(v.identity).toBe(signer.identity);
  }, 3_000_000);
});
