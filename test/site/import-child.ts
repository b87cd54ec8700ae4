/**
 * Runs one import in its own process, for the crash-safety and concurrency tests:
 *   node test/site/import-child.ts <bundle> <policy> <store> <public-key.pem> <identity> <issuer> <now>
 * Prints a JSON line with the result, or `ERROR <code> <reason>` and exits 1.
 */
import { readFileSync } from 'node:fs';
import { KeyPairManifestVerifier } from '../../pipeline/src/bundle/signing.ts';
import { importBundle } from '../../pipeline/src/site/store.ts';

const [bundlePath, policyPath, store, pem, identity, issuer, now] = process.argv.slice(2) as [string, string, string, string, string, string, string];
const verifier = new KeyPairManifestVerifier([{ publicKey: readFileSync(pem, 'utf8'), identity, issuer }]);
try {
  const r = await importBundle({ bundlePath, policyPath, store, verifier, now: new Date(now) });
  process.stdout.write(JSON.stringify({ ok: true, bundleId: r.bundleId, generation: r.generation }) + '\n');
} catch (e) {
  const err = e as { code?: string; reason?: string; message?: string };
  process.stdout.write(`ERROR ${err.code ?? 'UNEXPECTED'} ${err.reason ?? ''} ${err.message ?? String(e)}\n`);
  process.exitCode = 1;
}
