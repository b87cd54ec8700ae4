/**
 * Runs one import in its own process, for the crash-safety and concurrency tests:
 *   node test/site/import-child.ts <bundle> <policy> <store> <trusted_root.json> <now>
 * Prints a JSON line with the result, or `ERROR <code> <reason>` and exits 1.
 */
import { readFileSync } from 'node:fs';
import { SigstoreManifestVerifier } from '../../pipeline/src/bundle/sigstore.ts';
import { EarlyImport } from '../../pipeline/src/site/early-import.ts';
import { importBundle } from '../../pipeline/src/site/store.ts';
import { loadPolicy } from '../../pipeline/src/site/policy.ts';

const [bundlePath, policyPath, store, trustedRoot, now] = process.argv.slice(2) as [string, string, string, string, string];
// BRICKYARD_TEST_EARLY=1: begun before the policy and verifier load, as the CLI does (whatever the bundle's size).
const early = process.env['BRICKYARD_TEST_EARLY'] === '1' ? EarlyImport.begin(store, bundlePath, 0) : undefined;
const verifier = new SigstoreManifestVerifier({ trustedRoot: JSON.parse(readFileSync(trustedRoot, 'utf8')), ctlogThreshold: 0 });
try {
  const r = await importBundle({ bundlePath, policy: loadPolicy(policyPath), store, verifier, now: new Date(now), ...(early ? { early } : {}) });
  process.stdout.write(JSON.stringify({ ok: true, bundleId: r.bundleId, generation: r.generation }) + '\n');
} catch (e) {
  const err = e as { code?: string; reason?: string; message?: string };
  process.stdout.write(`ERROR ${err.code ?? 'UNEXPECTED'} ${err.reason ?? ''} ${err.message ?? String(e)}\n`);
  process.exitCode = 1;
} finally {
  early?.close();
}
